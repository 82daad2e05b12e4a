"""The waitlist: join a full session, and offer freed seats to the first in line.

An offer holds its seats for the studio's `waitlist_offer_minutes`: while it is live,
those seats count as taken for everyone but the offered customer (see
`facts.seats_taken`). Delivering offers and expiring them is the notifications' work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import capacity, errors
from bookbot.engine.clock import Clock
from bookbot.services import facts, outbox
from bookbot.services.common import Studio
from bookbot.store.db import Database, Tx, UniqueViolation, retrying


@dataclass(frozen=True)
class WaitlistEntry:
    id: int
    session_id: int
    customer_id: int
    guest_count: int
    status: str
    offer_expires_at: datetime | None = None


async def join_waitlist(
    db: Database, clock: Clock, studio_id: int, customer_id: int, session_id: int, guests: int
) -> WaitlistEntry:
    """Queue for a session that cannot take `guests` now; refused if it can."""

    async def attempt() -> WaitlistEntry:
        now = clock.now()
        async with db.transaction() as tx:
            locked = await facts.lock_sessions(tx, studio_id, customer_id, ids=[session_id])
            if locked is None:
                raise errors.NotFound(what="session", ident=session_id)
            if not locked.customer_found:
                raise errors.NotFound(what="customer", ident=customer_id)
            session = locked.sessions[0]
            try:
                await _admission(tx, now, locked.studio, session, customer_id, guests)
            except (errors.NotEnoughSeats, errors.NotEnoughResource):
                return await _insert(tx, now, locked.studio, session, customer_id, guests)
            raise errors.SeatsAvailable(when=session.starts_at)

    entry: WaitlistEntry = await retrying(attempt)
    return entry


async def _admission(
    tx: Tx,
    now: datetime,
    studio: Studio,
    session: facts.SessionRow,
    customer_id: int | None,
    guests: int,
) -> None:
    """Raise the refusal `guests` would get for `session` now, or return if they fit."""
    f = (await facts.session_facts(tx, studio.id, [session.id], now, customer_id))[session.id]
    capacity.admit(
        now, f.state(session), f.requirements, f.uses, guests, booking_cutoff=studio.booking_cutoff
    )


async def _insert(
    tx: Tx, now: datetime, studio: Studio, session: facts.SessionRow, customer_id: int, guests: int
) -> WaitlistEntry:
    try:
        entry_id = await tx.scalar(
            "INSERT INTO waitlist_entries (studio_id, session_id, customer_id, guest_count, status,"
            " created_at) VALUES (:studio_id, :session_id, :customer_id, :guests, 'waiting', :now)"
            " RETURNING id",
            {
                "studio_id": studio.id,
                "session_id": session.id,
                "customer_id": customer_id,
                "guests": guests,
                "now": now,
            },
        )
    except UniqueViolation as error:
        raise errors.AlreadyWaitlisted(when=session.starts_at) from error
    return WaitlistEntry(entry_id, session.id, customer_id, guests, "waiting")


async def offer_freed_seats(
    tx: Tx, now: datetime, studio: Studio, sessions: list[facts.SessionRow]
) -> list[WaitlistEntry]:
    """Offer each session's free room to waiting customers in order of joining.

    A party that does not fit is passed over for a smaller one behind it, so a freed
    single seat is not left empty while a party of three waits. Call with the sessions
    already locked.
    """
    offers: list[WaitlistEntry] = []
    expires = now + studio.waitlist_offer
    for session in sessions:
        if session.status != "open" or session.starts_at <= now:
            continue
        waiting = await tx.all(
            "SELECT id, customer_id, guest_count FROM waitlist_entries WHERE studio_id = :studio_id"
            " AND session_id = :session_id AND status = 'waiting' ORDER BY created_at, id",
            {"studio_id": studio.id, "session_id": session.id},
        )
        for entry_id, customer_id, guests in waiting:
            try:
                await _admission(tx, now, studio, session, None, guests)
            except errors.BookingError:
                continue
            await tx.execute(
                "UPDATE waitlist_entries SET status = 'offered', offered_at = :now,"
                " offer_expires_at = :expires WHERE id = :id AND status = 'waiting'",
                {"now": now, "expires": expires, "id": entry_id},
            )
            offers.append(
                WaitlistEntry(entry_id, session.id, customer_id, guests, "offered", expires)
            )
            await _queue_offer(tx, now, studio, session, offers[-1])
    return offers


async def _queue_offer(
    tx: Tx, now: datetime, studio: Studio, session: facts.SessionRow, offer: WaitlistEntry
) -> None:
    name = await tx.scalar("SELECT name FROM classes WHERE id = :id", {"id": session.class_id})
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=studio.id,
        customer_id=offer.customer_id,
        template="waitlist_offer",
        params={
            "class_name": name,
            "starts_at": session.starts_at.isoformat(),
            "guests": offer.guest_count,
            "expires_at": (offer.offer_expires_at or now).isoformat(),
        },
        due_at=now,
        dedupe_key=f"waitlist-offer:{offer.id}",
    )


async def expire_offers(db: Database, clock: Clock) -> int:
    """Offers not taken in time expire, and their seats go to the next in line."""
    now = clock.now()
    async with db.transaction() as tx:
        rows = await tx.all(
            "SELECT id, studio_id, session_id FROM waitlist_entries WHERE status = 'offered'"
            " AND offer_expires_at <= :now ORDER BY id",
            {"now": now},
        )
        for entry_id, studio_id, session_id in rows:
            await tx.execute(
                "UPDATE waitlist_entries SET status = 'expired' WHERE id = :id AND status = 'offered'",
                {"id": entry_id},
            )
            await _offer_on(tx, now, studio_id, session_id)
    return len(rows)


async def _offer_on(tx: Tx, now: datetime, studio_id: int, session_id: int) -> None:
    locked = await facts.lock_sessions(tx, studio_id, 0, ids=[session_id])
    if locked is not None:
        await offer_freed_seats(tx, now, locked.studio, locked.sessions)


async def live_offer(
    db: Database, studio_id: int, customer_id: int, now: datetime
) -> WaitlistEntry | None:
    """The customer's newest offer still held for them, if any."""
    async with db.transaction(write=False) as tx:
        row = await tx.one(
            "SELECT id, session_id, customer_id, guest_count, status, offer_expires_at"
            " FROM waitlist_entries WHERE studio_id = :s AND customer_id = :c"
            " AND status = 'offered' AND offer_expires_at > :now ORDER BY offered_at DESC, id DESC",
            {"s": studio_id, "c": customer_id, "now": now},
        )
    return None if row is None else WaitlistEntry(*row)


async def decline(
    db: Database, clock: Clock, studio_id: int, customer_id: int, entry_id: int
) -> None:
    """The customer passes: the seats go to the next in line at once."""
    now = clock.now()
    async with db.transaction() as tx:
        session_id = await tx.scalar(
            "SELECT session_id FROM waitlist_entries WHERE studio_id = :s AND customer_id = :c"
            " AND id = :id AND status = 'offered'",
            {"s": studio_id, "c": customer_id, "id": entry_id},
        )
        if session_id is None:
            return
        await tx.execute(
            "UPDATE waitlist_entries SET status = 'declined' WHERE id = :id", {"id": entry_id}
        )
        await _offer_on(tx, now, studio_id, int(session_id))
