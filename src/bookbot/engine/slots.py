"""Bookable appointment slots from a staff member's availability (pure; rules to follow)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta


@dataclass(frozen=True)
class WeeklyWindow:
    weekday: int  # 0=Mon..6=Sun
    start: time  # local wall time in Availability.timezone
    end: time  # > start; time(0) is not allowed (use time(23, 59) at most)
    room: str = ""
    individual: bool = True  # open to one-to-one services (capacity 1)
    group: bool = True  # open to small-group services (capacity > 1)


@dataclass(frozen=True)
class LocalWindow:
    start: time
    end: time
    room: str = ""
    individual: bool = True
    group: bool = True


@dataclass(frozen=True)
class DateOverride:
    day: date  # local date in Availability.timezone
    windows: tuple[LocalWindow, ...]  # replace that date's weekly windows; () = unavailable


@dataclass(frozen=True)
class Interval:
    start: datetime  # aware (UTC), half-open [start, end)
    end: datetime
    reason: str = ""  # for blocks / busy: shown to staff


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


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware UTC: the appointment's start (without buffers)
    end: datetime  # start + duration


def open_windows(
    availability: Availability, *, start: datetime, end: datetime, group: bool | None = None
) -> list[Interval]:
    """The open windows as UTC intervals overlapping [start, end), merged and sorted."""
    raise NotImplementedError


def free_slots(
    availability: Availability,
    rules: ServiceRules,
    busy: Sequence[Interval],
    *,
    now: datetime,
    start: datetime,
    end: datetime,
) -> list[Slot]:
    """Bookable slots whose start lies in [start, end), sorted."""
    raise NotImplementedError


def first_available(
    candidates: Sequence[tuple[int, Availability, Sequence[Interval]]],
    rules: ServiceRules,
    *,
    now: datetime,
    start: datetime,
    end: datetime,
) -> tuple[int, Slot] | None:
    """The earliest slot across staff members; ties go to the lowest staff_id."""
    raise NotImplementedError


def fits(
    availability: Availability,
    rules: ServiceRules,
    busy: Sequence[Interval],
    *,
    now: datetime,
    slot_start: datetime,
) -> bool:
    """Whether one given start is still a free slot (the booking re-check under the lock)."""
    raise NotImplementedError
