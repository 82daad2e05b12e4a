"""Expanding schedule patterns (wall time + IANA zone + RRULE) into UTC instants.

A pattern says "Mondays 18:00 in Europe/London"; each occurrence keeps 18:00 local
across DST changes, so its UTC instant moves. Two local times need a rule:

* a time that does not exist (the spring-forward gap, e.g. 01:30 on the night clocks go
  from 01:00 to 02:00) is moved forward by the length of the gap (01:30 becomes 02:30),
  as RFC 5545 prescribes;
* a time that happens twice (fall-back, 01:30 occurs in summer time, then again in
  winter time) takes the first of the two instants (RFC 5545 again).

Each `Occurrence` says which rule, if any, applied, so a preview can show it.

UNTIL comes in two forms:

* UTC, ending in Z (`UNTIL=20270301T000000Z`), the form RFC 5545 requires and calendar
  tools emit: it bounds occurrence *instants*; an occurrence is kept when its start instant
  is at or before it, whatever the zone's offset is on that day;
* a wall time (`UNTIL=20270301T000000`) or a date (`UNTIL=20270301`, read as midnight),
  without an offset: it bounds occurrences' local wall time, as before.

A rule may not have both COUNT and UNTIL (RFC 5545), nor INTERVAL below 1. COUNT is at most
MAX_OCCURRENCES: a larger COUNT is refused, never silently cut, and so is an expansion that
would return more than MAX_OCCURRENCES occurrences.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as rr
from dateutil import tz

# The most occurrences one expansion returns, and so the largest COUNT a rule may have.
# We refuse above it rather than raise it: 1000 is a daily class for almost three years,
# and a longer run is better left open-ended (generated up to a rolling horizon).
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
_UTC_UNTIL = re.compile(r"\d{8}T\d{6}Z")
_UNTIL_FORMS = (
    "UNTIL must be a UTC time like 20270301T000000Z, or a wall time like 20270301T000000"
    " without an offset"
)
_TOO_MANY = (
    f"more than {MAX_OCCURRENCES} occurrences (the most one pattern makes at once):"
    " bring UNTIL closer, or generate up to a nearer horizon"
)


def _parts(text: str) -> dict[str, str]:
    upper = text.upper().removeprefix("RRULE:")
    return dict(p.split("=", 1) for p in upper.split(";") if "=" in p)


def _part_problem(parts: dict[str, str]) -> str | None:
    """What is wrong with the rule's parts on their own, before dateutil reads it."""
    if parts.get("FREQ") not in _FREQUENCIES:
        return "FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY"
    if any(p in parts for p in _TIME_PARTS):
        return "the time of day comes from start_time: remove BYHOUR, BYMINUTE, BYSECOND, DTSTART"
    if "COUNT" in parts and "UNTIL" in parts:
        return "use COUNT or UNTIL, not both: COUNT says how many, UNTIL until when"
    return _number_problem(parts)


def _number_problem(parts: dict[str, str]) -> str | None:
    if _whole(parts.get("INTERVAL", "1")) < 1:
        return "INTERVAL must be a whole number, 1 or more (2 is every other day, week, ...)"
    if not 1 <= _whole(parts.get("COUNT", "1")) <= MAX_OCCURRENCES:
        return (
            f"COUNT must be a whole number from 1 to {MAX_OCCURRENCES} (the most one pattern"
            " makes); for a longer run, leave the end open"
        )
    return None


def _whole(text: str) -> int:
    """`text` as a whole number, or -1 when it is not one."""
    return int(text) if text.isascii() and text.isdigit() else -1


def rrule_problem(text: str) -> str | None:
    """Why `text` is not a usable pattern rule, or None when it is.

    The time of day comes from the pattern's start time, so the rule may not set its own
    (BYHOUR and friends) nor repeat more often than daily.
    """
    try:
        _recurrence(text, datetime(2000, 1, 1))  # noqa: DTZ001 - wall time by design
    except ValueError as error:
        return str(error)
    return None


def _recurrence(text: str, first_local: datetime) -> tuple[rr.rrule | rr.rruleset, datetime | None]:
    """dateutil's rule in wall time from `first_local`, and the UTC UNTIL it leaves to us;
    ValueError saying what is wrong when the rule is not usable (`rrule_problem`).

    dateutil refuses a UTC UNTIL with a wall-time start, so a UTC UNTIL is taken out of
    the text and returned as an instant for `expand` to bound occurrences with.
    """
    problem = _part_problem(_parts(text))
    if problem is not None:
        raise ValueError(problem)
    kept: list[str] = []
    until: datetime | None = None
    for part in text.split(";"):
        name, _, value = (side.strip().upper() for side in part.partition("="))
        if name.removeprefix("RRULE:") == "UNTIL" and value.endswith("Z"):
            until = _utc_until(value)
        else:
            kept.append(part)
    try:
        return rr.rrulestr(";".join(kept), dtstart=first_local), until
    except (ValueError, TypeError) as error:
        message = _UNTIL_FORMS if "UNTIL" in str(error) else f"not a valid RRULE: {error}"
        raise ValueError(message) from None


def _utc_until(value: str) -> datetime:
    if not _UTC_UNTIL.fullmatch(value):
        raise ValueError(_UNTIL_FORMS)
    return datetime.strptime(value, "%Y%m%dT%H%M%S%z").astimezone(UTC)


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

    An open-ended rule with no window end is an error: there would be no last date. So is
    an unusable rule (`rrule_problem`), and more than MAX_OCCURRENCES occurrences: the
    list is never silently cut.
    """
    if window_end is None and not is_finite(rule.rrule):
        raise ValueError("an open-ended pattern needs a window end (a horizon)")
    found: list[Occurrence] = []
    for occurrence in _occurrences(rule, window_start):
        if window_end is not None and occurrence.starts_at >= window_end:
            break
        if occurrence.starts_at >= window_start:
            found.append(occurrence)
        if len(found) > MAX_OCCURRENCES:
            raise ValueError(_TOO_MANY)
    return found


def _occurrences(rule: PatternRule, window_start: datetime) -> Iterator[Occurrence]:
    """The rule's occurrences in order, from about a day before `window_start`, to UNTIL."""
    first_local = datetime.combine(rule.start_date, rule.start_time)
    recurrence, until = _recurrence(rule.rrule, first_local)
    # Start a day early in wall time; the caller filters exactly on UTC instants.
    after = window_start.astimezone(zone(rule.timezone)).replace(tzinfo=None) - timedelta(days=1)
    for local in recurrence.xafter(max(after, first_local), inc=True):
        starts_at, adjustment = resolve_local(local, rule.timezone)
        if until is not None and starts_at > until:
            return
        yield Occurrence(local.date(), starts_at, starts_at + rule.duration, adjustment)
