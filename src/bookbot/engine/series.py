"""A member's recurring booking as dates and instants (pure: no clock, no I/O).

A series is "weekday at HH:MM local in a zone, every 1 or 2 weeks, from a date, until a date
or indefinitely". Its dates are anchored on the first matching weekday on or after
`starts_on`, then every `interval_weeks` weeks: an every-other-week series keeps its parity
whatever window is asked for, so the daily job and the creation agree on the dates.

Each date's start keeps the wall time across DST (Tuesday 10:00 stays 10:00 local, so its
UTC instant moves by the offset), by `engine.recurrence.resolve_local`: a wall time in the
spring-forward gap shifts forward, a repeated one takes its first instant.

The window materialised is `WINDOW` (6 weeks) from today, end exclusive: a weekly series has
6 dates placed ahead, an every-other-week one 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bookbot.engine.recurrence import Adjustment, resolve_local, zone
from bookbot.engine.slots import Availability

WINDOW = timedelta(weeks=6)
INTERVALS = (1, 2)
EXTENSION_HOUR = time(2, 0)  # the daily job runs at 02:00 studio time


@dataclass(frozen=True)
class SeriesRule:
    weekday: int  # 0 = Monday .. 6 = Sunday
    start_time: time  # wall time in `timezone`
    timezone: str
    interval_weeks: int
    starts_on: date
    ends_on: date | None = None  # inclusive; None: indefinitely

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}")
        if self.interval_weeks not in INTERVALS:
            raise ValueError("a series repeats every week or every 2 weeks")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("a series cannot end before it starts")
        zone(self.timezone)


def parse_time(text: str) -> time:
    """'HH:MM' (24-hour) as a time; ValueError saying so otherwise."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValueError(f"a start time is HH:MM, like 10:00, not {text!r}") from None


def first_date(rule: SeriesRule) -> date:
    """The series' first date: the first of its weekday on or after `starts_on`."""
    return rule.starts_on + timedelta(days=(rule.weekday - rule.starts_on.weekday()) % 7)


def dates(rule: SeriesRule, *, start: date, end: date) -> list[date]:
    """The series' dates d with start <= d < end (and d <= ends_on)."""
    first = first_date(rule)
    step = 7 * rule.interval_weeks
    if start <= first:
        day = first
    else:
        behind = (start - first).days
        day = first + timedelta(days=-(-behind // step) * step)
    last = end if rule.ends_on is None else min(end, rule.ends_on + timedelta(days=1))
    found = []
    while day < last:
        found.append(day)
        day += timedelta(days=step)
    return found


def is_series_date(rule: SeriesRule, day: date) -> bool:
    return dates(rule, start=day, end=day + timedelta(days=1)) == [day]


def starts_at(rule: SeriesRule, day: date) -> tuple[datetime, Adjustment]:
    """The UTC instant of the series' wall time on local date `day`."""
    return resolve_local(datetime.combine(day, rule.start_time), rule.timezone)


def local_today(now: datetime, zone_name: str) -> date:
    return now.astimezone(zone(zone_name)).date()


def window_end(today: date) -> date:
    """The first date past the materialised window that starts `today` (exclusive end)."""
    return today + WINDOW


def next_run_at(now: datetime, zone_name: str) -> datetime:
    """The first 02:00 wall time in `zone_name` strictly after `now` (UTC). On a night
    when 02:00 does not exist it is the shifted instant (03:00 summer time)."""
    today = local_today(now, zone_name)
    for offset in range(3):
        at, _ = resolve_local(
            datetime.combine(today + timedelta(days=offset), EXTENSION_HOUR), zone_name
        )
        if at > now:
            return at
    raise AssertionError("unreachable: 02:00 comes within 3 days")


def blocked(availability: Availability, start: datetime, end: datetime) -> bool:
    """Whether a block of the availability overlaps [start, end) (the footprint): a date
    that could not be placed because of one is skipped as 'blocked', not 'unavailable'."""
    return any(b.start < end and b.end > start for b in availability.blocks)


def utc(day: date) -> datetime:
    """Midnight UTC of `day` (for bounds that only need the day)."""
    return datetime.combine(day, time(0), tzinfo=UTC)
