"""A customer cancelling a booking paid online: the refund they are quoted before confirming is
the refund written and sent to Stripe (the stand-in, through the real StripeGateway), before
and after the studio's 48 h cutoff; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.payments import CancellationTerms, Choice, RefundChanged
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.services import cancellation, holds
from bookbot.store.db import Database
from tests.services.test_payments import KEY, Shop, _paid_booking
from tests.stripe_standin import StripeStandIn


@pytest.fixture
async def standin(clock: FrozenClock) -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret="whsec_c") as running:
        running.clock = lambda: clock.now().timestamp()
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


async def _quote(shop: Shop, reg: int, who: str = "ann") -> CancellationTerms | None:
    return await cancellation.quote_cancellation(
        shop.db, shop.clock, shop.w.studio_id, reg, customer_id=shop.w[who]
    )


async def _cancel(shop: Shop, reg: int, expected: int | None) -> cancellation.Cancellation:
    return await cancellation.cancel_registration(
        shop.db,
        shop.clock,
        shop.w.studio_id,
        reg,
        customer_id=shop.w["ann"],
        gateway=shop.gateway,
        expected_refund=expected,
    )


def _refunds_asked(shop: Shop) -> list[int]:
    """The amounts Stripe was asked to refund."""
    return [int(call.params["amount"]) for call in shop.standin.calls_to("POST", "/v1/refunds")]


def _past_the_cutoff(shop: Shop) -> None:
    shop.clock.advance(timedelta(days=19))  # the session is 24 h away, the cutoff 48 h


async def test_before_the_cutoff_the_quote_is_everything_and_that_is_refunded(shop: Shop) -> None:
    await shop.setup(refund_after_cutoff_percent=50)
    reg, payment_id = await _paid_booking(shop)

    terms = await _quote(shop, reg)

    assert terms is not None
    assert (terms.total, terms.late, terms.deposit_kept) == (9000, False, False)
    await _cancel(shop, reg, terms.total)
    assert [(r["amount_minor"], r["reason"]) for r in await shop.refunds()] == [
        (terms.total, "customer_cancel")
    ]
    assert _refunds_asked(shop) == [terms.total]
    assert (await shop.payment(payment_id))["status"] == "refunded"
    assert await shop.seats_taken() == 0


async def test_after_the_cutoff_the_class_percentage_comes_back(shop: Shop) -> None:
    await shop.setup(refund_after_cutoff_percent=50)
    reg, payment_id = await _paid_booking(shop)
    _past_the_cutoff(shop)

    terms = await _quote(shop, reg)

    assert terms is not None
    assert (terms.total, terms.late, terms.percent) == (4500, True, 50)
    await _cancel(shop, reg, terms.total)
    assert [r["amount_minor"] for r in await shop.refunds()] == [4500]
    assert _refunds_asked(shop) == [4500]
    payment = await shop.payment(payment_id)
    assert (payment["status"], payment["refunded_minor"]) == ("partially_refunded", 4500)
    assert await shop.reg_status(reg) == "cancelled"
    assert await shop.seats_taken() == 0  # the seats are on sale again
    [told] = await shop.outbox("refund_issued")
    assert '"amount": 4500' in str(told["params"]).replace("'", '"')


async def test_after_the_cutoff_with_no_refund_it_can_still_be_cancelled(shop: Shop) -> None:
    await shop.setup()  # refund_after_cutoff_percent defaults to 0: "none after the cutoff"
    reg, payment_id = await _paid_booking(shop)
    _past_the_cutoff(shop)

    terms = await _quote(shop, reg)

    assert terms is not None
    assert (terms.total, terms.late, terms.percent) == (0, True, 0)
    await _cancel(shop, reg, 0)
    assert await shop.refunds() == []
    assert _refunds_asked(shop) == []
    assert (await shop.payment(payment_id))["status"] == "paid"
    assert await shop.reg_status(reg) == "cancelled"


async def test_a_non_refundable_deposit_is_kept_after_the_cutoff(shop: Shop) -> None:
    await shop.setup(deposit_percent=30, deposit_refundable=False, refund_after_cutoff_percent=50)
    reg, _payment = await _paid_booking(shop, choice=Choice.DEPOSIT)
    _past_the_cutoff(shop)

    terms = await _quote(shop, reg)

    assert terms is not None
    assert (terms.total, terms.deposit_kept) == (0, True)
    await _cancel(shop, reg, 0)
    assert await shop.refunds() == []
    assert _refunds_asked(shop) == []
    # The balance not paid yet is called off rather than asked for.
    statuses = await shop.db.all("SELECT purpose, status FROM payments ORDER BY id")
    assert [(r["purpose"], r["status"]) for r in statuses] == [
        ("deposit", "paid"),
        ("balance", "cancelled"),
    ]


async def test_a_refundable_deposit_comes_back_by_the_percentage(shop: Shop) -> None:
    await shop.setup(deposit_percent=30, refund_after_cutoff_percent=50)
    reg, _payment = await _paid_booking(shop, choice=Choice.DEPOSIT)
    _past_the_cutoff(shop)
    terms = await _quote(shop, reg)
    assert terms is not None
    assert (terms.total, terms.deposit_kept) == (1350, False)  # 50% of the £27.00 deposit
    await _cancel(shop, reg, terms.total)
    assert _refunds_asked(shop) == [1350]


async def test_paid_at_the_studio_the_cutoff_still_holds(shop: Shop) -> None:
    await shop.setup(payment="at_studio")
    reg = await shop.hold()
    await holds.confirm_hold(shop.db, shop.clock, shop.w.studio_id, shop.w["ann"], reg)
    _past_the_cutoff(shop)

    assert await _quote(shop, reg) is None  # nothing paid online: the usual question
    with pytest.raises(errors.CancellationTooLate):
        await _cancel(shop, reg, 0)
    assert await shop.reg_status(reg) == "confirmed"


async def test_a_quote_overtaken_by_the_cutoff_cancels_nothing(shop: Shop) -> None:
    await shop.setup(refund_after_cutoff_percent=50)
    reg, payment_id = await _paid_booking(shop)
    terms = await _quote(shop, reg)
    assert terms is not None
    _past_the_cutoff(shop)  # they took their time confirming

    with pytest.raises(RefundChanged):
        await _cancel(shop, reg, terms.total)

    assert await shop.reg_status(reg) == "confirmed"
    assert await shop.refunds() == []
    assert (await shop.payment(payment_id))["status"] == "paid"
    again = await _quote(shop, reg)
    assert again is not None
    await _cancel(shop, reg, again.total)
    assert _refunds_asked(shop) == [4500]


async def test_someone_elses_booking_gets_no_quote(shop: Shop) -> None:
    await shop.setup()
    reg, _payment = await _paid_booking(shop, "bob")
    assert await _quote(shop, reg, "ann") is None
