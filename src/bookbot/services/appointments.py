"""One-to-one (and small-group) appointments with a staff member: slots, holds, bookings,
reschedules, cancellations and the sweeps that end them (issue 14).

Bodies follow; the signatures are the contract's (section 3).
"""

from __future__ import annotations

from datetime import date, datetime

from bookbot.engine.clock import Clock
from bookbot.engine.slots import Slot
from bookbot.services.appointment_rows import Appointment, Provider, Service
from bookbot.store.db import Database, Reads

__all__ = [
    "Appointment",
    "Provider",
    "Service",
    "appointment_for_customer",
    "can_cancel",
    "can_reschedule",
    "cancel_by_customer",
    "cancel_by_staff",
    "complete_ended",
    "confirm",
    "customer_upcoming",
    "days_with_slots",
    "expire_holds",
    "first_available",
    "free_slots",
    "hold",
    "list_services",
    "mark_no_show",
    "providers",
    "provider_by_key",
    "release_holds",
    "reschedule",
    "service_by_id",
    "service_by_key",
    "slots_on",
    "staff_list",
]

SWEEP_BATCH = 200


async def list_services(reads: Reads, studio_id: int) -> list[Service]:
    raise NotImplementedError


async def service_by_key(reads: Reads, studio_id: int, key: str) -> Service:
    raise NotImplementedError


async def service_by_id(reads: Reads, studio_id: int, service_id: int) -> Service:
    raise NotImplementedError


async def providers(reads: Reads, studio_id: int, service_id: int) -> list[Provider]:
    raise NotImplementedError


async def provider_by_key(reads: Reads, studio_id: int, key: str) -> Provider:
    raise NotImplementedError


async def free_slots(
    db: Database,
    studio_id: int,
    *,
    service_id: int,
    staff_id: int,
    now: datetime,
    start: datetime,
    end: datetime,
) -> list[Slot]:
    raise NotImplementedError


async def days_with_slots(
    db: Database,
    studio_id: int,
    *,
    service_id: int,
    staff_id: int | None,
    now: datetime,
    zone: str,
    after: date | None = None,
    limit: int = 7,
) -> list[date]:
    raise NotImplementedError


async def slots_on(
    db: Database,
    studio_id: int,
    *,
    service_id: int,
    staff_id: int | None,
    now: datetime,
    zone: str,
    day: date,
) -> list[tuple[Slot, Provider]]:
    raise NotImplementedError


async def first_available(
    db: Database, studio_id: int, *, service_id: int, now: datetime
) -> tuple[Provider, Slot] | None:
    raise NotImplementedError


async def hold(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    customer_id: int,
    service_id: int,
    staff_id: int,
    starts_at: datetime,
    guests: int = 1,
) -> Appointment:
    raise NotImplementedError


async def confirm(
    db: Database, clock: Clock, studio_id: int, *, appointment_id: int, customer_id: int
) -> Appointment:
    raise NotImplementedError


async def release_holds(db: Database, studio_id: int, customer_id: int) -> None:
    raise NotImplementedError


async def reschedule(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    appointment_id: int,
    customer_id: int,
    starts_at: datetime,
    staff_id: int | None = None,
) -> Appointment:
    raise NotImplementedError


async def cancel_by_customer(
    db: Database, clock: Clock, studio_id: int, *, appointment_id: int, customer_id: int
) -> Appointment:
    raise NotImplementedError


async def cancel_by_staff(
    db: Database, clock: Clock, studio_id: int, *, appointment_id: int, staff_id: int, reason: str
) -> Appointment:
    raise NotImplementedError


async def mark_no_show(
    db: Database, clock: Clock, studio_id: int, *, appointment_id: int, staff_id: int
) -> Appointment:
    raise NotImplementedError


async def complete_ended(db: Database, clock: Clock, *, batch: int = SWEEP_BATCH) -> int:
    raise NotImplementedError


async def expire_holds(db: Database, clock: Clock, *, batch: int = SWEEP_BATCH) -> int:
    raise NotImplementedError


async def customer_upcoming(
    reads: Reads, studio_id: int, customer_id: int, now: datetime
) -> list[Appointment]:
    raise NotImplementedError


async def appointment_for_customer(
    reads: Reads, studio_id: int, customer_id: int, appointment_id: int
) -> Appointment:
    raise NotImplementedError


async def staff_list(
    reads: Reads,
    studio_id: int,
    staff_id: int,
    *,
    view: str,
    now: datetime,
    limit: int = 10,
    before: datetime | None = None,
) -> list[Appointment]:
    raise NotImplementedError


def can_cancel(appointment: Appointment, cutoff_hours: int | Service, now: datetime) -> bool:
    """Whether the customer may still cancel (`cutoff_hours`, or the service's)."""
    raise NotImplementedError


def can_reschedule(appointment: Appointment, cutoff_hours: int | Service, now: datetime) -> bool:
    """Whether the customer may still move it (`cutoff_hours`, or the service's)."""
    raise NotImplementedError
