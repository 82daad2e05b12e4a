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
    RegistrationKind,
    check_registration_shape,
    registration_price,
)
from bookbot.services import facts, reminders
from bookbot.services.common import in_list
from bookbot.services.registration_rows import NewRegistration, insert_registration
from bookbot.store.db import Database, Tx, UniqueViolation, retrying


@dataclass(frozen=True)
class Registration:
    id: int
    kind: RegistrationKind
    guest_count: int
    price_minor: int
    currency: str
    session_ids: tuple[int, ...]
    held_until: datetime | None = None  # a hold, not yet a booking


async def _admit_all(
    tx: Tx, now: datetime, locked: facts.Locked, customer_id: int, guests: int
) -> tuple[list[capacity.Allocation], bool]:
    """Allocations for every session, and whether the customer was on any waitlist."""
    ids = [s.id for s in locked.sessions]
    found = await facts.session_facts(tx, locked.studio.id, ids, now, customer_id)
    plan: list[capacity.Allocation] = []
    for session in locked.sessions:
        f = found[session.id]
        plan += capacity.admit(
            now,
            f.state(session),
            f.requirements,
            f.uses,
            guests,
            booking_cutoff=locked.studio.booking_cutoff,
        )
    return plan, any(f.customer_queued for f in found.values())


async def _write(
    tx: Tx,
    now: datetime,
    locked: facts.Locked,
    customer_id: int,
    kind: RegistrationKind,
    guests: int,
    plan: list[capacity.Allocation],
    queued: bool,
    held_until: datetime | None = None,
) -> Registration:
    studio, sessions = locked.studio, locked.sessions
    klass = locked.classes[sessions[0].class_id]
    session_ids = tuple(s.id for s in sessions)
    new = NewRegistration(
        studio_id=studio.id,
        customer_id=customer_id,
        class_id=klass.id,
        pattern_id=sessions[0].pattern_id if kind is RegistrationKind.FULL_SCHEDULE else None,
        kind=kind.value,
        guests=guests,
        price_minor=registration_price(kind, klass.price_minor, guests, len(sessions)),
        currency=studio.currency,
        created_at=now,
        session_ids=session_ids,
        allocations=tuple(plan),
        last_starts_at=max(s.starts_at for s in sessions),
        held_until=held_until,
    )
    reg_id = await insert_registration(tx, new)
    if held_until is None:
        await confirmed(tx, now, locked, customer_id, reg_id, queued=queued)
    return Registration(
        reg_id, kind, guests, new.price_minor, studio.currency, session_ids, held_until
    )


async def confirmed(
    tx: Tx, now: datetime, locked: facts.Locked, customer_id: int, reg_id: int, *, queued: bool
) -> None:
    """What a booking brings once it is confirmed: its reminders, and its waitlist places
    (if the customer was queued for these sessions) taken up."""
    studio, sessions = locked.studio, locked.sessions
    klass = locked.classes[sessions[0].class_id]
    session_ids = tuple(s.id for s in sessions)
    for session in sessions:
        await reminders.queue(
            tx,
            now,
            reminders.Subject(
                kind="booking",
                ref_id=reg_id,
                session_id=session.id,
                starts_at=session.starts_at,
                class_name=klass.name,
            ),
            studio_id=studio.id,
            customer_id=customer_id,
        )
    if queued:
        body, params = in_list("s", session_ids)
        await tx.execute(
            "UPDATE waitlist_entries SET status = 'accepted' WHERE studio_id = :studio_id"  # noqa: S608
            " AND customer_id = :customer_id AND status IN ('waiting', 'offered')"
            f" AND session_id IN ({body})",
            {"studio_id": studio.id, "customer_id": customer_id, **params},
        )


def _check_locked(
    locked: facts.Locked | None,
    kind: RegistrationKind,
    session_ids: list[int] | None,
    pattern_id: int | None,
    customer_id: int,
) -> facts.Locked:
    if locked is None:
        what = ("session", min(session_ids)) if session_ids else ("course run", pattern_id)
        raise errors.NotFound(what=what[0], ident=what[1])
    missing = set(session_ids or ()) - {s.id for s in locked.sessions}
    if missing:
        raise errors.NotFound(what="session", ident=min(missing))
    if not locked.customer_found:
        raise errors.NotFound(what="customer", ident=customer_id)
    if len(locked.classes) != 1:
        raise errors.MixedClasses()
    (klass,) = locked.classes.values()
    check_registration_shape(klass.kind, kind, len(locked.sessions))
    return locked


async def book_in(
    tx: Tx,
    now: datetime,
    studio_id: int,
    customer_id: int,
    kind: RegistrationKind,
    session_ids: list[int] | None,
    pattern_id: int | None,
    guests: int,
    *,
    hold: bool = False,
) -> Registration:
    """Book (or hold, for the studio's hold time) inside the caller's transaction."""
    capacity.check_guest_count(guests)
    locked = _check_locked(
        await facts.lock_sessions(
            tx, studio_id, customer_id, ids=session_ids, pattern_id=pattern_id
        ),
        kind,
        session_ids,
        pattern_id,
        customer_id,
    )
    plan, queued = await _admit_all(tx, now, locked, customer_id, guests)
    held_until = now + locked.studio.hold if hold else None
    try:
        return await _write(tx, now, locked, customer_id, kind, guests, plan, queued, held_until)
    except UniqueViolation as error:
        raise errors.AlreadyBooked(when=locked.sessions[0].starts_at) from error


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
    ids = sorted(set(session_ids)) if session_ids is not None else None

    async def attempt() -> Registration:
        now = clock.now()
        async with db.transaction() as tx:
            return await book_in(tx, now, studio_id, customer_id, kind, ids, pattern_id, guests)

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
