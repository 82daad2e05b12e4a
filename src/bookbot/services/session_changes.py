"""Staff add one-off sessions and edit a session's time, place, capacity and notes.

A one-off session has no recurrence rule (`pattern_id` NULL; `occurrence_date` its local
day): browse, booking, reminders and the sweeps read sessions by class and time, never by
pattern, so it is offered and booked like a generated one. A course (kind 'course') is
booked as the run of a pattern, so a one-off session of one would never be offered: refused.

An edit runs in one transaction with the session row locked (the lock every booking takes
first): the capacity cannot drop below the seats taken (bookings, holds, pass
reservations); a new time re-checks each assigned staff member (qualified, free). A change
of time or place tells every attendee in the same transaction, through the outbox
('session_changed'): each confirmed booking's `sequence` goes up by one (its .ics event's
SEQUENCE; the UID stays, so calendars move the event) and its reminders are withdrawn and
queued for the new time; pass reservations are told and re-reminded too. A notes change
tells nobody. More capacity offers the new seats to the waiting list.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.services import facts, multi_day_rows, staffing
from bookbot.services.common import Studio, studio_by_id
from bookbot.services.session_notices import tell_attendees
from bookbot.services.session_times import (
    CapacityBelowTaken,
    StartsInPast,
    course_days,
    local_parts,
)
from bookbot.services.waitlist import offer_freed_seats
from bookbot.store.db import Database, Reads, Tx, retrying


@dataclass(frozen=True)
class NewSession:
    """What staff typed for a one-off session (times are the studio's wall clock)."""

    class_key: str  # key or id
    day: date
    start: time
    end: time
    capacity: int | None = None  # None: the class's schedule's capacity
    instructor_key: str | None = None
    location: str | None = None  # None: the class's schedule's place
    days: int = 1  # a course over this many consecutive days, start to end each day


@dataclass(frozen=True)
class Added:
    """A new one-off session, who teaches it, and why the schedule's instructor does not."""

    session: facts.SessionRow
    instructor: str | None  # the instructor's name: the one given, else the schedule's
    unstaffed: errors.BookingError | None = None  # the schedule's instructor refused


async def add_session(
    db: Database, clock: Clock, studio_id: int, new: NewSession
) -> facts.SessionRow:
    """`add_one_off`'s session."""
    return (await add_one_off(db, clock, studio_id, new)).session


async def add_one_off(db: Database, clock: Clock, studio_id: int, new: NewSession) -> Added:
    """Create the session (and assign its instructor, qualified and free) in one transaction.

    Without `instructor_key` the class's schedule's instructor teaches it, as capacity and
    place come from that schedule, when qualified and free; else nobody (`unstaffed` says
    why) rather than refusing the session.

    Refusals: NotFound (class, staff), InvalidRequest (a course; no capacity known),
    EndsBeforeStart, TimeNotOnClock, StartsInPast, StaffNotQualified, StaffDoubleBooked.
    """

    async def attempt() -> Added:
        async with db.transaction() as tx:
            return await _add_in(tx, clock.now(), studio_id, new)

    done: Added = await retrying(attempt)
    return done


async def _add_in(tx: Tx, now: datetime, studio_id: int, new: NewSession) -> Added:
    studio = await studio_by_id(tx, studio_id)
    klass = await tx.one(
        "SELECT id, kind FROM classes WHERE studio_id = :s AND (key = :key"
        " OR CAST(id AS TEXT) = :key)",
        {"s": studio_id, "key": new.class_key},
    )
    if klass is None:
        raise errors.NotFound(what="class", ident=new.class_key)
    if klass["kind"] == "course":
        raise errors.InvalidRequest(
            reason="A course is booked as a whole run: add its dates to a schedule pattern."
        )
    day_list = course_days(new.day, new.start, new.end, new.days, studio.timezone)
    starts_at, ends_at = day_list[0].starts_at, day_list[-1].ends_at
    if starts_at <= now:
        raise StartsInPast()
    # The class's schedule: its largest pattern (the capacity `addable_classes` offers).
    usual = await tx.one(
        "SELECT capacity, location, instructor_id FROM schedule_patterns"
        " WHERE studio_id = :s AND class_id = :c ORDER BY capacity DESC, id LIMIT 1",
        {"s": studio_id, "c": klass["id"]},
    )
    capacity = new.capacity
    if capacity is None and usual is not None and usual["capacity"] is not None:
        capacity = int(usual["capacity"])
    if capacity is None or capacity < 1:
        raise errors.InvalidRequest(reason="Give the session's capacity (at least 1).")
    location = new.location
    if location is None:
        location = str(usual["location"]) if usual and usual["location"] is not None else ""
    session_id = await tx.scalar(
        "INSERT INTO sessions (studio_id, class_id, pattern_id, occurrence_date, starts_at,"
        " ends_at, capacity, location, status, days) VALUES (:s, :c, NULL, :day, :starts,"
        " :ends, :capacity, :location, 'open', :days) RETURNING id",
        {
            "days": new.days,
            "s": studio_id,
            "c": klass["id"],
            "day": new.day,
            "starts": starts_at,
            "ends": ends_at,
            "capacity": capacity,
            "location": location.strip(),
        },
    )
    await multi_day_rows.replace_days(tx, studio_id, int(session_id), day_list)
    default = None if usual is None else usual["instructor_id"]
    name, unstaffed = await _staff_new(tx, studio_id, int(session_id), new, default)
    row = facts.SessionRow(
        int(session_id),
        int(klass["id"]),
        None,
        starts_at,
        ends_at,
        capacity,
        "open",
        location,
        new.days,
    )
    return Added(row, name, unstaffed)


async def _staff_new(
    tx: Tx, studio_id: int, session_id: int, new: NewSession, default: Any
) -> tuple[str | None, errors.BookingError | None]:
    """Assign the instructor given (a refusal refuses the session) or the schedule's (a
    refusal leaves the session without one): their name, and the schedule's refusal."""
    unstaffed: errors.BookingError | None = None
    staff_id = None
    if new.instructor_key:
        staff_id = await _staff_id(tx, studio_id, new.instructor_key)
        await staffing.assign_in(tx, studio_id, session_id, staff_id, True)
    elif default is not None:
        staff_id = int(default)
        try:  # assign_in refuses before it writes anything
            await staffing.assign_in(tx, studio_id, session_id, staff_id, True)
        except errors.BookingError as error:
            staff_id, unstaffed = None, error
    if staff_id is None:
        return None, unstaffed
    name = await tx.scalar(
        "SELECT name FROM staff WHERE studio_id = :s AND id = :id", {"s": studio_id, "id": staff_id}
    )
    return None if name is None else str(name), None


async def _staff_id(tx: Tx, studio_id: int, key: str) -> int:
    found = await tx.scalar(
        "SELECT id FROM staff WHERE studio_id = :s AND (key = :key OR CAST(id AS TEXT) = :key)",
        {"s": studio_id, "key": key},
    )
    if found is None:
        raise errors.NotFound(what="staff member", ident=key)
    return int(found)


@dataclass(frozen=True)
class Change:
    """An edit; None leaves that field as it is."""

    day: date | None = None
    start: time | None = None
    end: time | None = None
    capacity: int | None = None
    location: str | None = None
    notes: str | None = None

    @property
    def moves(self) -> bool:
        return self.day is not None or self.start is not None or self.end is not None


@dataclass(frozen=True)
class Edited:
    """The session after the edit, what it was, and who was told."""

    before: facts.SessionRow
    after: facts.SessionRow
    told: int  # attendees told of a new time or place
    offers: int  # waiting-list offers made for new seats


_LOCK = """SELECT s.id, s.class_id, s.pattern_id, s.starts_at, s.ends_at, s.capacity, s.status,
    s.location, s.days, s.instructor_id FROM sessions s WHERE s.studio_id = :s AND s.id = :id"""


async def edit_session(
    db: Database, clock: Clock, studio_id: int, session_id: int, change: Change
) -> Edited:
    """Apply `change` to the session and tell its attendees (see the module).

    Refusals: NotFound, SessionNotOpen (cancelled), SessionInPast (started), EndsBeforeStart,
    TimeNotOnClock, StartsInPast, CapacityBelowTaken, StaffDoubleBooked/StaffNotQualified.
    """

    async def attempt() -> Edited:
        async with db.transaction() as tx:
            return await edit_in(tx, clock.now(), studio_id, session_id, change)

    done: Edited = await retrying(attempt)
    return done


async def edit_in(tx: Tx, now: datetime, studio_id: int, session_id: int, change: Change) -> Edited:
    """`edit_session` inside the caller's transaction."""
    row = await tx.one(_LOCK + tx.for_update("s"), {"s": studio_id, "id": session_id})
    if row is None:
        raise errors.NotFound(what="session", ident=session_id)
    before = facts.session_row(row)
    if before.status != "open":
        raise errors.SessionNotOpen(when=before.starts_at)
    if before.starts_at <= now:
        raise errors.SessionInPast(when=before.starts_at)
    studio = await studio_by_id(tx, studio_id)
    after = await _target(tx, now, studio, before, change)
    await tx.execute(
        "UPDATE sessions SET starts_at = :starts, ends_at = :ends, capacity = :capacity,"
        " location = :location, occurrence_date = :day,"
        " instructor_notes = COALESCE(:notes, instructor_notes)"
        " WHERE studio_id = :s AND id = :id",
        {
            "starts": after.starts_at,
            "ends": after.ends_at,
            "capacity": after.capacity,
            "location": after.location,
            "day": local_parts(after.starts_at, after.ends_at, studio.timezone)[0],
            "notes": change.notes.strip() if change.notes is not None else None,
            "s": studio_id,
            "id": session_id,
        },
    )
    moved = (after.starts_at, after.ends_at) != (before.starts_at, before.ends_at)
    if moved and after.days > 1:  # every day moves with the first
        day, start, end = local_parts(after.starts_at, after.ends_at, studio.timezone)
        days = course_days(day, start, end, after.days, studio.timezone)
        await multi_day_rows.replace_days(tx, studio_id, session_id, days)
    if moved:
        await _recheck_staff(tx, studio_id, session_id, row["instructor_id"])
    told = 0
    if moved or after.location != before.location:
        told = await tell_attendees(tx, now, studio, before=before, after=after)
    offers = []
    if after.capacity > before.capacity:
        offers = await offer_freed_seats(tx, now, studio, [after])
    return Edited(before, after, told, len(offers))


async def _target(
    tx: Tx, now: datetime, studio: Studio, before: facts.SessionRow, change: Change
) -> facts.SessionRow:
    """The session as the change would leave it, or the refusal."""
    after = before
    if change.moves:
        zone = studio.timezone
        day, start, end = local_parts(before.starts_at, before.ends_at, zone)
        days = course_days(
            change.day or day, change.start or start, change.end or end, before.days, zone
        )
        starts_at, ends_at = days[0].starts_at, days[-1].ends_at
        if starts_at <= now:
            raise StartsInPast()
        after = replace(after, starts_at=starts_at, ends_at=ends_at)
    if change.location is not None:
        after = replace(after, location=" ".join(change.location.split()))
    if change.capacity is not None:
        taken = await _seats_taken(tx, studio.id, before, now)
        if change.capacity < max(taken, 1):
            raise CapacityBelowTaken(taken=taken)
        after = replace(after, capacity=change.capacity)
    return after


async def _seats_taken(tx: Tx, studio_id: int, session: facts.SessionRow, now: datetime) -> int:
    found = (await facts.session_facts(tx, studio_id, [session.id], now, None))[session.id]
    return found.state(session).booked_seats


async def _recheck_staff(tx: Tx, studio_id: int, session_id: int, instructor: Any) -> None:
    """Each assigned staff member assigned again at the new time: a clash refuses the edit
    (the transaction is rolled back)."""
    assistants = await tx.all(
        "SELECT staff_id FROM session_assistants WHERE studio_id = :s AND session_id = :id",
        {"s": studio_id, "id": session_id},
    )
    await tx.execute(
        "UPDATE sessions SET instructor_id = NULL WHERE studio_id = :s AND id = :id",
        {"s": studio_id, "id": session_id},
    )
    await tx.execute(
        "DELETE FROM session_assistants WHERE studio_id = :s AND session_id = :id",
        {"s": studio_id, "id": session_id},
    )
    if instructor is not None:
        await staffing.assign_in(tx, studio_id, session_id, int(instructor), True)
    for a in assistants:
        await staffing.assign_in(tx, studio_id, session_id, int(a["staff_id"]), False)


@dataclass(frozen=True)
class ClassChoice:
    """A class a one-off session may be added to, with its schedule's usual capacity,
    length a day (minutes) and number of days."""

    id: int
    key: str
    name: str
    usual_capacity: int | None
    usual_minutes: int | None = None
    usual_days: int = 1  # a course over several days, as its schedule runs it


async def addable_classes(reads: Reads, studio_id: int) -> list[ClassChoice]:
    """The studio's classes other than courses, by name (for `/session add`)."""
    rows = await reads.all(
        "SELECT c.id, c.key, c.name, (SELECT MAX(p.capacity) FROM schedule_patterns p"
        " WHERE p.studio_id = c.studio_id AND p.class_id = c.id) AS usual,"
        " (SELECT MAX(p.duration_minutes) FROM schedule_patterns p"
        " WHERE p.studio_id = c.studio_id AND p.class_id = c.id) AS minutes,"
        " (SELECT MAX(p.days) FROM schedule_patterns p"
        " WHERE p.studio_id = c.studio_id AND p.class_id = c.id) AS days FROM classes c"
        " WHERE c.studio_id = :s AND c.kind <> 'course' ORDER BY c.name, c.id",
        {"s": studio_id},
    )
    return [
        ClassChoice(
            int(r["id"]),
            str(r["key"]),
            str(r["name"]),
            None if r["usual"] is None else int(r["usual"]),
            None if r["minutes"] is None else int(r["minutes"]),
            int(r["days"] or 1),
        )
        for r in rows
    ]
