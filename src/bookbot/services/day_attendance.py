"""Attendance of a multi-day session day by day (`day_attendance`), for its bookings.

A course over three days is one booking, attended day by day: staff check a person in on
the day it is (the studio-local date of one of its `session_days`, the same "on the class
day" rule as a one-day session), which writes that day's mark. The booking's own
`registration_sessions.attendance` keeps its meaning: checked in on any day, it becomes
'attended' when the sweep closes the session after its last day; never checked in, a
no-show. The same sweep marks each day nobody checked them in on as absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import errors
from bookbot.engine import reservations as rules
from bookbot.engine.recurrence import zone
from bookbot.store.db import Row, Tx, instant

ATTENDED = "attended"
ABSENT = "absent"

# At the close of a multi-day session (after its last day): each booked day without a mark
# is absent. ON CONFLICT: a sweep running at the same time marked it first.
MARK_ABSENT_DAYS_SQL = """INSERT INTO day_attendance (studio_id, registration_session_id,
    session_id, day_number, status, marked_at)
SELECT rs.studio_id, rs.id, rs.session_id, d.day_number, 'absent', :now
FROM registration_sessions rs
JOIN session_days d ON d.session_id = rs.session_id AND d.studio_id = rs.studio_id
WHERE rs.session_id = :session_id AND rs.status = 'booked'
  AND NOT EXISTS (SELECT 1 FROM day_attendance a WHERE a.registration_session_id = rs.id
                  AND a.day_number = d.day_number)
ON CONFLICT (registration_session_id, day_number) DO NOTHING"""


@dataclass(frozen=True)
class DayOfSession:
    """Which day of how many a multi-day session is on a date."""

    number: int
    days: int


async def day_on(
    tx: Tx, studio_id: int, session_id: int, now: datetime, zone_name: str
) -> DayOfSession | None:
    """The session's day falling on `now`'s studio-local date, or None (not one of its days,
    or a one-day session)."""
    today = now.astimezone(zone(zone_name)).date()
    row = await tx.one(
        "SELECT d.day_number, s.days FROM session_days d JOIN sessions s ON s.id = d.session_id"
        " WHERE d.studio_id = :studio_id AND d.session_id = :session_id"
        " AND d.local_date = :today",
        {"studio_id": studio_id, "session_id": session_id, "today": today},
    )
    return None if row is None else DayOfSession(int(row["day_number"]), int(row["days"]))


async def mark_attended(
    tx: Tx,
    studio_id: int,
    *,
    entry_id: int,
    session_id: int,
    day: int,
    now: datetime,
    staff_id: int | None,
) -> bool:
    """Mark booking entry `entry_id` (a registration_sessions row) present on `day`, and the
    booking checked in; whether the day was not marked yet."""
    marked = await tx.execute(
        "INSERT INTO day_attendance (studio_id, registration_session_id, session_id,"
        " day_number, status, marked_at, marked_by) VALUES (:studio_id, :entry, :session_id,"
        " :day, 'attended', :now, :staff)"
        " ON CONFLICT (registration_session_id, day_number) DO NOTHING",
        {
            "studio_id": studio_id,
            "entry": entry_id,
            "session_id": session_id,
            "day": day,
            "now": now,
            "staff": staff_id,
        },
    )
    await tx.execute(
        "UPDATE registration_sessions SET attendance = 'checked_in', checked_in_at = :now"
        " WHERE studio_id = :studio_id AND id = :entry AND attendance IS NULL",
        {"now": now, "studio_id": studio_id, "entry": entry_id},
    )
    return bool(marked)


async def marks(tx: Tx, studio_id: int, session_id: int) -> dict[int, dict[int, str]]:
    """Each booking entry's marks on the session, by day number."""
    rows = await tx.all(
        "SELECT registration_session_id AS entry, day_number, status FROM day_attendance"
        " WHERE studio_id = :studio_id AND session_id = :session_id",
        {"studio_id": studio_id, "session_id": session_id},
    )
    found: dict[int, dict[int, str]] = {}
    for r in rows:
        found.setdefault(int(r["entry"]), {})[int(r["day_number"])] = str(r["status"])
    return found


async def check_in_today(tx: Tx, now: datetime, row: Row, staff_id: int | None) -> None:
    """Check booking entry `row` (staff_check_in._BOOKING) in on today's day of its session."""
    if row["attendance"] not in {None, "checked_in"}:  # settled: the course is over
        raise errors.CheckInClosed()
    day = await day_on(tx, row["studio_id"], row["session_id"], now, row["timezone"])
    if day is None:
        raise errors.NotClassDay()
    await mark_attended(
        tx,
        row["studio_id"],
        entry_id=row["id"],
        session_id=row["session_id"],
        day=day.number,
        now=now,
        staff_id=staff_id,
    )


async def all_present_today(
    tx: Tx, now: datetime, studio_id: int, session_id: int, *, zone_name: str, staff_id: int
) -> int:
    """Every booking of a multi-day session present today; how many were not marked yet."""
    day = await day_on(tx, studio_id, session_id, now, zone_name)
    if day is None:
        raise errors.NotClassDay()
    entries = await tx.all(
        "SELECT id FROM registration_sessions WHERE studio_id = :studio_id"
        " AND session_id = :id AND status = 'booked'"
        " AND (attendance IS NULL OR attendance = 'checked_in') ORDER BY id",
        {"studio_id": studio_id, "id": session_id},
    )
    marked = 0
    for e in entries:
        marked += await mark_attended(
            tx,
            studio_id,
            entry_id=e["id"],
            session_id=session_id,
            day=day.number,
            now=now,
            staff_id=staff_id,
        )
    return marked


@dataclass(frozen=True)
class DaysView:
    """A multi-day session's roster marks, and which of its days today is (None: none)."""

    days: int
    today: int | None
    marks: dict[int, dict[int, str]]

    def of_entry(self, entry_id: int, status: str) -> tuple[str, tuple[str, ...]]:
        """A booking's roster status as of today (checked in today, or expected), and its
        mark for each day ('attended', 'absent', or '' not marked)."""
        mine = self.marks.get(entry_id, {})
        day_marks = tuple(mine.get(n, "") for n in range(1, self.days + 1))
        if self.today is not None and status in {"booked", "checked_in"}:
            status = "checked_in" if mine.get(self.today) == ATTENDED else "booked"
        return status, day_marks


async def days_view(
    tx: Tx, studio_id: int, session_id: int, now: datetime | None, *, zone_name: str
) -> DaysView:
    day = None if now is None else await day_on(tx, studio_id, session_id, now, zone_name)
    row = await tx.one(
        "SELECT days FROM sessions WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": studio_id, "id": session_id},
    )
    days = 1 if row is None else int(row["days"])
    return DaysView(days, day.number if day else None, await marks(tx, studio_id, session_id))


async def self_check_in(tx: Tx, studio_id: int, row: Row, now: datetime) -> bool:
    """The customer checks booking entry `row` (self_check_in._ENTRY) in to the day whose
    self check-in window is open (the first day not over yet; CheckInNotOpen before its
    window, CheckInClosed after the last); whether that day was not marked yet."""
    if row["attendance"] not in {None, "checked_in"}:  # settled: the course is over
        raise errors.CheckInClosed()
    days = await tx.all(
        "SELECT day_number, starts_at FROM session_days WHERE studio_id = :studio_id"
        " AND session_id = :session_id ORDER BY day_number",
        {"studio_id": studio_id, "session_id": row["session_id"]},
    )
    ahead = [d for d in days if now <= instant(d["starts_at"]) + rules.SELF_CHECK_IN]
    if not ahead:
        raise errors.CheckInClosed()
    day = ahead[0]
    rules.check_self_check_in(now, instant(day["starts_at"]))
    return await mark_attended(
        tx,
        studio_id,
        entry_id=row["id"],
        session_id=row["session_id"],
        day=int(day["day_number"]),
        now=now,
        staff_id=None,
    )


# Guests of each multi-day session marked present or absent on its day starting in a window
# (one studio-local day): a course's counts on its second day are that day's, not the first's.
_DAY_MARKS = """SELECT a.session_id, a.status, SUM(rs.guest_count) AS guests
FROM day_attendance a
JOIN registration_sessions rs ON rs.id = a.registration_session_id AND rs.status = 'booked'
JOIN session_days d ON d.session_id = a.session_id AND d.day_number = a.day_number
WHERE a.studio_id = :studio_id AND d.studio_id = :studio_id
  AND d.starts_at >= :since AND d.starts_at < :until
GROUP BY a.session_id, a.status"""


async def marks_on(
    tx: Tx, studio_id: int, since: datetime, until: datetime
) -> dict[int, dict[str, int]]:
    """Per multi-day session with a day starting in [since, until): guests by that day's
    status (ATTENDED, ABSENT); a session nobody was marked on yet is left out."""
    rows = await tx.all(_DAY_MARKS, {"studio_id": studio_id, "since": since, "until": until})
    found: dict[int, dict[str, int]] = {}
    for r in rows:
        found.setdefault(int(r["session_id"]), {})[str(r["status"])] = int(r["guests"] or 0)
    return found
