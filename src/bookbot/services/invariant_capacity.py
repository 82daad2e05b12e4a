"""Invariant 1, capacity: seats and resources never sold past what a session has (see
`invariants`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from bookbot.services.invariant_scope import IN_SCOPE, TAKEN, Invariant, Scope, Violation
from bookbot.store.db import Tx

_SEATS = f"""SELECT s.id, s.class_id, s.capacity, s.starts_at,
    (SELECT COALESCE(SUM(b.guest_count), 0) FROM registration_sessions b
      WHERE b.session_id = s.id AND b.status = 'booked') AS booked,
    (SELECT COALESCE(SUM(h.guest_count), 0) FROM registration_sessions h
      WHERE h.session_id = s.id AND h.status = 'held' AND h.held_until > :now) AS held,
    (SELECT COUNT(*) FROM reservations r
      WHERE r.session_id = s.id AND r.status IN {TAKEN}) AS reserved
FROM sessions s WHERE {IN_SCOPE} ORDER BY s.id"""  # noqa: S608 - constants

# Live offers, with the seats their customer already holds or booked in that session.
_OFFERS = f"""SELECT w.id, w.session_id, w.guest_count,
    (SELECT COALESCE(SUM(b.guest_count), 0) FROM registration_sessions b
      WHERE b.session_id = w.session_id AND b.customer_id = w.customer_id
      AND b.status = 'booked')
    + (SELECT COALESCE(SUM(h.guest_count), 0) FROM registration_sessions h
      WHERE h.session_id = w.session_id AND h.customer_id = w.customer_id
      AND h.status = 'held' AND h.held_until > :now)
    + (SELECT COUNT(*) FROM reservations r WHERE r.session_id = w.session_id
      AND r.customer_id = w.customer_id AND r.status IN ('pending', 'checked_in')) AS own_seats
FROM sessions s JOIN waitlist_entries w ON w.session_id = s.id AND w.status = 'offered'
WHERE {IN_SCOPE} AND w.offer_expires_at > :now ORDER BY w.id"""  # noqa: S608

_ALLOCATED = f"""SELECT a.session_id, a.resource_id, SUM(a.quantity) AS quantity
FROM sessions s JOIN resource_allocations a ON a.session_id = s.id
WHERE {IN_SCOPE} AND (a.held_until IS NULL OR a.held_until > :now)
GROUP BY a.session_id, a.resource_id"""  # noqa: S608


@dataclass
class _Session:
    id: int
    class_id: int
    capacity: int
    starts_at: datetime
    booked: int
    held: int
    reserved: int
    offered: int = 0  # guests of live offers, beyond their customers' own seats
    offers: list[int] = field(default_factory=list)  # their ids

    def taken(self) -> int:
        return self.booked + self.held + self.reserved + self.offered

    def name(self) -> str:
        return f"session {self.id} at {self.starts_at:%Y-%m-%d %H:%M} UTC"


async def _sessions_with_offers(tx: Tx, scope: Scope) -> dict[int, _Session]:
    params = scope.params()
    found = {
        r["id"]: _Session(
            id=r["id"],
            class_id=r["class_id"],
            capacity=r["capacity"],
            starts_at=r["starts_at"],
            booked=int(r["booked"]),
            held=int(r["held"]),
            reserved=int(r["reserved"]),
        )
        for r in await tx.all(_SEATS, params)
    }
    for r in await tx.all(_OFFERS, params):
        session = found[r["session_id"]]
        session.offered += max(0, int(r["guest_count"]) - int(r["own_seats"]))
        session.offers.append(int(r["id"]))
    return found


async def capacity_violations(tx: Tx, scope: Scope) -> list[Violation]:
    """Invariant 1, for seats and for every resource."""
    sessions = await _sessions_with_offers(tx, scope)
    found = [_seats_violation(scope, s) for s in sessions.values() if s.taken() > s.capacity]
    return found + await _resource_violations(tx, scope, sessions)


def _seats_violation(scope: Scope, s: _Session) -> Violation:
    offers = f" (offers {', '.join(map(str, s.offers))})" if s.offers else ""
    return scope.violation(
        Invariant.SEATS,
        f"{s.name()}: {s.taken()} seats taken of {s.capacity} ({s.booked} booked,"
        f" {s.held} held, {s.reserved} reserved, {s.offered} offered{offers})",
        session=s.id,
    )


async def _resource_violations(
    tx: Tx, scope: Scope, sessions: dict[int, _Session]
) -> list[Violation]:
    resources = {
        r["id"]: (r["name"], int(r["total_quantity"]))
        for r in await tx.all(
            "SELECT id, name, total_quantity FROM resources WHERE studio_id = :studio_id",
            scope.params(),
        )
    }
    per_student: dict[int, dict[int, int]] = defaultdict(dict)
    for r in await tx.all(
        "SELECT class_id, resource_id, quantity_per_student FROM class_requirements"
        " WHERE studio_id = :studio_id",
        scope.params(),
    ):
        per_student[r["class_id"]][r["resource_id"]] = int(r["quantity_per_student"])
    used: dict[tuple[int, int], int] = defaultdict(int)
    for r in await tx.all(_ALLOCATED, scope.params()):
        used[r["session_id"], r["resource_id"]] += int(r["quantity"])
    for s in sessions.values():
        for resource_id, each in per_student[s.class_id].items():
            used[s.id, resource_id] += each * (s.reserved + s.offered)
    found: list[Violation] = []
    for (session_id, resource_id), quantity in sorted(used.items()):
        name, total = resources[resource_id]
        if quantity > total:
            session = sessions[session_id]
            found.append(
                scope.violation(
                    Invariant.RESOURCE,
                    f"{session.name()}: {quantity} × {name} taken of {total}"
                    f" (allocations, {session.reserved} reserved, {session.offered} offered)",
                    session=session_id,
                    resource=resource_id,
                )
            )
    return found
