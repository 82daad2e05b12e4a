"""The studio file's appointments part: staff availability and bookable services (issue 14).

A staff member's `[staff.availability]` holds wall times in their zone (`staff.timezone`,
else the studio's): weekly windows by day name ("mon".."sun"), date overrides whose windows
replace that date's weekly ones (`windows = []`: unavailable all day), and one-off blocked
periods and additional windows written as local date-times ("2026-12-14T00:00"). The loader
turns those last two into UTC instants with `engine.recurrence.resolve_local`, so a time in
a clock change's gap is shifted forward and an ambiguous one takes its first instant.

A `[[services]]` entry is something booked with one staff member at a time the customer
picks; `staff` lists who offers it. Each field is checked here; what refers to other
sections (staff keys) and what needs the staff member's zone is checked by
`appointment_problems`, called from `StudioFile`'s validator.

A `[[packages]]` entry (issue 15) sells N sessions or M minutes of one service, valid for
some days; its service key is checked against `[[services]]` there too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from bookbot.engine import recurrence
from bookbot.studio.fields import (
    EARLIEST_START,
    LATEST_START,
    MAX_DURATION,
    YEAR_DAYS,
    Description,
    DurationMinutes,
    FileModel,
    Headcount,
    Key,
    Location,
    Name,
    PolicyHours,
    Price,
    StartDate,
    WallTime,
    price_problem,
    shown,
    unknown,
)

RefundPercent = Annotated[int, Field(strict=True, ge=0, le=100)]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
_DAY_MINUTES = 24 * 60


def _day(value: Any) -> str:
    if not isinstance(value, str) or value not in DAYS:
        raise ValueError(f"{shown(value)} is not a day: use one of {', '.join(DAYS)}")
    return value


def _local_datetime(value: Any) -> datetime:
    """A wall-clock date and time without an offset: the zone is the staff member's."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if not isinstance(value, datetime):
        raise ValueError(f'{shown(value)} is not a date and time: write it like "2026-12-14T09:00"')
    if value.tzinfo is not None:
        raise ValueError("give a local time without an offset: the zone is the staff member's")
    if not EARLIEST_START <= value.date() <= LATEST_START:
        raise ValueError(f"{value.date()} is not between {EARLIEST_START} and {LATEST_START}")
    return value


def _meeting_url(template: str) -> str:
    if template and not template.startswith(("https://", "http://")):
        raise ValueError(f"{shown(template)} is not a web address: start it with https://")
    try:
        template.format(appointment=1)
    except (KeyError, IndexError, ValueError):
        raise ValueError(
            f"{shown(template)}: the only placeholder a meeting URL may hold is {{appointment}}"
        ) from None
    return template


Day = Annotated[str, AfterValidator(_day)]
LocalDateTime = Annotated[datetime, BeforeValidator(_local_datetime)]
Reason = Annotated[str, StringConstraints(max_length=200)]
MeetingUrl = Annotated[str, StringConstraints(max_length=500), AfterValidator(_meeting_url)]
BufferMinutes = Annotated[int, Field(strict=True, ge=0, le=_DAY_MINUTES)]
StepMinutes = Annotated[int, Field(strict=True, gt=0, le=_DAY_MINUTES)]
HorizonDays = Annotated[int, Field(strict=True, gt=0, le=2 * YEAR_DAYS)]


def _window_problem(start: time, end: time) -> str | None:
    if end > start:
        return None
    if end == time(0):
        return f"end {end:%H:%M} is midnight: a window ends at 23:59 at the latest"
    return f"end {end:%H:%M} is not after start {start:%H:%M}"


class LocalWindowSpec(FileModel):
    """Hours on one local date: `start` to `end` wall time, both on that date."""

    start: WallTime
    end: WallTime
    room: Location = ""
    individual: bool = True  # open to one-to-one services
    group: bool = True  # open to small-group services (capacity > 1)

    @model_validator(mode="after")
    def _ends_after_start(self) -> LocalWindowSpec:
        problem = _window_problem(self.start, self.end)
        if problem is not None:
            raise ValueError(problem)
        return self


class WeeklySpec(LocalWindowSpec):
    day: Day

    @property
    def weekday(self) -> int:
        return DAYS.index(self.day)


class OverrideSpec(FileModel):
    on_date: StartDate = Field(alias="date")
    windows: tuple[LocalWindowSpec, ...] = ()


class PeriodSpec(FileModel):
    """A blocked period, in the staff member's local wall time."""

    start: LocalDateTime
    end: LocalDateTime
    reason: Reason = ""

    @model_validator(mode="after")
    def _ends_after_start(self) -> PeriodSpec:
        if self.end <= self.start:
            raise ValueError(f"end {self.end:%Y-%m-%dT%H:%M} is not after start")
        return self


class AdditionSpec(PeriodSpec):
    """A one-off extra window (an extra Saturday), in local wall time."""

    room: Location = ""


class AvailabilitySpec(FileModel):
    weekly: tuple[WeeklySpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()
    blocked: tuple[PeriodSpec, ...] = ()
    additions: tuple[AdditionSpec, ...] = ()


class ServiceSpec(FileModel):
    key: Key
    name: Name
    description: Description = ""
    duration_minutes: DurationMinutes
    price: Price
    buffer_before_minutes: BufferMinutes = 0
    buffer_after_minutes: BufferMinutes = 0
    step_minutes: StepMinutes = 15
    min_notice_hours: PolicyHours = 0
    horizon_days: HorizonDays = 60
    capacity: Headcount = 1  # the most people one appointment may bring
    location: Location = ""
    online: bool = False
    meeting_url: MeetingUrl = ""  # {appointment} is replaced by the appointment's id
    reschedule_cutoff_hours: PolicyHours = 24
    cancellation_cutoff_hours: PolicyHours | None = None  # None: the studio's policy
    staff: tuple[Key, ...] = Field(min_length=1)
    # Paid as classes are (README "Payments"): online through Stripe, at the studio, or the
    # customer's choice; a customer cancelling after the cutoff gets this share back.
    payment: Literal["online", "at_studio", "either"] = "at_studio"
    refund_after_cutoff_percent: RefundPercent = 0

    @model_validator(mode="after")
    def _meeting_url_is_online(self) -> ServiceSpec:
        if self.meeting_url and not self.online:
            raise ValueError("a meeting_url is for an online service: set online = true")
        if self.duration_minutes + self.buffer_before_minutes > MAX_DURATION:
            raise ValueError(f"duration and buffers are more than {MAX_DURATION:,} minutes")
        return self


PackageCount = Annotated[int, Field(strict=True, gt=0, le=100_000)]
ValidDays = Annotated[int, Field(strict=True, gt=0, le=3 * YEAR_DAYS)]


class PackageSpec(FileModel):
    """A `[[packages]]` offer: `sessions` or `minutes` (one of them) of one service, usable
    for `valid_days` days from the day it is bought or issued (issue 15)."""

    key: Key
    name: Name
    service: Key
    sessions: PackageCount | None = None
    minutes: PackageCount | None = None
    price: Price
    valid_days: ValidDays
    payment: Literal["online", "at_studio", "either"] = "either"

    @model_validator(mode="after")
    def _sessions_or_minutes(self) -> PackageSpec:
        if (self.sessions is None) == (self.minutes is None):
            raise ValueError("give either sessions or minutes (not both)")
        return self


def _package_problems(
    packages: Sequence[PackageSpec], services: Sequence[ServiceSpec], currency: str
) -> Iterator[str]:
    keys = [s.key for s in services]
    seen: dict[str, int] = {}
    for index, package in enumerate(packages):
        where = f"packages[{index}]"
        if package.key in seen:
            yield f'{where}.key: duplicate key "{package.key}" (also packages[{seen[package.key]}])'
        seen.setdefault(package.key, index)
        if package.service not in keys:
            yield unknown(f"{where}.service", "service", package.service, keys)
        yield from price_problem(f"{where}.price", package.price, currency)


def utc_period(period: PeriodSpec, zone: str) -> tuple[datetime, datetime]:
    """The period's start and end as UTC instants, reading its wall times in `zone`."""
    start, _ = recurrence.resolve_local(period.start, zone)
    end, _ = recurrence.resolve_local(period.end, zone)
    return start, end


def _availability_problems(where: str, spec: AvailabilitySpec, zone: str) -> Iterator[str]:
    seen: dict[date, int] = {}
    for index, override in enumerate(spec.overrides):
        if override.on_date in seen:
            yield (
                f"{where}.overrides[{index}].date: {override.on_date} is listed twice"
                f" (also overrides[{seen[override.on_date]}]): put its windows in one entry"
            )
        seen.setdefault(override.on_date, index)
    periods = [("blocked", p) for p in spec.blocked] + [("additions", p) for p in spec.additions]
    counters = {"blocked": 0, "additions": 0}
    for section, period in periods:
        index = counters[section]
        counters[section] += 1
        start, end = utc_period(period, zone)
        if end <= start:
            yield (
                f"{where}.{section}[{index}]: in {zone} the end is not after the start"
                " (a clock change falls between them)"
            )


def _service_problems(index: int, service: ServiceSpec, staff: Sequence[str]) -> Iterator[str]:
    where = f"services[{index}]"
    for j, key in enumerate(service.staff):
        if key in service.staff[:j]:
            yield f'{where}.staff[{j}]: "{key}" is listed twice'
        elif key not in staff:
            yield unknown(f"{where}.staff[{j}]", "staff", key, staff)


def appointment_problems(
    *,
    staff: Sequence[tuple[str, str | None, AvailabilitySpec]],
    services: Sequence[ServiceSpec],
    studio_zone: str,
    currency: str,
    packages: Sequence[PackageSpec] = (),
) -> Iterator[str]:
    """What is wrong across sections: services naming unknown staff, prices finer than the
    currency, override dates given twice, periods a clock change turns around.
    `staff` is (key, timezone or None, availability) per staff member, in file order."""
    for index, (_key, zone, availability) in enumerate(staff):
        yield from _availability_problems(
            f"staff[{index}].availability", availability, zone or studio_zone
        )
    keys = [key for key, _zone, _availability in staff]
    for index, service in enumerate(services):
        yield from _service_problems(index, service, keys)
        yield from price_problem(f"services[{index}].price", service.price, currency)
    yield from _package_problems(packages, services, currency)
