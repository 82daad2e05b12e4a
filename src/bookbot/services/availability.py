"""The database side of a staff member's availability: weekly hours, date overrides,
one-off additions and blocks, read into the engine's `Availability`, and the busy time
(live appointments and taught sessions) that slots must avoid.

Bodies follow; the signatures are the contract's (section 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from bookbot.engine.clock import Clock
from bookbot.engine.slots import Availability, Interval
from bookbot.services.appointment_rows import Appointment
from bookbot.store.db import Database, Reads


@dataclass(frozen=True)
class DayView:
    """One local date of a staff member's week: open windows, blocks, taught sessions and
    appointments (instants in UTC; the date is local to the staff member's zone)."""

    day: date
    windows: tuple[Interval, ...]
    blocks: tuple[Interval, ...]
    sessions: tuple[Interval, ...]
    appointments: tuple[Appointment, ...]


async def availability_of(
    reads: Reads, studio_id: int, staff_id: int, *, start: datetime, end: datetime
) -> Availability:
    raise NotImplementedError


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
    raise NotImplementedError


async def week_view(
    db: Database, studio_id: int, staff_id: int, *, now: datetime, days: int = 7
) -> list[DayView]:
    raise NotImplementedError


async def block_day(
    db: Database,
    clock: Clock,
    studio_id: int,
    staff_id: int,
    *,
    day: date,
    reason: str,
    source: str,
) -> None:
    raise NotImplementedError


async def block_period(
    db: Database,
    clock: Clock,
    studio_id: int,
    staff_id: int,
    *,
    start: datetime,
    end: datetime,
    reason: str,
    source: str,
) -> None:
    raise NotImplementedError


async def add_window(
    db: Database,
    clock: Clock,
    studio_id: int,
    staff_id: int,
    *,
    start: datetime,
    end: datetime,
    reason: str,
    source: str,
) -> None:
    raise NotImplementedError


async def set_weekday_hours(
    db: Database,
    clock: Clock,
    studio_id: int,
    staff_id: int,
    *,
    weekday: int,
    windows: list[tuple[time, time]],
    source: str,
) -> None:
    raise NotImplementedError


async def set_staff_timezone(db: Database, studio_id: int, staff_id: int, zone: str) -> None:
    raise NotImplementedError


async def staff_by_calendar_token(reads: Reads, token: str) -> tuple[int, int] | None:
    raise NotImplementedError
