"""Talking to a person, end to end, as `bookbot run` serves it against the Bot API emulator:
a customer's /human reaches the studio's staff group, a staff member's reply to the
forwarded message reaches the customer, /bot returns them to the bot. An SMS customer's
handoff too, their texts through the Twilio stand-in and our signed webhook. Both
databases; without node these skip (BOOKBOT_REQUIRE_NODE=1: fail)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bookbot.config import Settings
from bookbot.engine.clock import FrozenClock
from bookbot.serve import build, serve
from bookbot.store.db import Database
from tests.handlers.test_appointments_sms import (
    ACCOUNT,
    OUR_NUMBER,
    TWILIO_TOKEN,
    UNTHROTTLED,
    Phone,
    Running,
)
from tests.handlers.test_stripe_webhook import free_port, listening
from tests.pipeline import UNLIMITED
from tests.twilio_standin import TwilioStandIn

from .emulator import AsyncTgClient, Emulator, aclient, client
from .test_bot import latest

TOKEN = "6161:HANDOFF"
STAFF_GROUP = -100424242


@pytest.fixture
async def staffed(db: Database, studio: int) -> int:
    """The example studio, with its staff group."""
    await db.execute(
        "UPDATE studios SET staff_chat_id = :chat WHERE id = :id",
        {"chat": STAFF_GROUP, "id": studio},
    )
    return studio


@asynccontextmanager
async def running(
    db: Database, clock: FrozenClock, emulator: Emulator, twilio: TwilioStandIn | None = None
) -> AsyncIterator[str]:
    """build() and serve() polling the emulator (and, with `twilio`, taking texts on our
    webhooks and sending through the stand-in); yields the webhooks' base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    texting: dict[str, Any] = {}
    if twilio is not None:
        texting = {
            "public_url": base,
            "host": "127.0.0.1",
            "port": port,
            "twilio_account_sid": ACCOUNT,
            "twilio_auth_token": TWILIO_TOKEN,
            "twilio_sms_from": OUR_NUMBER,
            "twilio_api_base": twilio.base_url,
        }
    settings = Settings(
        database_url="unused",
        telegram_token=TOKEN,
        telegram_api_base=emulator.bot_api_base,
        **texting,
    )
    services = build(settings, db, clock)
    services.delivery.limits = UNLIMITED
    services.inbox.throttle = UNTHROTTLED
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(settings, services, stop))
    try:
        if twilio is not None:
            await listening(port)
        yield base
    finally:
        stop.set()
        await serving


class StaffGroup:
    """The studio's staff group, as one staff member (Mia) sees and writes in it."""

    def __init__(self, emulator: Emulator) -> None:
        self.user = aclient(emulator, TOKEN, chat_id=STAFF_GROUP, user_id=5005, first_name="Mia")
        self.user.sync.chat = {"id": STAFF_GROUP, "type": "supergroup", "title": "Clay staff"}

    async def next_with(self, text: str) -> dict[str, Any]:
        """The bot's newest message in the group once it contains `text`."""
        return await latest(self.user, text)

    async def reply(self, to: dict[str, Any], text: str) -> None:
        """Reply to one of the bot's messages (Telegram's reply: reply_to_message)."""
        sync = self.user.sync
        message = {
            "botToken": TOKEN,
            "from": sync.user,
            "chat": sync.chat,
            "date": int(time.time()),
            "text": text,
            "reply_to_message": {
                "message_id": to["message_id"],
                "date": to["date"],
                "chat": sync.chat,
                "from": {"id": 666, "is_bot": True, "first_name": "Test Bot"},
                "text": to.get("text", ""),
            },
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
            route = "sendCommand"
        else:
            route = "sendMessage"
        await asyncio.to_thread(sync._post, route, message)


async def handoffs(db: Database) -> list[tuple[str, str | None]]:
    rows = await db.all("SELECT channel, ended_by FROM handoffs ORDER BY id")
    return [(r["channel"], r["ended_by"]) for r in rows]


@pytest.mark.usefixtures("staffed")
async def test_a_telegram_customer_talks_to_staff_and_back_to_the_bot(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    ana: AsyncTgClient = aclient(emulator, TOKEN, chat_id=931, first_name="Ana")
    staff = StaffGroup(emulator)
    async with running(db, clock, emulator):
        await ana.send_text("/start")
        await latest(ana, "What would you like to do?")
        await ana.send_text("/human")
        screen = await latest(ana, "You are talking to a person at Clay & Kiln")
        assert "/bot" in screen["text"]
        intro = await staff.next_with("Ana asks to talk to a person (Telegram)")
        assert "reply /done" in intro["text"]

        await ana.send_text("Can I bring my own clay?")
        question = await staff.next_with("💬 Ana: Can I bring my own clay?")
        await staff.reply(question, "Yes, bring it along!")
        await latest(ana, "💬 Mia (Clay & Kiln): Yes, bring it along!")

        await ana.send_text("/bot")
        back = await latest(ana, "What would you like to do?")
        assert "You are back with the bot." in back["text"]
        await staff.next_with("Ana went back to the bot; the chat has ended.")
        assert await handoffs(db) == [("telegram", "customer")]

        # A late reply in the group is told the chat ended; Ana hears nothing of it.
        seen = len(await ana.history())
        await staff.reply(question, "Anything else?")
        await staff.next_with("That chat has ended; Ana is back with the bot.")
        assert len(await ana.history()) == seen


@pytest.mark.usefixtures("staffed")
async def test_staff_end_an_sms_customers_chat_with_done(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    staff = StaffGroup(emulator)
    client(emulator, TOKEN)  # nobody on Telegram but the staff group
    async with (
        TwilioStandIn(ACCOUNT, TWILIO_TOKEN) as twilio,
        aiohttp.ClientSession() as http,
        running(db, clock, emulator, twilio) as base,
    ):
        sam = Phone(Running(db, twilio, http, base), "+447700900555")
        screen = await sam.text("HUMAN", then="talking to a person")
        assert "send BOT" in screen
        await staff.next_with("asks to talk to a person (SMS, +447700900555)")

        await sam.send("Is there parking?")
        question = await staff.next_with(": Is there parking?")
        seen = len(sam.received())
        await staff.reply(question, "Yes, behind the studio.")
        answer = await sam.wait_for("Yes, behind the studio.", after=seen)
        # (By SMS the emoji is folded away: the text stays GSM-7, one segment.)
        assert answer.endswith("Mia (Clay & Kiln): Yes, behind the studio.")

        seen = len(sam.received())
        await staff.reply(question, "/done")
        ended = await sam.wait_for("ended the chat", after=seen)
        assert "You are back with the bot" in ended
        await staff.next_with("has ended.")
        assert await handoffs(db) == [("sms", "staff")]
        menu = await sam.text("MENU", then="What would you like to do?")
        assert "Talk to a person" in menu
