"""Moving a confirmed class booking to another date of the same class (issue 14).

What may move: a confirmed booking of ONE session, that is a single-session class
(kind 'single') or a drop-in booked for one date. A course (kind 'full_schedule') or
several drop-in dates booked together are refused: their price and their run are one
thing, so they are cancelled and booked again instead.

Where to: another open, future session of the same class (the same part, for a series
taught in parts), past the studio's booking cutoff, with seats and every required
resource free for the whole party, and not a date the customer is booked on already.

Until when: the studio's `cancellation_cutoff_hours` before the booked session starts
(classes have no separate reschedule cutoff); a session that has started never moves,
whatever the cutoff. Refused with `RescheduleTooLate` (cutoff and deadline).

How (one transaction, the lock order of every registration writer, see
`registration_rows`): the registration row first, then the old and the new session
together in id order (`facts.lock_sessions`); the new session's seats and resources are
recounted under that lock and admitted by `engine.capacity.admit` as a booking would be,
so a move never oversells. Then the booked seat row is moved to the new session (the
same row, so everything that reads a registration's sessions sees one date), its
allocations are rewritten, `last_starts_at` follows the new date and `sequence` goes up
by one (the .ics SEQUENCE of its event), reminders of the old date are withdrawn and
those of the new one queued, the customer's waitlist place on the new date (if any) is
taken up, and the freed seats of the old date are offered to its waitlist.

Money stays with the registration: payments and refunds hang off `registration_id`, so
what was paid carries over untouched. Only a balance still to be asked for (`scheduled`)
is due a fixed time before the start, so its `due_at` moves with the date (never before
now). A refusal changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.engine import capacity, errors
from bookbot.engine.clock import Clock
from bookbot.engine.multi_day import last_start
from bookbot.engine.pricing import RegistrationKind
from bookbot.services import facts, payment_rows, staff_notices
from bookbot.services.booking import Registration
from bookbot.services.class_move_rows import (
    mark_moved,
    move_allocations,
    move_reminders,
    move_seat,
)
from bookbot.services.common import Studio
from bookbot.services.registration_rows import (
    lock_registration,
    session_ids_of,
)
from bookbot.services.waitlist import WaitlistEntry, offer_freed_seats
from bookbot.store.db import Database, Reads, Row, Tx, UniqueViolation, instant, retrying

MOVABLE_KINDS = (RegistrationKind.SINGLE.value, RegistrationKind.DROP_IN.value)
OPTIONS_LIMIT = 20
# Candidates read for the options: full dates are dropped after counting, so read more
# than are shown (the count for the screen comes from one statement either way).
_CANDIDATES = 3 * OPTIONS_LIMIT


@dataclass(frozen=True)
class SessionChoice:
    """A date the booking may move to (for display: the move recounts under lock)."""

    session: facts.SessionRow
    seats_left: int
    teacher: str | None = None


@dataclass(frozen=True, kw_only=True)
class Rescheduled(Registration):
    """The booking after the move (its `session_ids` hold the new date alone)."""

    class_name: str
    old_session: facts.SessionRow  # the date it left
    new_session: facts.SessionRow  # the date it holds now (for the confirmation and .ics)
    sequence: int  # how many times it has moved: the .ics SEQUENCE of its event
    offers: tuple[WaitlistEntry, ...] = ()  # the freed seats offered to the old date's list


def calendar_uid(studio_slug: str, registration_id: int, *, session_id: int, dates: int) -> str:
    """The .ics UID of a booking's event for one of its `dates` sessions. A booking of one
    date is one event wherever it moves (the UID names no session; each move sends it again
    with SEQUENCE = `sequence`); a booking of several dates, which never moves, has an
    event per date."""
    if dates == 1:
        return f"registration-{registration_id}@{studio_slug}.bookbot"
    return f"registration-{registration_id}-session-{session_id}@{studio_slug}.bookbot"


def reschedule_deadline(starts_at: datetime, cutoff_hours: int) -> datetime:
    """The last instant a booking of a session starting at `starts_at` may be moved."""
    return starts_at - timedelta(hours=cutoff_hours)


def can_reschedule(
    *,
    kind: str,
    session_count: int,
    status: str,
    starts_at: datetime,
    cutoff_hours: int,
    now: datetime,
) -> bool:
    """Whether a move would be allowed by the booking itself (the new date is checked when
    chosen): for the chat to offer the button only when it will not be refused."""
    return (
        status == "confirmed"
        and kind in MOVABLE_KINDS
        and session_count == 1
        and now < reschedule_deadline(starts_at, cutoff_hours)
    )


def _check_movable(reg: Row, session_ids: list[int], registration_id: int) -> int:
    """The booking's one session, or the refusal for a booking that cannot move."""
    if not session_ids:  # pragma: no cover - a live booking always has its seat row
        raise errors.NotFound(what="booking", ident=registration_id)
    if reg["status"] in ("cancelled", "expired"):
        raise errors.AlreadyCancelled()
    if reg["status"] != "confirmed":
        raise errors.InvalidRequest(reason="Only a confirmed booking can be moved.")
    if reg["kind"] not in MOVABLE_KINDS or len(session_ids) != 1:
        raise errors.InvalidRequest(
            reason="A course or several dates booked together cannot be moved to other dates;"
            " cancel it and book again."
        )
    return session_ids[0]


def _check_in_time(now: datetime, starts_at: datetime, cutoff_hours: int) -> None:
    deadline = reschedule_deadline(starts_at, cutoff_hours)
    if now >= deadline:
        raise errors.RescheduleTooLate(cutoff_hours=cutoff_hours, deadline=deadline)


# --- the dates it may move to -------------------------------------------------------------

_BOOKING = """SELECT r.customer_id, r.status, r.kind, r.guest_count, rs.session_id,
    s.class_id, s.starts_at, s.part_position, st.cancellation_cutoff_hours,
    st.booking_cutoff_minutes
FROM registrations r
JOIN registration_sessions rs ON rs.registration_id = r.id AND rs.studio_id = r.studio_id
JOIN sessions s ON s.id = rs.session_id
JOIN studios st ON st.id = r.studio_id
WHERE r.studio_id = :studio_id AND r.id = :id
ORDER BY rs.session_id"""

# The next open dates of the class after the booking cutoff, picked inside the statement
# that counts them, through ix_sessions_studio_starts (as browse.upcoming_dates).
_OTHER_DATES = """s.id IN (SELECT u.id FROM sessions u WHERE u.studio_id = :studio_id
    AND u.class_id = :class_id AND u.status = 'open' AND u.starts_at > :after
    AND u.id <> :current AND {part}
    ORDER BY u.starts_at, u.id LIMIT :limit)"""


def _part_filter(part: int | None) -> str:
    return "u.part_position IS NULL" if part is None else "u.part_position = :part"


async def reschedule_options(
    reads: Reads, studio_id: int, *, registration_id: int, customer_id: int, now: datetime
) -> list[SessionChoice]:
    """The dates this customer's booking may move to, soonest first, at most OPTIONS_LIMIT:
    open sessions of the same class (and part) after the booking cutoff, other than its
    own, with seats and resources for its whole party, not already booked by the customer.

    Refuses as `reschedule_booking` would for the booking itself (NotFound when it is not
    theirs, AlreadyCancelled, InvalidRequest for a hold or a course, RescheduleTooLate), so
    the chat can state why before offering dates. Two reads, neither locking.
    """
    rows = await reads.all(_BOOKING, {"studio_id": studio_id, "id": registration_id})
    if not rows or rows[0]["customer_id"] != customer_id:
        raise errors.NotFound(what="booking", ident=registration_id)
    first = rows[0]
    current = _check_movable(first, [int(r["session_id"]) for r in rows], registration_id)
    _check_in_time(now, instant(first["starts_at"]), int(first["cancellation_cutoff_hours"]))
    part = first["part_position"]
    params: dict[str, object] = {
        "class_id": first["class_id"],
        "after": now + timedelta(minutes=int(first["booking_cutoff_minutes"])),
        "current": current,
        "limit": _CANDIDATES,
        # Counted as for this customer: their own live offers are theirs to take, and the
        # dates they are booked on already are known.
        "customer_id": customer_id,
    }
    if part is not None:
        params["part"] = part
    found = await facts.browse_facts(
        reads, studio_id, now, where=_OTHER_DATES.format(part=_part_filter(part)), params=params
    )
    guests = int(first["guest_count"])
    choices = []
    for b in found:
        state = b.facts.state(b.session)
        fits = capacity.availability(state, b.facts.requirements, b.facts.uses, guests).fits(guests)
        if fits and not b.facts.customer_booked:
            choices.append(SessionChoice(b.session, state.seats_left, b.teacher))
    return choices[:OPTIONS_LIMIT]


# --- the move -----------------------------------------------------------------------------


async def reschedule_booking(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    registration_id: int,
    customer_id: int,
    session_id: int,
) -> Rescheduled:
    """Move this customer's confirmed booking to `session_id`, in one transaction.

    Refusals (nothing changed): NotFound (no such booking of theirs, or no such session),
    AlreadyCancelled, InvalidRequest (a hold, a course, several dates), RescheduleTooLate
    (inside the studio's cancellation cutoff of the booked date), MixedClasses (another
    class), WrongPart, and the booking refusals of the new date (SessionNotOpen,
    SessionInPast, AlreadyBooked (their own date included), NotEnoughSeats,
    NotEnoughResource).
    """

    async def attempt() -> Rescheduled:
        now = clock.now()
        async with db.transaction() as tx:
            return await reschedule_in(
                tx,
                now,
                studio_id,
                registration_id=registration_id,
                customer_id=customer_id,
                session_id=session_id,
            )

    result: Rescheduled = await retrying(attempt)
    return result


async def reschedule_in(
    tx: Tx,
    now: datetime,
    studio_id: int,
    *,
    registration_id: int,
    customer_id: int,
    session_id: int,
) -> Rescheduled:
    """`reschedule_booking` inside the caller's transaction."""
    reg = await lock_registration(tx, studio_id, registration_id)
    if reg is None or reg["customer_id"] != customer_id:
        raise errors.NotFound(what="booking", ident=registration_id)
    old_id = _check_movable(
        reg, await session_ids_of(tx, studio_id, registration_id), registration_id
    )
    locked = await facts.lock_sessions(tx, studio_id, customer_id, ids=sorted({old_id, session_id}))
    by_id = {s.id: s for s in (locked.sessions if locked else [])}
    if locked is None or old_id not in by_id:  # pragma: no cover - held by the seat row
        raise errors.NotFound(what="booking", ident=registration_id)
    old = by_id[old_id]
    _check_in_time(now, old.starts_at, locked.studio.cancellation_cutoff_hours)
    new = by_id.get(session_id)
    if new is None:
        raise errors.NotFound(what="session", ident=session_id)
    await _check_same_class(tx, old, new)
    guests = int(reg["guest_count"])
    found = (await facts.session_facts(tx, studio_id, [new.id], now, customer_id))[new.id]
    plan = capacity.admit(
        now,
        found.state(new),
        found.requirements,
        found.uses,
        guests,
        booking_cutoff=locked.studio.booking_cutoff,
    )
    try:
        await move_seat(tx, studio_id, registration_id, old.id, new.id)
    except UniqueViolation as error:  # the backstop under admit's own check
        raise errors.AlreadyBooked(when=new.starts_at) from error
    await move_allocations(tx, studio_id, registration_id, old.id, plan)
    latest = last_start(new.starts_at, new.ends_at, new.days, locked.studio.timezone)
    sequence = await mark_moved(tx, studio_id, registration_id, latest)
    await payment_rows.move_scheduled_balance(
        tx, now, registration_id, new.starts_at - old.starts_at
    )
    class_name = locked.classes[new.class_id].name
    await move_reminders(
        tx, now, locked.studio, customer_id, registration_id, old=old, new=new, name=class_name
    )
    if found.customer_queued:
        await tx.execute(
            "UPDATE waitlist_entries SET status = 'accepted' WHERE studio_id = :studio_id"
            " AND customer_id = :customer_id AND session_id = :session_id"
            " AND status IN ('waiting', 'offered')",
            {"studio_id": studio_id, "customer_id": customer_id, "session_id": new.id},
        )
    offers = await offer_freed_seats(tx, now, locked.studio, [old])
    moved = Rescheduled(
        id=registration_id,
        kind=RegistrationKind(reg["kind"]),
        guest_count=guests,
        price_minor=int(reg["price_minor"]),
        currency=str(reg["currency"]),
        session_ids=(new.id,),
        class_name=class_name,
        old_session=old,
        new_session=new,
        sequence=sequence,
        offers=tuple(offers),
    )
    await _tell_staff(tx, now, locked.studio, customer_id, moved)
    return moved


async def _tell_staff(
    tx: Tx, now: datetime, studio: Studio, customer_id: int, moved: Rescheduled
) -> None:
    """The new date's instructor (else the staff chat) is told who moved in, from when."""
    row = await tx.one(
        "SELECT c.name, s.instructor_id FROM customers c JOIN sessions s ON s.id = :session_id"
        " WHERE c.studio_id = :studio_id AND c.id = :id",
        {"studio_id": studio.id, "id": customer_id, "session_id": moved.new_session.id},
    )
    if row is None:
        return
    await staff_notices.tell_staff(
        tx,
        now,
        studio_id=studio.id,
        staff_id=row["instructor_id"],
        template="staff_booking_moved",
        params={
            "service_name": moved.class_name,
            "customer_name": row["name"],
            "guests": moved.guest_count,
            "starts_at": moved.new_session.starts_at.isoformat(),
            "was": moved.old_session.starts_at.isoformat(),
            "staff_timezone": studio.timezone,
        },
        dedupe_key=f"staff_booking_moved:{moved.id}-{moved.sequence}",
    )


async def _check_same_class(tx: Tx, old: facts.SessionRow, new: facts.SessionRow) -> None:
    if new.class_id != old.class_id:
        raise errors.MixedClasses()
    parts = {
        int(r["id"]): r["part_position"]
        for r in await tx.all(
            "SELECT id, part_position FROM sessions WHERE id IN (:old, :new)",
            {"old": old.id, "new": new.id},
        )
    }
    if parts[old.id] != parts[new.id]:
        raise errors.WrongPart(offered=parts[new.id], part=parts[old.id])
