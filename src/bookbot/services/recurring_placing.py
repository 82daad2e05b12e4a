"""Placing a series' dates as appointments: at creation (6 weeks ahead) and by the daily
job at 02:00 studio time (to today + 6 weeks).

Each series is placed in one transaction that holds its staff member's row lock (taken
first, as every writer of appointments does) and then the series' row: two runs of the job
at once place each date once, and the second finds nothing to do. A date is looked at when
it is past `materialized_until`, not in the past, and has neither an appointment of the
series (whatever its status: a cancelled occurrence stays cancelled) nor a skip row (a
pause). It is then booked 'confirmed' after `appointment_booking.check_free` (the same
re-check as a customer's booking; PostgreSQL's exclusion constraint is the backstop), with
the customer's reminders queued; or, when it cannot be placed, skipped with a reason
('blocked' by a block, 'unavailable' outside the hours or by a date override, 'clash' with
other busy time) and the member and the staff member are told, once.

The service's booking horizon does not apply to a series (the member agreed the dates when
they made it); its minimum notice does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bookbot.engine import errors, series
from bookbot.engine.clock import Clock
from bookbot.services import appointment_notices, outbox, quiet_hours, staff_notices
from bookbot.services.appointment_booking import check_free, insert_appointment
from bookbot.services.appointment_rows import (
    Service,
    appointment_by_id,
    expire_lapsed_of,
    service_by_id_in,
)
from bookbot.services.availability import availability_of
from bookbot.services.common import in_list
from bookbot.services.recurring_rows import SERIES_SELECT, RecurringBooking, series_by_id
from bookbot.store.db import Database, Tx, record, retrying


@dataclass(frozen=True)
class Placement:
    """What one run placed (the dates booked) and skipped (date, reason)."""

    placed: tuple[date, ...] = ()
    skipped: tuple[tuple[date, str], ...] = ()


async def lock_series(tx: Tx, studio_id: int, found: RecurringBooking) -> RecurringBooking:
    """Lock the series' staff row, then its own; the series as it is now."""
    await tx.lock("staff", [found.staff_id])
    await tx.lock("recurring_bookings", [found.id])
    return await series_by_id(tx, studio_id, found.id)


def window(found: RecurringBooking, now: datetime) -> tuple[date, date, list[date]]:
    """The dates to look at now: from the first not yet looked at (never before today, in
    the series' zone) to today + 6 weeks (exclusive); (start, end, the series' dates)."""
    today = series.local_today(now, found.timezone)
    end = series.window_end(today)
    start = max(found.starts_on, today)
    if found.materialized_until is not None:
        start = max(start, found.materialized_until + timedelta(days=1))
    return start, end, series.dates(found.rule(), start=start, end=end)


async def extend_in(tx: Tx, now: datetime, found: RecurringBooking) -> Placement:
    """Place the series' dates up to today + 6 weeks (its own zone's today), under the
    locks of `lock_series`; the next run is set to the next 02:00 studio time."""
    if found.status != "active":
        return Placement()
    rule = found.rule()
    today = series.local_today(now, found.timezone)
    start, end, todo = window(found, now)
    taken = await _taken(tx, found, start)
    service = await service_by_id_in(tx, found.studio_id, found.service_id)
    # No booking horizon for a series: its dates were agreed when it was made.
    service = dataclasses.replace(service, horizon=max(service.horizon, end - today + _SLACK))
    currency = str(
        await tx.scalar("SELECT currency FROM studios WHERE id = :id", {"id": found.studio_id})
    )
    await expire_lapsed_of(tx, now, [found.staff_id])
    placed: list[date] = []
    skipped: list[tuple[date, str]] = []
    for day in todo:
        if day in taken:
            continue
        starts_at, _ = series.starts_at(rule, day)
        if starts_at <= now:
            continue  # today's time has gone: history, not a skip
        reason = await _place(
            tx, now, found, service, day=day, starts_at=starts_at, currency=currency
        )
        if reason is None:
            placed.append(day)
        else:
            skipped.append((day, reason))
    await moved_on(tx, now, found, end)
    return Placement(tuple(placed), tuple(skipped))


def _after(found: RecurringBooking, now: datetime, end: date) -> tuple[date, datetime | None]:
    """The series' new `materialized_until` (the window's last date) and when the job should
    look again: the next 02:00 studio time, or never once its last date is behind."""
    done = found.ends_on is not None and end > found.ends_on
    return end - timedelta(days=1), None if done else series.next_run_at(now, found.studio_timezone)


_MOVED_ON = """UPDATE recurring_bookings SET materialized_until = :until,
    next_extension_at = :next
WHERE studio_id = :studio_id AND id IN ({ids}) AND status = 'active'
  AND (materialized_until IS NULL OR materialized_until <= :until)"""


async def moved_on(writer: Tx | Database, now: datetime, found: RecurringBooking, end: date) -> int:
    """Record that the series' dates before `end` have been looked at (see `_after`)."""
    return await moved_on_all(writer, now, [(found, end)])


async def moved_on_all(
    writer: Tx | Database, now: datetime, done: list[tuple[RecurringBooking, date]]
) -> int:
    """`moved_on` for many series at once: one UPDATE per studio and new state (most nights,
    one for all the series of a studio that gain no date); the rows changed."""
    groups: dict[tuple[int, date, datetime | None], list[int]] = {}
    for found, end in done:
        groups.setdefault((found.studio_id, *_after(found, now, end)), []).append(found.id)
    moved = 0
    for (studio_id, until, next_at), ids in groups.items():
        body, params = in_list("r", ids)
        moved += await writer.execute(
            _MOVED_ON.format(ids=body),
            {"studio_id": studio_id, "until": until, "next": next_at, **params},
        )
    return moved


_SLACK = timedelta(days=2)


async def _taken(tx: Tx, found: RecurringBooking, start: date) -> set[date]:
    """The series' dates from `start` that already have an occurrence or a skip row."""
    params = {"studio_id": found.studio_id, "id": found.id, "start": start}
    booked = await tx.all(
        "SELECT occurrence_date FROM appointments WHERE studio_id = :studio_id"
        " AND recurring_booking_id = :id AND occurrence_date >= :start",
        params,
    )
    skipped = await tx.all(
        "SELECT on_date FROM recurring_skips WHERE studio_id = :studio_id"
        " AND recurring_booking_id = :id AND on_date >= :start",
        params,
    )
    return {r["occurrence_date"] for r in booked} | {r["on_date"] for r in skipped}


async def _place(
    tx: Tx,
    now: datetime,
    found: RecurringBooking,
    service: Service,
    *,
    day: date,
    starts_at: datetime,
    currency: str,
) -> str | None:
    """Book one date; None when booked, else the reason it was skipped (skip row and
    notices written)."""
    try:
        await check_free(
            tx, now, found.studio_id, staff_id=found.staff_id, service=service, starts_at=starts_at
        )
    except errors.SlotTaken:
        await skip(tx, now, found, day=day, starts_at=starts_at, reason="clash")
        return "clash"
    except errors.SlotNotAvailable:
        reason, detail = await _why_not(tx, found, service, starts_at)
        await skip(tx, now, found, day=day, starts_at=starts_at, reason=reason, detail=detail)
        return reason
    new_id = await insert_appointment(
        tx,
        now,
        found.studio_id,
        customer_id=found.customer_id,
        service=service,
        staff_id=found.staff_id,
        starts_at=starts_at,
        guests=found.guest_count,
        currency=currency,
        status="confirmed",
        recurring_booking_id=found.id,
        occurrence_date=day,
    )
    booked = await appointment_by_id(tx, found.studio_id, new_id)
    await appointment_notices.queue_reminders(tx, now, booked)
    return None


async def _why_not(
    tx: Tx, found: RecurringBooking, service: Service, starts_at: datetime
) -> tuple[str, str]:
    start = starts_at - service.buffer_before
    end = starts_at + service.duration + service.buffer_after
    availability = await availability_of(tx, found.studio_id, found.staff_id, start=start, end=end)
    if series.blocked(availability, start, end):
        reasons = [b.reason for b in availability.blocks if b.start < end and b.end > start]
        return "blocked", ", ".join(r for r in reasons if r)
    return "unavailable", ""


def notice_params(found: RecurringBooking, **extra: Any) -> dict[str, Any]:
    return {
        "series": found.id,
        "service_name": found.service_name,
        "staff_name": found.staff_name,
        "staff_timezone": found.timezone,
        "customer_name": found.customer_name,
        "interval_weeks": found.interval_weeks,
        "guests": found.guest_count,
        **extra,
    }


async def skip(
    tx: Tx,
    now: datetime,
    found: RecurringBooking,
    *,
    day: date,
    starts_at: datetime,
    reason: str,
    detail: str = "",
) -> bool:
    """Write the skip row for `day`; the first time only, tell the member and (unless the
    member paused it themselves) the staff member. False if the date was skipped before."""
    added = await tx.execute(
        "INSERT INTO recurring_skips (studio_id, recurring_booking_id, on_date, reason, detail,"
        " created_at) VALUES (:studio_id, :id, :day, :reason, :detail, :now)"
        " ON CONFLICT (recurring_booking_id, on_date) DO NOTHING",
        {
            "studio_id": found.studio_id,
            "id": found.id,
            "day": day,
            "reason": reason,
            "detail": detail[:500],
            "now": now,
        },
    )
    if not added or reason == "paused":
        return bool(added)
    params = notice_params(found, starts_at=starts_at.isoformat(), reason=reason, detail=detail)
    key = f"{found.id}:{day.isoformat()}"
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=found.studio_id,
        customer_id=found.customer_id,
        template="recurring_skipped",
        params=params,
        due_at=await quiet_hours.release(
            tx, found.studio_id, now, latest=starts_at - quiet_hours.PLAN_AHEAD
        ),
        dedupe_key=f"recurring_skipped:{key}",
    )
    await staff_notices.tell_staff(
        tx,
        now,
        studio_id=found.studio_id,
        staff_id=found.staff_id,
        template="staff_recurring_skipped",
        params=params,
        dedupe_key=f"staff_recurring_skipped:{key}",
    )
    return True


async def extend(db: Database, clock: Clock, studio_id: int, series_id: int) -> Placement:
    """Extend one series to today + 6 weeks now (the job's step for a series with dates to
    place)."""

    async def attempt() -> Placement:
        now = clock.now()
        seen = await series_by_id(db, studio_id, series_id)
        if seen.status != "active":
            return Placement()
        _start, end, todo = window(seen, now)
        if not todo:
            await moved_on(db, now, seen, end)
            return Placement()
        async with db.transaction() as tx:
            found = await lock_series(tx, studio_id, seen)
            if found.staff_id != seen.staff_id:
                return Placement()  # cannot happen today: a series keeps its staff member
            return await extend_in(tx, now, found)

    result: Placement = await retrying(attempt)
    return result


log = logging.getLogger(__name__)
EXTEND_BATCH = 200
# Through the partial index ix_recurring_bookings_due: only the active series now due.
DUE_SQL = (
    SERIES_SELECT + " WHERE r.status = 'active' AND r.next_extension_at <= :now"
    " ORDER BY r.next_extension_at, r.id LIMIT :limit"
)


async def extend_due(db: Database, clock: Clock, *, batch: int = EXTEND_BATCH) -> int:
    """The daily job: every due series extended to today + 6 weeks; the dates placed. A
    page of due series is read at once; those that gain no date tonight (most: a weekly
    series gains one a week) are moved on together, one write per studio; each of the others
    is placed in its own short transaction. Run twice, or twice at once, the second run
    places nothing."""
    placed = 0
    while True:
        now = clock.now()
        async with db.transaction(write=False) as tx:
            due = [
                record(RecurringBooking, r)
                for r in await tx.all(DUE_SQL, {"now": now, "limit": batch})
            ]
        idle: list[tuple[RecurringBooking, date]] = []
        busy: list[tuple[RecurringBooking, date]] = []
        for found in due:
            _start, end, todo = window(found, now)
            (busy if todo else idle).append((found, end))
        progressed = await moved_on_all(db, now, idle) > 0
        for found, _end in busy:
            try:
                placement = await extend(db, clock, found.studio_id, found.id)
            except errors.BookingError as error:  # the backstop refused: the next run retries
                log.warning("recurring booking %s not extended: %s", found.id, error)
                continue
            placed += len(placement.placed)
            progressed = True
            await asyncio.sleep(0)  # the event loop's other work gets a turn
        if len(due) < batch or not progressed:
            return placed
