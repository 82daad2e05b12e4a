"""Recurring member bookings (issue 15): "every Tuesday 10:00 with Tom, weekly or every
other week, from a date, until a date or indefinitely".

- `create` (staff: `bookbot recurring add`) and `create_from_appointment` (the member, in
  chat, right after booking one: that appointment becomes the series' first occurrence)
  write the series and place its next 6 weeks at once (`recurring_placing`).
- `extend_due` (in `recurring_placing`) is the daily job the sweeps run: each active series
  whose `next_extension_at` (the next 02:00 studio time) has come is extended to today + 6
  weeks. It reads only the due series, through the partial index ix_recurring_bookings_due.
- `pause` skips one date: its occurrence, if placed, is cancelled under the cancellation
  policy (refused inside the cutoff), and a 'paused' skip row keeps the job off the date.
- `end` stops the series: no more dates are placed; each future occurrence the member could
  still cancel (before the cutoff) is cancelled, and those inside the cutoff are kept (they
  happen, and count as sessions held if attended). Running it again finishes what a failed
  run left.

Price: each occurrence carries the service's price; it is paid at the studio or invoiced
from `bookbot report sessions` (no online checkout for series).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bookbot.engine import errors, series
from bookbot.engine.clock import Clock
from bookbot.services import outbox, quiet_hours, staff_notices
from bookbot.services.appointment_endings import cancel_by_customer, within_cutoff
from bookbot.services.appointment_rows import (
    Appointment,
    appointment_by_id,
    offers,
    provider_by_id,
    service_by_id_in,
)
from bookbot.services.availability import staff_zone
from bookbot.services.recurring_placing import (
    DUE_SQL,
    Placement,
    extend,
    extend_due,
    extend_in,
    lock_series,
    notice_params,
    skip,
)
from bookbot.services.recurring_rows import (
    RecurringBooking,
    occurrence_dates,
    occurrences,
    series_by_id,
    series_list,
    series_of_customer,
    skips,
)
from bookbot.store.db import Database, Tx, retrying

__all__ = [
    "DUE_SQL",
    "Created",
    "Ended",
    "Placement",
    "RecurringBooking",
    "create",
    "create_from_appointment",
    "end",
    "extend",
    "extend_due",
    "occurrence_dates",
    "occurrences",
    "pause",
    "series_by_id",
    "series_list",
    "series_of_customer",
    "skips",
]


@dataclass(frozen=True)
class Created:
    series: RecurringBooking
    placement: Placement


@dataclass(frozen=True)
class Ended:
    series: RecurringBooking
    cancelled: tuple[Appointment, ...]
    kept: tuple[Appointment, ...]  # inside the cancellation cutoff: they still happen


@dataclass(frozen=True)
class NewSeries:
    """What a series is: who, what, and when (the wall time in the staff member's zone)."""

    customer_id: int
    service_id: int
    staff_id: int
    weekday: int
    start_time: str  # 'HH:MM'
    interval_weeks: int
    starts_on: date
    ends_on: date | None = None
    guests: int = 1


async def create(
    db: Database, clock: Clock, studio_id: int, spec: NewSeries, *, source: str = "cli"
) -> Created:
    """Write the series and place its next 6 weeks; InvalidRequest for a bad rule,
    ServiceNotOffered, NotFound. The staff member is told, and so is the member when staff
    made it (`source` 'cli')."""

    async def attempt() -> Created:
        now = clock.now()
        async with db.transaction() as tx:
            await tx.lock("staff", [spec.staff_id])
            series_id = await _insert(tx, now, studio_id, spec, source=source)
            return await _place_new(tx, now, studio_id, series_id, source=source)

    result: Created = await retrying(attempt)
    return result


async def create_from_appointment(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    appointment_id: int,
    customer_id: int,
    interval_weeks: int,
) -> Created:
    """The member's booked appointment repeats weekly or every `interval_weeks`: it becomes
    the series' first occurrence (same weekday and local time, in the staff member's zone)."""

    async def attempt() -> Created:
        now = clock.now()
        seen = await appointment_by_id(db, studio_id, appointment_id)
        if seen.customer_id != customer_id:
            raise errors.NotFound(what="appointment", ident=appointment_id)
        async with db.transaction() as tx:
            await tx.lock("staff", [seen.staff_id])
            await tx.lock("appointments", [appointment_id])
            found = await appointment_by_id(tx, studio_id, appointment_id)
            if found.status != "confirmed" or found.staff_id != seen.staff_id:
                raise errors.AppointmentNotActive(status=found.status)
            if found.recurring_booking_id is not None:
                return await _created(tx, studio_id, found.recurring_booking_id)
            local = found.starts_at.astimezone(ZoneInfo(found.staff_timezone))
            spec = NewSeries(
                customer_id=customer_id,
                service_id=found.service_id,
                staff_id=found.staff_id,
                weekday=local.weekday(),
                start_time=local.strftime("%H:%M"),
                interval_weeks=interval_weeks,
                starts_on=local.date(),
                guests=found.guest_count,
            )
            series_id = await _insert(tx, now, studio_id, spec, source="chat")
            await tx.execute(
                "UPDATE appointments SET origin = 'recurring', recurring_booking_id = :series,"
                " occurrence_date = :day, updated_at = :now"
                " WHERE studio_id = :studio_id AND id = :id AND recurring_booking_id IS NULL",
                {
                    "series": series_id,
                    "day": local.date(),
                    "now": now,
                    "studio_id": studio_id,
                    "id": appointment_id,
                },
            )
            return await _place_new(tx, now, studio_id, series_id, source="chat")

    result: Created = await retrying(attempt)
    return result


async def _created(tx: Tx, studio_id: int, series_id: int) -> Created:
    return Created(await series_by_id(tx, studio_id, series_id), Placement())


def _rule(spec: NewSeries, zone: str) -> series.SeriesRule:
    try:
        return series.SeriesRule(
            weekday=spec.weekday,
            start_time=series.parse_time(spec.start_time),
            timezone=zone,
            interval_weeks=spec.interval_weeks,
            starts_on=spec.starts_on,
            ends_on=spec.ends_on,
        )
    except ValueError as error:
        raise errors.InvalidRequest(reason=str(error)) from None


async def _insert(tx: Tx, now: datetime, studio_id: int, spec: NewSeries, *, source: str) -> int:
    service = await service_by_id_in(tx, studio_id, spec.service_id)
    provider = await provider_by_id(tx, studio_id, spec.staff_id)
    if not await offers(tx, studio_id, spec.service_id, spec.staff_id):
        raise errors.ServiceNotOffered(staff=provider.name, service=service.name)
    if spec.guests < 1:
        raise errors.GuestCountInvalid(guests=spec.guests)
    if spec.guests > service.capacity:
        raise errors.InvalidRequest(
            reason=f"{service.name} takes at most {service.capacity} people at a time."
        )
    customer = await tx.scalar(
        "SELECT 1 FROM customers WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": studio_id, "id": spec.customer_id},
    )
    if customer is None:
        raise errors.NotFound(what="customer", ident=spec.customer_id)
    rule = _rule(spec, await staff_zone(tx, studio_id, spec.staff_id))
    new_id = await tx.scalar(
        "INSERT INTO recurring_bookings (studio_id, customer_id, service_id, staff_id, weekday,"
        " start_time, timezone, interval_weeks, starts_on, ends_on, guest_count, status,"
        " source, created_at, end_reason) VALUES (:studio_id, :customer_id, :service_id,"
        " :staff_id, :weekday, :start_time, :timezone, :interval, :starts_on, :ends_on,"
        " :guests, 'active', :source, :now, '') RETURNING id",
        {
            "studio_id": studio_id,
            "customer_id": spec.customer_id,
            "service_id": spec.service_id,
            "staff_id": spec.staff_id,
            "weekday": rule.weekday,
            "start_time": rule.start_time.strftime("%H:%M"),
            "timezone": rule.timezone,
            "interval": rule.interval_weeks,
            "starts_on": series.first_date(rule),
            "ends_on": rule.ends_on,
            "guests": spec.guests,
            "source": source,
            "now": now,
        },
    )
    return int(new_id)


async def _place_new(
    tx: Tx, now: datetime, studio_id: int, series_id: int, *, source: str
) -> Created:
    found = await series_by_id(tx, studio_id, series_id)
    placement = await extend_in(tx, now, found)
    found = await series_by_id(tx, studio_id, series_id)
    params = notice_params(found, weekday=found.weekday, start_time=found.start_time)
    params["starts_at"] = series.starts_at(found.rule(), found.starts_on)[0].isoformat()
    await staff_notices.tell_staff(
        tx,
        now,
        studio_id=studio_id,
        staff_id=found.staff_id,
        template="staff_recurring_created",
        params=params,
        dedupe_key=f"staff_recurring_created:{series_id}",
    )
    if source == "cli":
        await _tell_member(tx, now, found, "recurring_created", params)
    return Created(found, placement)


async def _tell_member(
    tx: Tx, now: datetime, found: RecurringBooking, template: str, params: dict[str, object]
) -> None:
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=found.studio_id,
        customer_id=found.customer_id,
        template=template,
        params=params,
        due_at=await quiet_hours.release(tx, found.studio_id, now),
        dedupe_key=f"{template}:{found.id}",
    )


async def _mine(
    db: Database, studio_id: int, series_id: int, customer_id: int | None
) -> RecurringBooking:
    found = await series_by_id(db, studio_id, series_id)
    if customer_id is not None and found.customer_id != customer_id:
        raise errors.NotFound(what="recurring booking", ident=series_id)
    return found


async def pause(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    series_id: int,
    on_date: date,
    customer_id: int | None = None,
) -> Appointment | None:
    """Skip the series' date `on_date`: its occurrence, if placed, is cancelled as the
    member would cancel it (CancellationTooLate inside the cutoff) and returned; a 'paused'
    skip row keeps the job from placing it. NotASeriesDate for a date not in the series or
    past; SeriesEnded."""
    found = await _mine(db, studio_id, series_id, customer_id)
    rule = found.rule()
    today = series.local_today(clock.now(), found.timezone)
    if found.status != "active":
        raise errors.SeriesEnded()
    if on_date < today or not series.is_series_date(rule, on_date):
        raise errors.NotASeriesDate(when=series.starts_at(rule, on_date)[0])
    booked = (
        "SELECT id FROM appointments WHERE studio_id = :studio_id"
        " AND recurring_booking_id = :id AND occurrence_date = :day AND status = 'confirmed'"
    )
    params = {"studio_id": studio_id, "id": series_id, "day": on_date}

    async def attempt() -> bool:
        now = clock.now()
        async with db.transaction() as tx:
            locked = await lock_series(tx, studio_id, found)
            # The job may have placed the date since it was looked at (it holds these locks
            # to place one): then it is cancelled first, or it would stay booked and paused.
            if await tx.scalar(booked, params) is not None:
                return False
            starts_at, _ = series.starts_at(rule, on_date)
            await skip(tx, now, locked, day=on_date, starts_at=starts_at, reason="paused")
            return True

    cancelled = None
    while True:
        placed = await db.scalar(booked, params)
        if placed is not None:
            cancelled = await cancel_by_customer(
                db, clock, studio_id, appointment_id=int(placed), customer_id=found.customer_id
            )
        if await retrying(attempt):
            return cancelled


async def end(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    series_id: int,
    customer_id: int | None = None,
    reason: str = "",
) -> Ended:
    """End the series (see the module's note): status 'ended', no more dates placed; the
    future occurrences the member could still cancel are cancelled, the rest kept. The
    staff member is told (and the member, when staff ended it: `customer_id` None)."""
    found = await _mine(db, studio_id, series_id, customer_id)

    async def attempt() -> RecurringBooking:
        now = clock.now()
        async with db.transaction() as tx:
            locked = await lock_series(tx, studio_id, found)
            if locked.status == "ended":
                return locked
            await tx.execute(
                "UPDATE recurring_bookings SET status = 'ended', ended_at = :now,"
                " end_reason = :reason, next_extension_at = NULL"
                " WHERE studio_id = :studio_id AND id = :id AND status = 'active'",
                {"now": now, "reason": reason[:500], "studio_id": studio_id, "id": series_id},
            )
            ended = await series_by_id(tx, studio_id, series_id)
            params = notice_params(ended, reason=reason, ended_at=now.isoformat())
            await staff_notices.tell_staff(
                tx,
                now,
                studio_id=studio_id,
                staff_id=ended.staff_id,
                template="staff_recurring_ended",
                params=params,
                dedupe_key=f"staff_recurring_ended:{series_id}",
            )
            if customer_id is None:
                await _tell_member(tx, now, ended, "recurring_ended", params)
            return ended

    ended: RecurringBooking = await retrying(attempt)
    cancelled, kept = [], []
    for occurrence in await occurrences(db, studio_id, series_id, after=clock.now()):
        service = await service_by_id_in(db, studio_id, occurrence.service_id)
        if not within_cutoff(occurrence, service.cancellation_cutoff_hours, clock.now()):
            kept.append(occurrence)
            continue
        try:
            cancelled.append(
                await cancel_by_customer(
                    db,
                    clock,
                    studio_id,
                    appointment_id=occurrence.id,
                    customer_id=ended.customer_id,
                )
            )
        except errors.CancellationTooLate:  # the cutoff passed while we worked
            kept.append(occurrence)
    return Ended(ended, tuple(cancelled), tuple(kept))
