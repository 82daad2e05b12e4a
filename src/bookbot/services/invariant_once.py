"""Invariants 4 to 6, what is had once: one live booking per customer and session, a
pass's punches taken once, a staff member's time sold once (see `invariants`)."""

from __future__ import annotations

from bookbot.services.availability import LONGEST_FOOTPRINT
from bookbot.services.invariant_scope import IN_SCOPE, TAKEN, Invariant, Scope, Violation
from bookbot.store.db import Tx

# --- 4. one live booking per customer and session ------------------------------------

_BOOKINGS = f"""SELECT session_id, customer_id, COUNT(*) AS live FROM (
  SELECT b.session_id, b.customer_id FROM sessions s
  JOIN registration_sessions b ON b.session_id = s.id AND b.status = 'booked'
  WHERE {IN_SCOPE}
  UNION ALL
  SELECT r.session_id, r.customer_id FROM sessions s
  JOIN reservations r ON r.session_id = s.id AND r.status IN {TAKEN}
  WHERE {IN_SCOPE}
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
