"""What slots are computed from: a staff member's availability (weekly windows in their zone,
date overrides, additions and blocks), a service's rules (duration, buffers, grid step,
notice, horizon), and the slots themselves. The rules that join them are in `slots`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple


@dataclass(frozen=True)
class WeeklyWindow:
    weekday: int  # 0=Mon..6=Sun
    start: time  # local wall time in Availability.timezone
    end: time  # > start; time(0) is not allowed (use time(23, 59) at most)
    room: str = ""
    individual: bool = True  # open to one-to-one services (capacity 1)
    group: bool = True  # open to small-group services (capacity > 1)

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}")
        _check_times(self.start, self.end)


@dataclass(frozen=True)
class LocalWindow:
    start: time
    end: time
    room: str = ""
    individual: bool = True
    group: bool = True

    def __post_init__(self) -> None:
        _check_times(self.start, self.end)


def _check_times(start: time, end: time) -> None:
    if end <= start:
        raise ValueError(f"a window must end after it starts ({start:%H:%M}-{end:%H:%M})")


@dataclass(frozen=True)
class DateOverride:
    day: date  # local date in Availability.timezone
    windows: tuple[LocalWindow, ...]  # replace that date's weekly windows; () = unavailable


@dataclass(frozen=True)
class Interval:
    start: datetime  # aware (UTC), half-open [start, end)
    end: datetime
    reason: str = ""  # for blocks / busy: shown to staff ("vacation", "Wheel Taster")


@dataclass(frozen=True)
class Availability:
    timezone: str  # the staff member's IANA zone
    weekly: tuple[WeeklyWindow, ...] = ()
    overrides: tuple[DateOverride, ...] = ()
    additions: tuple[Interval, ...] = ()  # one-off extra windows (absolute instants)
    blocks: tuple[Interval, ...] = ()  # unavailable periods (absolute instants)


@dataclass(frozen=True)
class ServiceRules:
    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    step: timedelta = timedelta(minutes=15)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)
    group: bool = False  # capacity > 1: only windows with group=True; else individual=True

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.step <= timedelta(0):
            raise ValueError("a service needs a positive duration and step")
        if min(self.buffer_before, self.buffer_after, self.min_notice) < timedelta(0):
            raise ValueError("buffers and notice cannot be negative")


class Slot(NamedTuple):
    """A bookable start. A named tuple rather than a frozen dataclass: free_slots builds
    hundreds a call, and a frozen dataclass's __init__ was a third of its time."""

    start: datetime  # aware UTC: the appointment's start (without buffers)
    end: datetime  # start + duration
