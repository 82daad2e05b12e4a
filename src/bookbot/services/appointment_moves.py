"""Moving a booked appointment to another time, or to another staff member (issue 14),
under the same staff locks and re-check as booking it (`appointment_booking`)."""

from __future__ import annotations

from datetime import datetime

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.services import appointment_notices as notices
from bookbot.services import packages
from bookbot.services.appointment_booking import (
    StaffChanged,
    check_free,
    customers_appointment,
    locked,
    offered,
)
from bookbot.services.appointment_rows import (
    Appointment,
    Service,
    appointment_by_id,
    deadline,
    expect_moved,
    expire_lapsed_of,
    service_by_id_in,
)
from bookbot.store.db import Database, ExclusionViolation, Tx, retrying


def _check_reschedule_cutoff(found: Appointment, service: Service, now: datetime) -> None:
    if found.status != "confirmed":
        raise errors.AppointmentNotActive(status=found.status)
    last = deadline(found.starts_at, service.reschedule_cutoff_hours)
    if now > last:
        raise errors.RescheduleTooLate(cutoff_hours=service.reschedule_cutoff_hours, deadline=last)


async def reschedule(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    appointment_id: int,
    customer_id: int,
    starts_at: datetime,
    staff_id: int | None = None,
) -> Appointment:
    """Move the customer's confirmed appointment to `starts_at` (with `staff_id`, or the
    same staff member) in one transaction: the old time freed and the new taken, or
    nothing. Refused after the service's reschedule cutoff (RescheduleTooLate). The row
    keeps its id; its sequence goes up by one; reminders are withdrawn and queued for the
    new time; the staff member is told (a change of staff: the old one told it is off,
    the new one that it is booked)."""

    async def attempt() -> Appointment:
        now = clock.now()
        seen = await customers_appointment(db, studio_id, customer_id, appointment_id)
        to_staff = staff_id if staff_id is not None else seen.staff_id
        async with db.transaction() as tx:
            found = await locked(tx, studio_id, appointment_id, sorted({seen.staff_id, to_staff}))
            if found is None:
                raise StaffChanged(appointment_id)
            service = await service_by_id_in(tx, studio_id, found.service_id)
            _check_reschedule_cutoff(found, service, now)
            await packages.check_move_in(tx, studio_id, found.id, starts_at)  # its expiry
            if to_staff != found.staff_id:
                await offered(tx, studio_id, found.service_id, to_staff)
            await expire_lapsed_of(tx, now, [to_staff])
            await check_free(
                tx,
                now,
                studio_id,
                staff_id=to_staff,
                service=service,
                starts_at=starts_at,
                moving=found.id,
            )
            await _move(tx, now, found, service, staff_id=to_staff, starts_at=starts_at)
            moved = await appointment_by_id(tx, studio_id, appointment_id)
            await notices.withdraw_reminders(tx, found)
            await notices.queue_reminders(tx, now, moved)
            if moved.staff_id == found.staff_id:
                await notices.tell_staff(
                    tx, now, moved, "staff_appointment_moved", was=found.starts_at
                )
            else:
                await notices.tell_staff(tx, now, found, "staff_appointment_cancelled")
                await notices.tell_staff(tx, now, moved, "staff_appointment_booked")
            return moved

    result: Appointment = await retrying(attempt)
    return result


async def _move(
    tx: Tx,
    now: datetime,
    found: Appointment,
    service: Service,
    *,
    staff_id: int,
    starts_at: datetime,
) -> None:
    ends_at = starts_at + service.duration
    try:
        moved = await tx.execute(
            "UPDATE appointments SET staff_id = :staff_id, starts_at = :starts_at,"
            " ends_at = :ends_at, busy_from = :busy_from, busy_until = :busy_until,"
            " sequence = sequence + 1, updated_at = :now"
            " WHERE id = :id AND status = 'confirmed' AND sequence = :sequence",
            {
                "id": found.id,
                "sequence": found.sequence,
                "staff_id": staff_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "busy_from": starts_at - service.buffer_before,
                "busy_until": ends_at + service.buffer_after,
                "now": now,
            },
        )
    except ExclusionViolation as error:
        raise errors.SlotTaken() from error
    expect_moved(moved, f"moving appointment {found.id}")
