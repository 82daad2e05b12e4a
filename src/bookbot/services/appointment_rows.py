"""Appointment rows as the services read them: the `Service`, `Provider` and `Appointment`
value objects and the SQL that maps rows to them by column name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bookbot.engine import errors
from bookbot.engine.slots import ServiceRules
from bookbot.services.common import in_list
from bookbot.store.db import Reads, Row, Tx, record


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
    # The series it is an occurrence of, and which of its dates (None: a one-time booking).
    recurring_booking_id: int | None = None
    occurrence_date: date | None = None


# Live = takes the staff member's time: a hold not yet lapsed, or a confirmed appointment.
LIVE = "(a.status = 'confirmed' OR (a.status = 'held' AND a.held_until > :now))"

_SERVICE_SELECT = """SELECT sv.id, sv.key, sv.name, sv.description, sv.duration_minutes,
    sv.price_minor, st.currency, sv.buffer_before_minutes, sv.buffer_after_minutes,
    sv.step_minutes, sv.min_notice_minutes, sv.horizon_days, sv.capacity, sv.location,
    sv.online, sv.meeting_url, sv.reschedule_cutoff_hours,
    COALESCE(sv.cancellation_cutoff_hours, st.cancellation_cutoff_hours)
        AS cancellation_cutoff_hours
FROM services sv JOIN studios st ON st.id = sv.studio_id"""

SERVICES_SQL = (
    _SERVICE_SELECT + " WHERE sv.studio_id = :studio_id AND sv.active ORDER BY sv.name, sv.id"
)
SERVICE_BY_ID_SQL = _SERVICE_SELECT + " WHERE sv.studio_id = :studio_id AND sv.id = :id"
SERVICE_BY_KEY_SQL = _SERVICE_SELECT + " WHERE sv.studio_id = :studio_id AND sv.key = :key"


def service_from(row: Row) -> Service:
    minutes = timedelta(minutes=1)
    return Service(
        id=row["id"],
        key=row["key"],
        name=row["name"],
        description=row["description"] or "",
        duration=row["duration_minutes"] * minutes,
        price_minor=row["price_minor"],
        currency=row["currency"],
        buffer_before=row["buffer_before_minutes"] * minutes,
        buffer_after=row["buffer_after_minutes"] * minutes,
        step=row["step_minutes"] * minutes,
        min_notice=row["min_notice_minutes"] * minutes,
        horizon=timedelta(days=row["horizon_days"]),
        capacity=row["capacity"],
        location=row["location"] or "",
        online=bool(row["online"]),
        meeting_url=row["meeting_url"] or "",
        reschedule_cutoff_hours=row["reschedule_cutoff_hours"],
        cancellation_cutoff_hours=row["cancellation_cutoff_hours"],
    )


_PROVIDER_SELECT = """SELECT sf.id, sf.key, sf.name, COALESCE(sf.timezone, st.timezone) AS timezone
FROM staff sf JOIN studios st ON st.id = sf.studio_id"""

PROVIDERS_SQL = (
    _PROVIDER_SELECT
    + " JOIN service_staff ss ON ss.staff_id = sf.id AND ss.studio_id = sf.studio_id"
    " WHERE sf.studio_id = :studio_id AND ss.service_id = :service_id ORDER BY sf.name, sf.id"
)
PROVIDER_BY_KEY_SQL = _PROVIDER_SELECT + " WHERE sf.studio_id = :studio_id AND sf.key = :key"
PROVIDER_BY_ID_SQL = _PROVIDER_SELECT + " WHERE sf.studio_id = :studio_id AND sf.id = :id"


def provider_from(row: Row) -> Provider:
    return record(Provider, row)


APPOINTMENT_SELECT = """SELECT a.id, a.studio_id, a.service_id, sv.name AS service_name,
    a.staff_id, sf.name AS staff_name, COALESCE(sf.timezone, st.timezone) AS staff_timezone,
    a.customer_id, COALESCE(c.name, '') AS customer_name, a.starts_at, a.ends_at,
    a.guest_count, a.status, a.held_until, a.price_minor, a.currency,
    COALESCE(sv.location, '') AS location, sv.online, a.meeting_url, a.sequence,
    a.cancel_reason, a.recurring_booking_id, a.occurrence_date
FROM appointments a
JOIN services sv ON sv.id = a.service_id
JOIN staff sf ON sf.id = a.staff_id
JOIN studios st ON st.id = a.studio_id
JOIN customers c ON c.id = a.customer_id"""

APPOINTMENT_BY_ID_SQL = APPOINTMENT_SELECT + " WHERE a.studio_id = :studio_id AND a.id = :id"


def appointment_from(row: Row) -> Appointment:
    return record(Appointment, row)


async def appointment_by_id(reads: Reads, studio_id: int, appointment_id: int) -> Appointment:
    """NotFound for an unknown id or another studio's."""
    row = await reads.one(APPOINTMENT_BY_ID_SQL, {"studio_id": studio_id, "id": appointment_id})
    if row is None:
        raise errors.NotFound(what="appointment", ident=appointment_id)
    return appointment_from(row)


async def service_by_id_in(reads: Reads, studio_id: int, service_id: int) -> Service:
    row = await reads.one(SERVICE_BY_ID_SQL, {"studio_id": studio_id, "id": service_id})
    if row is None:
        raise errors.NotFound(what="service", ident=service_id)
    return service_from(row)


async def provider_by_id(reads: Reads, studio_id: int, staff_id: int) -> Provider:
    row = await reads.one(PROVIDER_BY_ID_SQL, {"studio_id": studio_id, "id": staff_id})
    if row is None:
        raise errors.NotFound(what="staff member", ident=staff_id)
    return provider_from(row)


async def offers(reads: Reads, studio_id: int, service_id: int, staff_id: int) -> bool:
    """Whether the staff member offers the service, while the studio still offers it (a
    service the studio file dropped keeps its service_staff rows, but books no more)."""
    found = await reads.scalar(
        "SELECT 1 FROM service_staff ss JOIN services sv ON sv.id = ss.service_id"
        " WHERE ss.studio_id = :studio_id AND ss.service_id = :service_id"
        " AND ss.staff_id = :staff_id AND sv.active",
        {"studio_id": studio_id, "service_id": service_id, "staff_id": staff_id},
    )
    return found is not None


async def expire_lapsed_of(tx: Tx, now: datetime, staff_ids: list[int]) -> int:
    """Mark the staff members' lapsed holds expired (call under their staff row locks): a
    lapsed hold counts for nothing already, but on PostgreSQL its row, still 'held', would
    trip the exclusion constraint of a booking of the same time."""
    body, params = in_list("sf", staff_ids)
    return await tx.execute(
        "UPDATE appointments SET status = 'expired', updated_at = :now"  # noqa: S608 - marks
        f" WHERE staff_id IN ({body}) AND status = 'held' AND held_until <= :now",
        {"now": now, **params},
    )


def expect_moved(count: int, what: str) -> None:
    """A guarded UPDATE under the row's lock moved exactly its row, or the code is wrong."""
    if count != 1:
        raise RuntimeError(f"{what}: expected to change 1 row, changed {count}")


def deadline(starts_at: datetime, cutoff_hours: int) -> datetime:
    return starts_at - timedelta(hours=cutoff_hours)
