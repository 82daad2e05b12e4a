"""The waitlist: join a full session, and offer freed room to the first in line.

An offer holds what its party needs for the studio's `waitlist_offer_minutes` (never past
the booking cutoff): while it is live, its seats and its guests × each required
resource's quantity per student count as taken for everyone but the offered customer
(see `facts.session_facts`). An offer is made only when all of that is free, so a live
offer can always be booked: `accept_offer` turns it into a booking in one transaction.

Every move of an offer is a guarded transition, `UPDATE ... WHERE status = 'offered'`
(and the expiry on the right side of `now`) with its row count checked, made after
locking the session (the order every writer here and in booking uses), in the same
transaction as what follows from it: the booking on accept, the next offers on expiry or
decline. So accept and expiry (or decline) race to one outcome: whoever moves the row
wins, and the other is told the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import capacity, errors
from bookbot.engine.clock import Clock
from bookbot.engine.pricing import ClassKind, RegistrationKind
from bookbot.services import booking, facts, outbox, quiet_hours, staff_activity
from bookbot.services.common import Studio
from bookbot.store.db import (
    Database,
    Row,
    Tx,
    UniqueViolation,
    instant,
    retrying,
    settle_pages,
)


@dataclass(frozen=True)
class WaitlistEntry:
    id: int
    session_id: int
    customer_id: int
    guest_count: int
    status: str
    offer_expires_at: datetime | None = None


async def join_waitlist(
    db: Database, clock: Clock, studio_id: int, customer_id: int, session_id: int, *, guests: int
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
                await _admission(
                    tx, now, locked.studio, session, customer_id=customer_id, guests=guests
                )
            except (errors.NotEnoughSeats, errors.NotEnoughResource):
                entry = await _insert(
                    tx, now, locked.studio, session, customer_id=customer_id, guests=guests
                )
                await staff_activity.record(
                    tx,
                    now,
                    studio_id=studio_id,
                    subscribed=locked.studio.staff_notices,
                    kind="waitlist",
                    params={
                        "customer_id": customer_id,
                        "class_name": locked.classes[session.class_id].name,
                        "starts_at": session.starts_at.isoformat(),
                        "guests": guests,
                        **staff_activity.course_span(session),
                    },
                )
                return entry
            raise errors.SeatsAvailable(when=session.starts_at)

    entry: WaitlistEntry = await retrying(attempt)
    return entry


async def _admission(
    tx: Tx,
    now: datetime,
    studio: Studio,
    session: facts.SessionRow,
    *,
    customer_id: int | None,
    guests: int,
) -> None:
    """Raise the refusal `guests` would get for `session` now, or return if they fit."""
    f = (await facts.session_facts(tx, studio.id, [session.id], now, customer_id))[session.id]
    capacity.admit(
        now, f.state(session), f.requirements, f.uses, guests, booking_cutoff=studio.booking_cutoff
    )


async def _insert(
    tx: Tx,
    now: datetime,
    studio: Studio,
    session: facts.SessionRow,
    *,
    customer_id: int,
    guests: int,
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

    A party is offered only if its seats and every resource it needs are free, counting
    bookings, live holds and the offers made before it (this one included, as each offer
    is written before the next is checked). A party that does not fit is passed over for
    a smaller one behind it, so a freed single seat is not left empty while a party of
    three waits. Call with the sessions already locked.
    """
    offers: list[WaitlistEntry] = []
    for session in sessions:
        if session.status == "open" and session.starts_at > now:
            offers += await _offer_session(tx, now, studio, session)
    return offers


async def _offer_session(
    tx: Tx, now: datetime, studio: Studio, session: facts.SessionRow
) -> list[WaitlistEntry]:
    # Never held past the booking cutoff: a live offer must still be bookable. Made in quiet
    # hours, it waits for the morning and its time to answer starts then, if a whole time to
    # answer still fits before the cutoff; if not, it goes at once (the seat would be lost).
    cutoff = session.starts_at - studio.booking_cutoff
    sent = quiet_hours.of(studio).release(now, latest=cutoff - studio.waitlist_offer)
    expires = min(sent + studio.waitlist_offer, cutoff)
    waiting = await tx.all(  # with the class's name for the offers' messages, read once here
        "SELECT w.id, w.customer_id, w.guest_count, c.name FROM waitlist_entries w"
        " JOIN classes c ON c.id = :class_id WHERE w.studio_id = :studio_id"
        " AND w.session_id = :session_id AND w.status = 'waiting' ORDER BY w.created_at, w.id",
        {"studio_id": studio.id, "session_id": session.id, "class_id": session.class_id},
    )
    offers: list[WaitlistEntry] = []
    for row in waiting:
        entry_id, customer_id, guests = row["id"], row["customer_id"], row["guest_count"]
        try:  # as they would be admitted: not to someone booked there meanwhile (a pass)
            await _admission(tx, now, studio, session, customer_id=customer_id, guests=guests)
        except errors.BookingError:
            continue
        moved = await tx.execute(
            "UPDATE waitlist_entries SET status = 'offered', offered_at = :now,"
            " offer_expires_at = :expires WHERE id = :id AND status = 'waiting'",
            {"now": now, "expires": expires, "id": entry_id},
        )
        if not moved:
            continue
        offer = WaitlistEntry(entry_id, session.id, customer_id, guests, "offered", expires)
        offers.append(offer)
        await _queue_offer(
            tx, now, studio.id, session, sent=sent, offer=offer, class_name=row["name"]
        )
    return offers


async def _queue_offer(
    tx: Tx,
    now: datetime,
    studio_id: int,
    session: facts.SessionRow,
    *,
    sent: datetime,
    offer: WaitlistEntry,
    class_name: str,
) -> None:
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=studio_id,
        customer_id=offer.customer_id,
        template="waitlist_offer",
        params={
            "class_name": class_name,
            "starts_at": session.starts_at.isoformat(),
            # A multi-day course is offered as its dates and daily hours.
            "ends_at": session.ends_at.isoformat(),
            "days": session.days,
            "guests": offer.guest_count,
            "expires_at": (offer.offer_expires_at or now).isoformat(),
        },
        due_at=sent,
        dedupe_key=f"waitlist-offer:{offer.id}",
    )


BATCH = 100  # lapsed offers read per page; each is expired in its own write transaction

# `ix_waitlist_entries_offered` holds only live offers, by when they lapse: the sweep reads
# the lapsed ones and stops, whatever the history of the waitlist.
LAPSED_SQL = """SELECT id, studio_id, session_id FROM waitlist_entries
WHERE status = 'offered' AND offer_expires_at <= :now
ORDER BY offer_expires_at, id LIMIT :limit"""


async def expire_offers(db: Database, clock: Clock, *, batch: int = BATCH) -> int:
    """The sweep: offers not taken in time expire, and what they held goes to the next in
    line. Read a page at a time outside any write transaction, then one short transaction
    per offer (the event loop gets a turn between them), until none is left; run twice or
    beside an accept, each offer moves once."""
    now = clock.now()

    async def expire_one(row: Row) -> tuple[int, bool]:
        # Moved nothing: taken meanwhile by a racing accept or sweep.
        moved = await _expire_one(db, now, row["studio_id"], row["session_id"], row["id"])
        return int(moved), moved

    return await settle_pages(db, LAPSED_SQL, {"now": now}, expire_one, batch=batch)


async def _expire_one(
    db: Database, now: datetime, studio_id: int, session_id: int, entry_id: int
) -> bool:
    async def attempt() -> bool:
        async with db.transaction() as tx:
            return await _expire(tx, now, studio_id, session_id, entry_id)

    expired: bool = await retrying(attempt)
    return expired


async def _expire(tx: Tx, now: datetime, studio_id: int, session_id: int, entry_id: int) -> bool:
    locked = await facts.lock_sessions(tx, studio_id, 0, ids=[session_id])
    moved = await tx.execute(
        "UPDATE waitlist_entries SET status = 'expired' WHERE id = :id AND status = 'offered'"
        " AND offer_expires_at <= :now",
        {"id": entry_id, "now": now},
    )
    if not moved:
        return False  # accepted, declined or expired by someone else first
    if locked is not None:
        await offer_freed_seats(tx, now, locked.studio, locked.sessions)
    return True


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
    if row is None:
        return None
    return WaitlistEntry(
        id=row["id"],
        session_id=row["session_id"],
        customer_id=row["customer_id"],
        guest_count=row["guest_count"],
        status=row["status"],
        offer_expires_at=row["offer_expires_at"],
    )


@dataclass(frozen=True)
class _Offer:
    session_id: int
    guests: int
    starts_at: datetime


async def _find_offer(tx: Tx, studio_id: int, customer_id: int, entry_id: int) -> _Offer:
    """The customer's waitlist entry `entry_id` (in any state); NotFound if not theirs."""
    row = await tx.one(
        "SELECT w.session_id, w.guest_count, s.starts_at FROM waitlist_entries w"
        " JOIN sessions s ON s.id = w.session_id"
        " WHERE w.studio_id = :s AND w.customer_id = :c AND w.id = :id",
        {"s": studio_id, "c": customer_id, "id": entry_id},
    )
    if row is None:
        raise errors.NotFound(what="waitlist offer", ident=entry_id)
    return _Offer(int(row["session_id"]), int(row["guest_count"]), instant(row["starts_at"]))


async def _move_live_offer(tx: Tx, now: datetime, entry_id: int, to: str) -> bool:
    """offered -> `to`, only while the offer is live; whether this call moved it."""
    moved = await tx.execute(
        "UPDATE waitlist_entries SET status = :to WHERE id = :id AND status = 'offered'"
        " AND offer_expires_at > :now",
        {"to": to, "id": entry_id, "now": now},
    )
    return bool(moved)


async def _why_not_live(tx: Tx, now: datetime, entry_id: int, offer: _Offer) -> Exception:
    """The truth about an offer that could not be taken: read after the guarded UPDATE,
    so it sees whatever moved the offer first."""
    row = await tx.one(
        "SELECT status, offer_expires_at FROM waitlist_entries WHERE id = :id", {"id": entry_id}
    )
    if row is None:
        return errors.NotFound(what="waitlist offer", ident=entry_id)
    status = row["status"]
    if status == "expired" or (status == "offered" and instant(row["offer_expires_at"]) <= now):
        return errors.OfferExpired(when=offer.starts_at)
    if status == "declined":
        return errors.OfferDeclined(when=offer.starts_at)
    if status == "accepted":
        return errors.OfferAlreadyAccepted(when=offer.starts_at)
    return errors.NotFound(what="waitlist offer", ident=entry_id)


async def accept_offer(
    db: Database, clock: Clock, studio_id: int, customer_id: int, entry_id: int
) -> booking.Registration:
    """Book the seats and equipment a live offer holds for the customer.

    One transaction: lock the session, move the offer offered -> accepted while it is
    live (row count checked), then book through `booking.book_in`, where the accepted
    offer no longer counts against anyone, so what it held is what the booking takes.
    An offer that expired, was declined or was accepted already is refused with that
    reason (OfferExpired, OfferDeclined, OfferAlreadyAccepted); if the booking itself is
    refused (the session was cancelled meanwhile), the offer stays as it was.
    """

    async def attempt() -> booking.Registration:
        now = clock.now()
        async with db.transaction() as tx:
            return await _accept_in(tx, now, studio_id, customer_id, entry_id)

    result: booking.Registration = await retrying(attempt)
    return result


async def _accept_in(
    tx: Tx, now: datetime, studio_id: int, customer_id: int, entry_id: int
) -> booking.Registration:
    offer = await _find_offer(tx, studio_id, customer_id, entry_id)
    locked = await facts.lock_sessions(tx, studio_id, customer_id, ids=[offer.session_id])
    if locked is None:
        raise errors.NotFound(what="waitlist offer", ident=entry_id)
    if not await _move_live_offer(tx, now, entry_id, "accepted"):
        raise await _why_not_live(tx, now, entry_id, offer)
    klass = locked.classes[locked.sessions[0].class_id]
    kind = RegistrationKind.DROP_IN if klass.kind is ClassKind.DROP_IN else RegistrationKind.SINGLE
    offered = booking.Request(kind, offer.guests, session_ids=[offer.session_id])
    return await booking.book_in(tx, now, studio_id, customer_id, offered)


async def decline(
    db: Database, clock: Clock, studio_id: int, customer_id: int, entry_id: int
) -> bool:
    """The customer passes: what the offer held goes to the next in line at once.
    False if it was no live offer of theirs (expired, taken or declined already)."""

    async def attempt() -> bool:
        now = clock.now()
        async with db.transaction() as tx:
            try:
                offer = await _find_offer(tx, studio_id, customer_id, entry_id)
            except errors.NotFound:
                return False
            locked = await facts.lock_sessions(tx, studio_id, customer_id, ids=[offer.session_id])
            if locked is None or not await _move_live_offer(tx, now, entry_id, "declined"):
                return False
            await offer_freed_seats(tx, now, locked.studio, locked.sessions)
            return True

    declined: bool = await retrying(attempt)
    return declined
