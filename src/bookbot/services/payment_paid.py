"""The provider says a payment was paid: confirm what it pays for, once (`settle_paid`).

A payment for a booking confirms it through `holds.confirm_in`, in the transaction that
records the money: a hold that lapsed is booked afresh when its seats are still free (a late
payment). When they are not, or the booking was cancelled meanwhile, that transaction rolls
back, and a second one records the money as paid with a refund of all of it (reason
`late_payment`), telling the customer why; the refund goes to the provider after it commits.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import Clock
from bookbot.services import appointment_payments, funnel, holds, packages, refunds
from bookbot.services.payment_gateway import GatewayError, PaymentGateway
from bookbot.services.payment_rows import (
    PAYABLE,
    Payment,
    notify_customer,
    notify_staff,
)
from bookbot.services.payment_settling import Outcome, Paid, lock_for_settling, read_payment
from bookbot.services.registration_rows import StateMoved
from bookbot.store.db import Database, Tx, instant, retrying

log = logging.getLogger(__name__)


async def settle_paid(
    db: Database, clock: Clock, gateway: PaymentGateway | None, payment_id: int, paid: Paid
) -> Outcome:
    """The provider says `paid` for this payment: confirm what it pays for, once."""
    first = await read_payment(db, payment_id)
    if first is None or first.status not in PAYABLE:
        return Outcome.UNCHANGED
    paid = await _with_receipt(gateway, first, paid)

    async def attempt() -> Outcome:
        now = clock.now()
        async with db.transaction() as tx:
            payment = await lock_for_settling(tx, first)
            if payment is None or payment.status not in PAYABLE:
                return Outcome.UNCHANGED
            if not rules.paid_as_expected(
                payment.amount_minor, payment.currency, paid.amount_minor, paid.currency
            ):
                await _mismatch(tx, now, payment, paid)
                return Outcome.MISMATCH
            await _mark_paid(tx, now, payment, paid)
            await _fulfil(tx, now, payment, receipt_url=paid.receipt_url or payment.receipt_url)
            return Outcome.PAID

    try:
        return await retrying(attempt)
    except errors.BookingError as refusal:
        # Everything above rolled back: the seats went (or the booking was cancelled) before
        # the money came. Keep the money's record, and give all of it back.
        return await _refund_late(db, clock, gateway, first, paid=paid, refusal=refusal)


async def _with_receipt(gateway: PaymentGateway | None, payment: Payment, paid: Paid) -> Paid:
    """`paid` with the receipt page the customer's receipt links to. A Session event does
    not carry it (it is on the charge), so the Session is read again, expanded, before any
    transaction opens. Not reachable now: the receipt goes without the link rather than
    the booking waiting for it."""
    session_id = paid.session_id or payment.stripe_session_id
    if paid.receipt_url or payment.receipt_url or gateway is None or session_id is None:
        return paid
    try:
        session = await gateway.get_checkout(session_id)
    except GatewayError as error:
        log.warning("payment %s: receipt URL not read: %s", payment.id, error)
        return paid
    return replace(paid, receipt_url=session.receipt_url)


async def _mark_paid(tx: Tx, now: datetime, payment: Payment, paid: Paid) -> None:
    marks = ", ".join(f"'{s}'" for s in PAYABLE)
    moved = await tx.execute(
        "UPDATE payments SET status = 'paid', paid_at = :now, updated_at = :now,"  # noqa: S608
        " stripe_payment_intent = COALESCE(:intent, stripe_payment_intent),"
        " stripe_session_id = COALESCE(stripe_session_id, :sid),"
        " receipt_url = COALESCE(:receipt, receipt_url)"
        f" WHERE id = :id AND status IN ({marks})",
        {
            "id": payment.id,
            "now": now,
            "intent": paid.payment_intent,
            "sid": paid.session_id,
            "receipt": paid.receipt_url,
        },
    )
    if moved != 1:
        raise StateMoved(f"payment {payment.id} moved while locked")


async def _fulfil(tx: Tx, now: datetime, payment: Payment, *, receipt_url: str | None) -> None:
    """What the money buys, in the transaction that records it."""
    params: dict[str, Any] = {"amount": payment.amount_minor, "currency": payment.currency}
    if payment.purpose in (rules.FULL, rules.DEPOSIT) and payment.registration_id is not None:
        booked = await holds.confirm_in(
            tx, now, payment.studio_id, payment.customer_id, payment.registration_id
        )
        if booked.id != payment.registration_id:  # a lapsed hold, booked afresh
            await tx.execute(
                "UPDATE payments SET registration_id = :r WHERE id = :id",
                {"r": booked.id, "id": payment.id},
            )
        params |= await _booking_params(tx, payment.studio_id, booked.id)
        if payment.purpose == rules.DEPOSIT:
            await _schedule_balance(tx, now, payment, booked.id, booked.price_minor)
    elif payment.registration_id is not None:
        params |= await _booking_params(tx, payment.studio_id, payment.registration_id)
    if payment.appointment_id is not None:
        booked_appointment = await appointment_payments.confirm_in(
            tx, now, payment.studio_id, payment.appointment_id
        )
        params |= await appointment_payments.receipt_params(
            tx, payment.studio_id, booked_appointment.id
        )
    if payment.purpose == rules.PASS and payment.pass_id is not None:
        await tx.execute(
            "UPDATE passes SET status = 'active' WHERE id = :p AND status = 'pending_payment'",
            {"p": payment.pass_id},
        )
        params["pass"] = payment.pass_id
    if payment.package_id is not None:
        await packages.activate_in(tx, now, payment.package_id)
        params["package"] = payment.package_id
    await funnel.record_paid(tx, now, payment.studio_id, payment.id)  # a purchase completed
    params["purpose"] = payment.purpose
    params["receipt_url"] = receipt_url
    await notify_customer(tx, now, payment, "payment_receipt", params, key=str(payment.id))
    await notify_staff(
        tx,
        now,
        payment.studio_id,
        "payment_staff_paid",
        params | {"payment": payment.id},
        key=str(payment.id),
    )


async def _booking_params(tx: Tx, studio_id: int, registration_id: int) -> dict[str, Any]:
    row = await tx.one(
        "SELECT k.name AS class_name, (SELECT MIN(s.starts_at) FROM registration_sessions rs"
        " JOIN sessions s ON s.id = rs.session_id WHERE rs.registration_id = r.id) AS starts_at"
        " FROM registrations r JOIN classes k ON k.id = r.class_id"
        " WHERE r.studio_id = :s AND r.id = :r",
        {"s": studio_id, "r": registration_id},
    )
    if row is None:
        return {"booking": registration_id}
    starts = row["starts_at"]
    params: dict[str, Any] = {
        "booking": registration_id,
        "class_name": row["class_name"],
        "starts_at": None if starts is None else instant(starts).isoformat(),
    }
    # A booking of one session (a multi-day course is one): the receipt names its dates.
    sessions = await tx.all(
        "SELECT s.ends_at, s.days FROM registration_sessions rs JOIN sessions s"
        " ON s.id = rs.session_id WHERE rs.studio_id = :s AND rs.registration_id = :r",
        {"s": studio_id, "r": registration_id},
    )
    if len(sessions) == 1 and starts is not None:
        params["ends_at"] = instant(sessions[0]["ends_at"]).isoformat()
        params["days"] = int(sessions[0]["days"] or 1)
    return params


async def _schedule_balance(
    tx: Tx, now: datetime, deposit: Payment, registration_id: int, total: int
) -> None:
    """The rest of the price, as a payment to ask for `balance_due_days` before the start."""
    policy = await refunds.class_policy(tx, deposit.studio_id, registration_id)
    starts = await tx.scalar(
        "SELECT MIN(s.starts_at) FROM registration_sessions rs JOIN sessions s"
        " ON s.id = rs.session_id WHERE rs.registration_id = :r",
        {"r": registration_id},
    )
    due = max(rules.balance_due_at(instant(starts), policy), now) if starts is not None else now
    await tx.execute(
        "INSERT INTO payments (studio_id, customer_id, registration_id, purpose, amount_minor,"
        " currency, status, due_at, created_at, updated_at) SELECT :s, :c, :r, 'balance', :amount,"
        " :currency, 'scheduled', :due, :now, :now WHERE NOT EXISTS (SELECT 1 FROM payments"
        " WHERE registration_id = :r AND purpose = 'balance')",
        {
            "s": deposit.studio_id,
            "c": deposit.customer_id,
            "r": registration_id,
            "amount": total - deposit.amount_minor,
            "currency": deposit.currency,
            "due": due,
            "now": now,
        },
    )


async def _mismatch(tx: Tx, now: datetime, payment: Payment, paid: Paid) -> None:
    """Not what we asked for: recorded as failed (with the provider's ids, so staff can
    refund it), nothing confirmed, staff told. The hold lapses as any unpaid one does."""
    await tx.execute(
        "UPDATE payments SET status = 'failed', updated_at = :now,"
        " stripe_payment_intent = COALESCE(:intent, stripe_payment_intent) WHERE id = :id",
        {"id": payment.id, "now": now, "intent": paid.payment_intent},
    )
    log.error(
        "payment %s: paid %s %s, expected %s %s; not confirmed",
        payment.id,
        paid.amount_minor,
        paid.currency,
        payment.amount_minor,
        payment.currency,
    )
    await notify_staff(
        tx,
        now,
        payment.studio_id,
        "payment_staff_mismatch",
        {
            "payment": payment.id,
            "amount": payment.amount_minor,  # what every payment notice formats first
            "expected": payment.amount_minor,
            "currency": payment.currency,
            "paid": paid.amount_minor,
            "paid_currency": (paid.currency or "").upper(),
        },
        key=str(payment.id),
    )


async def _refund_late(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway | None,
    first: Payment,
    *,
    paid: Paid,
    refusal: errors.BookingError,
) -> Outcome:
    async def attempt() -> int | None:
        now = clock.now()
        async with db.transaction() as tx:
            payment = await lock_for_settling(tx, first)
            if payment is None or payment.status not in PAYABLE:
                return None
            await _mark_paid(tx, now, payment, paid)
            refund_id = await refunds.request_refund(
                tx, now, payment, payment.amount_minor, reason="late_payment"
            )
            params = {"amount": payment.amount_minor, "currency": payment.currency}
            if payment.registration_id is not None:
                params |= await _booking_params(tx, payment.studio_id, payment.registration_id)
            if payment.appointment_id is not None:
                params |= await appointment_payments.receipt_params(
                    tx, payment.studio_id, payment.appointment_id
                )
            params["why"] = refusal.code
            await notify_customer(
                tx, now, payment, "payment_refunded_late", params, key=str(payment.id)
            )
            return refund_id

    refund_id = await retrying(attempt)
    if refund_id is None:
        return Outcome.UNCHANGED
    log.info("payment %s came too late (%s): refunding", first.id, refusal.code)
    await refunds.submit_all(db, clock, gateway, [refund_id])
    return Outcome.REFUNDED
