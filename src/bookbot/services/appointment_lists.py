"""The appointment lists customers and staff see: a customer's upcoming ones and one of
theirs, a staff member's views (upcoming, pending, past, cancelled) and what a block would
leave standing. Each reads through (staff_id, busy_from) or the customer's index, never the
history. Re-exported by `appointments`, their one door."""

from __future__ import annotations

from datetime import datetime

from bookbot.engine import errors
from bookbot.services.appointment_rows import (
    APPOINTMENT_SELECT,
    Appointment,
    appointment_by_id,
    appointment_from,
)
from bookbot.services.availability import LONGEST_FOOTPRINT
from bookbot.store.db import Reads


async def customer_upcoming(
    reads: Reads, studio_id: int, customer_id: int, now: datetime
) -> list[Appointment]:
    """The customer's confirmed appointments not yet ended, soonest first."""
    rows = await reads.all(
        APPOINTMENT_SELECT + " WHERE a.studio_id = :studio_id AND a.customer_id = :customer_id"
        " AND a.status = 'confirmed' AND a.ends_at > :now ORDER BY a.starts_at, a.id",
        {"studio_id": studio_id, "customer_id": customer_id, "now": now},
    )
    return [appointment_from(r) for r in rows]


async def appointment_for_customer(
    reads: Reads, studio_id: int, customer_id: int, appointment_id: int
) -> Appointment:
    """The customer's own appointment (any status); NotFound for anyone else's."""
    found = await appointment_by_id(reads, studio_id, appointment_id)
    if found.customer_id != customer_id:
        raise errors.NotFound(what="appointment", ident=appointment_id)
    return found


# Each view through (staff_id, busy_from): upcoming bounded below, the newest-first views
# read backwards and stop at the limit.
_VIEWS = {
    "upcoming": (
        "a.status = 'confirmed' AND a.ends_at > :now AND a.busy_from >= :floor",
        "a.starts_at, a.id",
    ),
    "pending": (
        "a.status = 'held' AND a.held_until > :now AND a.busy_from >= :floor",
        "a.starts_at, a.id",
    ),
    "past": (
        "(a.status IN ('completed', 'no_show') OR (a.status = 'confirmed' AND a.ends_at <= :now))",
        "a.busy_from DESC, a.id DESC",
    ),
    "cancelled": (
        "a.status IN ('cancelled_by_customer', 'cancelled_by_staff')",
        "a.busy_from DESC, a.id DESC",
    ),
}


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
    """The staff member's own appointments: "upcoming" (confirmed, not ended, soonest
    first), "pending" (live holds), "past" (completed, no-show, or confirmed and ended;
    newest first), "cancelled" (newest first). `before`: only those starting before it
    (the next page of a newest-first view)."""
    if view not in _VIEWS:
        raise errors.InvalidRequest(reason=f"unknown view {view!r}")
    where, order = _VIEWS[view]
    floor = now - LONGEST_FOOTPRINT
    bound = " AND a.starts_at < :before" if before is not None else ""
    rows = await reads.all(
        APPOINTMENT_SELECT + " WHERE a.studio_id = :studio_id AND a.staff_id = :staff_id"
        f" AND {where}{bound} ORDER BY {order} LIMIT :limit",
        {
            "studio_id": studio_id,
            "staff_id": staff_id,
            "now": now,
            "floor": floor,
            "before": before,
            "limit": limit,
        },
    )
    return [appointment_from(r) for r in rows]


async def staff_booked_between(
    reads: Reads, studio_id: int, staff_id: int, *, start: datetime, end: datetime, now: datetime
) -> int:
    """How many of the staff member's upcoming appointments (confirmed, not ended) start in
    [start, end): what a new block leaves standing, however many come before it. Read
    through (staff_id, busy_from) over the range."""
    found = await reads.scalar(
        "SELECT COUNT(*) FROM appointments a WHERE a.studio_id = :studio_id"
        " AND a.staff_id = :staff_id AND a.busy_from >= :floor AND a.busy_from < :end"
        " AND a.starts_at >= :start AND a.starts_at < :end"
        " AND a.status = 'confirmed' AND a.ends_at > :now",
        {
            "studio_id": studio_id,
            "staff_id": staff_id,
            "floor": start - LONGEST_FOOTPRINT,
            "start": start,
            "end": end,
            "now": now,
        },
    )
    return int(found or 0)
