"""Holds: seats kept for a customer between choosing and confirming.

When a customer has chosen dates and a party size, `hold` runs the whole booking check and
writes the registration as `held`, with `held_until` (the studio's `hold_minutes`,
10 by default). Until then
its seats and resources count as taken for everyone else (`facts.FACTS_SQL`); after it they
count for nothing, at once, whether or not the sweep has run. So the customer is told "full"
before the summary, never after pressing Confirm.

`confirm_hold` turns a live hold into a booking (reminders, waitlist places taken up). A
hold that has lapsed is booked afresh instead, re-checked like any booking, so a lapse
costs the customer nothing unless the seats went meanwhile. So is a hold live by the
confirm's clock whose room is no longer there (`hold_room`). `expire_holds` is the sweep:
it marks lapsed holds `expired`, frees their rows and offers the seats to the waitlist;
run twice, it does the work once. A customer has one hold at a time: a new one lets go of
the old (`release_customer_holds`), as does backing out of the summary.

Confirm, expiry, release and a staff cancel (`cancellation`) race for the same row, so each
locks the registration before reading its status, then its sessions in id order, and
moves it by a guarded UPDATE whose row count is checked (`registration_rows`): whoever
locks first wins, and the other sees what it did. A confirm therefore never says "booked"
for a hold that was expired or cancelled meanwhile, and never leaves reminders or
allocations on one.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.engine.pricing import RegistrationKind
from bookbot.services import attendees, booking, facts, hold_room
from bookbot.services.booking import Registration
from bookbot.services.registration_rows import (
    end_registration,
    expect_moved,
    lock_registration,
    session_ids_in,
)
from bookbot.services.waitlist import offer_freed_seats
from bookbot.store.db import (
    Database,
    Row,
    Tx,
    UniqueViolation,
    instant,
    retrying,
    settle_pages,
)


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
            wanted = booking.Request(kind, guests, session_ids=ids, pattern_id=pattern_id)
            return await booking.book_in(tx, now, studio_id, customer_id, wanted, hold=True)

    result: Registration = await retrying(attempt)
    return result


async def confirm_hold(
    db: Database, clock: Clock, studio_id: int, customer_id: int, registration_id: int
) -> Registration:
    """Make the customer's hold a booking; a lapsed one is re-checked and booked afresh.

    What comes back is always a confirmed booking (the hold itself, or the fresh one); a
    hold cancelled meanwhile (by staff, or let go for a newer one) is AlreadyCancelled,
    never "booked". The registration row is locked before its status is read, so a sweep,
    a release or a cancel racing this either lands first (and is seen) or waits.
    """

    async def attempt() -> Registration:
        now = clock.now()
        async with db.transaction() as tx:
            return await _confirm_in(tx, now, studio_id, customer_id, registration_id)

    result: Registration = await retrying(attempt)
    return result


async def confirm_in(
    tx: Tx, now: datetime, studio_id: int, customer_id: int, registration_id: int
) -> Registration:
    """`confirm_hold` inside the caller's transaction (a payment confirms the booking in the
    transaction that records the money): a BookingError rolls the caller's work back too."""
    return await _confirm_in(tx, now, studio_id, customer_id, registration_id)


async def free_in(
    tx: Tx, now: datetime, studio_id: int, registration_id: int, *, status: str
) -> bool:
    """End a hold (`expired` or `cancelled`) inside the caller's transaction: a payment that
    expired or was backed out of lets its seats go with it. False if it was no hold."""
    return await _free(tx, now, studio_id, registration_id, status=status)


async def extend_in(
    tx: Tx, now: datetime, studio_id: int, registration_id: int, until: datetime
) -> bool:
    """Keep a hold until `until` (the Checkout Session's expiry): the registration, its
    seats and its resources alike, since capacity counts each by its own `held_until`.
    False if it was no hold. Refused as a booking would be (`hold_room`) if, kept, it does
    not fit at `now`: it lapsed (swept or not, by this clock or a later one) and its room
    went to others; the caller's transaction then rolls back and the hold is left to lapse."""
    reg = await lock_registration(tx, studio_id, registration_id)
    if reg is None or reg["status"] != "held":
        return False
    ids = session_ids_in(reg)
    locked = await facts.lock_sessions(tx, studio_id, 0, ids=ids)
    params = {"studio_id": studio_id, "id": registration_id, "until": until}
    moved = await tx.execute(
        "UPDATE registrations SET held_until = :until"
        " WHERE studio_id = :studio_id AND id = :id AND status = 'held'",
        params,
    )
    expect_moved(moved, 1, f"keeping hold {registration_id}")
    await tx.execute(
        "UPDATE registration_sessions SET held_until = :until"
        " WHERE studio_id = :studio_id AND registration_id = :id AND status = 'held'",
        params,
    )
    await tx.execute(
        "UPDATE resource_allocations SET held_until = :until"
        " WHERE studio_id = :studio_id AND registration_id = :id AND held_until IS NOT NULL",
        params,
    )
    if locked is not None:
        counts = await facts.session_facts(tx, studio_id, ids, now, reg["customer_id"])
        refusal = hold_room.overfull(locked, counts, reg["guest_count"])
        if refusal is not None:
            raise refusal
    return True


async def _confirm_in(
    tx: Tx, now: datetime, studio_id: int, customer_id: int, registration_id: int
) -> Registration:
    reg = await lock_registration(tx, studio_id, registration_id)
    if reg is None or reg["customer_id"] != customer_id:
        raise errors.NotFound(what="booking", ident=registration_id)
    if reg["status"] == "cancelled":
        raise errors.AlreadyCancelled()
    ids = session_ids_in(reg)
    found = _registration(reg, ids)
    if reg["status"] == "confirmed":
        return found  # confirmed already (a second tap)
    locked = await facts.lock_sessions(tx, studio_id, customer_id, ids=ids)
    if locked is not None and _live(reg, now):
        closed = [s for s in locked.sessions if s.status != "open"]
        if closed:  # staff cancelled the class while it was held: a payment is refunded
            raise errors.SessionNotOpen(when=closed[0].starts_at)
        counts = await facts.session_facts(tx, studio_id, ids, now, customer_id)
        queued = _check_not_in_already(locked, counts)
        if hold_room.overfull(locked, counts, found.guest_count) is None:
            await _make_booking(tx, studio_id, registration_id, ids, locked.sessions[0].starts_at)
            await booking.confirmed(tx, now, locked, customer_id, registration_id, queued=queued)
            return found
    # Lapsed (swept or not), or live by this clock but its room given away meanwhile: let
    # it go and book the same choice afresh, checked like any booking, so the customer is
    # told the truth about the seats as they are now.
    if reg["status"] == "held":  # not swept yet: expire it here, under the locks held
        await _end_hold(
            tx, now, studio_id, registration_id, ids=ids, locked=locked, status="expired"
        )
    pattern = reg["pattern_id"] if found.kind is RegistrationKind.FULL_SCHEDULE else None
    again = booking.Request(
        found.kind, found.guest_count, session_ids=None if pattern else ids, pattern_id=pattern
    )
    fresh = await booking.book_in(tx, now, studio_id, customer_id, again)
    await attendees.copy_in(tx, studio_id, registration_id, fresh.id)  # the details given
    return fresh


def _check_not_in_already(locked: facts.Locked, found: dict[int, facts.Facts]) -> bool:
    """AlreadyBooked if, since holding, the customer got into one of the sessions another
    way (a pass reservation: the partial unique index only sees bookings). The hold stays
    as it was, to lapse. Otherwise whether the customer is on one of their waitlists (the
    booking then takes those places up)."""
    for session in locked.sessions:
        if found[session.id].customer_booked:
            raise errors.AlreadyBooked(when=session.starts_at)
    return any(found[session.id].customer_queued for session in locked.sessions)


def _registration(reg: Row, ids: list[int]) -> Registration:
    kind = RegistrationKind(reg["kind"])
    return Registration(
        reg["id"], kind, reg["guest_count"], reg["price_minor"], reg["currency"], tuple(ids)
    )


def _live(reg: Row, now: datetime) -> bool:
    held_until = reg["held_until"]
    return reg["status"] == "held" and held_until is not None and instant(held_until) > now


async def _make_booking(
    tx: Tx, studio_id: int, registration_id: int, ids: list[int], first: datetime
) -> None:
    """held -> confirmed, for the registration and each of its seats (row counts checked);
    its allocations stop lapsing."""
    params = {"studio_id": studio_id, "id": registration_id}
    if tx.dialect == "postgresql":
        await _make_booking_in_one(tx, params, registration_id, len(ids), first)
        return
    confirmed = await tx.execute(
        "UPDATE registrations SET status = 'confirmed', held_until = NULL"
        " WHERE studio_id = :studio_id AND id = :id AND status = 'held'",
        params,
    )
    expect_moved(confirmed, 1, f"confirming hold {registration_id}")
    try:
        seats = await tx.execute(
            "UPDATE registration_sessions SET status = 'booked', held_until = NULL"
            " WHERE studio_id = :studio_id AND registration_id = :id AND status = 'held'",
            params,
        )
    except UniqueViolation as error:  # booked those sessions another way meanwhile
        raise errors.AlreadyBooked(when=first) from error
    expect_moved(seats, len(ids), f"booking the seats of hold {registration_id}")
    await tx.execute(
        "UPDATE resource_allocations SET held_until = NULL"
        " WHERE studio_id = :studio_id AND registration_id = :id",
        params,
    )


# `_make_booking`'s three UPDATEs as one statement (data-modifying CTEs), since on
# PostgreSQL round trips are what a confirm costs. The seats and allocations move only if
# the registration did, so the counts are checked in the same order with the same outcome.
_MAKE_BOOKING = """WITH reg AS (UPDATE registrations SET status = 'confirmed', held_until = NULL
    WHERE studio_id = :studio_id AND id = :id AND status = 'held' RETURNING id),
seats AS (UPDATE registration_sessions SET status = 'booked', held_until = NULL
    WHERE studio_id = :studio_id AND registration_id = :id AND status = 'held'
    AND EXISTS (SELECT 1 FROM reg) RETURNING id),
alloc AS (UPDATE resource_allocations SET held_until = NULL
    WHERE studio_id = :studio_id AND registration_id = :id AND EXISTS (SELECT 1 FROM reg))
SELECT (SELECT COUNT(*) FROM reg) AS confirmed, (SELECT COUNT(*) FROM seats) AS seats"""


async def _make_booking_in_one(
    tx: Tx, params: dict[str, int], registration_id: int, seats: int, first: datetime
) -> None:
    try:
        moved = await tx.one(_MAKE_BOOKING, params)
    except UniqueViolation as error:  # booked those sessions another way meanwhile
        raise errors.AlreadyBooked(when=first) from error
    assert moved is not None  # noqa: S101 - a SELECT without FROM has its row
    expect_moved(int(moved["confirmed"]), 1, f"confirming hold {registration_id}")
    expect_moved(int(moved["seats"]), seats, f"booking the seats of hold {registration_id}")


async def release_hold(
    db: Database, clock: Clock, studio_id: int, customer_id: int, registration_id: int
) -> bool:
    """The customer backed out: free the hold now. False if it was no live hold of theirs."""

    async def attempt() -> bool:
        now = clock.now()
        async with db.transaction() as tx:
            return await _free(
                tx, now, studio_id, registration_id, status="cancelled", customer_id=customer_id
            )

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
        released += await release_hold(db, clock, studio_id, customer_id, int(row["id"]))
    return released


BATCH = 100  # lapsed holds read per page; each is expired in its own write transaction

# `ix_registrations_held` holds only holds, by when they lapse: the sweep reads the lapsed
# ones and stops, whatever the history of bookings.
LAPSED_SQL = """SELECT studio_id, id FROM registrations
WHERE status = 'held' AND held_until <= :now
ORDER BY held_until, id LIMIT :limit"""


async def expire_holds(db: Database, clock: Clock, *, batch: int = BATCH) -> int:
    """The sweep: mark lapsed holds expired, free their rows, offer the seats on.

    Lapsed holds are read a page at a time outside any write transaction; each is then
    expired in its own short one (on SQLite the write lock is held for one hold at a time,
    and the event loop gets a turn between them), until none is left."""
    now = clock.now()

    async def expire_one(row: Row) -> tuple[int, bool]:
        # Moved nothing: confirmed or expired meanwhile by a racing confirm or sweep.
        moved = await _expire_one(db, now, int(row["studio_id"]), int(row["id"]))
        return int(moved), moved

    return await settle_pages(db, LAPSED_SQL, {"now": now}, expire_one, batch=batch)


async def _expire_one(db: Database, now: datetime, studio_id: int, registration_id: int) -> bool:
    async def attempt() -> bool:
        async with db.transaction() as tx:
            return await _free(tx, now, studio_id, registration_id, status="expired")

    result: bool = await retrying(attempt)
    return result


async def _free(
    tx: Tx,
    now: datetime,
    studio_id: int,
    registration_id: int,
    *,
    status: str,
    customer_id: int | None = None,
) -> bool:
    """End a hold (`expired` or `cancelled`) and free its seats and resources; False if it
    was no hold (of `customer_id`'s, when given) by the time its row was locked."""
    reg = await lock_registration(tx, studio_id, registration_id)
    if reg is None or reg["status"] != "held":
        return False
    if customer_id is not None and reg["customer_id"] != customer_id:
        return False
    ids = session_ids_in(reg)
    locked = await facts.lock_sessions(tx, studio_id, 0, ids=ids)
    await _end_hold(tx, now, studio_id, registration_id, ids=ids, locked=locked, status=status)
    return True


async def _end_hold(
    tx: Tx,
    now: datetime,
    studio_id: int,
    registration_id: int,
    *,
    ids: list[int],
    locked: facts.Locked | None,
    status: str,
) -> None:
    """held -> `status`, its rows freed and the room offered to the waitlist. Call with the
    registration read as held under its lock, and its sessions `ids` locked (`locked`:
    None when it has no session rows left)."""
    await end_registration(tx, now, studio_id, registration_id, ids, was="held", to=status)
    if locked is not None:
        await offer_freed_seats(tx, now, locked.studio, locked.sessions)
