"""Expanding schedule patterns (wall time + IANA zone + RRULE) into UTC instants.

A pattern says "Mondays 18:00 in Europe/London"; each occurrence keeps 18:00 local
across DST changes, so its UTC instant moves. Two local times need a rule:

* a time that does not exist (the spring-forward gap, e.g. 01:30 on the night clocks go
  from 01:00 to 02:00) is moved forward by the length of the gap (01:30 becomes 02:30),
  as RFC 5545 prescribes;
* a time that happens twice (fall-back, 01:30 occurs in summer time, then again in
  winter time) takes the first of the two instants (RFC 5545 again).

Each `Occurrence` says which rule, if any, applied, so a preview can show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as rr
from dateutil import tz

MAX_OCCURRENCES = 1000


class Adjustment(StrEnum):
    NONE = "none"
    GAP_SHIFTED = "gap_shifted"
    AMBIGUOUS_FIRST = "ambiguous_first"


@dataclass(frozen=True)
class PatternRule:
    rrule: str
    start_date: date
    start_time: time
    duration: timedelta
    timezone: str


@dataclass(frozen=True)
class Occurrence:
    local_date: date
    starts_at: datetime
    ends_at: datetime
    adjustment: Adjustment


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or ValueError with a readable message."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Europe/London)"
        ) from error


_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART")
_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")


def rrule_problem(text: str) -> str | None:
    """Why `text` is not a usable pattern rule, or None when it is.

    The time of day comes from the pattern's start time, so the rule may not set its own
    (BYHOUR and friends) nor repeat more often than daily.
    """
    upper = text.upper()
    parts = dict(p.split("=", 1) for p in upper.removeprefix("RRULE:").split(";") if "=" in p)
    if parts.get("FREQ") not in _FREQUENCIES:
        return "FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY"
    if any(p in parts for p in _TIME_PARTS):
        return "the time of day comes from start_time: remove BYHOUR, BYMINUTE, BYSECOND, DTSTART"
    try:
        rr.rrulestr(text, dtstart=datetime(2000, 1, 1))  # noqa: DTZ001 - wall time by design
    except (ValueError, TypeError) as error:
        return f"not a valid RRULE: {error}"
    return None


def is_finite(text: str) -> bool:
    upper = text.upper()
    return "COUNT=" in upper or "UNTIL=" in upper


def resolve_local(local: datetime, zone_name: str) -> tuple[datetime, Adjustment]:
    """The UTC instant of naive wall time `local` in `zone_name`, under the module's rules."""
    aware = local.replace(tzinfo=zone(zone_name), fold=0)
    if not tz.datetime_exists(aware):
        # fold=0 reads a gap time with the offset from before the change: shifted forward.
        return aware.astimezone(UTC), Adjustment.GAP_SHIFTED
    if tz.datetime_ambiguous(aware):
        return aware.astimezone(UTC), Adjustment.AMBIGUOUS_FIRST
    return aware.astimezone(UTC), Adjustment.NONE


def expand(
    rule: PatternRule, *, window_start: datetime, window_end: datetime | None
) -> list[Occurrence]:
    """Occurrences starting in [window_start, window_end); `None` means no end.

    An open-ended rule with no window end is an error: there would be no last date.
    At most MAX_OCCURRENCES are returned.
    """
    if window_end is None and not is_finite(rule.rrule):
        raise ValueError("an open-ended pattern needs a window end (a horizon)")
    first_local = datetime.combine(rule.start_date, rule.start_time)
    recurrence = rr.rrulestr(rule.rrule, dtstart=first_local)
    zone_info = zone(rule.timezone)
    # Widen by a day each side in wall time, then filter exactly on UTC instants.
    after = window_start.astimezone(zone_info).replace(tzinfo=None) - timedelta(days=1)
    found: list[Occurrence] = []
    for local in recurrence.xafter(max(after, first_local), inc=True):
        starts_at, adjustment = resolve_local(local, rule.timezone)
        if window_end is not None and starts_at >= window_end:
            break
        if starts_at >= window_start:
            found.append(Occurrence(local.date(), starts_at, starts_at + rule.duration, adjustment))
        if len(found) >= MAX_OCCURRENCES:
            break
    return found
