"""What must hold in the booking state whatever the concurrency, read from a live database.

Each check reads rows and returns the `Violation`s it finds (typed, with the ids involved
and a sentence for a person); `find_violations` runs them all in one read transaction, on
one snapshot (PostgreSQL: REPEATABLE READ; SQLite: a read transaction is one snapshot).
The interleaving test calls it after every round, and `bookbot doctor` on a live database.

1. Capacity: booked seats + seats of live holds + pass reservations + seats of live
   waitlist offers never exceed a session's capacity; and for every resource, its
   allocations (bookings, live holds) + one per reservation and student + what live
   offers hold (guests × quantity per student) never exceed the resource's total.
   A customer's own live seats in a session stand for their offer there (the booking or
   hold the offer led to), so one party is not counted twice.
2. Nothing of an ended registration: no allocation, and no pending reminder, belongs to a
   registration that is cancelled or expired (or to a reservation that was cancelled).
3. A registration's rows agree with its status: confirmed has booked rows and allocations
   with no `held_until`; held has held rows and allocations with one; an ended one has none.
4. One live booking per customer and session (bookings and pass reservations together).
5. Passes: no balance below 0, and a punch pass's used sessions are exactly its
   reservations that used a punch (a punch taken twice, or never taken, shows here).
6. A staff member's time is sold once: their live appointments, buffers included, overlap
   neither each other nor an open class they teach or assist.

"Live" is judged at `now`: a hold or offer past its time counts for nothing, swept or not.
Each query starts from the studio's sessions that end after `since` (index on studio and
start) and reaches rows through their session or registration indexes, so the cost
follows the sessions still in play, not the history. Two gaps, for want of an index:
held registrations are found by a scan of `registrations` (no index on `status`; a partial
one on held rows would serve this and the hold-expiry sweep), and a confirmed registration
none of whose rows is booked and that has no allocation is not found (no index on
`registration_sessions.session_id` for ended rows; its reminders are checked, under 2).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bookbot.services.availability import LONGEST_FOOTPRINT
from bookbot.services.common import in_list
from bookbot.services.reminders import BEFORE
from bookbot.store.db import Database, Row, Tx

# Sessions longer than this (the studio-file bound) that ended long ago may be missed.
LONGEST_SESSION = timedelta(days=7)
DEFAULT_LOOKBACK = timedelta(days=1)
_TAKEN = "('pending', 'checked_in', 'attended', 'no_show')"  # a reservation's seat
_CHUNK = 500


class Invariant(StrEnum):
    SEATS = "seats"
    RESOURCE = "resource"
    ENDED_ALLOCATION = "ended-allocation"
    ENDED_REMINDER = "ended-reminder"
    ROWS = "rows"
    DOUBLE_BOOKING = "double-booking"
    PUNCHES = "punches"
    STAFF_TIME = "staff-time"


@dataclass(frozen=True)
class Violation:
    invariant: Invariant
    studio_id: int
    ids: tuple[tuple[str, int], ...]  # e.g. (("session", 12), ("resource", 3))
    message: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.message}"


@dataclass(frozen=True)
class Scope:
    """One studio's sessions that end after `since`, judged at `now`."""

    studio_id: int
    now: datetime
    since: datetime

    def params(self) -> dict[str, Any]:
        return {
            "studio_id": self.studio_id,
            "now": self.now,
            "since": self.since,
            "earliest": self.since - LONGEST_SESSION,
        }

    def violation(self, invariant: Invariant, message: str, **ids: int) -> Violation:
        return Violation(invariant, self.studio_id, tuple(ids.items()), message)


# The sessions in play: the index on (studio_id, starts_at) finds them.
_IN_SCOPE = "s.studio_id = :studio_id AND s.starts_at >= :earliest AND s.ends_at > :since"


async def find_violations(
    db: Database, now: datetime, *, studio_id: int | None = None, since: datetime | None = None
) -> list[Violation]:
    """Every violation in one studio (or all), sessions ending after `since` (default: a
    day before `now`), read on one snapshot."""
    async with db.transaction(write=False) as tx:
        if tx.dialect == "postgresql":  # one snapshot for every statement below
            await tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        ids = [studio_id] if studio_id is not None else await _studio_ids(tx)
        found: list[Violation] = []
        for sid in ids:
            scope = Scope(sid, now, since if since is not None else now - DEFAULT_LOOKBACK)
            for check in CHECKS:
                found += await check(tx, scope)
    return found


async def _studio_ids(tx: Tx) -> list[int]:
    return [int(r["id"]) for r in await tx.all("SELECT id FROM studios ORDER BY id")]


# --- 1. capacity ----------------------------------------------------------------------

_SEATS = f"""SELECT s.id, s.class_id, s.capacity, s.starts_at,
    (SELECT COALESCE(SUM(b.guest_count), 0) FROM registration_sessions b
      WHERE b.session_id = s.id AND b.status = 'booked') AS booked,
    (SELECT COALESCE(SUM(h.guest_count), 0) FROM registration_sessions h
      WHERE h.session_id = s.id AND h.status = 'held' AND h.held_until > :now) AS held,
    (SELECT COUNT(*) FROM reservations r
      WHERE r.session_id = s.id AND r.status IN {_TAKEN}) AS reserved
FROM sessions s WHERE {_IN_SCOPE} ORDER BY s.id"""  # noqa: S608 - constants

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
WHERE {_IN_SCOPE} AND w.offer_expires_at > :now ORDER BY w.id"""  # noqa: S608

_ALLOCATED = f"""SELECT a.session_id, a.resource_id, SUM(a.quantity) AS quantity
FROM sessions s JOIN resource_allocations a ON a.session_id = s.id
WHERE {_IN_SCOPE} AND (a.held_until IS NULL OR a.held_until > :now)
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


# --- 2. nothing of an ended registration, 3. rows agree with status --------------------

# Allocations that do not match their registration: ended, or its row there, or held_until.
_ODD_ALLOCATIONS = f"""SELECT a.id, a.registration_id, a.session_id,
    g.status AS registration_status, COALESCE(rs.status, 'missing') AS row_status,
    a.held_until IS NULL AS permanent
FROM sessions s JOIN resource_allocations a ON a.session_id = s.id
JOIN registrations g ON g.id = a.registration_id
LEFT JOIN registration_sessions rs
  ON rs.registration_id = a.registration_id AND rs.session_id = a.session_id
WHERE {_IN_SCOPE} AND NOT (
  (g.status = 'confirmed' AND COALESCE(rs.status, '') = 'booked' AND a.held_until IS NULL)
  OR (g.status = 'held' AND COALESCE(rs.status, '') = 'held' AND a.held_until IS NOT NULL))
ORDER BY a.id"""  # noqa: S608


async def allocation_violations(tx: Tx, scope: Scope) -> list[Violation]:
    """Invariants 2 and 3 for allocations: each belongs to a live registration whose row
    for that session is live, held until the same kind of time."""
    found: list[Violation] = []
    for r in await tx.all(_ODD_ALLOCATIONS, scope.params()):
        allocation, registration, session = r["id"], r["registration_id"], r["session_id"]
        status, row = r["registration_status"], r["row_status"]
        ids = {"allocation": allocation, "registration": registration, "session": session}
        if status in ("cancelled", "expired"):
            message = (
                f"allocation {allocation} in session {session} belongs to {status}"
                f" registration {registration}"
            )
            found.append(scope.violation(Invariant.ENDED_ALLOCATION, message, **ids))
            continue
        kind = "no held_until" if r["permanent"] else "a held_until"
        message = (
            f"allocation {allocation} in session {session} has {kind}, but registration"
            f" {registration} is {status} and its row there is {row}"
        )
        found.append(scope.violation(Invariant.ROWS, message, **ids))
    return found


_REMINDER_KEY = re.compile(
    rf"^({'|'.join(template for template, _ in BEFORE)}):(booking|reservation)-(\d+)-(\d+)$"
)


async def reminder_violations(tx: Tx, scope: Scope) -> list[Violation]:
    """Invariant 2 for reminders: a pending one belongs to a booked row of a confirmed
    registration, or to a reservation that was not cancelled (pending rows only: the
    outbox's open backlog, through its status index)."""
    rows = await tx.all(
        "SELECT id, dedupe_key FROM outbox WHERE status = 'pending' AND studio_id = :studio_id"
        " AND dedupe_key LIKE 'reminder%'",
        scope.params(),
    )
    wanted: dict[str, list[tuple[int, int, int]]] = {"booking": [], "reservation": []}
    for r in rows:
        match = _REMINDER_KEY.match(r["dedupe_key"])
        if match:
            wanted[match[2]].append((r["id"], int(match[3]), int(match[4])))
    found = await _booking_reminders(tx, scope, wanted["booking"])
    return found + await _reservation_reminders(tx, scope, wanted["reservation"])


async def _chunked(tx: Tx, sql: str, ids: list[int]) -> list[Row]:
    rows: list[Row] = []
    unique = sorted(set(ids))
    for start in range(0, len(unique), _CHUNK):
        body, params = in_list("i", unique[start : start + _CHUNK])
        rows += await tx.all(sql.format(body=body), params)
    return rows


async def _booking_reminders(
    tx: Tx, scope: Scope, reminders: list[tuple[int, int, int]]
) -> list[Violation]:
    state = {
        (r["registration_id"], r["session_id"]): (r["registration_status"], r["row_status"])
        for r in await _chunked(
            tx,
            "SELECT rs.registration_id, rs.session_id, g.status AS registration_status,"
            " rs.status AS row_status"
            " FROM registration_sessions rs JOIN registrations g ON g.id = rs.registration_id"
            " WHERE rs.registration_id IN ({body})",
            [registration for _, registration, _ in reminders],
        )
    }
    found = []
    for outbox_id, registration, session in reminders:
        status, row = state.get((registration, session), ("missing", "missing"))
        if (status, row) != ("confirmed", "booked"):
            found.append(
                scope.violation(
                    Invariant.ENDED_REMINDER,
                    f"reminder {outbox_id} is pending for registration {registration}"
                    f" (status {status}, its row in session {session} {row})",
                    outbox=outbox_id,
                    registration=registration,
                    session=session,
                )
            )
    return found


async def _reservation_reminders(
    tx: Tx, scope: Scope, reminders: list[tuple[int, int, int]]
) -> list[Violation]:
    status = {
        r["id"]: r["status"]
        for r in await _chunked(
            tx,
            "SELECT id, status FROM reservations WHERE id IN ({body})",
            [reservation for _, reservation, _ in reminders],
        )
    }
    found = []
    for outbox_id, reservation, session in reminders:
        now = status.get(reservation, "missing")
        if now in ("cancelled", "auto_cancelled", "missing"):
            found.append(
                scope.violation(
                    Invariant.ENDED_REMINDER,
                    f"reminder {outbox_id} is pending for reservation {reservation}"
                    f" in session {session}, which is {now}",
                    outbox=outbox_id,
                    reservation=reservation,
                    session=session,
                )
            )
    return found


# A booked row belongs to a confirmed registration, a held row to a held one, each with
# held_until as its registration has it.
_ODD_ROWS = f"""SELECT rs.id, rs.registration_id, rs.session_id,
    g.status AS registration_status, rs.held_until IS NULL AS row_permanent,
    g.held_until IS NULL AS registration_permanent
FROM sessions s JOIN registration_sessions rs ON rs.session_id = s.id AND rs.status = :row
JOIN registrations g ON g.id = rs.registration_id
WHERE {_IN_SCOPE} AND NOT (g.status = :registration
  AND (rs.held_until IS NULL) = :permanent AND (g.held_until IS NULL) = :permanent)
ORDER BY rs.id"""  # noqa: S608

# Held registrations without an end, or without a held row (held ones are few).
_ODD_HOLDS = """SELECT g.id, g.held_until IS NULL AS no_end,
    (SELECT COUNT(*) FROM registration_sessions rs
      WHERE rs.registration_id = g.id AND rs.status = 'held') AS held_rows
FROM registrations g WHERE g.studio_id = :studio_id AND g.status = 'held' ORDER BY g.id"""


async def registration_row_violations(tx: Tx, scope: Scope) -> list[Violation]:
    """Invariant 3 for registrations and their session rows."""
    found: list[Violation] = []
    for row, registration, permanent in (("booked", "confirmed", True), ("held", "held", False)):
        params = {**scope.params(), "row": row, "registration": registration}
        for r in await tx.all(_ODD_ROWS, {**params, "permanent": permanent}):
            reg_id, session = r["registration_id"], r["session_id"]
            reg_end = "" if r["registration_permanent"] else " with a held_until"
            row_end = "" if r["row_permanent"] else " with a held_until"
            message = (
                f"registration {reg_id} is {r['registration_status']}{reg_end}, but its row"
                f" {r['id']} in session {session} is {row}{row_end}"
            )
            found.append(
                scope.violation(Invariant.ROWS, message, registration=reg_id, session=session)
            )
    for r in await tx.all(_ODD_HOLDS, scope.params()):
        if r["no_end"] or not r["held_rows"]:
            message = f"registration {r['id']} is held, but " + (
                "has no held_until" if r["no_end"] else "has no held row"
            )
            found.append(scope.violation(Invariant.ROWS, message, registration=r["id"]))
    return found


# --- 4. one live booking per customer and session ------------------------------------

_BOOKINGS = f"""SELECT session_id, customer_id, COUNT(*) AS live FROM (
  SELECT b.session_id, b.customer_id FROM sessions s
  JOIN registration_sessions b ON b.session_id = s.id AND b.status = 'booked'
  WHERE {_IN_SCOPE}
  UNION ALL
  SELECT r.session_id, r.customer_id FROM sessions s
  JOIN reservations r ON r.session_id = s.id AND r.status IN {_TAKEN}
  WHERE {_IN_SCOPE}
) AS taken GROUP BY session_id, customer_id HAVING COUNT(*) > 1
ORDER BY session_id, customer_id"""  # noqa: S608


async def double_booking_violations(tx: Tx, scope: Scope) -> list[Violation]:
    """Invariant 4: a customer is in a session once, by booking or by reservation."""
    return [
        scope.violation(
            Invariant.DOUBLE_BOOKING,
            f"customer {r['customer_id']} has {r['live']} live bookings or reservations"
            f" in session {r['session_id']}",
            session=r["session_id"],
            customer=r["customer_id"],
        )
        for r in await tx.all(_BOOKINGS, scope.params())
    ]


# --- 5. passes -----------------------------------------------------------------------

_PASSES = """SELECT p.id, p.kind, p.sessions_included, p.sessions_remaining,
    (SELECT COUNT(*) FROM reservations r WHERE r.pass_id = p.id AND r.punch_used) AS punches
FROM passes p WHERE p.studio_id = :studio_id
  AND (p.valid_until IS NULL OR p.valid_until >= :since_day) ORDER BY p.id"""

_ODD_PUNCHES = """SELECT r.id, r.pass_id, r.status FROM passes p
JOIN reservations r ON r.pass_id = p.id AND r.punch_used
WHERE p.studio_id = :studio_id AND (p.valid_until IS NULL OR p.valid_until >= :since_day)
  AND (p.kind <> 'punch' OR r.status NOT IN ('checked_in', 'attended', 'no_show'))
ORDER BY r.id"""


async def pass_violations(tx: Tx, scope: Scope) -> list[Violation]:
    """Invariant 5: balances never below 0; each punch taken is one reservation's."""
    params = {**scope.params(), "since_day": scope.since.date()}
    found: list[Violation] = []
    for r in await tx.all(_PASSES, params):
        pass_id, included, remaining = r["id"], r["sessions_included"], r["sessions_remaining"]
        if remaining is not None and remaining < 0:
            message = f"pass {pass_id} has {remaining} sessions left"
            found.append(scope.violation(Invariant.PUNCHES, message, **{"pass": pass_id}))
        elif (
            r["kind"] == "punch" and remaining is not None and included - remaining != r["punches"]
        ):
            message = (
                f"pass {pass_id} has {included - remaining} of {included} sessions used,"
                f" but {r['punches']} reservation(s) used a punch"
            )
            found.append(scope.violation(Invariant.PUNCHES, message, **{"pass": pass_id}))
    for r in await tx.all(_ODD_PUNCHES, params):
        message = f"reservation {r['id']} ({r['status']}) used a punch of pass {r['pass_id']}"
        ids = {"reservation": r["id"], "pass": r["pass_id"]}
        found.append(scope.violation(Invariant.PUNCHES, message, **ids))
    return found


# --- 6. a staff member's time is sold once --------------------------------------------

# Appointments reached through (staff_id, busy_from) from the studio's staff, over the
# footprints that end after `since` (from the longest possible footprint before it).
_LIVE = "({a}.status = 'confirmed' OR ({a}.status = 'held' AND {a}.held_until > :now))"
_STAFF_TIME = f"""SELECT a.id, a.staff_id, b.id AS other, NULL AS session_id
FROM staff f
JOIN appointments a ON a.staff_id = f.id AND a.busy_from >= :footprint_floor
  AND a.busy_until > :since AND {_LIVE.format(a="a")}
JOIN appointments b ON b.staff_id = a.staff_id AND b.id > a.id
  AND b.busy_from < a.busy_until AND b.busy_until > a.busy_from AND {_LIVE.format(a="b")}
WHERE f.studio_id = :studio_id
UNION ALL
SELECT a.id, a.staff_id, NULL AS other, s.id AS session_id
FROM staff f
JOIN appointments a ON a.staff_id = f.id AND a.busy_from >= :footprint_floor
  AND a.busy_until > :since AND {_LIVE.format(a="a")}
JOIN sessions s ON s.studio_id = f.studio_id AND s.status = 'open'
  AND s.starts_at >= :earliest AND s.starts_at < a.busy_until AND s.ends_at > a.busy_from
  AND (s.instructor_id = a.staff_id OR EXISTS (SELECT 1 FROM session_assistants sa
       WHERE sa.session_id = s.id AND sa.staff_id = a.staff_id))
WHERE f.studio_id = :studio_id
ORDER BY 1, 3, 4"""  # noqa: S608


async def staff_time_violations(tx: Tx, scope: Scope) -> list[Violation]:
    """Invariant 6: a staff member's live appointments (with their buffers) overlap neither
    each other nor an open class they teach or assist."""
    params = {**scope.params(), "footprint_floor": scope.since - LONGEST_FOOTPRINT}
    found: list[Violation] = []
    for r in await tx.all(_STAFF_TIME, params):
        if r["other"] is not None:
            message = (
                f"staff member {r['staff_id']} has appointments {r['id']} and {r['other']}"
                " at overlapping times"
            )
            ids = {"appointment": r["id"], "other_appointment": r["other"]}
        else:
            message = (
                f"staff member {r['staff_id']} has appointment {r['id']} while teaching"
                f" session {r['session_id']}"
            )
            ids = {"appointment": r["id"], "session": r["session_id"]}
        found.append(scope.violation(Invariant.STAFF_TIME, message, **ids))
    return found


CHECKS = (
    capacity_violations,
    allocation_violations,
    reminder_violations,
    registration_row_violations,
    double_booking_violations,
    pass_violations,
    staff_time_violations,
)
