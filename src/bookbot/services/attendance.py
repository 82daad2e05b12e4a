"""Attendance: closing ended classes, the nightly absence sweep, and the staff's views.

Both sweeps are idempotent: each selects only rows still in the state it changes and
changes them by a guarded UPDATE (`WHERE id = :id AND status = :expected`) whose row count
decides the side effects (a punch, a withdrawn reminder, a notice) in the same
transaction, so running one twice, or two at once, does the work once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bookbot.engine import reservations as rules
from bookbot.engine.clock import Clock
from bookbot.services import facts, outbox, reminders
from bookbot.services.passes import use_punch
from bookbot.store.db import Database, Tx, retrying


@dataclass(frozen=True)
class AbsenceNotice:
    """A customer whose future reservations were auto-cancelled after a no-show."""

    studio_id: int
    customer_id: int
    class_name: str
    missed_start: datetime
    cancelled: tuple[datetime, ...]


async def close_ended(db: Database, clock: Clock) -> int:
    """At each class end: checked in -> attended, pending -> no-show (using a punch when the
    studio says so); bookings likewise. Returns how many reservations this run closed.

    Each reservation moves by a guarded UPDATE whose row count decides its punch, in the
    same transaction: a reservation that another sweep (or a staff check-in) moved first
    changes 0 rows here and costs nothing, so two sweeps at once take one punch."""
    now = clock.now()

    async def attempt() -> int:
        async with db.transaction() as tx:
            rows = await tx.all(
                "SELECT r.id, r.status, r.pass_id, p.kind, st.no_show_uses_punch"
                " FROM reservations r"
                " JOIN sessions s ON s.id = r.session_id JOIN passes p ON p.id = r.pass_id"
                " JOIN studios st ON st.id = r.studio_id"
                " WHERE r.status IN ('pending', 'checked_in') AND s.ends_at <= :now"
                " ORDER BY r.id",  # one lock order for every sweep
                {"now": now},
            )
            closed = 0
            for row in rows:
                closed += await _close(tx, now, row)
            await tx.execute(
                "UPDATE registration_sessions SET attendance = CASE WHEN attendance ="
                " 'checked_in' THEN 'attended' ELSE 'no_show' END WHERE status = 'booked'"
                " AND (attendance IS NULL OR attendance = 'checked_in')"
                " AND session_id IN (SELECT id FROM sessions WHERE ends_at <= :now)",
                {"now": now},
            )
        return closed

    result: int = await retrying(attempt)
    return result


async def _close(tx: Tx, now: datetime, row: Any) -> bool:
    """Close one reservation if it is still as read; whether this call closed it."""
    new = rules.closing_status(rules.Status(row[1]))
    punch = new is rules.Status.NO_SHOW and row[3] == "punch" and bool(row[4])
    moved = await tx.execute(
        "UPDATE reservations SET status = :status, closed_at = :now,"
        " punch_used = punch_used OR :punch WHERE id = :id AND status = :was",
        {"status": new, "now": now, "punch": punch, "id": row[0], "was": row[1]},
    )
    if moved and punch:
        await use_punch(tx, row[2])
    return bool(moved)


_DUE_ABSENCES = """SELECT r.id, r.customer_id, r.pass_id, r.closed_at, p.absence_grace_hours,
    c.name, s.starts_at, st.timezone, r.studio_id
FROM reservations r JOIN passes p ON p.id = r.pass_id JOIN sessions s ON s.id = r.session_id
JOIN classes c ON c.id = s.class_id JOIN studios st ON st.id = r.studio_id
WHERE r.studio_id = :studio_id AND r.status = 'no_show' AND r.absence_handled_at IS NULL
ORDER BY r.id"""


async def auto_cancel_absences(db: Database, clock: Clock, studio_id: int) -> list[AbsenceNotice]:
    """The nightly sweep: at the first 01:00 studio time after a no-show (and the pass's
    grace period), cancel the customer's future pending reservations on that pass."""
    now = clock.now()
    notices = []
    async with db.transaction() as tx:
        for row in await tx.all(_DUE_ABSENCES, {"studio_id": studio_id}):
            if not rules.absence_due(now, row[3], timedelta(hours=row[4]), row[7]):
                continue
            handled = await tx.execute(
                "UPDATE reservations SET absence_handled_at = :now WHERE id = :id"
                " AND absence_handled_at IS NULL",
                {"now": now, "id": row[0]},
            )
            if not handled:  # another sweep handled this no-show first
                continue
            cancelled = await _cancel_future(tx, now, row)
            if cancelled:
                notice = AbsenceNotice(studio_id, row[1], row[5], row[6], tuple(cancelled))
                await _queue_notice(tx, now, row[0], notice)
                notices.append(notice)
    return notices


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
        due_at=now,
        dedupe_key=f"auto-cancelled:reservation-{no_show_id}",
    )


async def _cancel_future(tx: Tx, now: datetime, row: Any) -> list[datetime]:
    future = await tx.all(
        "SELECT r.id, s.starts_at, s.id FROM reservations r JOIN sessions s ON s.id = r.session_id"
        " WHERE r.pass_id = :pass AND r.status = 'pending' AND s.starts_at > :now"
        " ORDER BY s.starts_at",
        {"pass": row[2], "now": now},
    )
    reason = f"auto-cancelled: no-show at {row[5]} on {row[6].isoformat()} (reservation {row[0]})"
    cancelled = []
    for reservation_id, starts_at, session_id in future:
        moved = await tx.execute(
            "UPDATE reservations SET status = 'auto_cancelled', cancelled_at = :now,"
            " reason = :reason WHERE id = :id AND status = 'pending'",
            {"now": now, "reason": reason, "id": reservation_id},
        )
        if moved:  # not cancelled or checked in meanwhile
            await reminders.withdraw(tx, int(row[8]), "reservation", reservation_id, [session_id])
            cancelled.append(starts_at)
    return cancelled


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
        for reservation_id, session_id in rows:
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
