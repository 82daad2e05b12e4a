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

from datetime import datetime, timedelta

from bookbot.services.invariant_capacity import capacity_violations
from bookbot.services.invariant_once import (
    double_booking_violations,
    pass_violations,
    staff_time_violations,
)
from bookbot.services.invariant_rows import (
    allocation_violations,
    registration_row_violations,
    reminder_violations,
)
from bookbot.services.invariant_scope import Invariant, Scope, Violation
from bookbot.store.db import Database, Tx

__all__ = ["CHECKS", "DEFAULT_LOOKBACK", "Invariant", "Violation", "find_violations"]

DEFAULT_LOOKBACK = timedelta(days=1)


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


CHECKS = (
    capacity_violations,
    allocation_violations,
    reminder_violations,
    registration_row_violations,
    double_booking_violations,
    pass_violations,
    staff_time_violations,
)
