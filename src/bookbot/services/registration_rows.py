"""A registration's rows: writing them, locking them, moving them, freeing them.

On PostgreSQL the three inserts travel as one statement (data-modifying CTEs), because
there round trips are what a booking costs; SQLite runs in-process and has no such CTEs,
so it takes the three plain inserts.

Every change of a registration's status (held -> confirmed | expired | cancelled,
confirmed -> cancelled) follows one shape, so that confirm, expiry, release and cancel
serialise and the loser of a race is told the truth:

1. `lock_registration` locks the row (PostgreSQL `FOR UPDATE`; SQLite's write transaction
   already holds the database) and reads its status: decisions rest on this read.
2. Then its sessions, in ascending id order (`facts.lock_sessions`): the order every
   writer uses, so registration -> sessions never deadlocks.
3. `UPDATE ... WHERE id = :id AND status = :expected`, and `expect_moved` checks the row
   count (`end_registration` does both for an ending, and frees its rows). Under the lock
   it cannot be 0; if a writer ever skips the lock, 0 rows raises `StateMoved`, which
   rolls the transaction back (side effects included) and makes `retrying` run it again
   from a fresh read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine.capacity import Allocation
from bookbot.services.common import in_list
from bookbot.store.db import Busy, Row, Tx

LIVE = ("held", "confirmed")  # statuses that hold seats and resources


class StateMoved(Busy):
    """A guarded UPDATE found the row no longer in the state this transaction read: another
    transaction moved it first. A `Busy`, so `retrying` reruns the whole transaction."""


def expect_moved(changed: int, expected: int, what: str) -> None:
    """Raise `StateMoved` unless the guarded UPDATE changed exactly `expected` rows."""
    if changed != expected:
        raise StateMoved(f"{what}: {changed} of {expected} row(s) were still as read")


_LOCK = """SELECT r.id, r.customer_id, r.status, r.held_until, r.kind, r.guest_count,
    r.pattern_id, r.price_minor, r.currency,
    (SELECT {ids} FROM registration_sessions rs
      WHERE rs.studio_id = r.studio_id AND rs.registration_id = r.id) AS session_list
FROM registrations r WHERE r.studio_id = :studio_id AND r.id = :id"""
# Its sessions' ids as one text column ("3,7,12"), so locking the row reads them too: the
# lock is the first statement of every status change, and a round trip is what it costs.
_ID_LIST = {
    "postgresql": "string_agg(rs.session_id::text, ',')",
    "sqlite": "group_concat(rs.session_id)",
}


async def lock_registration(tx: Tx, studio_id: int, registration_id: int) -> Row | None:
    """The registration, locked for the rest of the transaction, with the ids of all its
    sessions (`session_ids_in`); None if the studio has none with that id. Read the status
    to change here, never before."""
    sql = _LOCK.format(ids=_ID_LIST[tx.dialect]) + tx.for_update("r")
    return await tx.one(sql, {"studio_id": studio_id, "id": registration_id})


def session_ids_in(reg: Row) -> list[int]:
    """Every session of a registration read by `lock_registration`, whatever its seat's
    status, ascending (as `session_ids_of`)."""
    listed = reg["session_list"]
    return sorted(int(i) for i in str(listed).split(",")) if listed else []


async def session_ids_of(tx: Tx, studio_id: int, registration_id: int) -> list[int]:
    """Every session of the registration, whatever its seat's status, ascending."""
    rows = await tx.all(
        "SELECT session_id FROM registration_sessions WHERE studio_id = :studio_id"
        " AND registration_id = :id ORDER BY session_id",
        {"studio_id": studio_id, "id": registration_id},
    )
    return [int(r["session_id"]) for r in rows]


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
    # The start of its latest session: "My bookings" splits upcoming from past on it, by
    # index. The sessions a registration holds never change while it is live (it ends whole;
    # generation never moves or deletes a session with live seats), so it is written once.
    last_starts_at: datetime
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
            "last_starts_at": self.last_starts_at,
        }


REGISTRATION_SQL = """INSERT INTO registrations (studio_id, customer_id, class_id, pattern_id, kind,
    guest_count, status, price_minor, currency, created_at, held_until, last_starts_at) VALUES
    (:studio_id, :customer_id, :class_id, :pattern_id, :kind, :guests, :status, :price, :currency,
    :now, :held_until, :last_starts_at) RETURNING id"""

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


async def end_registration(
    tx: Tx,
    now: datetime,
    studio_id: int,
    registration_id: int,
    session_ids: list[int],
    *,
    was: str,
    to: str,
) -> None:
    """`was` -> `to` (`cancelled` or `expired`) by a guarded UPDATE whose row count is
    checked, then its seats and resources freed (`free_rows`). Call with the registration
    and its sessions locked, `was` as read under that lock."""
    ended = await tx.execute(
        "UPDATE registrations SET status = :to, cancelled_at = :now"
        " WHERE studio_id = :studio_id AND id = :id AND status = :was",
        {"studio_id": studio_id, "id": registration_id, "now": now, "was": was, "to": to},
    )
    expect_moved(ended, 1, f"ending registration {registration_id} ({was} -> {to})")
    await free_rows(tx, studio_id, registration_id, session_ids)


async def free_rows(tx: Tx, studio_id: int, registration_id: int, session_ids: list[int]) -> None:
    """A registration ends (cancelled, or a hold let go): its seats and resources are free.
    Allocations are found through their sessions' index, so `session_ids` must be every
    session of the registration (`session_ids_of`), not only its booked ones: a hold has
    none booked. A registration with no session rows left has nothing to free: deleting a
    session deletes its seats and allocations with it (ON DELETE CASCADE)."""
    if not session_ids:
        return
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
