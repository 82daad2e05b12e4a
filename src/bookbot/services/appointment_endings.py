"""How appointments end: cancelled by the customer (up to the cutoff) or by staff (with a
reason the customer is told), a no-show, and the minute sweeps that complete ended
appointments and expire lapsed holds.

Ending frees time and takes none, so these lock only the appointment row (after no staff
row: every writer that locks both takes the staff row first) and move it by a guarded
UPDATE whose row count is checked; its reminders are withdrawn in the same transaction.
The sweeps read what is due through partial indexes (held by held_until, confirmed by
ends_at), a page at a time, each row settled in its own short transaction; run twice,
they do the work once.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.services import appointment_notices as notices
from bookbot.services import appointment_payments, packages
from bookbot.services.appointment_rows import (
    Appointment,
    appointment_by_id,
    deadline,
    expect_moved,
    service_by_id_in,
)
from bookbot.store.db import Database, Row, Tx, retrying, settle_pages

SWEEP_BATCH = 200
CANCELLED = ("cancelled_by_customer", "cancelled_by_staff")


async def _locked(tx: Tx, studio_id: int, appointment_id: int) -> Appointment:
    await tx.lock("appointments", [appointment_id])
    return await appointment_by_id(tx, studio_id, appointment_id)


async def _end(
    tx: Tx, now: datetime, found: Appointment, *, to: str, was: tuple[str, ...], reason: str = ""
) -> Appointment:
    marks = ", ".join(f":w{i}" for i in range(len(was)))
    moved = await tx.execute(
        "UPDATE appointments SET status = :to, updated_at = :now,"  # noqa: S608 - placeholders
        " held_until = NULL, cancel_reason = :reason,"
        " cancelled_at = CASE WHEN :cancelled = 1 THEN :now ELSE cancelled_at END"
        f" WHERE id = :id AND status IN ({marks})",
        {
            "id": found.id,
            "to": to,
            "now": now,
            "reason": reason or found.cancel_reason,
            "cancelled": 1 if to in CANCELLED else 0,
            **{f"w{i}": w for i, w in enumerate(was)},
        },
    )
    expect_moved(moved, f"appointment {found.id} {found.status} -> {to}")
    await notices.withdraw_reminders(tx, found)
    return await appointment_by_id(tx, found.studio_id, found.id)


async def cancel_by_customer(
    db: Database, clock: Clock, studio_id: int, *, appointment_id: int, customer_id: int
) -> Appointment:
    """Cancel the customer's appointment: refused inside the cancellation cutoff
    (CancellationTooLate, with the hours); reminders withdrawn; the staff member told. A
    hold is simply let go; a second cancel returns it as it is."""

    async def attempt() -> Appointment:
        now = clock.now()
        async with db.transaction() as tx:
            found = await _locked(tx, studio_id, appointment_id)
            if found.customer_id != customer_id:
                raise errors.NotFound(what="appointment", ident=appointment_id)
            if found.status == "cancelled_by_customer":
                return found
            if found.status == "held":
                return await _end(tx, now, found, to="expired", was=("held",))
            if found.status != "confirmed":
                raise errors.AppointmentNotActive(status=found.status)
            service = await service_by_id_in(tx, studio_id, found.service_id)
            if not within_cutoff(found, service.cancellation_cutoff_hours, now):
                raise errors.CancellationTooLate(hours=service.cancellation_cutoff_hours)
            ended = await _end(tx, now, found, to="cancelled_by_customer", was=("confirmed",))
            await appointment_payments.refund_cancelled_in(
                tx, now, ended, before_cutoff=True, by_staff=False
            )
            await packages.restore_in(tx, now, studio_id, ended.id)  # within the policy
            await notices.tell_staff(tx, now, ended, "staff_appointment_cancelled")
            return ended

    result: Appointment = await retrying(attempt)
    return result


def within_cutoff(appointment: Appointment, cutoff_hours: int, now: datetime) -> bool:
    """A confirmed appointment may be cancelled or moved by its customer until
    `cutoff_hours` before its start (at the deadline itself, still yes)."""
    return appointment.status == "confirmed" and now <= deadline(
        appointment.starts_at, cutoff_hours
    )


async def _staff_of_studio(tx: Tx, studio_id: int, staff_id: int) -> None:
    found = await tx.scalar(
        "SELECT 1 FROM staff WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": studio_id, "id": staff_id},
    )
    if found is None:
        raise errors.NotFound(what="staff member", ident=staff_id)


async def cancel_by_staff(
    db: Database, clock: Clock, studio_id: int, *, appointment_id: int, staff_id: int, reason: str
) -> Appointment:
    """Staff (`staff_id`, any staff member of the studio) cancel a booked or held
    appointment with a reason; the customer is told it (template
    "appointment_cancelled_by_staff"). Not bound by the customer's cutoff."""

    async def attempt() -> Appointment:
        now = clock.now()
        async with db.transaction() as tx:
            await _staff_of_studio(tx, studio_id, staff_id)
            found = await _locked(tx, studio_id, appointment_id)
            if found.status == "cancelled_by_staff":
                return found
            if found.status not in ("confirmed", "held"):
                raise errors.AppointmentNotActive(status=found.status)
            ended = await _end(
                tx,
                now,
                found,
                to="cancelled_by_staff",
                was=("confirmed", "held"),
                reason=reason,
            )
            await appointment_payments.refund_cancelled_in(
                tx, now, ended, before_cutoff=False, by_staff=True
            )
            await packages.restore_in(tx, now, studio_id, ended.id)
            if found.status == "confirmed":
                await notices.tell_customer_cancelled(tx, now, ended)
            return ended

    result: Appointment = await retrying(attempt)
    return result


async def mark_no_show(
    db: Database, clock: Clock, studio_id: int, *, appointment_id: int, staff_id: int
) -> Appointment:
    """The customer did not come: once the appointment has started, confirmed (or already
    completed by the sweep) becomes no_show."""

    async def attempt() -> Appointment:
        now = clock.now()
        async with db.transaction() as tx:
            await _staff_of_studio(tx, studio_id, staff_id)
            found = await _locked(tx, studio_id, appointment_id)
            if found.status == "no_show":
                return found
            if found.status not in ("confirmed", "completed"):
                raise errors.AppointmentNotActive(status=found.status)
            if found.starts_at > now:
                raise errors.InvalidRequest(reason="The appointment has not started yet.")
            return await _end(tx, now, found, to="no_show", was=("confirmed", "completed"))

    result: Appointment = await retrying(attempt)
    return result


# Each through its partial index: only what is due is read, whatever the history.
ENDED_SQL = """SELECT id FROM appointments WHERE status = 'confirmed' AND ends_at <= :now
ORDER BY ends_at, id LIMIT :limit"""
LAPSED_SQL = """SELECT id FROM appointments WHERE status = 'held' AND held_until <= :now
ORDER BY held_until, id LIMIT :limit"""


async def _settle_due(
    db: Database, now: datetime, *, due_sql: str, settle_sql: str, batch: int
) -> int:
    """Settle each row `due_sql` finds by `settle_sql`, whose guard repeats the due test
    (a row another sweep settled meanwhile is passed over)."""

    async def settle(row: Row) -> tuple[int, bool]:
        moved = await db.execute(settle_sql, {"id": row["id"], "now": now})
        return moved, moved > 0

    return await settle_pages(db, due_sql, {"now": now}, settle, batch=batch)


async def complete_ended(db: Database, clock: Clock, *, batch: int = SWEEP_BATCH) -> int:
    """The minute sweep: confirmed appointments that have ended become completed."""
    return await _settle_due(
        db,
        clock.now(),
        due_sql=ENDED_SQL,
        settle_sql="UPDATE appointments SET status = 'completed', updated_at = :now"
        " WHERE id = :id AND status = 'confirmed' AND ends_at <= :now",
        batch=batch,
    )


async def expire_holds(db: Database, clock: Clock, *, batch: int = SWEEP_BATCH) -> int:
    """The minute sweep: lapsed appointment holds become expired (they already counted for
    nothing; this tidies them out of the constraint's way and the staff's pending list)."""
    return await _settle_due(
        db,
        clock.now(),
        due_sql=LAPSED_SQL,
        settle_sql="UPDATE appointments SET status = 'expired', updated_at = :now"
        " WHERE id = :id AND status = 'held' AND held_until <= :now",
        batch=batch,
    )
