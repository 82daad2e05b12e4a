"""Reading the facts that capacity decisions rest on, for a set of sessions at once.

Call these only inside the transaction that then writes: on PostgreSQL after
`tx.lock("sessions", ids)`, on SQLite inside `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bookbot.engine import capacity
from bookbot.services.common import in_list
from bookbot.store.db import Tx


@dataclass(frozen=True)
class SessionRow:
    id: int
    class_id: int
    pattern_id: int | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    status: str
    location: str


def session_row(row: Any) -> SessionRow:
    return SessionRow(
        row["id"],
        row["class_id"],
        row["pattern_id"],
        row["starts_at"],
        row["ends_at"],
        row["capacity"],
        row["status"],
        row["location"],
    )


SESSION_COLUMNS = "id, class_id, pattern_id, starts_at, ends_at, capacity, status, location"


async def sessions_by_id(tx: Tx, studio_id: int, ids: list[int]) -> list[SessionRow]:
    body, params = in_list("s", ids)
    rows = await tx.all(
        f"SELECT {SESSION_COLUMNS} FROM sessions"  # noqa: S608 - placeholders only
        f" WHERE studio_id = :studio_id AND id IN ({body}) ORDER BY starts_at, id",
        {"studio_id": studio_id, **params},
    )
    return [session_row(r) for r in rows]


async def requirements(tx: Tx, studio_id: int, class_id: int) -> list[capacity.Requirement]:
    rows = await tx.all(
        "SELECT r.id, r.name, q.quantity_per_student FROM class_requirements q"
        " JOIN resources r ON r.id = q.resource_id AND r.studio_id = q.studio_id"
        " WHERE q.studio_id = :studio_id AND q.class_id = :class_id ORDER BY r.id",
        {"studio_id": studio_id, "class_id": class_id},
    )
    return [capacity.Requirement(r[0], r[1], r[2]) for r in rows]


async def seats_taken(
    tx: Tx, studio_id: int, ids: list[int], now: datetime, customer_id: int | None
) -> dict[int, int]:
    """Booked seats plus seats held by other customers' live waitlist offers, per session."""
    body, params = in_list("s", ids)
    rows = await tx.all(
        "SELECT session_id, SUM(guest_count) FROM ("  # noqa: S608 - placeholders only
        " SELECT session_id, guest_count FROM registration_sessions"
        f"  WHERE studio_id = :studio_id AND status = 'booked' AND session_id IN ({body})"
        " UNION ALL"
        " SELECT session_id, guest_count FROM waitlist_entries"
        f"  WHERE studio_id = :studio_id AND status = 'offered' AND session_id IN ({body})"
        "  AND offer_expires_at > :now AND customer_id <> :customer_id"
        ") taken GROUP BY session_id",
        {"studio_id": studio_id, "now": now, "customer_id": customer_id or 0, **params},
    )
    return {r[0]: int(r[1]) for r in rows}


async def customer_booked(tx: Tx, studio_id: int, ids: list[int], customer_id: int) -> set[int]:
    body, params = in_list("s", ids)
    rows = await tx.all(
        "SELECT session_id FROM registration_sessions"  # noqa: S608 - placeholders only
        " WHERE studio_id = :studio_id AND customer_id = :customer_id AND status = 'booked'"
        f" AND session_id IN ({body})",
        {"studio_id": studio_id, "customer_id": customer_id, **params},
    )
    return {r[0] for r in rows}


async def resource_uses(
    tx: Tx, studio_id: int, ids: list[int], reqs: list[capacity.Requirement]
) -> dict[int, list[capacity.ResourceUse]]:
    """For each session, each required resource's total and what is allocated there."""
    if not reqs:
        return {i: [] for i in ids}
    body, params = in_list("s", ids)
    rows = await tx.all(
        "SELECT session_id, resource_id, SUM(quantity) FROM resource_allocations"  # noqa: S608
        f" WHERE studio_id = :studio_id AND session_id IN ({body}) GROUP BY session_id, resource_id",
        {"studio_id": studio_id, **params},
    )
    allocated = {(r[0], r[1]): int(r[2]) for r in rows}
    res_body, res_params = in_list("r", [q.resource_id for q in reqs])
    totals = {
        r[0]: r[1]
        for r in await tx.all(
            f"SELECT id, total_quantity FROM resources WHERE studio_id = :studio_id AND id IN ({res_body})",  # noqa: S608, E501
            {"studio_id": studio_id, **res_params},
        )
    }
    return {
        sid: [
            capacity.ResourceUse(
                q.resource_id,
                q.resource_name,
                totals.get(q.resource_id, 0),
                allocated.get((sid, q.resource_id), 0),
            )
            for q in reqs
        ]
        for sid in ids
    }
