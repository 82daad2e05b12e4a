"""Booking, cancelling and the waitlist: the three registration types in one transaction each.

Every operation locks the sessions it touches (sorted ids), recounts seats and resources
from facts, applies `bookbot.engine.capacity.admit`, and writes. A partial unique index
on live bookings is the backstop against a double booking slipping through.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bookbot.engine import capacity, errors
from bookbot.engine.clock import Clock
from bookbot.engine.multi_day import last_start
from bookbot.engine.pricing import (
    RegistrationKind,
    check_registration_shape,
    registration_price,
)
from bookbot.services import facts, quiet_hours, reminders, staff_activity
from bookbot.services.common import in_list
from bookbot.services.registration_rows import NewRegistration, insert_registration
from bookbot.store.db import Database, Tx, UniqueViolation, retrying


@dataclass(frozen=True)
class Request:
    """What a customer asks for: sessions by id (a single session, drop-in dates) or a course
    run (`pattern_id`: its open sessions, all or nothing), for `guests` people."""

    kind: RegistrationKind
    guests: int
    session_ids: list[int] | None = None
    pattern_id: int | None = None


@dataclass(frozen=True)
class Admitted:
    """What admission found: the allocations for every session, and whether the customer was
    queued for any of them (their waitlist places are taken up)."""

    plan: list[capacity.Allocation]
    queued: bool


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
) -> Admitted:
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
    return Admitted(plan, any(f.customer_queued for f in found.values()))


async def _write(
    tx: Tx,
    now: datetime,
    locked: facts.Locked,
    customer_id: int,
    request: Request,
    *,
    admitted: Admitted,
    held_until: datetime | None,
) -> Registration:
    studio, sessions = locked.studio, locked.sessions
    kind, guests = request.kind, request.guests
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
        allocations=tuple(admitted.plan),
        last_starts_at=max(
            last_start(s.starts_at, s.ends_at, s.days, studio.timezone) for s in sessions
        ),
        held_until=held_until,
    )
    reg_id = await insert_registration(tx, new)
    if held_until is None:
        await confirmed(tx, now, locked, customer_id, reg_id, queued=admitted.queued)
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
    await reminders.queue_all(
        tx,
        now,
        [
            reminders.Subject(
                kind="booking",
                ref_id=reg_id,
                session_id=session.id,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                days=session.days,
                class_name=klass.name,
            )
            for session in sessions
        ],
        studio_id=studio.id,
        customer_id=customer_id,
        quiet=quiet_hours.of(studio),
    )
    await staff_activity.record(
        tx,
        now,
        studio_id=studio.id,
        subscribed=studio.staff_notices,
        kind="booking",
        params={
            "customer_id": customer_id,
            "registration_id": reg_id,
            "class_name": klass.name,
            "starts_at": sessions[0].starts_at.isoformat(),
            "sessions": len(sessions),
            **staff_activity.course_span(sessions[0]),
        },
    )
    if queued:
        body, params = in_list("s", session_ids)
        await tx.execute(
            "UPDATE waitlist_entries SET status = 'accepted' WHERE studio_id = :studio_id"  # noqa: S608
            " AND customer_id = :customer_id AND status IN ('waiting', 'offered')"
            f" AND session_id IN ({body})",
            {"studio_id": studio.id, "customer_id": customer_id, **params},
        )


def _check_locked(locked: facts.Locked | None, request: Request, customer_id: int) -> facts.Locked:
    session_ids, pattern_id = request.session_ids, request.pattern_id
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
    check_registration_shape(klass.kind, request.kind, len(locked.sessions))
    return locked


async def book_in(
    tx: Tx,
    now: datetime,
    studio_id: int,
    customer_id: int,
    request: Request,
    *,
    hold: bool = False,
) -> Registration:
    """Book (or hold, for the studio's hold time) inside the caller's transaction."""
    capacity.check_guest_count(request.guests)
    locked = _check_locked(
        await facts.lock_sessions(
            tx, studio_id, customer_id, ids=request.session_ids, pattern_id=request.pattern_id
        ),
        request,
        customer_id,
    )
    admitted = await _admit_all(tx, now, locked, customer_id, request.guests)
    held_until = now + locked.studio.hold if hold else None
    try:
        return await _write(
            tx, now, locked, customer_id, request, admitted=admitted, held_until=held_until
        )
    except UniqueViolation as error:
        raise errors.AlreadyBooked(when=locked.sessions[0].starts_at) from error


async def _run_booking(
    db: Database, clock: Clock, studio_id: int, customer_id: int, request: Request
) -> Registration:
    if request.session_ids is not None:
        request = replace(request, session_ids=sorted(set(request.session_ids)))

    async def attempt() -> Registration:
        now = clock.now()
        async with db.transaction() as tx:
            return await book_in(tx, now, studio_id, customer_id, request)

    return await retrying(attempt)


async def book_session(
    db: Database, clock: Clock, studio_id: int, customer_id: int, session_id: int, *, guests: int
) -> Registration:
    """Book `guests` people into one session of a single-session class."""
    single = Request(RegistrationKind.SINGLE, guests, session_ids=[session_id])
    return await _run_booking(db, clock, studio_id, customer_id, single)


async def book_course(
    db: Database, clock: Clock, studio_id: int, customer_id: int, pattern_id: int, *, guests: int
) -> Registration:
    """Book every open session of a course run (one pattern), all or nothing."""
    course = Request(RegistrationKind.FULL_SCHEDULE, guests, pattern_id=pattern_id)
    return await _run_booking(db, clock, studio_id, customer_id, course)


async def book_drop_in(
    db: Database,
    clock: Clock,
    studio_id: int,
    customer_id: int,
    session_ids: list[int],
    *,
    guests: int,
) -> Registration:
    """Book a chosen set of sessions of a drop-in series, priced per session; all or nothing."""
    dates = Request(RegistrationKind.DROP_IN, guests, session_ids=session_ids)
    return await _run_booking(db, clock, studio_id, customer_id, dates)
