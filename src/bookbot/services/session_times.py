"""Studio-local wall times of a one-off or edited session, and the refusals staff see.

A session's day and times are typed as the studio's wall clock (`2027-01-15 09:00`) and
stored as UTC instants, through `engine.recurrence.resolve_local` (the rules generation
uses): a time that does not exist (the clocks go forward) is refused rather than shifted,
since staff typed that very time; an ambiguous one (the clocks go back) is the first.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import ClassVar
from zoneinfo import ZoneInfo

from bookbot.engine import multi_day, recurrence
from bookbot.engine.errors import N_, BookingError

# Refusals of these modules (not in engine.errors): marked with N_ so that the catalogue
# script, which collects engine.errors' templates by class, finds them as messages.


class TimeNotOnClock(BookingError):
    code = "time_not_on_clock"
    template: ClassVar[str] = N_(
        "{time} does not exist on {day}: the clocks go forward then. Choose another time."
    )


class EndsBeforeStart(BookingError):
    code = "ends_before_start"
    template: ClassVar[str] = N_("The end ({end}) must be after the start ({start}).")


class CapacityBelowTaken(BookingError):
    code = "capacity_below_taken"
    template: ClassVar[str] = N_("Seats taken: {taken}. The capacity cannot be less than that.")


class StartsInPast(BookingError):
    code = "starts_in_past"
    template: ClassVar[str] = N_("A session must start in the future.")


def wall_instant(day: date, at: time, zone_name: str) -> datetime:
    """The UTC instant of `at` on `day` in the studio's zone; TimeNotOnClock in a DST gap."""
    instant, adjustment = recurrence.resolve_local(datetime.combine(day, at), zone_name)
    if adjustment is recurrence.Adjustment.GAP_SHIFTED:
        raise TimeNotOnClock(time=at.strftime("%H:%M"), day=day)
    return instant


def span(day: date, start: time, end: time, zone_name: str) -> tuple[datetime, datetime]:
    """The UTC start and end of a one-day session from its wall times.

    (A multi-day session's days: `course_days`.)
    """
    if end <= start:
        raise EndsBeforeStart(start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
    return wall_instant(day, start, zone_name), wall_instant(day, end, zone_name)


def course_days(
    day: date, start: time, end: time, days: int, zone_name: str
) -> tuple[multi_day.Day, ...]:
    """Each day of a `days`-day session from `day`, `start` to `end` on the wall clock each
    day; TimeNotOnClock when a day's start falls in a DST gap (staff typed that time)."""
    first_start, first_end = span(day, start, end, zone_name)
    found = multi_day.course_days(day, start, first_end - first_start, days, zone_name)
    for d in found:
        if d.adjustment is recurrence.Adjustment.GAP_SHIFTED:
            raise TimeNotOnClock(time=start.strftime("%H:%M"), day=d.local_date)
        wall_instant(d.local_date, end, zone_name)  # the end must be on the clock too
    # Each day ends at `end` on its own date (a DST change that day changes its length).
    return tuple(
        multi_day.Day(
            d.number, d.local_date, d.starts_at, wall_instant(d.local_date, end, zone_name)
        )
        for d in found
    )


def local_parts(starts_at: datetime, ends_at: datetime, zone_name: str) -> tuple[date, time, time]:
    """A stored session's local day, start and end (for an edit that changes only one)."""
    tz = ZoneInfo(zone_name)
    start = starts_at.astimezone(tz)
    return start.date(), start.time(), ends_at.astimezone(tz).time()
