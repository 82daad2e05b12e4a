"""Reading a staff member's availability and busy time (see `availability` for the data):
weekly hours, overrides, additions and blocks into the engine's `Availability`; live
appointments and the sessions they teach or assist as busy intervals; the week's view.

Reads cost with the range asked for, never with history: blocks and additions through
(staff_id, ends_at), overrides through (staff_id, on_date), appointments through
(staff_id, busy_from) bounded below by the longest footprint any service of the studio can
have (so the index range is tight), sessions through the instructor and assistant indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookbot.engine import errors
from bookbot.engine.slots import (
    Availability,
    DateOverride,
    Interval,
    LocalWindow,
    WeeklyWindow,
    open_windows,
)
from bookbot.services.appointment_rows import (
    APPOINTMENT_SELECT,
    LIVE,
    Appointment,
    appointment_from,
)
from bookbot.store.db import Database, Reads, Row


@dataclass(frozen=True)
class DayView:
    """One local date of a staff member's week: open windows, blocks, taught sessions and
    live appointments (instants in UTC; the date is local to the staff member's zone)."""

    day: date
    windows: tuple[Interval, ...]
    blocks: tuple[Interval, ...]
    sessions: tuple[Interval, ...]
    appointments: tuple[Appointment, ...]


async def staff_zone(reads: Reads, studio_id: int, staff_id: int) -> str:
    """The staff member's IANA zone (theirs, else the studio's); NotFound for another
    studio's staff member."""
    zone = await reads.scalar(
        "SELECT COALESCE(sf.timezone, st.timezone) FROM staff sf"
        " JOIN studios st ON st.id = sf.studio_id WHERE sf.studio_id = :studio_id AND sf.id = :id",
        {"studio_id": studio_id, "id": staff_id},
    )
    if zone is None:
        raise errors.NotFound(what="staff member", ident=staff_id)
    return str(zone)


def _clock_time(text: str) -> time:
    """'HH:MM' as a time; '24:00' (end of day) as 23:59, the engine's latest."""
    hours, minutes = (int(part) for part in text.split(":"))
    return time(23, 59) if hours >= 24 else time(hours, minutes)


def _local_dates(start: datetime, end: datetime, zone: str) -> tuple[date, date]:
    tz = ZoneInfo(zone)
    return start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date() + timedelta(
        days=1
    )


async def availability_of(
    reads: Reads, studio_id: int, staff_id: int, *, start: datetime, end: datetime
) -> Availability:
    """The staff member's availability for [start, end): all weekly hours, and only the
    overrides, blocks and additions that touch the range."""
    zone = await staff_zone(reads, studio_id, staff_id)
    first, last = _local_dates(start, end, zone)
    params = {"staff_id": staff_id, "start": start, "end": end, "first": first, "last": last}
    weekly = await reads.all(
        "SELECT weekday, start_time, end_time, room, individual, group_ok"
        " FROM availability_windows WHERE staff_id = :staff_id ORDER BY weekday, start_time",
        params,
    )
    overrides = await reads.all(
        "SELECT on_date, start_time, end_time, room, individual, group_ok"
        " FROM availability_overrides WHERE staff_id = :staff_id"
        " AND on_date BETWEEN :first AND :last ORDER BY on_date, start_time",
        params,
    )
    blocks = await reads.all(
        "SELECT starts_at, ends_at, reason FROM availability_blocks WHERE staff_id = :staff_id"
        " AND ends_at > :start AND starts_at < :end ORDER BY starts_at",
        params,
    )
    additions = await reads.all(
        "SELECT starts_at, ends_at, reason FROM availability_additions"
        " WHERE staff_id = :staff_id AND ends_at > :start AND starts_at < :end"
        " ORDER BY starts_at",
        params,
    )
    return Availability(
        timezone=zone,
        weekly=tuple(_weekly(r) for r in weekly),
        overrides=_overrides(overrides),
        additions=tuple(_interval(r) for r in additions),
        blocks=tuple(_interval(r) for r in blocks),
    )


def _weekly(row: Row) -> WeeklyWindow:
    return WeeklyWindow(
        weekday=row["weekday"],
        start=_clock_time(row["start_time"]),
        end=_clock_time(row["end_time"]),
        room=row["room"],
        individual=bool(row["individual"]),
        group=bool(row["group_ok"]),
    )


def _overrides(rows: list[Row]) -> tuple[DateOverride, ...]:
    by_day: dict[date, list[LocalWindow]] = {}
    for row in rows:
        windows = by_day.setdefault(row["on_date"], [])
        if row["start_time"] is None:
            continue  # the "unavailable that day" row: the day stays, without windows
        windows.append(
            LocalWindow(
                start=_clock_time(row["start_time"]),
                end=_clock_time(row["end_time"]),
                room=row["room"],
                individual=bool(row["individual"]),
                group=bool(row["group_ok"]),
            )
        )
    return tuple(DateOverride(day, tuple(windows)) for day, windows in sorted(by_day.items()))


def _interval(row: Row) -> Interval:
    return Interval(row["starts_at"], row["ends_at"], row["reason"] or "")


# The longest busy footprint any appointment can have: the studio file bounds a service's
# duration plus its buffer before to 7 days (studio.fields.MAX_DURATION) and its buffer after
# to a day. Busy reads start this far before their range, whatever the services say today: a
# reload may have shortened a service since its appointments were booked, and an appointment
# that began earlier must still be seen. It costs at most 8 more days of one person's rows.
LONGEST_FOOTPRINT = timedelta(days=8)


_BUSY_APPOINTMENTS = """SELECT a.busy_from, a.busy_until, sv.name AS reason
FROM appointments a JOIN services sv ON sv.id = a.service_id
WHERE a.staff_id = :staff_id AND a.busy_from >= :floor AND a.busy_from < :end
  AND a.busy_until > :start AND a.id <> :except AND {live}
ORDER BY a.busy_from"""

# Open sessions taught or assisted, read through (studio_id, starts_at) over the range only:
# starts from LONGEST_SESSION before it (a class longer than that would be seen only from
# its start). Neither the instructor's index nor the assistants' would stop at the range:
# they hold a person's whole teaching history. A multi-day session is busy on its days'
# hours only (its `session_days`, each shorter than LONGEST_SESSION), not the nights
# between, nor missed on a day more than LONGEST_SESSION after its first.
LONGEST_SESSION = timedelta(days=1)
_TEACHES = """(s.instructor_id = :staff_id OR EXISTS (SELECT 1 FROM session_assistants sa
       WHERE sa.session_id = s.id AND sa.staff_id = :staff_id))"""
_BUSY_SESSIONS = f"""SELECT s.starts_at, s.ends_at, c.name AS reason
FROM sessions s JOIN classes c ON c.id = s.class_id
WHERE s.studio_id = :studio_id AND s.starts_at >= :session_floor AND s.starts_at < :end
  AND s.ends_at > :start AND s.status = 'open' AND s.days = 1 AND {_TEACHES}
UNION ALL
SELECT d.starts_at, d.ends_at, c.name AS reason
FROM session_days d JOIN sessions s ON s.id = d.session_id AND s.studio_id = d.studio_id
JOIN classes c ON c.id = s.class_id
WHERE d.studio_id = :studio_id AND d.starts_at >= :session_floor AND d.starts_at < :end
  AND d.ends_at > :start AND s.status = 'open' AND s.days > 1 AND {_TEACHES}
ORDER BY starts_at"""  # noqa: S608 - fixed text


async def busy_of(
    reads: Reads,
    studio_id: int,
    staff_id: int,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    except_appointment: int | None = None,
) -> list[Interval]:
    """Busy time overlapping [start, end): live appointments' footprints (an appointment
    being moved, `except_appointment`, left out) and open sessions taught or assisted."""
    floor = start - LONGEST_FOOTPRINT
    params = {
        "studio_id": studio_id,
        "staff_id": staff_id,
        "start": start,
        "end": end,
        "floor": floor,
        "session_floor": start - LONGEST_SESSION,
        "now": now,
        "except": except_appointment or 0,
    }
    booked = await reads.all(_BUSY_APPOINTMENTS.format(live=LIVE), params)
    taught = await reads.all(_BUSY_SESSIONS, params)
    busy = [Interval(r["busy_from"], r["busy_until"], r["reason"]) for r in booked]
    busy += [Interval(r["starts_at"], r["ends_at"], r["reason"]) for r in taught]
    return sorted(busy, key=lambda i: (i.start, i.end))


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of `day` in `tz`, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


async def week_view(
    db: Database, studio_id: int, staff_id: int, *, now: datetime, days: int = 7
) -> list[DayView]:
    """The staff member's next `days` local dates from today (their zone), each with its
    open windows, blocks, taught sessions and live appointments. One read per kind."""
    zone = await staff_zone(db, studio_id, staff_id)
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    bounds = [midnight(today + timedelta(days=i), tz) for i in range(days + 1)]
    start, end = bounds[0], bounds[-1]
    async with db.transaction(write=False) as tx:
        availability = await availability_of(tx, studio_id, staff_id, start=start, end=end)
        taught = await tx.all(
            _BUSY_SESSIONS,
            {
                "studio_id": studio_id,
                "staff_id": staff_id,
                "start": start,
                "end": end,
                "session_floor": start - LONGEST_SESSION,
            },
        )
        booked = await tx.all(
            APPOINTMENT_SELECT + f" WHERE a.staff_id = :staff_id AND a.studio_id = :studio_id"
            f" AND a.starts_at >= :start AND a.starts_at < :end AND {LIVE}"
            " ORDER BY a.starts_at",
            {"studio_id": studio_id, "staff_id": staff_id, "start": start, "end": end, "now": now},
        )
    sessions = [Interval(r["starts_at"], r["ends_at"], r["reason"]) for r in taught]
    appointments = [appointment_from(r) for r in booked]
    views = []
    for i in range(days):
        lo, hi = bounds[i], bounds[i + 1]
        views.append(
            DayView(
                day=today + timedelta(days=i),
                windows=tuple(open_windows(availability, start=lo, end=hi)),
                blocks=tuple(b for b in availability.blocks if b.end > lo and b.start < hi),
                sessions=tuple(s for s in sessions if lo <= s.start < hi),
                appointments=tuple(a for a in appointments if lo <= a.starts_at < hi),
            )
        )
    return views


async def staff_by_calendar_token(reads: Reads, token: str) -> tuple[int, int] | None:
    """(studio_id, staff_id) of the calendar feed's secret token; None if unknown."""
    if not token:
        return None
    row = await reads.one(
        "SELECT studio_id, id FROM staff WHERE calendar_token = :token", {"token": token}
    )
    return None if row is None else (int(row["studio_id"]), int(row["id"]))
