"""Appointments paid online: the appointment side of the class payment machinery.

A service's payment terms are a class's (`engine.payments.PaymentPolicy`): `payment`
(online, at_studio, either) and `refund_after_cutoff_percent`; no deposits or company
invoices (the columns are not there, so the policy keeps their defaults). The payment
itself is an ordinary `payments` row (purpose 'full', `appointment_id` set), opened,
settled, called off, reconciled and refunded by `services.payments`, `payment_events`
and `refunds`; this module is what those need to know about appointments:

- paying: `held_for_payment` reads (and locks) the customer's live hold and its terms;
  `extend_hold_in` keeps the slot for the link's life (`held_until` = the link's expiry).
- paid: `confirm_in` books the appointment in the transaction that records the money, as
  `appointments.confirm` does (reminders queued, staff told); a hold that lapsed is
  re-checked under the staff lock and booked afresh if the time is still free, else
  SlotTaken (the payment is then refunded in full, as a late class payment is).
- unpaid (expired, failed, called off): `free_in` lets the hold go.
- cancelled: `refund_cancelled_in`, in the cancellation's transaction, writes the refunds
  the policy gives (staff: everything; a customer before the cutoff: everything; after it:
  the service's percentage) and calls off links still open; `submit_refunds` sends them
  after it commits (otherwise reconciliation does).

Locks: staff row, then appointment, then payment (the order `appointments.confirm` and the
cancellations take the first two in), so a payment settling and a cancellation never wait
on each other in a circle. A rescheduled appointment keeps its row, so its payment
carries over with nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import Clock
from bookbot.services import refunds
from bookbot.services.appointment_booking import confirm_locked
from bookbot.services.appointment_rows import (
    Appointment,
    appointment_by_id,
    expect_moved,
)
from bookbot.services.payment_gateway import PaymentGateway
from bookbot.services.payment_rows import COLUMNS, Payment, payment_of
from bookbot.store.db import Database, Reads, Tx

POLICY_SQL = """SELECT sv.payment, sv.refund_after_cutoff_percent FROM services sv
WHERE sv.studio_id = :s AND sv.id = :id"""


def policy_of(row: Any) -> rules.PaymentPolicy:
    """A service's terms as a class policy (no deposit, no company invoice)."""
    return rules.PaymentPolicy(
        payment=str(row["payment"]),
        refund_after_cutoff_percent=int(row["refund_after_cutoff_percent"]),
    )


async def service_policy(reads: Reads, studio_id: int, service_id: int) -> rules.PaymentPolicy:
    row = await reads.one(POLICY_SQL, {"s": studio_id, "id": service_id})
    return rules.PaymentPolicy() if row is None else policy_of(row)


@dataclass(frozen=True)
class HeldForPayment:
    appointment: Appointment
    policy: rules.PaymentPolicy
    hold_minutes: int  # the studio's payment_hold_minutes: how long a link lasts


async def held_for_payment(
    tx: Tx, now: datetime, studio_id: int, *, customer_id: int, appointment_id: int
) -> HeldForPayment:
    """The customer's live hold, locked, with its service's terms. NotFound if it is not
    theirs; AppointmentNotActive if it is no live hold; PaymentNotOffered if the service
    is paid at the studio or costs nothing."""
    seen = await appointment_by_id(tx, studio_id, appointment_id)
    if seen.customer_id != customer_id:
        raise errors.NotFound(what="appointment", ident=appointment_id)
    await tx.lock("staff", [seen.staff_id])
    await tx.lock("appointments", [appointment_id])
    found = await appointment_by_id(tx, studio_id, appointment_id)
    live = found.status == "held" and found.held_until is not None and found.held_until > now
    if not live:
        raise errors.AppointmentNotActive(status=found.status)
    policy = await service_policy(tx, studio_id, found.service_id)
    if not policy.online or found.price_minor <= 0:
        raise rules.PaymentNotOffered()
    minutes = await tx.scalar(
        "SELECT payment_hold_minutes FROM studios WHERE id = :s", {"s": studio_id}
    )
    return HeldForPayment(found, policy, int(minutes))


async def extend_hold_in(tx: Tx, appointment_id: int, until: datetime, now: datetime) -> None:
    """Keep the held slot until `until` (a payment link's expiry). Call under its lock."""
    moved = await tx.execute(
        "UPDATE appointments SET held_until = :until, updated_at = :now"
        " WHERE id = :id AND status = 'held'",
        {"id": appointment_id, "until": until, "now": now},
    )
    expect_moved(moved, f"extending the hold of appointment {appointment_id}")


async def lock_for_payment(tx: Tx, studio_id: int, appointment_id: int) -> None:
    """The appointment's staff row, then the appointment: before its payment's row."""
    seen = await appointment_by_id(tx, studio_id, appointment_id)
    await tx.lock("staff", [seen.staff_id])
    await tx.lock("appointments", [appointment_id])


async def confirm_in(tx: Tx, now: datetime, studio_id: int, appointment_id: int) -> Appointment:
    """Book the paid appointment (locked by `lock_for_payment`): a live hold is confirmed;
    a lapsed or let-go one is re-checked and booked afresh if its time is still free
    (SlotTaken if not); a confirmed one is returned as it is; a cancelled one is
    AppointmentNotActive. Reminders queued and the staff member told, as
    `appointments.confirm` does."""
    found = await appointment_by_id(tx, studio_id, appointment_id)
    return await confirm_locked(tx, now, studio_id, found)


async def free_in(tx: Tx, now: datetime, appointment_id: int) -> None:
    """Its link is dead: let the held slot go (a booked appointment stays booked)."""
    await tx.execute(
        "UPDATE appointments SET status = 'expired', updated_at = :now"
        " WHERE id = :id AND status = 'held'",
        {"id": appointment_id, "now": now},
    )


async def receipt_params(reads: Reads, studio_id: int, appointment_id: int) -> dict[str, Any]:
    """What a payment notice says of the appointment: its number as the booking reference,
    the service's name where a class's would go, its start."""
    try:
        found = await appointment_by_id(reads, studio_id, appointment_id)
    except errors.NotFound:
        return {"booking": appointment_id, "appointment": appointment_id}
    return {
        "booking": found.id,
        "appointment": found.id,
        "class_name": found.service_name,
        "service_name": found.service_name,
        "starts_at": found.starts_at.isoformat(),
    }


# --- cancelling a paid appointment ------------------------------------------------------------


async def paid_towards(tx: Tx, studio_id: int, appointment_id: int) -> list[Payment]:
    """The settled payments of an appointment that money could come back from."""
    rows = await tx.all(
        f"SELECT {COLUMNS} FROM payments p WHERE p.appointment_id = :a"  # noqa: S608
        " AND p.studio_id = :s AND p.status IN ('paid', 'partially_refunded') ORDER BY p.id",
        {"a": appointment_id, "s": studio_id},
    )
    return [p for p in map(payment_of, rows) if p.purpose in refunds.REFUNDABLE_PURPOSES]


async def refund_terms(
    tx: Tx, appointment: Appointment, *, before_cutoff: bool, by_staff: bool
) -> rules.CancellationTerms:
    """What cancelling the appointment gives back now (shown before the customer confirms,
    and written by `refund_cancelled_in`: the same function)."""
    policy = await service_policy(tx, appointment.studio_id, appointment.service_id)
    paid = [
        rules.Paid(
            p.id, p.purpose, p.amount_minor, p.refunded_minor + await refunds.unsent(tx, p.id)
        )
        for p in await paid_towards(tx, appointment.studio_id, appointment.id)
    ]
    return rules.cancellation_terms(policy, paid, before_cutoff=before_cutoff, by_staff=by_staff)


async def refund_cancelled_in(
    tx: Tx, now: datetime, appointment: Appointment, *, before_cutoff: bool, by_staff: bool
) -> list[int]:
    """In a cancellation's transaction (the appointment locked): refunds by the service's
    policy, written pending (keyed by payment and reason: deciding twice asks once), and
    links still open called off. The refunds' ids, for `submit_refunds` after it commits;
    the customer is told each amount when the provider accepts it."""
    terms = await refund_terms(tx, appointment, before_cutoff=before_cutoff, by_staff=by_staff)
    by_id = {p.id: p for p in await paid_towards(tx, appointment.studio_id, appointment.id)}
    reason = "staff_cancel" if by_staff else "customer_cancel"
    made = []
    for line in terms.lines:
        refund_id = await refunds.request_refund(
            tx, now, by_id[line.payment_id], line.amount_minor, reason=reason
        )
        if refund_id is not None:
            made.append(refund_id)
    # A link still open pays for nothing now: were it paid after all, the money finds the
    # appointment cancelled and is refunded in full (`payment_events`, a late payment).
    await tx.execute(
        "UPDATE payments SET status = 'cancelled', updated_at = :now WHERE appointment_id = :a"
        " AND studio_id = :s AND status IN ('scheduled', 'pending')",
        {"a": appointment.id, "s": appointment.studio_id, "now": now},
    )
    return made


async def submit_refunds(
    db: Database, clock: Clock, gateway: PaymentGateway | None, appointment_id: int
) -> int:
    """After a cancellation commits: ask the provider for the appointment's refunds not yet
    asked for (none without a gateway: reconciliation asks later). How many were asked."""
    rows = await db.all(
        "SELECT r.id FROM refunds r JOIN payments p ON p.id = r.payment_id"
        " WHERE p.appointment_id = :a AND r.status = 'pending' AND r.stripe_refund_id IS NULL"
        " ORDER BY r.id",
        {"a": appointment_id},
    )
    await refunds.submit_all(db, clock, gateway, [int(r["id"]) for r in rows])
    return len(rows) if gateway is not None else 0


async def refunded_for(reads: Reads, appointment_id: int, reason: str) -> int:
    """What the appointment's cancellation (`reason`: customer_cancel, staff_cancel) gives
    back, in minor units: its refunds written, sent or not, that did not fail."""
    total = await reads.scalar(
        "SELECT COALESCE(SUM(r.amount_minor), 0) FROM refunds r JOIN payments p"
        " ON p.id = r.payment_id WHERE p.appointment_id = :a AND r.reason = :reason"
        " AND r.status <> 'failed'",
        {"a": appointment_id, "reason": reason},
    )
    return int(total or 0)


async def payment_status(reads: Reads, studio_id: int, appointment_id: int) -> str | None:
    """One word for "My bookings" and the staff lists: paid, pending, refunded,
    partially_refunded, failed; None when nothing was paid online (paid at the studio)."""
    rows = await reads.all(
        "SELECT status FROM payments WHERE studio_id = :s AND appointment_id = :a ORDER BY id",
        {"s": studio_id, "a": appointment_id},
    )
    live = [str(r["status"]) for r in rows if r["status"] not in ("cancelled", "expired")]
    return live[-1] if live else None
