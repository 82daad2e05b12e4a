"""Conflict rows as the services read them: a conflict with what staff need to decide on
it (its appointment's times, who), by column name; and what a Cancel or Keep did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import errors
from bookbot.services.appointment_rows import Appointment
from bookbot.store.db import Reads, record

CONFLICT_SELECT = """SELECT c.id, c.studio_id, c.appointment_id, c.staff_id, c.reason,
    c.detected_at, c.notified_at, c.resolved_at, c.resolution, c.resolved_by,
    a.starts_at, a.ends_at, a.busy_from, a.busy_until, a.status AS appointment_status,
    a.customer_id, sv.name AS service_name, COALESCE(cu.name, '') AS customer_name,
    sf.name AS staff_name, COALESCE(sf.timezone, st.timezone) AS staff_timezone
FROM appointment_conflicts c
JOIN appointments a ON a.id = c.appointment_id
JOIN services sv ON sv.id = a.service_id
JOIN customers cu ON cu.id = a.customer_id
JOIN staff sf ON sf.id = c.staff_id
JOIN studios st ON st.id = c.studio_id"""


@dataclass(frozen=True)
class Conflict:
    """A conflict with what staff need to decide on it (its appointment's times, who)."""

    id: int
    studio_id: int
    appointment_id: int
    staff_id: int
    reason: str
    detected_at: datetime
    notified_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    resolved_by: str
    starts_at: datetime
    ends_at: datetime
    busy_from: datetime
    busy_until: datetime
    appointment_status: str
    customer_id: int
    service_name: str
    customer_name: str
    staff_name: str
    staff_timezone: str

    @property
    def open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class Resolved:
    """What a Cancel or Keep did: `done` False when the conflict had already been handled
    (its `resolution` says how); `appointment` as it is after a cancel."""

    conflict: Conflict
    done: bool
    appointment: Appointment | None = None


async def by_id(
    reads: Reads, studio_id: int, conflict_id: int, staff_id: int | None = None
) -> Conflict:
    """NotFound for an unknown id, another studio's, or (with `staff_id`) another staff
    member's conflict."""
    row = await reads.one(
        CONFLICT_SELECT + " WHERE c.studio_id = :studio_id AND c.id = :id",
        {"studio_id": studio_id, "id": conflict_id},
    )
    if row is None or (staff_id is not None and row["staff_id"] != staff_id):
        raise errors.NotFound(what="conflict", ident=conflict_id)
    return record(Conflict, row)
