"""Quiet hours: when a non-urgent notice to a customer may go out.

A studio's quiet hours are local wall-clock minutes after midnight, `start` to `end`,
spanning midnight when `start > end` (21:00-08:00); equal start and end mean none. A notice
due inside them is released when they end, on the wall clock of the studio's zone, so the
hour moves with daylight saving time. `latest` bounds the wait: a notice that would be held
past it (a 1-hour reminder for a 07:00 class) is sent when it was due instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bookbot.engine import recurrence
from bookbot.engine.clock import require_aware

DAY_MINUTES = 24 * 60


def is_quiet(minute: float, start_minute: int, end_minute: int) -> bool:
    """Whether local `minute` after midnight (fractions allowed) falls in the quiet hours."""
    if start_minute == end_minute:
        return False
    if start_minute < end_minute:
        return start_minute <= minute < end_minute
    return minute >= start_minute or minute < end_minute


def _minute_of(local: datetime) -> float:
    return local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60


def _wall(day: date, minute: int, zone: tzinfo, fold: int) -> datetime:
    """The UTC instant of wall time `minute` on `day` (a gap time moves forward past it)."""
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).replace(fold=fold)
    return local.astimezone(UTC)


def _zone(zone: str | tzinfo) -> tzinfo:
    return recurrence.zone(zone) if isinstance(zone, str) else zone


def release_at(
    due_utc: datetime,
    zone: str | tzinfo,
    start_minute: int,
    end_minute: int,
    *,
    latest: datetime | None = None,
) -> datetime:
    """The first instant at or after `due_utc` outside the quiet hours in `zone`; `due_utc`
    itself when holding it would take it past `latest`."""
    due = require_aware(due_utc)
    if start_minute == end_minute:
        return due
    tz = _zone(zone)
    local = due.astimezone(tz)
    if not is_quiet(_minute_of(local), start_minute, end_minute):
        return due
    day = local.date()
    if start_minute > end_minute and _minute_of(local) >= start_minute:
        day += timedelta(days=1)  # the evening part: quiet until tomorrow morning
    release = _wall(day, end_minute, tz, fold=0)
    if release < due:  # an end time that happens twice (clocks back), due in the second pass
        release = max(_wall(day, end_minute, tz, fold=1), due)
    if latest is not None and release > require_aware(latest):
        return due
    return release
