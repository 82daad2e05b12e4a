"""What the provider tells us about a payment, applied once: paid, failed, expired, refunded,
invoice paid. Webhook events (through the inbox) and the reconciliation job both come here.

Each outcome is a guarded transition of the payments row (`UPDATE ... WHERE status IN (...)`)
taken under the row's lock, so a duplicate event, two deliveries at once, or an event older
than what we know moves nothing: `expired` after `paid` finds it paid, a second `paid` finds
it paid. Locks are taken registration first, then payment (the order a cancellation takes
them in), so the two never wait on each other in a circle.

A payment for a booking confirms it through `holds.confirm_in`, in the transaction that
records the money: a hold that lapsed is booked afresh when its seats are still free (a late
payment). When they are not, or the booking was cancelled meanwhile, that transaction rolls
back, and a second one records the money as paid with a refund of all of it (reason
`late_payment`), telling the customer why; the refund goes to the provider after it commits.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import Clock
from bookbot.services import appointment_payments, funnel, holds, packages, refunds
from bookbot.services.payment_gateway import GatewayError, PaymentGateway
from bookbot.services.payment_rows import (
    COLUMNS,
    PAYABLE,
    Payment,
    lock_payment,
    move,
    notify_customer,
    notify_staff,
    payment_of,
)
from bookbot.services.registration_rows import StateMoved, lock_registration
from bookbot.store.db import Database, Tx, instant, retrying

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StripeEvent:
    """A provider event as the webhook stored it: its id, type and `data.object`."""

    id: str
    type: str
    object: dict[str, Any]

    @classmethod
    def from_payload(cls, event: dict[str, Any]) -> StripeEvent:
        return cls(str(event["id"]), str(event["type"]), dict(event["data"]["object"]))


class Outcome(StrEnum):
    PAID = "paid"  # booking confirmed (or pass active, balance or invoice paid)
    REFUNDED = "refunded"  # paid too late: the seats were gone; all of it refunded
    MISMATCH = "mismatch"  # not what we asked for: not confirmed, staff told
    EXPIRED = "expired"
    FAILED = "failed"
    UNCHANGED = "unchanged"  # a duplicate, stale, or not ours


@dataclass(frozen=True)
class Paid:
    """What the provider says was paid."""

    amount_minor: int | None
    currency: str | None
    payment_intent: str | None
    session_id: str | None = None
    receipt_url: str | None = None  # the charge's receipt page, when known


# --- finding the payment an object is about ----------------------------------------------


async def find_payment_id(db: Database, obj: dict[str, Any]) -> int | None:
    """Our payment id from the object's metadata or client_reference_id (the gateway writes
    both), else by the Session's or invoice's id."""
    metadata = obj.get("metadata") or {}
    for candidate in (metadata.get("payment_id"), obj.get("client_reference_id")):
        if isinstance(candidate, str) and candidate.isdigit():
            return int(candidate)
    kind, oid = obj.get("object"), obj.get("id")
    column = {"checkout.session": "stripe_session_id", "invoice": "stripe_invoice_id"}.get(
        str(kind)
    )
    if column is None or not isinstance(oid, str):
        return None
    found = await db.scalar(
        f"SELECT id FROM payments WHERE {column} = :oid",  # noqa: S608 - our column
        {"oid": oid},
    )
    return None if found is None else int(found)


async def read_payment(db: Database, payment_id: int) -> Payment | None:
    sql = f"SELECT {COLUMNS} FROM payments p WHERE p.id = :id"  # noqa: S608 - constants
    row = await db.one(sql, {"id": payment_id})
    return None if row is None else payment_of(row)


async def _lock(tx: Tx, payment: Payment) -> Payment | None:
    """Registration (if any; for an appointment its staff row, then it) then payment,
    locked; the payment as it is now."""
    if payment.registration_id is not None:
        await lock_registration(tx, payment.studio_id, payment.registration_id)
    if payment.appointment_id is not None:
        with suppress(errors.NotFound):  # deleted meanwhile: the payment alone
            await appointment_payments.lock_for_payment(
                tx, payment.studio_id, payment.appointment_id
            )
    return await lock_payment(tx, payment.id)


# --- paid ----------------------------------------------------------------------------------


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
            payment = await _lock(tx, first)
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
            payment = await _lock(tx, first)
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


# --- expired, failed ------------------------------------------------------------------------


async def settle_unpaid(
    db: Database, clock: Clock, payment_id: int, *, to: str, was: tuple[str, ...] = ("pending",)
) -> Outcome:
    """The link is dead (`expired`, or `failed`, or `cancelled` by us): the payment moves,
    and a hold it was keeping lets its seats go. A balance's first link that lapses is
    asked once more (the reminder); the second time staff are told it is unpaid."""
    first = await read_payment(db, payment_id)
    if first is None or first.status not in was:
        return Outcome.UNCHANGED

    async def attempt() -> Outcome:
        now = clock.now()
        async with db.transaction() as tx:
            payment = await _lock(tx, first)
            if payment is None or payment.status not in was:
                return Outcome.UNCHANGED
            if payment.purpose == rules.BALANCE:
                return await _balance_lapsed(tx, now, payment, to=to)
            await move(tx, payment.id, to=to, was=was, now=now)
            if payment.registration_id is not None and payment.purpose in (
                rules.FULL,
                rules.DEPOSIT,
            ):
                await holds.free_in(
                    tx,
                    now,
                    payment.studio_id,
                    payment.registration_id,
                    status="cancelled" if to == "cancelled" else "expired",
                )
            if payment.appointment_id is not None:
                await appointment_payments.free_in(tx, now, payment.appointment_id)
            if payment.pass_id is not None:
                await tx.execute(
                    "UPDATE passes SET status = 'cancelled'"
                    " WHERE id = :p AND status = 'pending_payment'",
                    {"p": payment.pass_id},
                )
            if payment.package_id is not None:
                await packages.cancel_pending_in(tx, now, payment.package_id)
            if to == "failed":
                await notify_customer(
                    tx,
                    now,
                    payment,
                    "payment_failed",
                    {"amount": payment.amount_minor, "currency": payment.currency},
                    key=str(payment.id),
                )
            return Outcome.FAILED if to == "failed" else Outcome.EXPIRED

    result: Outcome = await retrying(attempt)
    return result


async def _balance_lapsed(tx: Tx, now: datetime, payment: Payment, *, to: str) -> Outcome:
    from bookbot.services import balances

    await balances.lapsed(tx, now, payment, to=to)
    return Outcome.EXPIRED


# --- invoices --------------------------------------------------------------------------------


async def settle_invoice(
    db: Database, clock: Clock, invoice: dict[str, Any], *, paid: bool
) -> Outcome:
    payment_id = await find_payment_id(db, invoice)
    if payment_id is None:
        return Outcome.UNCHANGED
    first = await read_payment(db, payment_id)
    if first is None:
        return Outcome.UNCHANGED

    async def attempt() -> Outcome:
        now = clock.now()
        async with db.transaction() as tx:
            payment = await _lock(tx, first)
            if payment is None or payment.status != "invoiced":
                return Outcome.UNCHANGED
            params = {
                "payment": payment.id,
                "amount": payment.amount_minor,
                "currency": payment.currency,
            }
            if not paid:
                await notify_staff(
                    tx,
                    now,
                    payment.studio_id,
                    "payment_staff_invoice_failed",
                    params,
                    key=f"{payment.id}-{invoice.get('attempt_count', 0)}",
                )
                return Outcome.FAILED
            await tx.execute(
                "UPDATE payments SET status = 'paid', paid_at = :now, updated_at = :now"
                " WHERE id = :id AND status = 'invoiced'",
                {"id": payment.id, "now": now},
            )
            await notify_staff(
                tx, now, payment.studio_id, "payment_staff_paid", params, key=str(payment.id)
            )
            return Outcome.PAID

    result: Outcome = await retrying(attempt)
    return result


# --- events ----------------------------------------------------------------------------------


def paid_of(session: dict[str, Any]) -> Paid:
    intent = session.get("payment_intent")
    receipt = None
    if isinstance(intent, dict):  # expanded, perhaps with its charge
        charge = intent.get("latest_charge")
        receipt = charge.get("receipt_url") if isinstance(charge, dict) else None
        intent = intent.get("id")
    return Paid(
        amount_minor=session.get("amount_total"),
        currency=session.get("currency"),
        payment_intent=intent if isinstance(intent, str) else None,
        session_id=session.get("id"),
        receipt_url=receipt if isinstance(receipt, str) else None,
    )


async def apply_event(
    db: Database, clock: Clock, gateway: PaymentGateway | None, event: StripeEvent
) -> Outcome:
    """Apply one provider event (see the module docstring: once, in any order)."""
    obj = event.object
    if event.type in ("charge.refunded", "refund.updated"):
        apply = (
            refunds.apply_charge_refunded
            if event.type == "charge.refunded"
            else refunds.apply_refund_update
        )

        async def attempt() -> bool:
            async with db.transaction() as tx:
                return await apply(tx, clock.now(), obj)

        return Outcome.PAID if await retrying(attempt) else Outcome.UNCHANGED
    if event.type in ("invoice.paid", "invoice.payment_failed"):
        return await settle_invoice(db, clock, obj, paid=event.type == "invoice.paid")
    payment_id = await find_payment_id(db, obj)
    if payment_id is None:
        log.info("stripe event %s (%s): no payment of ours", event.id, event.type)
        return Outcome.UNCHANGED
    if event.type in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ):
        if obj.get("payment_status") != "paid":
            return Outcome.UNCHANGED  # a delayed method: wait for async_payment_succeeded
        return await settle_paid(db, clock, gateway, payment_id, paid_of(obj))
    if event.type == "checkout.session.async_payment_failed":
        return await settle_unpaid(db, clock, payment_id, to="failed")
    if event.type == "checkout.session.expired":
        return await settle_unpaid(db, clock, payment_id, to="expired")
    log.info("stripe event %s: type %s not handled", event.id, event.type)
    return Outcome.UNCHANGED


async def staff_refund(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway | None,
    payment_id: int,
    *,
    amount_minor: int,
    reason: str = "staff",
) -> int | None:
    """A refund staff ask for, `reason` being what they typed: see refunds.staff_refund (a
    payment may be refunded by staff several times; the same request twice refunds once).
    None when it cannot be refunded."""
    try:
        made = await refunds.staff_refund(
            db, clock, gateway, payment_id, amount_minor=amount_minor, note=reason
        )
    except refunds.RefundRefused:
        return None
    return None if made is None else made.refund_id
