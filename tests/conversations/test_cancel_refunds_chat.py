"""Cancelling a booking paid online in chat: the confirmation says what comes back, by the
class's policy, and that is what is refunded (rows, and the Stripe stand-in's refund calls,
through the real StripeGateway); on SQLite and PostgreSQL.

The example studio's cutoff is 48 h; it is Fri 20 Nov 09:00. The taster on Sat 21 Nov is
inside the cutoff (50% back), the one on Sat 28 Nov before it. The wheel course's deposit is
not refundable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.states import PaymentSetup
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.handlers.stripe_webhook import SOURCE, WEBHOOK_PATH, StripeWebhook
from bookbot.handlers.web import make_app
from bookbot.jobs.inbox_worker import InboxWorker
from bookbot.store.db import Database, instant
from tests.conversations.chat import Chat
from tests.conversations.test_payments_chat import KEY, PUBLIC, SECRET, Shop
from tests.stripe_standin import StripeStandIn


@pytest.fixture
async def standin(clock: FrozenClock) -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as running:
        running.clock = lambda: clock.now().timestamp()
        yield running


@pytest.fixture
async def shop(
    db: Database,
    clock: FrozenClock,
    studio_id: int,  # noqa: ARG001 - the example studio is loaded first
    standin: StripeStandIn,
) -> AsyncIterator[Shop]:
    gateway = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    webhook = StripeWebhook(db, clock, SECRET, gateway=gateway)
    server = TestServer(make_app(*webhook.routes()))
    await server.start_server()
    try:
        yield Shop(
            db,
            clock,
            standin,
            gateway,
            Dialogues(db, clock, payments=PaymentSetup(gateway, PUBLIC)),
            str(server.make_url(WEBHOOK_PATH)),
            InboxWorker(db, clock, {SOURCE: webhook}),
        )
    finally:
        await server.close()
        await gateway.close()


async def _paid(shop: Shop, chat: Chat, class_name: str, date: str, pay: str) -> None:
    """Book for 2 on `date`, pay with the `pay` option on Stripe's page, the event applied."""
    await chat.say("/start")
    await chat.say("book")
    await chat.say(class_name)
    await (chat.say(date) if date.isdigit() else chat.press(date))
    await chat.say("2")
    await chat.press(pay)
    await shop.deliver(shop.standin.pay(str((await shop.payment())["stripe_session_id"])))


async def _to_cancel_question(chat: Chat, class_name: str) -> None:
    await chat.say("my")
    await chat.press(class_name)
    await chat.press("Cancel this booking")
    assert "This cannot be undone." in chat.text


async def _refunds(shop: Shop) -> list[int]:
    rows = await shop.db.all("SELECT amount_minor FROM refunds ORDER BY id")
    return [int(r["amount_minor"]) for r in rows]


def _asked(shop: Shop) -> list[int]:
    return [int(c.params["amount"]) for c in shop.standin.calls_to("POST", "/v1/refunds")]


async def test_before_the_cutoff_everything_comes_back(shop: Shop) -> None:
    chat = shop.chat()
    await _paid(shop, chat, "Wheel Throwing Taster", "Sat 28 Nov", "💳 Pay now")
    await _to_cancel_question(chat, "Wheel Throwing Taster")

    assert "You'll get £90.00 back." in chat.text

    await chat.press("Yes, cancel it")
    assert "Your booking is cancelled." in chat.text
    assert await _refunds(shop) == [9000]
    assert _asked(shop) == [9000]  # sent at once through the chat's gateway
    assert len(await shop.outbox("refund_issued")) == 1
    assert (await shop.payment())["status"] == "refunded"
    assert await shop.seats_held_or_booked() == 0


async def test_after_the_cutoff_the_percentage_is_shown_then_refunded(shop: Shop) -> None:
    chat = shop.chat()
    await _paid(shop, chat, "Wheel Throwing Taster", "Sat 21 Nov", "💳 Pay now")
    await _to_cancel_question(chat, "Wheel Throwing Taster")

    shown = "The cancellation cutoff has passed: you'll get £45.00 back (50% of what you paid)."
    assert shown in chat.text

    await chat.press("Yes, cancel it")
    assert "Your booking is cancelled." in chat.text
    assert await _refunds(shop) == [4500]
    assert _asked(shop) == [4500]
    assert (await shop.payment())["status"] == "partially_refunded"
    assert await shop.seats_held_or_booked() == 0


async def test_after_the_cutoff_with_no_refund_the_customer_is_told_first(shop: Shop) -> None:
    await shop.db.execute(
        "UPDATE classes SET refund_after_cutoff_percent = 0 WHERE name = 'Wheel Throwing Taster'"
    )
    chat = shop.chat()
    await _paid(shop, chat, "Wheel Throwing Taster", "Sat 21 Nov", "💳 Pay now")
    await _to_cancel_question(chat, "Wheel Throwing Taster")
    assert "No refund: the cancellation cutoff has passed." in chat.text
    await chat.press("No, keep it")
    assert await shop.seats_held_or_booked() == 2

    await chat.press("Cancel this booking")
    await chat.press("Yes, cancel it")
    assert "Your booking is cancelled." in chat.text
    assert await _refunds(shop) == []
    assert _asked(shop) == []


async def test_a_deposit_that_is_not_refundable_is_said_so(shop: Shop) -> None:
    await shop.db.execute(
        "UPDATE classes SET refund_after_cutoff_percent = 50 WHERE name = 'Six-Week Wheel Course'"
    )
    chat = shop.chat()
    await _paid(shop, chat, "Six-Week Wheel Course", "1", "💳 Pay £144.00 deposit now")
    first = await shop.db.scalar(
        "SELECT MIN(s.starts_at) FROM registration_sessions rs JOIN sessions s"
        " ON s.id = rs.session_id"
    )
    assert first is not None
    shop.clock.set(instant(first) - timedelta(hours=24))  # inside the 48 h cutoff
    await _to_cancel_question(chat, "Six-Week Wheel Course")

    assert "No refund: the deposit is not refundable." in chat.text
    await chat.press("Yes, cancel it")
    assert "Your booking is cancelled." in chat.text
    assert await _refunds(shop) == []
    assert _asked(shop) == []


async def test_paid_at_the_studio_nothing_changes(shop: Shop) -> None:
    chat = shop.chat()
    await chat.say("/start")
    for reply in ("book", "Wheel Throwing Taster"):
        await chat.say(reply)
    await chat.press("Sat 21 Nov")
    await chat.say("2")
    await chat.press("Pay at the studio")
    await chat.say("my")
    await chat.press("Wheel Throwing Taster")

    # Inside the cutoff and nothing paid online: no late cancel to offer, and it says why.
    assert "Cancellations close 2 days before the start; contact the studio." in chat.text
    assert "Cancel this booking" not in chat.labels
    assert "refund" not in chat.last.text.lower()
    assert await shop.seats_held_or_booked() == 2


async def test_a_question_overtaken_by_the_cutoff_is_asked_again(shop: Shop) -> None:
    shop.clock.set(datetime(2026, 11, 26, 13, 50, tzinfo=UTC))  # the cutoff: Thu 14:00
    chat = shop.chat()
    await _paid(shop, chat, "Wheel Throwing Taster", "Sat 28 Nov", "💳 Pay now")
    await _to_cancel_question(chat, "Wheel Throwing Taster")
    assert "You'll get £90.00 back." in chat.text
    shop.clock.advance(timedelta(minutes=15))  # the cutoff passed while they looked

    await chat.press("Yes, cancel it")

    assert "What you would get back has changed since you asked" in chat.text
    assert "you'll get £45.00 back (50% of what you paid)" in chat.text
    assert await _refunds(shop) == []
    assert await shop.seats_held_or_booked() == 2
    await chat.press("Yes, cancel it")
    assert "Your booking is cancelled." in chat.text
    assert _asked(shop) == [4500]
