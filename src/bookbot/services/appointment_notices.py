"""What an appointment's changes tell people, queued in the outbox by the transaction that
made the change (sent after it commits, never lost, never twice):

- the customer: reminders 24 h and 1 h before (`reminders.queue_appointment`), withdrawn
  and queued afresh on a reschedule (keys carry the sequence), withdrawn on a cancel; and
  "appointment_cancelled_by_staff" with the reason when staff cancel.
- the staff member: "staff_appointment_booked" / "_moved" / "_cancelled", on Telegram at
  their own telegram_user_id, else in the studio's staff chat (`staff_notices`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookbot.services import outbox, quiet_hours, reminders, staff_notices
from bookbot.services.appointment_rows import Appointment
from bookbot.store.db import Tx


def _params(appointment: Appointment) -> dict[str, Any]:
    return {
        "appointment": appointment.id,
        "service_name": appointment.service_name,
        "staff_name": appointment.staff_name,
        "staff_timezone": appointment.staff_timezone,
        "customer_name": appointment.customer_name,
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "guests": appointment.guest_count,
        "location": appointment.location,
        "online": appointment.online,
        "meeting_url": appointment.meeting_url,
    }


async def queue_reminders(tx: Tx, now: datetime, appointment: Appointment) -> None:
    await reminders.queue_appointment(
        tx,
        now,
        studio_id=appointment.studio_id,
        customer_id=appointment.customer_id,
        appointment_id=appointment.id,
        sequence=appointment.sequence,
        starts_at=appointment.starts_at,
        params=_params(appointment),
    )


async def withdraw_reminders(tx: Tx, appointment: Appointment) -> None:
    await reminders.withdraw_appointment(
        tx, appointment.studio_id, appointment.id, appointment.sequence
    )


async def tell_staff(
    tx: Tx,
    now: datetime,
    appointment: Appointment,
    template: str,
    *,
    was: datetime | None = None,
) -> bool:
    """Queue `template` to the appointment's staff member; False if they cannot be reached
    (no Telegram id and no staff chat). `was`: the old start of a moved appointment."""
    params = _params(appointment)
    if was is not None:
        params["was"] = was.isoformat()
    return await staff_notices.tell_staff(
        tx,
        now,
        studio_id=appointment.studio_id,
        staff_id=appointment.staff_id,
        template=template,
        params=params,
        dedupe_key=f"{template}:{appointment.id}-{appointment.sequence}",
    )


async def tell_customer_cancelled(tx: Tx, now: datetime, appointment: Appointment) -> None:
    """Staff cancelled: the customer is told, with the reason, in their language and zone."""
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=appointment.studio_id,
        customer_id=appointment.customer_id,
        template="appointment_cancelled_by_staff",
        params={**_params(appointment), "reason": appointment.cancel_reason},
        due_at=await quiet_hours.release(
            tx,
            appointment.studio_id,
            now,
            latest=appointment.starts_at - quiet_hours.PLAN_AHEAD,
        ),
        dedupe_key=f"appointment_cancelled_by_staff:{appointment.id}",
    )
