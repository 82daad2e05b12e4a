"""What staff see in chat: today's sessions with counts, a session's roster, no-shows,
customers with auto-cancelled reservations, utilization. Checking people in
(`staff_check_in`) and the staff and patterns to choose from (`staff_choices`) are their
own modules, their names re-exported here.

A roster holds two kinds of entry: reservations made with a pass (one person each) and
bookings (`registration_sessions`, a party of `guest_count`). Counts are of people. Every
query is scoped by `studio_id`, so a foreign id finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Literal

from bookbot.engine.recurrence import resolve_local, zone
from bookbot.engine.utilization import UtilizationRow
from bookbot.services import day_attendance, payment_reports
from bookbot.services.staff_check_in import BOOKING as BOOKING
from bookbot.services.staff_check_in import RESERVATION as RESERVATION
from bookbot.services.staff_check_in import all_present as all_present
from bookbot.services.staff_check_in import check_in_entry as check_in_entry
from bookbot.services.staff_choices import PatternLine as PatternLine
from bookbot.services.staff_choices import Staffing as Staffing
from bookbot.services.staff_choices import StaffMember as StaffMember
from bookbot.services.staff_choices import patterns as patterns
from bookbot.services.staff_choices import session_staffing as session_staffing
from bookbot.services.staff_choices import staff_members as staff_members
from bookbot.store.db import Database, Row, instant

EXPECTED = ("pending", "booked")  # roster statuses of people not checked in yet


# People in session `s`: booked guests plus one per reservation; those checked in (or
# attended); those marked no-show.
SESSION_LINES = """SELECT s.id, c.id AS class_id, c.name, s.starts_at, s.capacity,
    s.ends_at, s.days,
    COALESCE((SELECT SUM(rs.guest_count) FROM registration_sessions rs
        WHERE rs.session_id = s.id AND rs.status = 'booked'), 0)
    + (SELECT COUNT(*) FROM reservations r WHERE r.session_id = s.id
        AND r.status IN ('pending', 'checked_in', 'attended', 'no_show')) AS booked,
    COALESCE((SELECT SUM(rs.guest_count) FROM registration_sessions rs
        WHERE rs.session_id = s.id AND rs.status = 'booked'
        AND rs.attendance IN ('checked_in', 'attended')), 0)
    + (SELECT COUNT(*) FROM reservations r WHERE r.session_id = s.id
        AND r.status IN ('checked_in', 'attended')) AS present,
    COALESCE((SELECT SUM(rs.guest_count) FROM registration_sessions rs
        WHERE rs.session_id = s.id AND rs.status = 'booked' AND rs.attendance = 'no_show'), 0)
    + (SELECT COUNT(*) FROM reservations r WHERE r.session_id = s.id
        AND r.status = 'no_show') AS absent
FROM sessions s JOIN classes c ON c.id = s.class_id AND c.studio_id = s.studio_id
WHERE s.studio_id = :studio_id AND s.status = 'open'"""


@dataclass(frozen=True)
class SessionLine:
    """One session with its counts of people: booked, and of those checked in (or attended)."""

    id: int
    class_name: str
    starts_at: datetime
    capacity: int
    booked: int
    checked_in: int
    class_id: int = 0
    no_shows: int = 0
    ends_at: datetime | None = None  # None: not read (only its start is shown)
    days: int = 1  # a multi-day course (services.day_attendance)


@dataclass(frozen=True)
class RosterEntry:
    """A reservation (one person) or a booking (a party) on a session's roster."""

    kind: Literal["reservation", "booking"]
    id: int
    name: str
    guests: int
    status: str  # a reservation's status; a booking's attendance, or "booked"
    # A booking's payment (payment_reports.registration_status): None when nothing was paid
    # or asked for online (paid at the studio), and for reservations (their pass is paid).
    payment: str | None = None
    # A multi-day session's booking: its mark for each day ('attended', 'absent', '' none).
    day_marks: tuple[str, ...] = ()

    @property
    def pointer(self) -> str:
        """What a roster option carries: "reservation:12" or "booking:7"."""
        return f"{self.kind}:{self.id}"

    @property
    def expected(self) -> bool:
        """Not checked in yet, and still can be."""
        return self.status in EXPECTED


@dataclass(frozen=True)
class NoShow:
    kind: str
    id: int
    customer_id: int
    name: str
    class_name: str
    starts_at: datetime
    ends_at: datetime | None = None
    days: int = 1  # a multi-day course: told as its span, as one item


@dataclass(frozen=True)
class AutoCancelled:
    """A customer with future reservations the absence sweep cancelled."""

    customer_id: int
    name: str
    reservations: int


def _name(name: str | None, phone: str | None, customer_id: int) -> str:
    """A customer as staff know them: the name, else the phone, else the number."""
    return name or phone or f"#{customer_id}"


def line_of(row: Row) -> SessionLine:
    return SessionLine(
        id=row["id"],
        class_name=row["name"],
        starts_at=row["starts_at"],
        capacity=row["capacity"],
        booked=int(row["booked"]),
        checked_in=int(row["present"]),
        class_id=row["class_id"],
        no_shows=int(row["absent"]),
        ends_at=row["ends_at"],
        days=int(row["days"]),
    )


def local_day(now: datetime, zone_name: str, days: int = 1) -> tuple[datetime, datetime]:
    """The UTC bounds of `days` studio-local days starting with `now`'s."""
    day = now.astimezone(zone(zone_name)).date()
    start = resolve_local(datetime.combine(day, time(0)), zone_name)[0]
    end = resolve_local(datetime.combine(day + timedelta(days=days), time(0)), zone_name)[0]
    return start, end


# Multi-day sessions that began before the window and have a day in it (a course on its
# second day is on that day's list): through ix_session_days_studio_starts.
_RUNNING = """ AND s.days > 1 AND s.starts_at < :since AND s.id IN (SELECT d.session_id
    FROM session_days d WHERE d.studio_id = :studio_id AND d.starts_at >= :since
    AND d.starts_at < :until) ORDER BY s.starts_at, s.id LIMIT :limit"""


async def sessions_between(
    db: Database,
    studio_id: int,
    since: datetime,
    until: datetime,
    limit: int = 200,
    *,
    running: bool = False,
) -> list[SessionLine]:
    """Open sessions starting in [since, until), earliest first, with their counts; with
    `running` (a day's list), first the multi-day sessions begun before that have a day in
    it, and each multi-day session counted as marked on that day."""
    params = {"studio_id": studio_id, "since": since, "until": until, "limit": limit}
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            SESSION_LINES + " AND s.starts_at >= :since AND s.starts_at < :until"
            " ORDER BY s.starts_at, s.id LIMIT :limit",
            params,
        )
        if not running:
            return [line_of(r) for r in rows]
        rows = [*await tx.all(SESSION_LINES + _RUNNING, params), *rows]
        marks = await day_attendance.marks_on(tx, studio_id, since, until)
    return [_on_the_day(line_of(r), marks) for r in rows]


def _on_the_day(line: SessionLine, marks: dict[int, dict[str, int]]) -> SessionLine:
    """A multi-day session on a day's list counts that day's marks (its booking's own
    attendance says only whether they came on any day)."""
    if line.days < 2:
        return line
    day = marks.get(line.id, {})
    return replace(
        line,
        checked_in=day.get(day_attendance.ATTENDED, 0),
        no_shows=day.get(day_attendance.ABSENT, 0),
    )


async def today(db: Database, studio_id: int, now: datetime, zone_name: str) -> list[SessionLine]:
    """The sessions on `now`'s studio-local date."""
    since, until = local_day(now, zone_name)
    return await sessions_between(db, studio_id, since, until)


async def session_line(db: Database, studio_id: int, session_id: int) -> SessionLine | None:
    async with db.transaction(write=False) as tx:
        row = await tx.one(
            SESSION_LINES + " AND s.id = :id", {"studio_id": studio_id, "id": session_id}
        )
    return None if row is None else line_of(row)


# A booking is listed under the name given for it (its first attendee's, when the class
# asks details), as its certificate will be, else the customer's.
_ROSTER = """SELECT 'reservation' AS kind, r.id AS id, cu.id AS customer_id, cu.name AS name,
    cu.phone, 1 AS guests, r.status, NULL AS registration_id
FROM reservations r JOIN customers cu ON cu.id = r.customer_id
WHERE r.studio_id = :studio_id AND r.session_id = :id AND r.status IN ('pending', 'checked_in', 'attended', 'no_show')
UNION ALL
SELECT 'booking' AS kind, rs.id, cu.id AS customer_id,
    COALESCE(NULLIF(a.name, ''), cu.name), cu.phone, rs.guest_count,
    COALESCE(rs.attendance, 'booked'), rs.registration_id
FROM registration_sessions rs JOIN customers cu ON cu.id = rs.customer_id
LEFT JOIN registration_attendees a ON a.studio_id = rs.studio_id
    AND a.registration_id = rs.registration_id AND a.position = 1
WHERE rs.studio_id = :studio_id AND rs.session_id = :id AND rs.status = 'booked'
ORDER BY name, kind, id"""


async def roster(
    db: Database, studio_id: int, session_id: int, now: datetime | None = None
) -> list[RosterEntry]:
    """Who is on the session (cancelled ones left out), by name. On a day of a multi-day
    session (`now`), a booking's status is today's: checked in today, or expected."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(_ROSTER, {"studio_id": studio_id, "id": session_id})
        span = await tx.one(
            "SELECT s.days, st.timezone FROM sessions s JOIN studios st ON st.id = s.studio_id"
            " WHERE s.studio_id = :studio_id AND s.id = :id",
            {"studio_id": studio_id, "id": session_id},
        )
        days = None
        if span is not None and span["days"] > 1:
            days = await day_attendance.days_view(
                tx, studio_id, session_id, now, zone_name=str(span["timezone"])
            )
        # One read per booking: a roster is a class's worth of parties.
        paid = {
            r["registration_id"]: await payment_reports.registration_status(
                tx, studio_id, r["registration_id"]
            )
            for r in rows
            if r["registration_id"] is not None
        }
    entries = [
        RosterEntry(
            kind=r["kind"],
            id=r["id"],
            name=_name(r["name"], r["phone"], r["customer_id"]),
            guests=int(r["guests"]),
            status=str(r["status"]),
            payment=paid.get(r["registration_id"]),
        )
        for r in rows
    ]
    return entries if days is None else [_with_days(e, days) for e in entries]


def _with_days(e: RosterEntry, days: day_attendance.DaysView) -> RosterEntry:
    if e.kind != BOOKING:
        return e
    status, marks = days.of_entry(e.id, e.status)
    return replace(e, status=status, day_marks=marks)


_NO_SHOWS = """SELECT 'reservation' AS kind, r.id AS id, cu.id AS customer_id, cu.name AS name,
    cu.phone, c.name AS class_name, s.starts_at AS starts_at, s.ends_at AS ends_at,
    s.days AS days
FROM reservations r JOIN customers cu ON cu.id = r.customer_id
JOIN sessions s ON s.id = r.session_id JOIN classes c ON c.id = s.class_id
WHERE r.studio_id = :studio_id AND r.status = 'no_show'
    AND s.starts_at >= :since AND s.starts_at < :until
UNION ALL
SELECT 'booking' AS kind, rs.id, cu.id AS customer_id, cu.name, cu.phone,
    c.name AS class_name, s.starts_at, s.ends_at, s.days
FROM registration_sessions rs JOIN customers cu ON cu.id = rs.customer_id
JOIN sessions s ON s.id = rs.session_id JOIN classes c ON c.id = s.class_id
WHERE rs.studio_id = :studio_id AND rs.status = 'booked' AND rs.attendance = 'no_show'
    AND s.starts_at >= :since AND s.starts_at < :until
ORDER BY starts_at DESC, name, kind, id"""


async def no_shows(db: Database, studio_id: int, since: datetime, until: datetime) -> list[NoShow]:
    """No-shows (reservations and bookings) of sessions starting in [since, until), newest
    first."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(_NO_SHOWS, {"studio_id": studio_id, "since": since, "until": until})
    return [
        NoShow(
            kind=r["kind"],
            id=r["id"],
            customer_id=r["customer_id"],
            name=_name(r["name"], r["phone"], r["customer_id"]),
            class_name=r["class_name"],
            starts_at=instant(r["starts_at"]),
            ends_at=instant(r["ends_at"]),
            days=int(r["days"] or 1),
        )
        for r in rows
    ]


async def auto_cancelled(db: Database, studio_id: int, now: datetime) -> list[AutoCancelled]:
    """Customers whose future reservations were auto-cancelled (what staff may restore)."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT cu.id, cu.name, cu.phone, COUNT(*) AS reservations FROM reservations r"
            " JOIN sessions s ON s.id = r.session_id JOIN customers cu ON cu.id = r.customer_id"
            " WHERE r.studio_id = :studio_id AND r.status = 'auto_cancelled'"
            " AND s.starts_at > :now GROUP BY cu.id, cu.name, cu.phone ORDER BY cu.name, cu.id",
            {"studio_id": studio_id, "now": now},
        )
    return [
        AutoCancelled(
            customer_id=r["id"],
            name=_name(r["name"], r["phone"], r["id"]),
            reservations=int(r["reservations"]),
        )
        for r in rows
    ]


def _default_label(name: str, starts_at: datetime) -> str:
    return f"{starts_at:%Y-%m-%d %H:%M} {name}"


async def utilization(
    db: Database,
    studio_id: int,
    since: datetime,
    until: datetime,
    by: Literal["class", "session"],
    *,
    label: Callable[[str, datetime], str] = _default_label,
) -> list[UtilizationRow]:
    """Seats over the sessions starting in [since, until): per class (by name) or per session
    (by start, labelled with `label(class name, start)`).

    Booked counts booked guests and occupying reservations; attended counts those checked in
    or attended; no-shows those marked so (reservations' status, bookings' attendance).
    """
    lines = await sessions_between(db, studio_id, since, until, limit=10_000)
    if by == "session":
        return [
            UtilizationRow(
                label(s.class_name, s.starts_at), 1, s.capacity, s.booked, s.checked_in, s.no_shows
            )
            for s in lines
        ]
    by_class: dict[int, list[SessionLine]] = {}
    for line in lines:
        by_class.setdefault(line.class_id, []).append(line)
    rows = [_class_row(group) for group in by_class.values()]
    return sorted(rows, key=lambda row: row.label.casefold())


def _class_row(lines: list[SessionLine]) -> UtilizationRow:
    return UtilizationRow(
        lines[0].class_name,
        len(lines),
        sum(s.capacity for s in lines),
        sum(s.booked for s in lines),
        sum(s.checked_in for s in lines),
        sum(s.no_shows for s in lines),
    )
