"""Booking, cancelling and the waitlist: the three registration types in one transaction each.

Every operation locks the sessions it touches (sorted ids), recounts seats and resources
from facts, applies `bookbot.engine.capacity.admit`, and writes. A partial unique index
on live bookings is the backstop against a double booking slipping through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import capacity, errors
from bookbot.engine.clock import Clock
from bookbot.engine.pricing import (
    ClassKind,
    RegistrationKind,
    check_registration_shape,
    registration_price,
)
from bookbot.services import facts
from bookbot.services.common import Studio, in_list, studio_by_id
from bookbot.store.db import Database, Tx, UniqueViolation, retrying


@dataclass(frozen=True)
class Registration:
    id: int
    kind: RegistrationKind
    guest_count: int
    price_minor: int
    currency: str
    session_ids: tuple[int, ...]


@dataclass(frozen=True)
class _Class:
    id: int
    name: str
    kind: ClassKind
    price_minor: int


async def _class(tx: Tx, studio_id: int, class_id: int) -> _Class:
    row = await tx.one(
        "SELECT id, name, kind, price_minor FROM classes WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": studio_id, "id": class_id},
    )
    if row is None:
        raise errors.NotFound(what="class", ident=class_id)
    return _Class(row[0], row[1], ClassKind(row[2]), row[3])


async def _require_customer(tx: Tx, studio_id: int, customer_id: int) -> None:
    found = await tx.scalar(
        "SELECT id FROM customers WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": studio_id, "id": customer_id},
    )
    if found is None:
        raise errors.NotFound(what="customer", ident=customer_id)


async def _course_session_ids(tx: Tx, studio_id: int, pattern_id: int) -> list[int]:
    rows = await tx.all(
        "SELECT id FROM sessions WHERE studio_id = :studio_id AND pattern_id = :pattern_id"
        " AND status = 'open' ORDER BY starts_at",
        {"studio_id": studio_id, "pattern_id": pattern_id},
    )
    if not rows:
        raise errors.NotFound(what="course run", ident=pattern_id)
    return [r[0] for r in rows]


async def _admit_all(
    tx: Tx,
    now: datetime,
    studio: Studio,
    customer_id: int,
    sessions: list[facts.SessionRow],
    guests: int,
) -> list[capacity.Allocation]:
    ids = [s.id for s in sessions]
    reqs = await facts.requirements(tx, studio.id, sessions[0].class_id)
    taken = await facts.seats_taken(tx, studio.id, ids, now, customer_id)
    mine = await facts.customer_booked(tx, studio.id, ids, customer_id)
    uses = await facts.resource_uses(tx, studio.id, ids, reqs)
    plan: list[capacity.Allocation] = []
    for s in sessions:
        state = capacity.SessionState(
            s.id, s.starts_at, s.status, s.capacity, taken.get(s.id, 0), s.id in mine
        )
        plan += capacity.admit(
            now,
            state,
            reqs,
            uses[s.id],
            guests,
            booking_cutoff=studio.booking_cutoff,
            when=studio.label(s.starts_at),
        )
    return plan


async def _write(
    tx: Tx,
    now: datetime,
    studio: Studio,
    customer_id: int,
    klass: _Class,
    kind: RegistrationKind,
    sessions: list[facts.SessionRow],
    guests: int,
    plan: list[capacity.Allocation],
) -> Registration:
    price = registration_price(kind, klass.price_minor, guests, len(sessions))
    pattern_id = sessions[0].pattern_id if kind is RegistrationKind.FULL_SCHEDULE else None
    reg_id = await tx.scalar(
        "INSERT INTO registrations (studio_id, customer_id, class_id, pattern_id, kind,"
        " guest_count, status, price_minor, currency, created_at) VALUES (:studio_id,"
        " :customer_id, :class_id, :pattern_id, :kind, :guests, 'confirmed', :price, :currency,"
        " :now) RETURNING id",
        {
            "studio_id": studio.id,
            "customer_id": customer_id,
            "class_id": klass.id,
            "pattern_id": pattern_id,
            "kind": kind.value,
            "guests": guests,
            "price": price,
            "currency": studio.currency,
            "now": now,
        },
    )
    base = {"studio_id": studio.id, "registration_id": reg_id, "customer_id": customer_id}
    await tx.execute_many(
        "INSERT INTO registration_sessions (studio_id, registration_id, session_id, customer_id,"
        " guest_count, status) VALUES (:studio_id, :registration_id, :session_id, :customer_id,"
        " :guests, 'booked')",
        [{**base, "session_id": s.id, "guests": guests} for s in sessions],
    )
    await tx.execute_many(
        "INSERT INTO resource_allocations (studio_id, registration_id, session_id, resource_id,"
        " quantity) VALUES (:studio_id, :registration_id, :session_id, :resource_id, :quantity)",
        [
            {
                "studio_id": studio.id,
                "registration_id": reg_id,
                "session_id": a.session_id,
                "resource_id": a.resource_id,
                "quantity": a.quantity,
            }
            for a in plan
            if a.quantity
        ],
    )
    body, params = in_list("s", [s.id for s in sessions])
    await tx.execute(
        "UPDATE waitlist_entries SET status = 'accepted' WHERE studio_id = :studio_id"  # noqa: S608
        f" AND customer_id = :customer_id AND status IN ('waiting', 'offered') AND session_id IN ({body})",
        {"studio_id": studio.id, "customer_id": customer_id, **params},
    )
    return Registration(reg_id, kind, guests, price, studio.currency, tuple(s.id for s in sessions))


async def _book(
    tx: Tx,
    now: datetime,
    studio_id: int,
    customer_id: int,
    kind: RegistrationKind,
    session_ids: list[int],
    guests: int,
) -> Registration:
    capacity.check_guest_count(guests)
    studio = await studio_by_id(tx, studio_id)
    await _require_customer(tx, studio_id, customer_id)
    await tx.lock("sessions", session_ids)
    sessions = await facts.sessions_by_id(tx, studio_id, session_ids)
    missing = set(session_ids) - {s.id for s in sessions}
    if missing:
        raise errors.NotFound(what="session", ident=min(missing))
    if len({s.class_id for s in sessions}) != 1:
        raise errors.InvalidRequest(reason="all chosen sessions must be of the same class")
    klass = await _class(tx, studio_id, sessions[0].class_id)
    check_registration_shape(klass.kind, kind, len(sessions))
    plan = await _admit_all(tx, now, studio, customer_id, sessions, guests)
    try:
        return await _write(tx, now, studio, customer_id, klass, kind, sessions, guests, plan)
    except UniqueViolation as error:
        raise errors.AlreadyBooked(when=studio.label(sessions[0].starts_at)) from error


async def _run_booking(
    db: Database,
    clock: Clock,
    studio_id: int,
    customer_id: int,
    kind: RegistrationKind,
    session_ids: list[int] | None,
    pattern_id: int | None,
    guests: int,
) -> Registration:
    async def attempt() -> Registration:
        now = clock.now()
        async with db.transaction() as tx:
            ids = session_ids
            if ids is None:
                ids = await _course_session_ids(tx, studio_id, pattern_id or 0)
            return await _book(tx, now, studio_id, customer_id, kind, sorted(set(ids)), guests)

    result: Registration = await retrying(attempt)
    return result


async def book_session(
    db: Database, clock: Clock, studio_id: int, customer_id: int, session_id: int, guests: int
) -> Registration:
    """Book `guests` people into one session of a single-session class."""
    return await _run_booking(
        db, clock, studio_id, customer_id, RegistrationKind.SINGLE, [session_id], None, guests
    )


async def book_course(
    db: Database, clock: Clock, studio_id: int, customer_id: int, pattern_id: int, guests: int
) -> Registration:
    """Book every open session of a course run (one pattern), all or nothing."""
    return await _run_booking(
        db, clock, studio_id, customer_id, RegistrationKind.FULL_SCHEDULE, None, pattern_id, guests
    )


async def book_drop_in(
    db: Database,
    clock: Clock,
    studio_id: int,
    customer_id: int,
    session_ids: list[int],
    guests: int,
) -> Registration:
    """Book a chosen set of sessions of a drop-in series, priced per session; all or nothing."""
    return await _run_booking(
        db, clock, studio_id, customer_id, RegistrationKind.DROP_IN, session_ids, None, guests
    )
