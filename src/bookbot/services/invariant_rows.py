"""Invariants 2 and 3: nothing of an ended registration (allocations, reminders), and a
registration's rows agree with its status (see `invariants`)."""

from __future__ import annotations

import re

from bookbot.services.common import in_list
from bookbot.services.invariant_scope import IN_SCOPE, Invariant, Scope, Violation
from bookbot.services.reminders import BEFORE
from bookbot.store.db import Row, Tx

_CHUNK = 500


# Allocations that do not match their registration: ended, or its row there, or held_until.
_ODD_ALLOCATIONS = f"""SELECT a.id, a.registration_id, a.session_id,
    g.status AS registration_status, COALESCE(rs.status, 'missing') AS row_status,
    a.held_until IS NULL AS permanent
FROM sessions s JOIN resource_allocations a ON a.session_id = s.id
JOIN registrations g ON g.id = a.registration_id
LEFT JOIN registration_sessions rs
  ON rs.registration_id = a.registration_id AND rs.session_id = a.session_id
WHERE {IN_SCOPE} AND NOT (
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
WHERE {IN_SCOPE} AND NOT (g.status = :registration
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
