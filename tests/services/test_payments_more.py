"""More payment paths end to end, on SQLite and PostgreSQL, through the real StripeGateway
against the local Stripe stand-in: receipts with Stripe's receipt URL, passes bought online,
delayed (async) payment methods, failed invoice payments, refunds that bounce or were never
sent, and a staff notice delivered through the real delivery worker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.reservations import PassKind
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import NoticeRouter
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.handlers.templates import render
from bookbot.jobs.delivery import DeliveryWorker, RateLimits
from bookbot.presentation.i18n import translator
from bookbot.services import cancellation, passes, payments, refunds, reservations
from bookbot.services.payments import Outcome
from bookbot.store.db import Database, instant
from tests.services.test_payments import KEY, URLS, Shop
from tests.stripe_standin import StripeStandIn
from tests.telegram_outbox import TelegramOutbox

STAFF_CHAT = -100


@pytest.fixture
async def standin(clock: FrozenClock) -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret="whsec_more") as running:
        running.clock = lambda: clock.now().timestamp()  # Stripe's time is the test's
        yield running


@pytest.fixture
async def gateway(standin: StripeStandIn) -> AsyncIterator[StripeGateway]:
    made = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    yield made
    await made.close()


@pytest.fixture
async def shop(
    db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
) -> Shop:
    return Shop(db, clock, gateway, standin)


async def _staff_chat(shop: Shop) -> None:
    async with shop.db.transaction() as tx:
        await tx.execute(
            "UPDATE studios SET staff_chat_id = :chat WHERE id = :s",
            {"chat": STAFF_CHAT, "s": shop.w.studio_id},
        )


async def _paid(shop: Shop, who: str = "ann") -> tuple[int, int]:
    """A booking for two, paid in full: (registration, payment)."""
    reg = await shop.hold(who, guests=2)
    link = await shop.checkout(reg, who=who)
    event = shop.standin.pay(await shop.session_id(link.payment_id))
    assert await shop.apply(event) is Outcome.PAID
    return reg, link.payment_id


def _charge_of(standin: StripeStandIn, intent: str) -> dict[str, Any]:
    return next(
        o
        for o in standin.objects.values()
        if o["object"] == "charge" and o["payment_intent"] == intent
    )


# --- the link's length ------------------------------------------------------------------------


async def test_a_30_minute_link_is_not_refused_when_stripes_clock_reads_later(
    shop: Shop,
) -> None:
    await shop.setup()  # the studio's default: hold for 30 minutes
    # Stripe creates the Session a few seconds after we computed its expiry.
    shop.standin.clock = lambda: shop.clock.now().timestamp() + 5
    reg = await shop.hold()
    link = await shop.checkout(reg)
    assert timedelta(minutes=30) < link.expires_at - shop.clock.now() < timedelta(minutes=31)
    session = shop.standin.objects[await shop.session_id(link.payment_id)]
    assert session["expires_at"] == int(link.expires_at.timestamp())
    held_until = await shop.db.scalar(
        "SELECT held_until FROM registrations WHERE id = :id", {"id": reg}
    )
    assert instant(held_until) == link.expires_at  # the hold ends with the Session


# --- receipts --------------------------------------------------------------------------------


async def test_the_receipt_carries_stripes_receipt_url(shop: Shop) -> None:
    await shop.setup()
    reg, payment_id = await _paid(shop)
    row = await shop.payment(payment_id)
    receipt_url = _charge_of(shop.standin, str(row["stripe_payment_intent"]))["receipt_url"]
    assert row["receipt_url"] == receipt_url
    [receipt] = await shop.outbox("payment_receipt")
    assert receipt["customer_id"] == shop.w["ann"]
    assert receipt_url in receipt["params"]
    assert f'"booking": {reg}' in receipt["params"]
    assert '"amount": 9000' in receipt["params"]


async def test_a_receipt_url_stripe_cannot_give_now_does_not_hold_the_booking(
    shop: Shop,
) -> None:
    await shop.setup()
    reg = await shop.hold(guests=2)
    link = await shop.checkout(reg)
    event = shop.standin.pay(await shop.session_id(link.payment_id))
    shop.standin.fail_next(500, on="GET /v1/checkout/sessions/*")
    assert await shop.apply(event) is Outcome.PAID
    assert await shop.reg_status(reg) == "confirmed"
    assert (await shop.payment(link.payment_id))["receipt_url"] is None
    [receipt] = await shop.outbox("payment_receipt")
    assert '"receipt_url": null' in receipt["params"]


async def test_reconciliation_stores_the_receipt_url_it_reads(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold()
    link = await shop.checkout(reg)
    shop.standin.pay(await shop.session_id(link.payment_id))  # its webhook is lost
    shop.clock.advance(timedelta(minutes=31))
    assert await payments.reconcile(shop.db, shop.clock, shop.gateway) == 1
    row = await shop.payment(link.payment_id)
    assert row["receipt_url"]
    assert str(row["receipt_url"]) in (await shop.outbox("payment_receipt"))[0]["params"]
    # one read of the Session: reconciliation's own, already expanded
    reads = shop.standin.calls_to("GET", f"/v1/checkout/sessions/{row['stripe_session_id']}")
    assert len(reads) == 1


# --- passes bought online ------------------------------------------------------------------


async def test_a_pass_bought_online_is_usable_only_once_paid(shop: Shop) -> None:
    await shop.setup()
    terms = passes.PassTerms(
        PassKind.PUNCH, sessions=5, valid_days=60, max_advance=None, price_minor=12000
    )
    link = await payments.start_pass_checkout(
        shop.db,
        shop.clock,
        shop.gateway,
        studio_id=shop.w.studio_id,
        customer_id=shop.w["ann"],
        class_id=shop.w["taster"],
        terms=terms,
        urls=URLS,
    )
    assert link.amount_minor == 12000
    row = await shop.payment(link.payment_id)
    pass_id = int(row["pass_id"])
    today = shop.clock.now().date()

    async def pass_status() -> str:
        return str(await shop.db.scalar("SELECT status FROM passes WHERE id = :p", {"p": pass_id}))

    async def reserve() -> None:
        await reservations.reserve(
            shop.db, shop.clock, shop.w.studio_id, shop.w["ann"], pass_id, session_id=shop.w["s1"]
        )

    assert await pass_status() == "pending_payment"
    assert await passes.customer_passes(shop.db, shop.w.studio_id, shop.w["ann"], today) == []
    with pytest.raises(errors.PassNotUsable):
        await reserve()

    event = shop.standin.pay(await shop.session_id(link.payment_id))
    assert await shop.apply(event) is Outcome.PAID
    assert await shop.apply(event) is Outcome.UNCHANGED
    assert await pass_status() == "active"
    [usable] = await passes.customer_passes(shop.db, shop.w.studio_id, shop.w["ann"], today)
    assert usable.id == pass_id
    await reserve()
    [receipt] = await shop.outbox("payment_receipt")
    assert f'"pass": {pass_id}' in receipt["params"]


async def test_a_pass_whose_link_expires_is_cancelled(shop: Shop) -> None:
    await shop.setup()
    link = await payments.start_pass_checkout(
        shop.db,
        shop.clock,
        shop.gateway,
        studio_id=shop.w.studio_id,
        customer_id=shop.w["ann"],
        class_id=shop.w["taster"],
        terms=passes.PassTerms(PassKind.UNLIMITED, valid_days=30, price_minor=9000),
        urls=URLS,
    )
    pass_id = (await shop.payment(link.payment_id))["pass_id"]
    event = shop.standin.expire(await shop.session_id(link.payment_id))
    assert await shop.apply(event) is Outcome.EXPIRED
    status = await shop.db.scalar("SELECT status FROM passes WHERE id = :p", {"p": pass_id})
    assert status == "cancelled"


# --- delayed payment methods ----------------------------------------------------------------


async def test_an_async_payment_that_succeeds_confirms(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold(guests=2)
    link = await shop.checkout(reg)
    sid = await shop.session_id(link.payment_id)
    completed = shop.standin.pay(sid, async_=True)  # a bank debit: complete, not yet paid
    assert await shop.apply(completed) is Outcome.UNCHANGED
    assert (await shop.payment(link.payment_id))["status"] == "pending"
    assert await shop.reg_status(reg) == "held"

    succeeded = shop.standin.succeed_async(sid)
    assert await shop.apply(succeeded) is Outcome.PAID
    assert await shop.apply(succeeded) is Outcome.UNCHANGED
    assert await shop.apply(completed) is Outcome.UNCHANGED  # the older event, again
    assert await shop.reg_status(reg) == "confirmed"
    assert (await shop.payment(link.payment_id))["status"] == "paid"
    assert len(await shop.outbox("payment_receipt")) == 1


async def test_an_async_payment_that_fails_releases_and_tells_the_customer(shop: Shop) -> None:
    await shop.setup(capacity=2)
    reg = await shop.hold(guests=2)
    link = await shop.checkout(reg)
    sid = await shop.session_id(link.payment_id)
    assert await shop.apply(shop.standin.pay(sid, async_=True)) is Outcome.UNCHANGED
    assert await shop.seats_taken() == 2

    failed = shop.standin.fail_async(sid)
    assert await shop.apply(failed) is Outcome.FAILED
    assert await shop.apply(failed) is Outcome.UNCHANGED
    assert (await shop.payment(link.payment_id))["status"] == "failed"
    assert await shop.reg_status(reg) == "expired"
    assert await shop.seats_taken() == 0
    [told] = await shop.outbox("payment_failed")
    assert told["customer_id"] == shop.w["ann"]
    assert '"amount": 9000' in told["params"]
    assert await shop.outbox("payment_receipt") == []


# --- company invoices -------------------------------------------------------------------------


async def test_a_failed_invoice_payment_tells_staff_and_keeps_the_booking(shop: Shop) -> None:
    await shop.setup(company_billing=True)
    await _staff_chat(shop)
    reg = await shop.hold(guests=2)
    payment_id = await payments.start_invoice(
        shop.db,
        shop.clock,
        shop.gateway,
        studio_id=shop.w.studio_id,
        customer_id=shop.w["ann"],
        registration_id=reg,
        company=payments.Company("Acme Ltd", "ap@acme.example"),
    )
    invoice_id = str((await shop.payment(payment_id))["stripe_invoice_id"])

    first = shop.standin.fail_invoice(invoice_id)
    assert await shop.apply(first) is Outcome.FAILED
    await shop.apply(first)  # delivered again
    assert len(await shop.outbox("payment_staff_invoice_failed")) == 1
    assert await shop.apply(shop.standin.fail_invoice(invoice_id)) is Outcome.FAILED
    assert len(await shop.outbox("payment_staff_invoice_failed")) == 2  # a second attempt
    assert (await shop.payment(payment_id))["status"] == "invoiced"
    assert await shop.reg_status(reg) == "confirmed"

    assert await shop.apply(shop.standin.pay_invoice(invoice_id)) is Outcome.PAID
    assert (await shop.payment(payment_id))["status"] == "paid"


# --- refunds ------------------------------------------------------------------------------------


async def test_a_refund_that_bounces_counts_off_and_tells_staff(shop: Shop) -> None:
    await shop.setup()
    await _staff_chat(shop)
    reg, payment_id = await _paid(shop)
    await cancellation.cancel_registration(
        shop.db, shop.clock, shop.w.studio_id, reg, customer_id=shop.w["ann"], gateway=shop.gateway
    )
    [refund] = await shop.refunds()
    assert refund["status"] == "pending"
    assert (await shop.payment(payment_id))["status"] == "refunded"

    bounced = shop.standin.refund_fails(str(refund["stripe_refund_id"]))
    assert await shop.apply(bounced) is Outcome.PAID  # applied: the refund moved
    assert await shop.apply(bounced) is Outcome.UNCHANGED
    assert [r["status"] for r in await shop.refunds()] == ["failed"]
    row = await shop.payment(payment_id)
    assert (row["status"], row["refunded_minor"]) == ("paid", 0)  # the money is ours again
    [staff] = await shop.outbox("payment_staff_refund_failed")
    assert staff["customer_id"] is None
    assert f'"payment": {payment_id}' in staff["params"]


async def test_a_refund_stripe_never_took_is_sent_by_reconciliation_once(shop: Shop) -> None:
    await shop.setup()
    reg, payment_id = await _paid(shop)
    shop.standin.outage(60)
    await cancellation.cancel_registration(
        shop.db, shop.clock, shop.w.studio_id, reg, customer_id=shop.w["ann"], gateway=shop.gateway
    )
    [refund] = await shop.refunds()
    assert (refund["status"], refund["stripe_refund_id"]) == ("pending", None)
    assert await shop.outbox("refund_issued") == []  # not told before Stripe has it
    assert shop.standin.calls_to("POST", "/v1/refunds") == []

    await payments.reconcile(shop.db, shop.clock, shop.gateway)  # Stripe still down
    assert (await shop.refunds())[0]["stripe_refund_id"] is None
    shop.standin.outage(0)
    await payments.reconcile(shop.db, shop.clock, shop.gateway)
    await payments.reconcile(shop.db, shop.clock, shop.gateway)

    [sent] = await shop.refunds()
    assert sent["stripe_refund_id"]
    calls = shop.standin.calls_to("POST", "/v1/refunds")
    assert [(c.status, c.idempotency_key) for c in calls] == [
        (200, f"refund:{payment_id}:customer_cancel")
    ]
    assert len([o for o in shop.standin.objects.values() if o["object"] == "refund"]) == 1
    assert (await shop.payment(payment_id))["refunded_minor"] == 9000
    assert len(await shop.outbox("refund_issued")) == 1


async def test_a_refund_whose_answer_was_lost_is_resent_with_its_key(shop: Shop) -> None:
    await shop.setup()
    reg, payment_id = await _paid(shop)
    shop.standin.lose_next_response(on="POST /v1/refunds")  # Stripe made it; we never heard
    await cancellation.cancel_registration(
        shop.db, shop.clock, shop.w.studio_id, reg, customer_id=shop.w["ann"], gateway=shop.gateway
    )
    assert (await shop.refunds())[0]["stripe_refund_id"] is None
    await payments.reconcile(shop.db, shop.clock, shop.gateway)
    await payments.reconcile(shop.db, shop.clock, shop.gateway)

    calls = shop.standin.calls_to("POST", "/v1/refunds")
    assert [c.replayed for c in calls] == [False, True]
    assert len({c.idempotency_key for c in calls}) == 1
    assert len([o for o in shop.standin.objects.values() if o["object"] == "refund"]) == 1
    assert (await shop.payment(payment_id))["refunded_minor"] == 9000
    assert len(await shop.outbox("refund_issued")) == 1


async def test_stripes_refund_event_before_our_record_counts_the_refund_once(shop: Shop) -> None:
    """Stripe made the refund but its answer was lost; its charge.refunded event (the
    running total) is applied before reconciliation records the refund: counted once."""
    await shop.setup()
    reg, payment_id = await _paid(shop)
    shop.standin.lose_next_response(on="POST /v1/refunds")
    await cancellation.cancel_registration(
        shop.db, shop.clock, shop.w.studio_id, reg, customer_id=shop.w["ann"], gateway=shop.gateway
    )
    await shop.apply(shop.standin.last_event("charge.refunded"))
    assert (await shop.payment(payment_id))["refunded_minor"] == 9000

    await payments.reconcile(shop.db, shop.clock, shop.gateway)

    row = await shop.payment(payment_id)
    assert (row["status"], row["refunded_minor"]) == ("refunded", 9000)
    assert len(await shop.outbox("refund_issued")) == 1


async def test_a_cancellation_never_promises_again_what_an_unsent_refund_promised(
    shop: Shop,
) -> None:
    """Staff refund £30 while Stripe is down (written, not sent); the customer then cancels:
    the cancellation gives back what is left (£60), not the whole £90 a second time."""
    await shop.setup()
    reg, payment_id = await _paid(shop)
    shop.standin.outage(60)
    await refunds.staff_refund(
        shop.db, shop.clock, shop.gateway, payment_id, amount_minor=3000, note="broken mug"
    )
    shop.standin.outage(0)
    await cancellation.cancel_registration(
        shop.db, shop.clock, shop.w.studio_id, reg, customer_id=shop.w["ann"], gateway=shop.gateway
    )
    await payments.reconcile(shop.db, shop.clock, shop.gateway)

    amounts = sorted((r["reason"], r["amount_minor"]) for r in await shop.refunds())
    assert amounts == [("customer_cancel", 6000), ("staff", 3000)]
    row = await shop.payment(payment_id)
    assert (row["status"], row["refunded_minor"]) == ("refunded", 9000)


# --- a staff notice, delivered ------------------------------------------------------------------


async def test_an_amount_mismatch_reaches_the_staff_chat(shop: Shop) -> None:
    await shop.setup()
    await _staff_chat(shop)
    reg = await shop.hold()
    link = await shop.checkout(reg)
    event = shop.standin.pay(await shop.session_id(link.payment_id), amount=100)
    assert await shop.apply(event) is Outcome.MISMATCH

    telegram = TelegramOutbox()  # the outside world: Telegram's sendMessage
    router = NoticeRouter(shop.db, shop.clock, telegram)
    worker = DeliveryWorker(
        shop.db,
        shop.clock,
        NoticeTransport(router),
        limits=RateLimits(per_channel={}, per_address={}),
    )
    stats = await worker.run_until_idle()

    staff = [(chat, text) for chat, text in telegram.sent if chat == STAFF_CHAT]
    assert len(staff) == 1, (stats, telegram.sent)
    text = staff[0][1]
    assert f"#{link.payment_id}" in text
    assert "not confirmed" in text
    status = await shop.db.scalar(
        "SELECT status FROM outbox WHERE template = 'payment_staff_mismatch'"
    )
    assert status == "sent"


async def test_the_mismatch_notice_renders(shop: Shop) -> None:
    """What the staff chat would read, rendered from the params the event queued (so the
    template finds every value it formats)."""
    await shop.setup()
    await _staff_chat(shop)
    reg = await shop.hold()
    link = await shop.checkout(reg)
    await shop.apply(shop.standin.pay(await shop.session_id(link.payment_id), amount=100))
    [queued] = await shop.outbox("payment_staff_mismatch")
    text = render(
        "payment_staff_mismatch", json.loads(queued["params"]), translator("en"), "Europe/London"
    )
    assert f"#{link.payment_id}" in text
    assert "not confirmed" in text
    assert "Stripe says £1.00." in text  # money, not raw minor units
