"""Company invoices Stripe could not make when the booking was confirmed: reconciliation
asks again with the same keys (one invoice, even after a lost answer), bounded, staff told
once when it gives up; staff see them as outstanding. Both databases, the Stripe stand-in."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bookbot.services import payment_reports, payments
from bookbot.services.payment_gateway import GatewayError
from tests.services import test_payments as base
from tests.services.test_payments import Shop

# The payments tests' fixtures: the stand-in, the real gateway against it, and the shop.
standin, gateway, shop = base.standin, base.gateway, base.shop

ACME = payments.Company("Acme Ltd", "ap@acme.example", "PO-7")


async def _invoice_in_outage(shop: Shop) -> tuple[int, int]:
    """A booking billed to Acme while Stripe answers 503: confirmed, its invoice unsent."""
    await shop.setup(company_billing=True)
    await shop.db.execute("UPDATE studios SET staff_chat_id = 4242")
    reg = await shop.hold(guests=2)
    shop.standin.outage(3600)
    with pytest.raises(GatewayError):
        await payments.start_invoice(
            shop.db,
            shop.clock,
            shop.gateway,
            studio_id=shop.w.studio_id,
            customer_id=shop.w["ann"],
            registration_id=reg,
            company=ACME,
        )
    shop.standin.outage(0)
    row = await shop.db.one("SELECT id FROM payments WHERE purpose = 'invoice'")
    assert row is not None
    return reg, int(row["id"])


def _invoices_made(shop: Shop) -> int:
    return len([c for c in shop.standin.calls_to("POST", "/v1/invoices") if not c.replayed])


async def test_an_outage_then_reconcile_sends_exactly_one_invoice(shop: Shop) -> None:
    reg, payment_id = await _invoice_in_outage(shop)
    assert await shop.reg_status(reg) == "confirmed"  # the booking stands
    row = await shop.payment(payment_id)
    assert (row["status"], row["stripe_invoice_id"], row["attempt"]) == ("pending", None, 2)
    owed = await payment_reports.outstanding(shop.db, shop.w.studio_id, shop.clock.now())
    assert [(p.id, p.status) for p in owed] == [(payment_id, "pending")]

    await payments.reconcile(shop.db, shop.clock, shop.gateway)  # too soon: waits 5 min
    assert (await shop.payment(payment_id))["status"] == "pending"
    shop.clock.advance(timedelta(minutes=6))
    await payments.reconcile(shop.db, shop.clock, shop.gateway)
    row = await shop.payment(payment_id)
    assert row["status"] == "invoiced"
    assert row["stripe_invoice_id"]
    assert _invoices_made(shop) == 1
    keys = {c.idempotency_key for c in shop.standin.calls_to("POST", "/v1/invoices")}
    assert keys == {f"invoice:{payment_id}:invoice"}
    shop.clock.advance(timedelta(hours=1))
    await payments.reconcile(shop.db, shop.clock, shop.gateway)  # nothing more
    assert _invoices_made(shop) == 1
    owed = await payment_reports.outstanding(shop.db, shop.w.studio_id, shop.clock.now())
    assert [(p.id, p.status) for p in owed] == [(payment_id, "invoiced")]


async def test_a_lost_answer_makes_one_invoice(shop: Shop) -> None:
    await shop.setup(company_billing=True)
    reg = await shop.hold(guests=2)
    # Stripe makes the invoice but the answer never comes back.
    shop.standin.lose_next_response(on="POST /v1/invoices")
    with pytest.raises(GatewayError):
        await payments.start_invoice(
            shop.db,
            shop.clock,
            shop.gateway,
            studio_id=shop.w.studio_id,
            customer_id=shop.w["ann"],
            registration_id=reg,
            company=ACME,
        )
    shop.clock.advance(timedelta(minutes=6))
    await payments.reconcile(shop.db, shop.clock, shop.gateway)
    row = await shop.db.one("SELECT status, stripe_invoice_id FROM payments")
    assert row is not None
    assert row["status"] == "invoiced"
    assert _invoices_made(shop) == 1  # the retry replayed the first, by its key
    event = shop.standin.pay_invoice(str(row["stripe_invoice_id"]))
    assert await shop.apply(event) is base.Outcome.PAID


async def test_staff_are_told_once_when_it_gives_up(shop: Shop) -> None:
    _reg, payment_id = await _invoice_in_outage(shop)
    shop.standin.outage(10**6)
    for _ in range(payments.INVOICE_ATTEMPTS + 3):
        shop.clock.advance(timedelta(hours=4, minutes=1))
        await payments.reconcile(shop.db, shop.clock, shop.gateway)
    row = await shop.payment(payment_id)
    assert row["status"] == "pending"
    assert row["reminded_at"] is not None  # given up on
    told = await shop.db.all(
        "SELECT params FROM outbox WHERE template = 'payment_staff_invoice_unsent'"
    )
    assert len(told) == 1
    params = json.loads(told[0]["params"])
    assert (params["payment"], params["company"], params["amount"]) == (
        payment_id,
        "Acme Ltd",
        9000,
    )
    # Still listed for staff, to invoice by hand.
    owed = await payment_reports.outstanding(shop.db, shop.w.studio_id, shop.clock.now())
    assert [p.id for p in owed] == [payment_id]
    shop.standin.outage(0)
    shop.clock.advance(timedelta(hours=5))
    await payments.reconcile(shop.db, shop.clock, shop.gateway)
    assert _invoices_made(shop) == 0  # past Stripe's 24 h of keys: never asked again
