"""What the provider tells us about a payment, applied once: paid, failed, expired, refunded,
invoice paid. Webhook events (through the inbox) and the reconciliation job both come here.

This module reads the events. A payment paid is settled in `payment_paid` (a late payment
refunded there); a dead link or an invoice in `payment_settling`, which says how each outcome
is applied once. The names callers use are re-exported here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bookbot.engine.clock import Clock
from bookbot.services import refunds
from bookbot.services.payment_gateway import PaymentGateway
from bookbot.services.payment_paid import settle_paid
from bookbot.services.payment_settling import (
    Outcome,
    Paid,
    find_payment_id,
    read_payment,
    settle_invoice,
    settle_unpaid,
)
from bookbot.store.db import Database, retrying

__all__ = [
    "Outcome",
    "Paid",
    "StripeEvent",
    "apply_event",
    "find_payment_id",
    "paid_of",
    "read_payment",
    "settle_invoice",
    "settle_paid",
    "settle_unpaid",
    "staff_refund",
]

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
