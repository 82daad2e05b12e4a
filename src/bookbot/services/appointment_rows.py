"""Appointment rows as the services read them: the `Service`, `Provider` and `Appointment`
value objects and the SQL that maps rows to them by column name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.engine.slots import ServiceRules


@dataclass(frozen=True)
class Service:
    """A row of `services`, durations as timedelta; cutoffs resolved against the studio."""

    id: int
    key: str
    name: str
    description: str
    duration: timedelta
    price_minor: int
    currency: str
    buffer_before: timedelta
    buffer_after: timedelta
    step: timedelta
    min_notice: timedelta
    horizon: timedelta
    capacity: int
    location: str
    online: bool
    meeting_url: str
    reschedule_cutoff_hours: int
    cancellation_cutoff_hours: int

    def rules(self) -> ServiceRules:
        return ServiceRules(
            duration=self.duration,
            buffer_before=self.buffer_before,
            buffer_after=self.buffer_after,
            step=self.step,
            min_notice=self.min_notice,
            horizon=self.horizon,
            group=self.capacity > 1,
        )


@dataclass(frozen=True)
class Provider:
    """A staff member offering services; `timezone` is theirs or else the studio's."""

    id: int
    key: str
    name: str
    timezone: str


@dataclass(frozen=True)
class Appointment:
    id: int
    studio_id: int
    service_id: int
    service_name: str
    staff_id: int
    staff_name: str
    staff_timezone: str
    customer_id: int
    customer_name: str
    starts_at: datetime
    ends_at: datetime
    guest_count: int
    status: str
    held_until: datetime | None
    price_minor: int
    currency: str
    location: str
    online: bool
    meeting_url: str
    sequence: int
    cancel_reason: str
