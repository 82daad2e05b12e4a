"""The days of a multi-day session: the same wall-clock hours on consecutive local dates.

A course "15–17 Jan, 09:00–17:00" is one session (one capacity, one booking) whose
`starts_at` is the first day's start and `ends_at` the last day's end. Each day's start is
resolved in the studio's zone on its own date, with `recurrence.resolve_local` (the rules
patterns use), so a DST change between two days moves no day's 09:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bookbot.engine.recurrence import Adjustment, resolve_local, zone

MAX_DAYS = 31


@dataclass(frozen=True)
class Day:
    number: int  # 1..days
    local_date: date
    starts_at: datetime
    ends_at: datetime
    adjustment: Adjustment = Adjustment.NONE


def days_problem(days: object) -> str | None:
    """Why `days` is not a usable number of days, or None."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        return f"days must be a whole number from 1 to {MAX_DAYS}"
    return None


def course_days(
    first: date, start: time, duration: timedelta, days: int, zone_name: str
) -> tuple[Day, ...]:
    """Each day of a `days`-day session from `first`, starting at `start` local time and
    lasting `duration` (the day's end is the start plus the duration, as for patterns)."""
    problem = days_problem(days)
    if problem is not None:
        raise ValueError(problem)
    found = []
    for offset in range(days):
        local_date = first + timedelta(days=offset)
        starts_at, adjustment = resolve_local(datetime.combine(local_date, start), zone_name)
        found.append(Day(offset + 1, local_date, starts_at, starts_at + duration, adjustment))
    return tuple(found)


def last_start(starts_at: datetime, ends_at: datetime, days: int, zone_name: str) -> datetime:
    """When a session's last day starts (its start, for a one-day session): a booking of a
    course in progress is still upcoming until then."""
    if days <= 1:
        return starts_at
    return days_of(starts_at, ends_at, days, zone_name)[-1].starts_at


def days_of(starts_at: datetime, ends_at: datetime, days: int, zone_name: str) -> tuple[Day, ...]:
    """The days of a stored session from its first start and last end, for sessions whose
    day rows are not at hand: the daily end is the last day's end time on the wall clock."""
    tz = zone(zone_name)
    start_local = starts_at.astimezone(tz)
    end_local = ends_at.astimezone(tz)
    if days == 1:
        return (Day(1, start_local.date(), starts_at, ends_at),)
    first_end = datetime.combine(start_local.date(), end_local.time())
    first_end_at, _ = resolve_local(first_end, zone_name)
    duration = first_end_at - starts_at
    if duration <= timedelta(0):
        duration += timedelta(days=1)
    return course_days(start_local.date(), start_local.time(), duration, days, zone_name)
