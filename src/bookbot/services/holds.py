"""Holds: seats kept for a customer between choosing and confirming.

When a customer has chosen dates and a party size, `hold` runs the whole booking check and
writes the registration as `held`, with `held_until` (the studio's `hold_minutes`,
10 by default). Until then
its seats and resources count as taken for everyone else (`facts.FACTS_SQL`); after it they
count for nothing, at once, whether or not the sweep has run. So the customer is told "full"
before the summary, never after pressing Confirm.

`confirm_hold` turns a live hold into a booking (reminders, waitlist places taken up). A
hold that has lapsed is booked afresh instead, re-checked like any booking, so a lapse
costs the customer nothing unless the seats went meanwhile. `expire_holds` is the sweep:
it marks lapsed holds `expired`, frees their rows and offers the seats to the waitlist;
run twice, it does the work once. A customer has one hold at a time: a new one lets go of
the old (`release_customer_holds`), as does backing out of the summary.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.engine.pricing import RegistrationKind
from bookbot.services import booking, facts
from bookbot.services.booking import Registration
from bookbot.services.common import studio_by_id
from bookbot.services.registration_rows import free_rows
from bookbot.services.waitlist import offer_freed_seats
from bookbot.store.db import Database, Tx, UniqueViolation, instant, retrying


async def hold(
    db: Database,
    clock: Clock,
    studio_id: int,
    customer_id: int,
    kind: RegistrationKind,
    *,
    guests: int,
    session_ids: list[int] | None = None,
    pattern_id: int | None = None,
) -> Registration:
    """Check and hold the seats as a booking would be (the registration says until when);
    BookingError if it would not be."""
    await release_customer_holds(db, clock, studio_id, customer_id)
    ids = sorted(set(session_ids)) if session_ids is not None else None

    async def attempt() -> Registration:
        now = clock.now()
        async with db.transaction() as tx:
            return await booking.book_in(
                tx, now, studio_id, customer_id, kind, ids, pattern_id, guests, hold=True
            )

    result: Registration = await retrying(attempt)
    return result


async def confirm_hold(
    db: Database, clock: Clock, studio_id: int, customer_id: int, registration_id: int
) -> Registration:
    """Make the customer's hold a booking; a lapsed one is re-checked and booked afresh."""

    async def attempt() -> Registration:
        now = clock.now()
        async with db.transaction() as tx:
            return await _confirm_in(tx, now, studio_id, customer_id, registration_id)

    result: Registration = await retrying(attempt)
    return result


async def _confirm_in(
    tx: Tx, now: datetime, studio_id: int, customer_id: int, registration_id: int
) -> Registration:
    reg = await tx.one(
        "SELECT customer_id, status, held_until, kind, guest_count, pattern_id, price_minor,"
        " currency FROM registrations WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": studio_id, "id": registration_id},
    )
    if reg is None or reg[0] != customer_id or reg[1] == "cancelled":
        raise errors.NotFound(what="booking", ident=registration_id)
    kind = RegistrationKind(reg[3])
    ids = await _session_ids(tx, studio_id, registration_id)
    found = Registration(registration_id, kind, reg[4], reg[6], reg[7], tuple(ids))
    if reg[1] == "confirmed":
        return found  # confirmed already (a second tap)
    locked = await facts.lock_sessions(tx, studio_id, customer_id, ids=ids)
    live = reg[1] == "held" and reg[2] is not None and instant(reg[2]) > now
    if locked is not None and live:
        await _make_booking(tx, studio_id, registration_id, locked.sessions[0].starts_at)
        await booking.confirmed(tx, now, locked, customer_id, registration_id, queued=True)
        return found
    # Lapsed: let it go and book the same choice afresh, checked like any booking.
    await _free(tx, now, studio_id, registration_id, "expired")
    pattern = reg[5] if kind is RegistrationKind.FULL_SCHEDULE else None
    return await booking.book_in(
        tx, now, studio_id, customer_id, kind, None if pattern else ids, pattern, reg[4]
    )


async def _make_booking(tx: Tx, studio_id: int, registration_id: int, first: datetime) -> None:
    params = {"studio_id": studio_id, "id": registration_id}
    await tx.execute(
        "UPDATE registrations SET status = 'confirmed', held_until = NULL"
        " WHERE studio_id = :studio_id AND id = :id AND status = 'held'",
        params,
    )
    try:
        await tx.execute(
            "UPDATE registration_sessions SET status = 'booked', held_until = NULL"
            " WHERE studio_id = :studio_id AND registration_id = :id AND status = 'held'",
            params,
        )
    except UniqueViolation as error:  # booked those sessions another way meanwhile
        raise errors.AlreadyBooked(when=first) from error
    await tx.execute(
        "UPDATE resource_allocations SET held_until = NULL"
        " WHERE studio_id = :studio_id AND registration_id = :id",
        params,
    )


async def release_hold(
    db: Database, clock: Clock, studio_id: int, customer_id: int, registration_id: int
) -> bool:
    """The customer backed out: free the hold now. False if it was no live hold of theirs."""

    async def attempt() -> bool:
        now = clock.now()
        async with db.transaction() as tx:
            owner = await tx.scalar(
                "SELECT customer_id FROM registrations WHERE studio_id = :studio_id AND id = :id",
                {"studio_id": studio_id, "id": registration_id},
            )
            if owner != customer_id:
                return False
            return await _free(tx, now, studio_id, registration_id, "cancelled")

    released: bool = await retrying(attempt)
    return released


async def release_customer_holds(
    db: Database, clock: Clock, studio_id: int, customer_id: int
) -> int:
    """Let go of every hold the customer has (one checkout at a time); how many."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT id FROM registrations WHERE studio_id = :studio_id"
            " AND customer_id = :customer_id AND status = 'held'",
            {"studio_id": studio_id, "customer_id": customer_id},
        )
    released = 0
    for row in rows:
        released += await release_hold(db, clock, studio_id, customer_id, int(row[0]))
    return released


async def expire_holds(db: Database, clock: Clock, *, limit: int = 500) -> int:
    """The sweep: mark lapsed holds expired, free their rows, offer the seats on."""
    now = clock.now()
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT studio_id, id FROM registrations WHERE status = 'held'"
            " AND held_until <= :now ORDER BY held_until LIMIT :limit",
            {"now": now, "limit": limit},
        )
    expired = 0
    for studio_id, registration_id in rows:

        async def attempt(studio_id: int = studio_id, reg_id: int = registration_id) -> bool:
            async with db.transaction() as tx:
                return await _free(tx, now, studio_id, reg_id, "expired")

        expired += await retrying(attempt)
    return expired


async def _session_ids(tx: Tx, studio_id: int, registration_id: int) -> list[int]:
    rows = await tx.all(
        "SELECT session_id FROM registration_sessions WHERE studio_id = :studio_id"
        " AND registration_id = :id ORDER BY session_id",
        {"studio_id": studio_id, "id": registration_id},
    )
    return [int(r[0]) for r in rows]


async def _free(tx: Tx, now: datetime, studio_id: int, registration_id: int, status: str) -> bool:
    """End a hold (`expired` or `cancelled`) and free its seats; False if it was no hold."""
    ids = await _session_ids(tx, studio_id, registration_id)
    await tx.lock("sessions", ids)
    params = {"studio_id": studio_id, "id": registration_id, "now": now, "status": status}
    ended = await tx.execute(
        "UPDATE registrations SET status = :status, cancelled_at = :now"
        " WHERE studio_id = :studio_id AND id = :id AND status = 'held'",
        params,
    )
    if not ended:
        return False
    await free_rows(tx, studio_id, registration_id, ids)
    studio = await studio_by_id(tx, studio_id)
    await offer_freed_seats(tx, now, studio, await facts.sessions_by_id(tx, studio_id, ids))
    return True
