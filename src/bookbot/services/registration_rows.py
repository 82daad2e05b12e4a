"""Writing a registration: its row, one row per session, one per resource allocation.

On PostgreSQL the three inserts travel as one statement (data-modifying CTEs), because
there round trips are what a booking costs; SQLite runs in-process and has no such CTEs,
so it takes the three plain inserts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine.capacity import Allocation
from bookbot.services.common import in_list
from bookbot.store.db import Tx


@dataclass(frozen=True)
class NewRegistration:
    studio_id: int
    customer_id: int
    class_id: int
    pattern_id: int | None
    kind: str
    guests: int
    price_minor: int
    currency: str
    created_at: datetime
    session_ids: tuple[int, ...]
    allocations: tuple[Allocation, ...]
    held_until: datetime | None = None  # a hold, not yet a booking

    def params(self) -> dict[str, object]:
        return {
            "studio_id": self.studio_id,
            "customer_id": self.customer_id,
            "class_id": self.class_id,
            "pattern_id": self.pattern_id,
            "kind": self.kind,
            "guests": self.guests,
            "price": self.price_minor,
            "currency": self.currency,
            "now": self.created_at,
            "status": "confirmed" if self.held_until is None else "held",
            "seat_status": "booked" if self.held_until is None else "held",
            "held_until": self.held_until,
        }


REGISTRATION_SQL = """INSERT INTO registrations (studio_id, customer_id, class_id, pattern_id, kind,
    guest_count, status, price_minor, currency, created_at, held_until) VALUES (:studio_id,
    :customer_id, :class_id, :pattern_id, :kind, :guests, :status, :price, :currency, :now,
    :held_until) RETURNING id"""

SESSION_SQL = """INSERT INTO registration_sessions (studio_id, registration_id, session_id,
    customer_id, guest_count, status, held_until) VALUES (:studio_id, :registration_id,
    :session_id, :customer_id, :guests, :seat_status, :held_until)"""

ALLOCATION_SQL = """INSERT INTO resource_allocations (studio_id, registration_id, session_id,
    resource_id, quantity, held_until) VALUES (:studio_id, :registration_id, :session_id,
    :resource_id, :quantity, :held_until)"""

_ALL_IN_ONE = f"""WITH reg AS ({REGISTRATION_SQL}),
rs AS (INSERT INTO registration_sessions (studio_id, registration_id, session_id, customer_id,
    guest_count, status, held_until)
  SELECT :studio_id, reg.id, x.session_id, :customer_id, :guests, :seat_status, :held_until
  FROM reg, unnest(:session_ids::int[]) AS x(session_id)),
ra AS (INSERT INTO resource_allocations (studio_id, registration_id, session_id, resource_id,
    quantity, held_until)
  SELECT :studio_id, reg.id, x.session_id, x.resource_id, x.quantity, :held_until
  FROM reg, unnest(:a_sessions::int[], :a_resources::int[], :a_quantities::int[])
    AS x(session_id, resource_id, quantity))
SELECT id FROM reg"""  # noqa: S608 - composed of constants


async def insert_registration(tx: Tx, new: NewRegistration) -> int:
    """Insert everything `new` describes; return the registration id."""
    allocations = [a for a in new.allocations if a.quantity]
    if tx.dialect == "postgresql":
        return int(
            await tx.scalar(
                _ALL_IN_ONE,
                {
                    **new.params(),
                    "session_ids": list(new.session_ids),
                    "a_sessions": [a.session_id for a in allocations],
                    "a_resources": [a.resource_id for a in allocations],
                    "a_quantities": [a.quantity for a in allocations],
                },
            )
        )
    params = new.params()
    reg_id = int(await tx.scalar(REGISTRATION_SQL, params))
    base = {
        "studio_id": new.studio_id,
        "registration_id": reg_id,
        "seat_status": params["seat_status"],
        "held_until": new.held_until,
    }
    for session_id in new.session_ids:
        await tx.execute(
            SESSION_SQL,
            {
                **base,
                "session_id": session_id,
                "customer_id": new.customer_id,
                "guests": new.guests,
            },
        )
    for a in allocations:
        await tx.execute(
            ALLOCATION_SQL,
            {
                **base,
                "session_id": a.session_id,
                "resource_id": a.resource_id,
                "quantity": a.quantity,
            },
        )
    return reg_id


async def free_rows(tx: Tx, studio_id: int, registration_id: int, session_ids: list[int]) -> None:
    """A registration ends (cancelled, or a hold let go): its seats and resources are free.
    Allocations are found through their sessions' index (`session_ids`: the registration's)."""
    params = {"studio_id": studio_id, "id": registration_id}
    await tx.execute(
        "UPDATE registration_sessions SET status = 'cancelled'"
        " WHERE studio_id = :studio_id AND registration_id = :id",
        params,
    )
    body, in_params = in_list("s", session_ids)
    await tx.execute(
        "DELETE FROM resource_allocations WHERE studio_id = :studio_id"  # noqa: S608
        f" AND session_id IN ({body}) AND registration_id = :id",
        {**params, **in_params},
    )
