"""Attendance: closing ended classes, the nightly absence sweep, and the staff's views.

Both sweeps are idempotent: each selects only rows still in the state it changes and
changes them by a guarded UPDATE (`WHERE id = :id AND status = :expected`) whose row count
decides the side effects (a punch, a withdrawn reminder, a notice) in the same
transaction, so running one twice, or two at once, does the work once.

Their cost follows the work due, not the history: each reads its candidates through a
partial index that holds only rows still to act on (sessions not closed yet, no-shows not
handled yet), outside any write transaction, and changes them one short write transaction
at a time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.engine import reservations as rules
from bookbot.engine.clock import Clock
from bookbot.services import day_attendance, facts, outbox, quiet_hours, reminders
from bookbot.services.passes import use_punch
from bookbot.store.db import Database, Row, Tx, instant, retrying, settle_pages


@dataclass(frozen=True)
class AbsenceNotice:
    """A customer whose future reservations were auto-cancelled after a no-show."""

    studio_id: int
    customer_id: int
    class_name: str
    missed_start: datetime
    cancelled: tuple[datetime, ...]


BATCH = 100  # rows read per page; each is then changed in its own short write transaction

# The sessions whose end passed and that the sweep has not closed: `ix_sessions_unclosed`
# holds only sessions not closed yet, by end, so this reads the rows due and stops.
UNCLOSED_SQL = """SELECT id FROM sessions WHERE closed_at IS NULL AND ends_at <= :now
ORDER BY ends_at, id LIMIT :limit"""

# One session's open reservations (`uq_reservations_live` holds only these), in id order:
# one lock order for every sweep.
OPEN_RESERVATIONS_SQL = """SELECT r.id, r.status, r.pass_id, p.kind, st.no_show_uses_punch
FROM reservations r JOIN passes p ON p.id = r.pass_id JOIN studios st ON st.id = r.studio_id
WHERE r.session_id = :session_id AND r.status IN ('pending', 'checked_in')
ORDER BY r.id"""

SETTLE_BOOKINGS_SQL = """UPDATE registration_sessions SET attendance = CASE WHEN attendance =
    'checked_in' THEN 'attended' ELSE 'no_show' END
WHERE session_id = :session_id AND status = 'booked'
  AND (attendance IS NULL OR attendance = 'checked_in')"""

# Closed only when nothing is left open on it: a check-in that landed between the read and
# the guarded UPDATE leaves its reservation open, and the next sweep closes it.
MARK_CLOSED_SQL = """UPDATE sessions SET closed_at = :now
WHERE id = :session_id AND closed_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.session_id = sessions.id
                  AND r.status IN ('pending', 'checked_in'))
  AND NOT EXISTS (SELECT 1 FROM registration_sessions rs WHERE rs.session_id = sessions.id
                  AND rs.status = 'booked'
                  AND (rs.attendance IS NULL OR rs.attendance = 'checked_in'))"""


async def close_ended(db: Database, clock: Clock, *, batch: int = BATCH) -> int:
    """At each class end: checked in -> attended, pending -> no-show (using a punch when the
    studio says so); bookings likewise. Returns how many reservations this run closed.

    Reads only sessions not closed yet whose end passed, then closes each in its own short
    write transaction (on SQLite the write lock is held for one session at a time, and the
    event loop gets a turn between them). Each reservation moves by a guarded UPDATE whose
    row count decides its punch, in the same transaction: a reservation that another sweep
    (or a staff check-in) moved first changes 0 rows here and costs nothing, so two sweeps
    at once take one punch."""
    now = clock.now()

    async def close_one(row: Row) -> tuple[int, bool]:
        # A session left open (a check-in raced its close) is no progress: it waits for
        # the next sweep.
        return await _close_session(db, now, int(row["id"]))

    return await settle_pages(db, UNCLOSED_SQL, {"now": now}, close_one, batch=batch)


async def close_session(db: Database, clock: Clock, session_id: int) -> bool:
    """Close one session now, as the sweep does at its end (staff completing it early, e.g.
    to issue certificates); whether it is closed after the call."""
    return (await _close_session(db, clock.now(), session_id))[1]


async def _close_session(db: Database, now: datetime, session_id: int) -> tuple[int, bool]:
    """Close one ended session's reservations and bookings: how many reservations this call
    closed, and whether the session is now closed."""

    async def attempt() -> tuple[int, bool]:
        params = {"session_id": session_id, "now": now}
        async with db.transaction() as tx:
            moved = 0
            for row in await tx.all(OPEN_RESERVATIONS_SQL, params):
                moved += await _close(tx, now, row)
            # A multi-day session's days nobody checked a booking in on: absent.
            await tx.execute(day_attendance.MARK_ABSENT_DAYS_SQL, params)
            await tx.execute(SETTLE_BOOKINGS_SQL, params)
            done = await tx.execute(MARK_CLOSED_SQL, params)
        return moved, bool(done)

    result: tuple[int, bool] = await retrying(attempt)
    return result


async def _close(tx: Tx, now: datetime, row: Row) -> bool:
    """Close one reservation if it is still as read; whether this call closed it."""
    was = row["status"]
    new = rules.closing_status(rules.Status(was))
    punch = new is rules.Status.NO_SHOW and row["kind"] == "punch"
    punch = punch and bool(row["no_show_uses_punch"])
    moved = await tx.execute(
        "UPDATE reservations SET status = :status, closed_at = :now,"
        " punch_used = punch_used OR :punch WHERE id = :id AND status = :was",
        {"status": new, "now": now, "punch": punch, "id": row["id"], "was": was},
    )
    if moved and punch:
        await use_punch(tx, row["pass_id"])
    return bool(moved)


# The studio's no-shows not handled yet (`ix_reservations_absence_open` holds only those:
# about a day's worth, whatever the history), a page at a time in id order, with what
# decides whether each is due. Two tables only: the tick runs this every minute, and on
# PostgreSQL planning a wider join would cost more than running it.
OPEN_ABSENCES_SQL = """SELECT r.id, r.closed_at, p.absence_grace_hours
FROM reservations r JOIN passes p ON p.id = r.pass_id
WHERE r.studio_id = :studio_id AND r.status = 'no_show' AND r.absence_handled_at IS NULL
  AND r.id > :after
ORDER BY r.id LIMIT :limit"""

# What the notice says about a no-show being handled, read in its write transaction.
_ABSENCE = """SELECT r.customer_id, r.pass_id, c.name AS class_name, s.starts_at
FROM reservations r JOIN sessions s ON s.id = r.session_id JOIN classes c ON c.id = s.class_id
WHERE r.id = :id"""

# The pass's reservations still ahead (`ix_reservations_pass_status`).
PENDING_AHEAD_SQL = """SELECT r.id, s.starts_at, s.id AS session_id
FROM reservations r JOIN sessions s ON s.id = r.session_id
WHERE r.pass_id = :pass_id AND r.status = 'pending' AND s.starts_at > :now
ORDER BY s.starts_at"""


async def auto_cancel_absences(
    db: Database, clock: Clock, studio_id: int, *, batch: int = BATCH
) -> list[AbsenceNotice]:
    """The nightly sweep: at the first 01:00 studio time after a no-show (and the pass's
    grace period), cancel the customer's future pending reservations on that pass.

    The no-shows not handled yet are read outside any write transaction; each due one is
    then handled in its own, by a guarded UPDATE whose row count decides the rest, so a
    second sweep at once handles each no-show once."""
    now = clock.now()
    notices = []
    after = 0
    zone: str | None = None
    while True:
        async with db.transaction(write=False) as tx:
            page = await tx.all(
                OPEN_ABSENCES_SQL, {"studio_id": studio_id, "after": after, "limit": batch}
            )
            if page and zone is None:
                zone = str(await _studio_zone(tx, studio_id))
        for row in page:
            after = int(row["id"])
            grace = timedelta(hours=row["absence_grace_hours"])
            if zone is None or not rules.absence_due(now, instant(row["closed_at"]), grace, zone):
                continue
            notice = await _handle_absence(db, now, studio_id, after)
            if notice is not None:
                notices.append(notice)
            await asyncio.sleep(0)
        if len(page) < batch:
            return notices


async def _studio_zone(tx: Tx, studio_id: int) -> str:
    row = await tx.one("SELECT timezone FROM studios WHERE id = :id", {"id": studio_id})
    return "UTC" if row is None else str(row["timezone"])


async def _handle_absence(
    db: Database, now: datetime, studio_id: int, no_show_id: int
) -> AbsenceNotice | None:
    """Handle one due no-show; the notice sent, if it cancelled anything."""

    async def attempt() -> AbsenceNotice | None:
        async with db.transaction() as tx:
            handled = await tx.execute(
                "UPDATE reservations SET absence_handled_at = :now WHERE id = :id"
                " AND status = 'no_show' AND absence_handled_at IS NULL",
                {"now": now, "id": no_show_id},
            )
            row = await tx.one(_ABSENCE, {"id": no_show_id})
            if not handled or row is None:  # another sweep handled this no-show first
                return None
            missed = instant(row["starts_at"])
            missed_at = f"{row['class_name']} on {missed.isoformat()} (reservation {no_show_id})"
            cancelled = await _cancel_future(
                tx, now, studio_id, pass_id=row["pass_id"], missed=missed_at
            )
            if not cancelled:
                return None
            notice = AbsenceNotice(
                studio_id, row["customer_id"], row["class_name"], missed, cancelled
            )
            await _queue_notice(tx, now, no_show_id, notice)
            return notice

    result: AbsenceNotice | None = await retrying(attempt)
    return result


async def _queue_notice(tx: Tx, now: datetime, no_show_id: int, notice: AbsenceNotice) -> None:
    """Tell the customer why, through the outbox (sent after this transaction commits)."""
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=notice.studio_id,
        customer_id=notice.customer_id,
        template="auto_cancelled",
        params={
            "class_name": notice.class_name,
            "missed": notice.missed_start.isoformat(),
            "cancelled": [d.isoformat() for d in notice.cancelled],
        },
        due_at=await quiet_hours.release(tx, notice.studio_id, now),
        dedupe_key=f"auto-cancelled:reservation-{no_show_id}",
    )


async def _cancel_future(
    tx: Tx, now: datetime, studio_id: int, *, pass_id: int, missed: str
) -> tuple[datetime, ...]:
    """Cancel the pass's pending reservations still ahead; their starts, in order."""
    future = await tx.all(PENDING_AHEAD_SQL, {"pass_id": pass_id, "now": now})
    reason = f"auto-cancelled: no-show at {missed}"
    cancelled = []
    for row in future:
        moved = await tx.execute(
            "UPDATE reservations SET status = 'auto_cancelled', cancelled_at = :now,"
            " reason = :reason WHERE id = :id AND status = 'pending'",
            {"now": now, "reason": reason, "id": row["id"]},
        )
        if moved:  # not cancelled or checked in meanwhile
            await reminders.withdraw(tx, studio_id, "reservation", row["id"], [row["session_id"]])
            cancelled.append(instant(row["starts_at"]))
    return tuple(cancelled)


async def restore_auto_cancelled(
    db: Database, clock: Clock, studio_id: int, customer_id: int
) -> int:
    """Staff override: put the customer's auto-cancelled future reservations back.

    A seat given away since then stays given away: such a reservation is not restored.
    """
    now = clock.now()
    restored = 0
    async with db.transaction() as tx:
        rows = await tx.all(
            "SELECT r.id, r.session_id FROM reservations r JOIN sessions s ON s.id = r.session_id"
            " WHERE r.studio_id = :s AND r.customer_id = :c AND r.status = 'auto_cancelled'"
            " AND s.starts_at > :now ORDER BY s.starts_at",
            {"s": studio_id, "c": customer_id, "now": now},
        )
        for row in rows:
            reservation_id, session_id = row["id"], row["session_id"]
            locked = await facts.lock_sessions(tx, studio_id, customer_id, ids=[session_id])
            found = await facts.session_facts(tx, studio_id, [session_id], now, customer_id)
            if locked is None or found[session_id].state(locked.sessions[0]).seats_left < 1:
                continue
            restored += await tx.execute(
                "UPDATE reservations SET status = 'pending', cancelled_at = NULL,"
                " reason = 'restored by staff' WHERE id = :id AND status = 'auto_cancelled'",
                {"id": reservation_id},
            )
    return restored
