"""Paying by SMS end to end, as `bookbot run` serves it: build() and serve() with Twilio and
Stripe configured against their stand-ins (real HTTP; the real `stripe` library), customers'
texts posted signed to our server, Stripe's events posted signed to its /stripe/webhook, and
every reply read from what the Twilio stand-in was asked to send; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

import aiohttp
import pytest
from twilio.request_validator import RequestValidator

from bookbot.config import Settings
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.stripe_webhook import WEBHOOK_PATH
from bookbot.handlers.twilio_webhook import PATHS
from bookbot.serve import build, serve
from bookbot.services.references import booking_reference
from bookbot.store.db import Database
from tests.examples import NOW, load_example_studio
from tests.handlers.test_stripe_webhook import free_port, listening
from tests.pipeline import UNLIMITED
from tests.stripe_standin import StripeStandIn
from tests.twilio_standin import TwilioStandIn

ACCOUNT = "AC" + "5" * 32
TWILIO_TOKEN = "twilio-token-for-payment-tests"
OUR_NUMBER = "+15005550006"
KEY = "sk_test_sms"
SECRET = "whsec_sms"
_sids = itertools.count(1)
T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], within: float = 15.0) -> T:
    """`probe()`'s first truthy result, polled (replies are sent by the bot's own workers)."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result or time.monotonic() >= deadline:
            assert result, f"not within {within}s: {result!r}"
            return result
        await asyncio.sleep(0.05)


@dataclass
class Running:
    db: Database
    stripe: StripeStandIn
    twilio: TwilioStandIn
    http: aiohttp.ClientSession
    base: str

    async def payment(self) -> dict[str, Any]:
        row = await self.db.one("SELECT * FROM payments ORDER BY id DESC LIMIT 1")
        assert row is not None
        found: dict[str, Any] = dict(cast(Any, row))
        return found

    async def deliver(self, event: dict[str, Any]) -> None:
        status = await self.stripe.deliver(
            event, self.base + WEBHOOK_PATH, timestamp=int(time.time())
        )
        assert status == 200

    async def seats(self) -> int:
        return int(
            await self.db.scalar(
                "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions"
                " WHERE status IN ('booked', 'held')"
            )
        )


@dataclass
class Phone:
    bot: Running
    number: str

    def received(self) -> list[str]:
        return [m["Body"] for m in self.bot.twilio.messages if m["To"] == self.number]

    async def text(self, body: str, *, then: str) -> str:
        """Text us as Twilio would (signed against the public URL); our next reply containing
        `then` (the replies come through the inbox and the outbox, asynchronously)."""
        seen = len(self.received())
        form = {
            "MessageSid": f"SM{next(_sids):032x}",
            "AccountSid": ACCOUNT,
            "From": self.number,
            "To": OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        path = PATHS[Channel.SMS]
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(self.bot.base + path, form)
        async with self.bot.http.post(
            self.bot.base + path,
            data=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": str(signature),
            },
        ) as response:
            assert response.status == 200
        return await self.wait_for(then, after=seen)

    async def wait_for(self, text: str, *, after: int = 0) -> str:
        async def probe() -> str | None:
            return next((b for b in self.received()[after:] if text in b), None)

        return await eventually(probe)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@asynccontextmanager
async def running(db: Database, clock: FrozenClock) -> AsyncIterator[Running]:
    await load_example_studio(db, clock)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with (
        StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as stripe_api,
        TwilioStandIn(ACCOUNT, TWILIO_TOKEN) as twilio,
        aiohttp.ClientSession() as http,
    ):
        stripe_api.clock = lambda: clock.now().timestamp()  # Stripe's time is the bot's
        settings = Settings(
            database_url="unused",
            public_url=base,
            host="127.0.0.1",
            port=port,
            twilio_account_sid=ACCOUNT,
            twilio_auth_token=TWILIO_TOKEN,
            twilio_sms_from=OUR_NUMBER,
            twilio_api_base=twilio.base_url,
            stripe_secret_key=KEY,
            stripe_webhook_secret=SECRET,
            stripe_api_base=stripe_api.base_url,
        )
        services = build(settings, db, clock)
        services.delivery.limits = UNLIMITED
        assert services.gateway is not None
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(settings, services, stop))
        try:
            await listening(port)
            yield Running(db, stripe_api, twilio, http, base)
        finally:
            stop.set()
            await serving


async def to_payment_link(phone: Phone) -> str:
    """Book the Sat 21 Nov taster for 2 and choose Pay now; the link's URL."""
    await phone.text("hi", then="What would you like to do?")
    await phone.text("1", then="Our classes:")
    await phone.text("wheel throwing taster", then="Choose a date")
    summary = await phone.text("1", then="How many people")
    summary = await phone.text("2", then="Please check your booking")
    assert "Total: £90.00." in summary
    assert "1. Pay now" in summary
    screen = await phone.text("1", then="I'll confirm here when the payment arrives")
    found = re.search(r"^Pay £90\.00: (https://\S+)$", screen, re.MULTILINE)
    assert found is not None, screen  # the link, printed as a line of its own
    return found.group(1)


async def test_book_for_two_pay_by_the_link_and_get_the_receipt(
    db: Database, clock: FrozenClock
) -> None:
    async with running(db, clock) as bot:
        phone = Phone(bot, "+447700900201")
        url = await to_payment_link(phone)
        payment = await bot.payment()
        assert url == payment["checkout_url"]
        assert (payment["status"], payment["amount_minor"]) == ("pending", 9000)

        event = bot.stripe.pay(str(payment["stripe_session_id"]))
        await bot.deliver(event)
        receipt = await phone.wait_for("Payment received: £90.00. Thank you!")
        await bot.deliver(event)  # delivered again: harmless

        charge = next(o for o in bot.stripe.objects.values() if o["object"] == "charge")
        assert charge["receipt_url"] in receipt
        assert booking_reference("class", int(payment["registration_id"])) in receipt
        mine = await phone.text("my", then="Your upcoming bookings")
        assert "1. Wheel Throwing Taster - Sat 21 Nov, 14:00 - 2 people - paid" in mine
        assert sum("Payment received" in body for body in phone.received()) == 1
        assert (await bot.payment())["status"] == "paid"


async def test_a_link_that_expires_releases_the_seats(db: Database, clock: FrozenClock) -> None:
    async with running(db, clock) as bot:
        phone = Phone(bot, "+447700900202")
        await to_payment_link(phone)
        assert await bot.seats() == 2

        await bot.deliver(bot.stripe.expire(str((await bot.payment())["stripe_session_id"])))

        async def released() -> bool:
            return await bot.seats() == 0

        await eventually(released)
        assert (await bot.payment())["status"] == "expired"


async def test_cancelling_after_paying_says_and_refunds_the_policy_amount(
    db: Database, clock: FrozenClock
) -> None:
    """The taster on Sat 21 Nov is inside the 48 h cutoff: half back, said before asking."""
    async with running(db, clock) as bot:
        phone = Phone(bot, "+447700900203")
        await to_payment_link(phone)
        await bot.deliver(bot.stripe.pay(str((await bot.payment())["stripe_session_id"])))
        await phone.wait_for("Payment received")

        await phone.text("my", then="Your upcoming bookings")
        await phone.text("1", then="Cancel this booking")
        question = await phone.text("1", then="This cannot be undone.")
        assert "you'll get £45.00 back (50% of what you paid)" in question
        await phone.text("1", then="Your booking is cancelled.")
        await phone.wait_for("We have refunded £45.00 to your card.")

        assert [int(c.params["amount"]) for c in bot.stripe.calls_to("POST", "/v1/refunds")] == [
            4500
        ]
        assert await bot.seats() == 0
