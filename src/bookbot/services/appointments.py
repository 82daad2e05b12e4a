"""One-to-one (and small-group) appointments with a staff member (issue 14): what is
offered and by whom, free slots, and the lists customers and staff see. The writes live in
`appointment_booking` (hold, confirm: the staff lock and the re-check), `appointment_moves`
(reschedule, under the same lock) and
`appointment_endings` (cancellations, no-show, sweeps); this module is their one door.

Slots are computed by the pure engine (`engine.slots`) from what is read here: the staff
member's availability and busy time for the range asked, never their history. A search
over many days reads a staff member's data a window (`WINDOW`, 14 days) at a time, and
stops as soon as it has what it was asked for. Times are UTC instants; a "day" is a local
date in the zone the caller names (the customer's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookbot.engine import errors, slots
from bookbot.engine.slots import Availability, Interval, Slot
from bookbot.services.appointment_booking import confirm, hold, release_holds
from bookbot.services.appointment_endings import (
    SWEEP_BATCH,
    cancel_by_customer,
    cancel_by_staff,
    complete_ended,
    expire_holds,
    mark_no_show,
    within_cutoff,
)
from bookbot.services.appointment_lists import (
    appointment_for_customer,
    customer_upcoming,
    staff_booked_between,
    staff_list,
)
from bookbot.services.appointment_moves import reschedule
from bookbot.services.appointment_rows import (
    PROVIDER_BY_KEY_SQL,
    PROVIDERS_SQL,
    SERVICE_BY_KEY_SQL,
    SERVICES_SQL,
    Appointment,
    Provider,
    Service,
    appointment_by_id,
    provider_by_id,
    provider_from,
    service_by_id_in,
    service_from,
)
from bookbot.services.availability import LONGEST_FOOTPRINT, availability_of, busy_of
from bookbot.store.db import Database, Reads

__all__ = [
    "SWEEP_BATCH",
    "Appointment",
    "Provider",
    "Service",
    "appointment_by_id",
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
    "provider_by_key",
    "providers",
    "release_holds",
    "reschedule",
    "service_by_id",
    "service_by_key",
    "slots_on",
    "staff_booked_between",
    "staff_list",
]

WINDOW = timedelta(days=14)


async def list_services(reads: Reads, studio_id: int) -> list[Service]:
    """The studio's active services, by name."""
    return [service_from(r) for r in await reads.all(SERVICES_SQL, {"studio_id": studio_id})]


async def service_by_key(reads: Reads, studio_id: int, key: str) -> Service:
    row = await reads.one(SERVICE_BY_KEY_SQL, {"studio_id": studio_id, "key": key})
    if row is None:
        raise errors.NotFound(what="service", ident=key)
    return service_from(row)


async def service_by_id(reads: Reads, studio_id: int, service_id: int) -> Service:
    return await service_by_id_in(reads, studio_id, service_id)


async def providers(reads: Reads, studio_id: int, service_id: int) -> list[Provider]:
    """Who offers the service, by name."""
    rows = await reads.all(PROVIDERS_SQL, {"studio_id": studio_id, "service_id": service_id})
    return [provider_from(r) for r in rows]


async def provider_by_key(reads: Reads, studio_id: int, key: str) -> Provider:
    row = await reads.one(PROVIDER_BY_KEY_SQL, {"studio_id": studio_id, "key": key})
    if row is None:
        raise errors.NotFound(what="staff member", ident=key)
    return provider_from(row)


async def _candidates(
    reads: Reads, studio_id: int, service_id: int, staff_id: int | None
) -> list[Provider]:
    offering = await providers(reads, studio_id, service_id)
    if staff_id is None:
        return offering
    chosen = [p for p in offering if p.id == staff_id]
    if not chosen:
        person = await provider_by_id(reads, studio_id, staff_id)
        service = await service_by_id_in(reads, studio_id, service_id)
        raise errors.ServiceNotOffered(staff=person.name, service=service.name)
    return chosen


async def _inputs(
    reads: Reads,
    studio_id: int,
    staff_id: int,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    reach: timedelta,
    moving: int | None = None,
) -> tuple[Availability, list[Interval]]:
    """Availability and busy time for slots starting in [start, end) (`reach`: the
    longest footprint, which a slot's buffers may take beyond the range; `moving`: an
    appointment being rescheduled, whose own time is not busy for its move)."""
    lo, hi = start - reach, end + reach
    availability = await availability_of(reads, studio_id, staff_id, start=lo, end=hi)
    busy = await busy_of(
        reads, studio_id, staff_id, start=lo, end=hi, now=now, except_appointment=moving
    )
    return availability, busy


def _reach(service: Service) -> timedelta:
    return service.duration + service.buffer_before + service.buffer_after


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
    """The staff member's bookable slots of the service starting in [start, end)."""
    async with db.transaction(write=False) as tx:
        service = await service_by_id_in(tx, studio_id, service_id)
        await _candidates(tx, studio_id, service_id, staff_id)
        availability, busy = await _inputs(
            tx, studio_id, staff_id, start=start, end=end, now=now, reach=_reach(service)
        )
    return slots.free_slots(availability, service.rules(), busy, now=now, start=start, end=end)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


async def days_with_slots(  # noqa: PLR0913 - the search, its page, and the move it serves
    db: Database,
    studio_id: int,
    *,
    service_id: int,
    staff_id: int | None,
    now: datetime,
    zone: str,
    after: date | None = None,
    limit: int = 7,
    moving: int | None = None,
) -> list[date]:
    """Local dates in `zone` after `after` (None: from today) with at least one slot, at
    most `limit`; any provider when `staff_id` is None. Reads WINDOW days at a time and
    stops at the service's horizon. `moving`: the appointment being rescheduled (its own
    time is free for it)."""
    tz = ZoneInfo(zone)
    first = after + timedelta(days=1) if after is not None else now.astimezone(tz).date()
    found: set[date] = set()
    async with db.transaction(write=False) as tx:
        service = await service_by_id_in(tx, studio_id, service_id)
        people = await _candidates(tx, studio_id, service_id, staff_id)
        last = now + service.horizon + timedelta(days=1)
        reach = LONGEST_FOOTPRINT
        day = first
        while len(found) < limit and _midnight(day, tz) < last:
            start, end = _midnight(day, tz), _midnight(day + WINDOW, tz)
            for person in people:
                availability, busy = await _inputs(
                    tx,
                    studio_id,
                    person.id,
                    start=start,
                    end=end,
                    now=now,
                    reach=reach,
                    moving=moving,
                )
                for slot in slots.free_slots(
                    availability, service.rules(), busy, now=now, start=start, end=end
                ):
                    found.add(slot.start.astimezone(tz).date())
            day += WINDOW
    return sorted(d for d in found if d >= first)[:limit]


async def slots_on(
    db: Database,
    studio_id: int,
    *,
    service_id: int,
    staff_id: int | None,
    now: datetime,
    zone: str,
    day: date,
    moving: int | None = None,
) -> list[tuple[Slot, Provider]]:
    """The slots starting on local date `day` in `zone`, earliest first; with any provider
    (`staff_id` None) one entry per start time, the provider first by name. `moving`: the
    appointment being rescheduled (its own time is free for it)."""
    tz = ZoneInfo(zone)
    start, end = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    found: dict[datetime, tuple[Slot, Provider]] = {}
    async with db.transaction(write=False) as tx:
        service = await service_by_id_in(tx, studio_id, service_id)
        for person in await _candidates(tx, studio_id, service_id, staff_id):
            availability, busy = await _inputs(
                tx,
                studio_id,
                person.id,
                start=start,
                end=end,
                now=now,
                reach=_reach(service),
                moving=moving,
            )
            for slot in slots.free_slots(
                availability, service.rules(), busy, now=now, start=start, end=end
            ):
                found.setdefault(slot.start, (slot, person))
    return [found[k] for k in sorted(found)]


async def first_available(
    db: Database, studio_id: int, *, service_id: int, now: datetime
) -> tuple[Provider, Slot] | None:
    """The earliest slot of the service with any provider (ties: the lowest staff id),
    searched WINDOW days at a time up to the horizon; None if there is none."""
    async with db.transaction(write=False) as tx:
        service = await service_by_id_in(tx, studio_id, service_id)
        people = {p.id: p for p in await providers(tx, studio_id, service_id)}
        reach = _reach(service)
        start, last = now, now + service.horizon + timedelta(minutes=1)
        while people and start < last:
            end = min(start + WINDOW, last)
            candidates: list[tuple[int, Availability, Sequence[Interval]]] = []
            for staff_id in sorted(people):
                availability, busy = await _inputs(
                    tx, studio_id, staff_id, start=start, end=end, now=now, reach=reach
                )
                candidates.append((staff_id, availability, busy))
            best = slots.first_available(candidates, service.rules(), now=now, start=start, end=end)
            if best is not None:
                return people[best[0]], best[1]
            start = end
    return None


def _cutoff(value: int | Service, *, cancelling: bool) -> int:
    if isinstance(value, Service):
        return value.cancellation_cutoff_hours if cancelling else value.reschedule_cutoff_hours
    return value


def can_cancel(appointment: Appointment, cutoff: int | Service, now: datetime) -> bool:
    """Whether the customer may still cancel: confirmed, and `now` no later than the
    cancellation cutoff (hours, or the service's) before the start."""
    return within_cutoff(appointment, _cutoff(cutoff, cancelling=True), now)


def can_reschedule(appointment: Appointment, cutoff: int | Service, now: datetime) -> bool:
    """Whether the customer may still move it (the reschedule cutoff, hours or the
    service's)."""
    return within_cutoff(appointment, _cutoff(cutoff, cancelling=False), now)
