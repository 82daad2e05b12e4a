"""Recurring bookings (series) as the services read them: the `RecurringBooking` value, its
`SeriesRule` for the engine, and the lists members and staff see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bookbot.engine import errors
from bookbot.engine.series import SeriesRule, parse_time
from bookbot.services.appointment_rows import APPOINTMENT_SELECT, Appointment, appointment_from
from bookbot.store.db import Reads, record


@dataclass(frozen=True)
class RecurringBooking:
    id: int
    studio_id: int
    customer_id: int
    customer_name: str
    service_id: int
    service_name: str
    staff_id: int
    staff_name: str
    weekday: int
    start_time: str
    timezone: str
    interval_weeks: int
    starts_on: date
    ends_on: date | None
    guest_count: int
    status: str
    source: str
    materialized_until: date | None
    next_extension_at: datetime | None
    created_at: datetime
    ended_at: datetime | None
    end_reason: str
    studio_timezone: str  # the daily job runs at 02:00 in it

    def rule(self) -> SeriesRule:
        return SeriesRule(
            weekday=self.weekday,
            start_time=parse_time(self.start_time),
            timezone=self.timezone,
            interval_weeks=self.interval_weeks,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
        )


@dataclass(frozen=True)
class Skip:
    on_date: date
    reason: str
    detail: str


SERIES_SELECT = """SELECT r.id, r.studio_id, r.customer_id, COALESCE(c.name, '') AS customer_name,
    r.service_id, sv.name AS service_name, r.staff_id, sf.name AS staff_name, r.weekday,
    r.start_time, r.timezone, r.interval_weeks, r.starts_on, r.ends_on, r.guest_count,
    r.status, r.source, r.materialized_until, r.next_extension_at, r.created_at, r.ended_at,
    r.end_reason, st.timezone AS studio_timezone
FROM recurring_bookings r
JOIN studios st ON st.id = r.studio_id
JOIN services sv ON sv.id = r.service_id
JOIN staff sf ON sf.id = r.staff_id
JOIN customers c ON c.id = r.customer_id"""


async def series_by_id(reads: Reads, studio_id: int, series_id: int) -> RecurringBooking:
    """NotFound for an unknown id or another studio's."""
    row = await reads.one(
        SERIES_SELECT + " WHERE r.studio_id = :studio_id AND r.id = :id",
        {"studio_id": studio_id, "id": series_id},
    )
    if row is None:
        raise errors.NotFound(what="recurring booking", ident=series_id)
    return record(RecurringBooking, row)


async def series_of_customer(
    reads: Reads, studio_id: int, customer_id: int, *, active_only: bool = True
) -> list[RecurringBooking]:
    rows = await reads.all(
        SERIES_SELECT + " WHERE r.studio_id = :studio_id AND r.customer_id = :customer_id"
        " AND (r.status = 'active' OR :all = 1) ORDER BY r.weekday, r.start_time, r.id",
        {"studio_id": studio_id, "customer_id": customer_id, "all": 0 if active_only else 1},
    )
    return [record(RecurringBooking, r) for r in rows]


async def series_list(
    reads: Reads, studio_id: int, *, staff_id: int | None = None, active_only: bool = True
) -> list[RecurringBooking]:
    """The studio's series (one staff member's with `staff_id`), by weekday and time."""
    rows = await reads.all(
        SERIES_SELECT + " WHERE r.studio_id = :studio_id"
        " AND (r.staff_id = :staff_id OR :staff_id = 0)"
        " AND (r.status = 'active' OR :all = 1) ORDER BY r.weekday, r.start_time, r.id",
        {"studio_id": studio_id, "staff_id": staff_id or 0, "all": 0 if active_only else 1},
    )
    return [record(RecurringBooking, r) for r in rows]


async def occurrences(
    reads: Reads, studio_id: int, series_id: int, *, after: datetime
) -> list[Appointment]:
    """The series' confirmed occurrences starting after `after`, soonest first."""
    rows = await reads.all(
        APPOINTMENT_SELECT + " WHERE a.studio_id = :studio_id AND a.recurring_booking_id = :id"
        " AND a.status = 'confirmed' AND a.starts_at > :after ORDER BY a.starts_at",
        {"studio_id": studio_id, "id": series_id, "after": after},
    )
    return [appointment_from(r) for r in rows]


async def skips(reads: Reads, studio_id: int, series_id: int, *, since: date) -> list[Skip]:
    rows = await reads.all(
        "SELECT on_date, reason, detail FROM recurring_skips WHERE studio_id = :studio_id"
        " AND recurring_booking_id = :id AND on_date >= :since ORDER BY on_date",
        {"studio_id": studio_id, "id": series_id, "since": since},
    )
    return [record(Skip, r) for r in rows]


async def occurrence_dates(
    reads: Reads, studio_id: int, series_id: int, *, since: date
) -> set[date]:
    """The series' dates from `since` that have an appointment, whatever its status (a date
    cancelled one by one is not booked again)."""
    rows = await reads.all(
        "SELECT occurrence_date FROM appointments WHERE studio_id = :studio_id"
        " AND recurring_booking_id = :id AND occurrence_date >= :since",
        {"studio_id": studio_id, "id": series_id, "since": since},
    )
    return {r["occurrence_date"] for r in rows}
