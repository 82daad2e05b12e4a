"""Payments in chat, and the job that keeps them honest. A payment is started and called off
in `payment_checkout`; company invoices are in `company_invoices`; events are applied in
`payment_events`; refunds in `refunds`; balances in `balances`. The names callers use are
re-exported here.

`reconcile` is for lost webhooks: every pending payment past its expiry is looked up, and
what the provider says is applied through the same code as the events (so once). A hold
that lapses is handled here too: the Session expires at the hold's end (both are
`expires_at`), so Stripe refuses payment from then on, and reconciliation expires it
explicitly and marks it. Backing out (`cancel_checkout`) expires the Session at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bookbot.engine.clock import Clock
from bookbot.services import refunds
from bookbot.services.company_invoices import (
    BATCH,
    INVOICE_ATTEMPTS,
    Company,
    retry_invoices,
    start_invoice,
)
from bookbot.services.payment_checkout import (
    Checkout,
    ReturnUrls,
    call_off,
    cancel_checkout,
    insert_payment,
    link_expiry,
    open_session,
    paid_of_session,
    start_appointment_checkout,
    start_checkout,
    start_pass_checkout,
)
from bookbot.services.payment_events import (
    Outcome,
    StripeEvent,
    apply_event,
    read_payment,
    settle_paid,
    settle_unpaid,
    staff_refund,
)
from bookbot.services.payment_gateway import GatewayError, PaymentGateway
from bookbot.store.db import Database

__all__ = [
    "BATCH",
    "INVOICE_ATTEMPTS",
    "STALE_SQL",
    "Checkout",
    "Company",
    "Outcome",
    "ReturnUrls",
    "StripeEvent",
    "apply_event",
    "call_off",
    "cancel_checkout",
    "insert_payment",
    "link_expiry",
    "open_session",
    "paid_of_session",
    "read_payment",
    "reconcile",
    "staff_refund",
    "start_appointment_checkout",
    "start_checkout",
    "start_invoice",
    "start_pass_checkout",
]

log = logging.getLogger(__name__)

# `ix_payments_pending` holds only pending payments, by expiry: the job reads the ones whose
# link has run out, and stops.
STALE_SQL = """SELECT id FROM payments WHERE status = 'pending' AND expires_at <= :now
ORDER BY expires_at, id LIMIT :limit"""


async def reconcile(
    db: Database, clock: Clock, gateway: PaymentGateway, *, batch: int = BATCH
) -> int:
    """Pending payments past their expiry: ask the provider, apply its answer once. Also
    refunds decided but never accepted by the provider. How many payments were settled."""
    rows = await db.all(STALE_SQL, {"now": clock.now(), "limit": batch})
    settled = 0
    for row in rows:
        try:
            outcome = await _reconcile_one(db, clock, gateway, int(row["id"]))
        except GatewayError as error:
            log.warning("reconcile payment %s: %s", row["id"], error)
            continue
        settled += outcome is not Outcome.UNCHANGED
        await asyncio.sleep(0)
    await refunds.submit_pending(db, clock, gateway, batch=batch)
    await retry_invoices(db, clock, gateway, batch=batch)
    return settled


async def _reconcile_one(
    db: Database, clock: Clock, gateway: PaymentGateway, payment_id: int
) -> Outcome:
    payment = await read_payment(db, payment_id)
    if payment is None or payment.status != "pending":
        return Outcome.UNCHANGED
    if payment.stripe_session_id is None:
        # Written, but the provider's answer never stored: its link was never shown.
        return await settle_unpaid(db, clock, payment.id, to="cancelled")
    session = await gateway.get_checkout(payment.stripe_session_id)
    if session.status == "open":
        session = await gateway.expire_checkout(session.id)
    if session.payment_status == "paid":
        return await settle_paid(db, clock, gateway, payment.id, paid_of_session(session))
    if session.status == "complete":
        # A delayed method still settling: look again in an hour, not every tick.
        await db.execute(
            "UPDATE payments SET expires_at = :later WHERE id = :id AND status = 'pending'",
            {"later": clock.now() + timedelta(hours=1), "id": payment.id},
        )
        return Outcome.UNCHANGED
    return await settle_unpaid(db, clock, payment.id, to="expired")
