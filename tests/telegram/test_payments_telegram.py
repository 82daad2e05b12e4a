"""Paying on Telegram end to end, as `bookbot run` serves it: build() and serve() with Stripe
configured against the Stripe stand-in (real HTTP, the real `stripe` library), the bot in
webhook mode behind the Bot API emulator, Stripe's events posted signed to the same server's
/stripe/webhook; on SQLite and PostgreSQL. Without node these skip (BOOKBOT_REQUIRE_NODE=1:
fail), as every test in this folder."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import pytest

from bookbot.config import Settings
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.stripe_webhook import WEBHOOK_PATH
from bookbot.serve import build, serve
from bookbot.services.references import booking_reference
from bookbot.store.db import Database
from tests.handlers.test_stripe_webhook import free_port, listening
from tests.pipeline import UNLIMITED
from tests.stripe_standin import StripeStandIn

from .emulator import AsyncTgClient, Emulator, aclient, eventually
from .test_bot import buttons, latest, press

TOKEN = "5151:PAYING"
KEY = "sk_test_telegram"
SECRET = "whsec_telegram"


@dataclass
class Running:
    db: Database
    stripe: StripeStandIn
    webhook_url: str

    async def payment(self) -> dict[str, Any]:
        row = await self.db.one("SELECT * FROM payments ORDER BY id DESC LIMIT 1")
        assert row is not None
        found: dict[str, Any] = dict(cast(Any, row))
        return found

    async def deliver(self, event: dict[str, Any]) -> None:
        """Stripe posts the event, signed now, to the bot's own webhook."""
        status = await self.stripe.deliver(event, self.webhook_url, timestamp=int(time.time()))
        assert status == 200

    async def seats(self) -> int:
        """Seats booked, or held by a hold that has not lapsed (the bot's clock is frozen)."""
        return int(
            await self.db.scalar(
                "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions"
                " WHERE status = 'booked' OR status = 'held'"
            )
        )


@asynccontextmanager
async def running(db: Database, clock: FrozenClock, emulator: Emulator) -> AsyncIterator[Running]:
    """`bookbot run` with Telegram, Stripe and a public URL: the emulator pushes updates to our
    webhook server, which also takes Stripe's events."""
    port = free_port()
    async with StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as stripe_api:
        stripe_api.clock = lambda: clock.now().timestamp()  # Stripe's time is the bot's
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            database_url="unused",
            telegram_token=TOKEN,
            telegram_api_base=emulator.bot_api_base,
            public_url=base,
            host="127.0.0.1",
            port=port,
            stripe_secret_key=KEY,
            stripe_webhook_secret=SECRET,
            stripe_api_base=stripe_api.base_url,
        )
        services = build(settings, db, clock)
        services.delivery.limits = UNLIMITED
        assert services.gateway is not None  # payments are on
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(settings, services, stop))
        try:
            await listening(port)
            yield Running(db, stripe_api, base + WEBHOOK_PATH)
        finally:
            stop.set()
            await serving


def url_buttons(markup: Any) -> list[dict[str, str]]:
    """The link buttons of an inline keyboard as the bot sent it (a JSON string or a dict)."""
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows = (markup or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row if "url" in button]


async def to_summary(user: AsyncTgClient) -> dict[str, Any]:
    """From /start to the summary of a booking for two on Saturday's taster."""
    await user.send_text("/start")
    await latest(user, "What would you like to do?")
    await press(user, "📅 Book a class", "Our classes:")
    await press(user, "Wheel Throwing Taster", "Choose a date")
    await press(user, "Sat 28 Nov", "How many people")
    return await press(user, "2", "Please check your booking")


async def to_payment_link(user: AsyncTgClient) -> dict[str, Any]:
    summary = await to_summary(user)
    assert "Total: £90.00." in summary["text"]
    return await press(user, "💳 Pay now", "I'll confirm here when the payment arrives")


async def messages_with(user: AsyncTgClient, text: str) -> list[dict[str, Any]]:
    return [m for m in await user.history() if text in m.get("text", "")]


@pytest.mark.usefixtures("studio")
async def test_book_for_two_pay_by_link_and_get_the_receipt(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=801, first_name="Ana")
    async with running(db, clock, emulator) as bot:
        screen = await to_payment_link(user)

        # The emulator received a URL button: the Checkout Session's page.
        payment = await bot.payment()
        sent = [
            url_buttons(call["params"].get("reply_markup"))
            for call in emulator.calls(TOKEN)
            if call["method"] in ("sendMessage", "editMessageText")
        ]
        links = [button for buttons in sent for button in buttons]
        assert links == [{"text": "💳 Pay £90.00", "url": payment["checkout_url"]}]
        assert str(payment["checkout_url"]).startswith("https://checkout.stripe.com/")
        assert url_buttons(screen.get("reply_markup")) == links
        assert (payment["status"], payment["amount_minor"]) == ("pending", 9000)

        event = bot.stripe.pay(str(payment["stripe_session_id"]))
        await bot.deliver(event)
        [receipt] = await eventually(lambda: messages_with(user, "Payment received: £90.00."))
        await bot.deliver(event)  # Stripe delivers it again: harmless

        reference = booking_reference("class", int(payment["registration_id"]))
        assert (
            f"Booking reference: {reference}, Wheel Throwing Taster, Sat 28 Nov 2026 14:00 GMT."
            in receipt["text"]
        )
        charge = next(o for o in bot.stripe.objects.values() if o["object"] == "charge")
        assert charge["receipt_url"] in receipt["text"]
        # The receipt is the confirmation; it comes with the menu, and the booking is paid.
        mine = await press(user, "🗓 My bookings", "Your upcoming bookings")
        assert "Wheel Throwing Taster · Sat 28 Nov, 14:00 · 2 people · paid" in buttons(mine)
        # Let anything the duplicate could have caused be sent before counting.
        await eventually(lambda: _inbox_done(db))
        await asyncio.sleep(0.3)
        # Counted in what the bot sent (sendMessage calls), one per receipt however often the
        # event came: the chat history alone would not tell a resend from the original.
        receipts = [
            call
            for call in emulator.calls(TOKEN, "sendMessage")
            if "Payment received" in call["params"].get("text", "")
        ]
        assert len(receipts) == 1
        assert (await bot.payment())["status"] == "paid"
        assert await bot.seats() == 2


@pytest.mark.usefixtures("studio")
async def test_a_link_that_expires_releases_the_seats(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=802, first_name="Bea")
    async with running(db, clock, emulator) as bot:
        await to_payment_link(user)
        assert await bot.seats() == 2
        payment = await bot.payment()

        await bot.deliver(bot.stripe.expire(str(payment["stripe_session_id"])))

        async def released() -> bool:
            return await bot.seats() == 0

        await eventually(released)
        assert (await bot.payment())["status"] == "expired"
        # Paying is no longer possible on Stripe's side, and nothing was charged.
        assert not [o for o in bot.stripe.objects.values() if o["object"] == "charge"]


async def _inbox_done(db: Database) -> bool:
    left = await db.scalar("SELECT COUNT(*) FROM inbox WHERE status <> 'done'")
    return int(left) == 0
