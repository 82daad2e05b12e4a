"""Notices keep their words when their buttons are pressed, on the Bot API emulator as `bookbot
run` serves it: a receipt (Stripe's stand-in) and a reminder (the outbox) both come with the
menu; a press on one answers with a new message, and the notice stays in the chat as it was
sent. Both databases; without node these skip (BOOKBOT_REQUIRE_NODE=1: fail)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import pytest

from bookbot.config import Settings
from bookbot.engine.clock import FrozenClock
from bookbot.serve import Services, build, serve
from bookbot.store.db import Database
from tests.pipeline import UNLIMITED

from .emulator import AsyncTgClient, Emulator, aclient, eventually
from .test_bot import EXPIRED, booked_seats, buttons, data_for, latest, press, toasted
from .test_payments_telegram import messages_with, to_payment_link, to_summary
from .test_payments_telegram import running as running_with_stripe

TOKEN = "5252:NOTICES"


@asynccontextmanager
async def running(db: Database, clock: FrozenClock, emulator: Emulator) -> AsyncIterator[Services]:
    """`bookbot run`'s serve(), polling the emulator (without the sending limits)."""
    settings = Settings(
        database_url="unused", telegram_token=TOKEN, telegram_api_base=emulator.bot_api_base
    )
    services = build(settings, db, clock)
    services.delivery.limits = UNLIMITED
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(settings, services, stop))
    try:
        yield services
    finally:
        stop.set()
        await serving


async def as_now(user: AsyncTgClient, message: dict[str, Any]) -> dict[str, Any]:
    """The message as the chat shows it now (edits applied)."""
    [now] = [m for m in await user.history() if m["message_id"] == message["message_id"]]
    return now


def edits_of(emulator: Emulator, token: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        call
        for call in emulator.calls(token, "editMessageText")
        if call["params"].get("message_id") == str(message["message_id"])
    ]


def without_keyboard(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "reply_markup"}


async def kept_after_a_press(
    user: AsyncTgClient, emulator: Emulator, notice: dict[str, Any]
) -> dict[str, Any]:
    """Press the notice's My bookings: the answer is a new message; the notice keeps its
    words, and only its keyboard (stale now) is taken off."""
    answer = await press(user, "🗓 My bookings", "Your upcoming bookings", on=notice)
    assert answer["message_id"] != notice["message_id"]
    await eventually(partial(bare, user, notice))  # taken off right after the answer
    assert without_keyboard(await as_now(user, notice)) == without_keyboard(notice)
    assert edits_of(emulator, user.sync.token, notice) == []
    return answer


async def bare(user: AsyncTgClient, message: dict[str, Any]) -> bool:
    """The message as shown now has no buttons."""
    return buttons(await as_now(user, message)) == {}


async def expired(emulator: Emulator, count: int) -> bool:
    return await toasted(emulator, EXPIRED, TOKEN) == count


@pytest.mark.usefixtures("studio")
async def test_a_press_on_the_receipt_keeps_it_in_the_chat(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, "5151:PAYING", chat_id=811, first_name="Ana")
    async with running_with_stripe(db, clock, emulator) as bot:
        await to_payment_link(user)
        payment = await bot.payment()
        await bot.deliver(bot.stripe.pay(str(payment["stripe_session_id"])))
        [receipt] = await eventually(lambda: messages_with(user, "Payment received: £90.00."))
        charge = next(o for o in bot.stripe.objects.values() if o["object"] == "charge")
        assert charge["receipt_url"] in receipt["text"]

        await kept_after_a_press(user, emulator, receipt)  # the receipt and its URL stay
        assert await bot.seats() == 2


@pytest.mark.usefixtures("studio")
async def test_a_press_on_a_reminder_keeps_it_and_nothing_books_twice(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=812, first_name="Ana")
    async with running(db, clock, emulator) as services:
        summary = await to_summary(user)
        await user.press_button(summary, data_for(summary, "✅ Confirm"))
        menu = await latest(user, "What would you like to do?")
        assert await booked_seats(db) == 2

        # The booking's own 24-hour reminder, sent now by the delivery worker.
        moved = await db.execute(
            "UPDATE outbox SET due_at = :now WHERE template = 'reminder_24h'", {"now": clock.now()}
        )
        assert moved == 1
        services.delivery.wake()
        reminder = await latest(user, "Reminder: Wheel Throwing Taster is tomorrow")

        answer = await kept_after_a_press(user, emulator, reminder)
        # The answer carries the dialogue now: pressing it edits it, as on any screen.
        booking = await press(user, "Wheel Throwing Taster · Sat 28 Nov", "2 people", on=answer)
        assert booking["message_id"] == answer["message_id"]
        assert len(edits_of(emulator, TOKEN, answer)) == 1

        # The reminder and the menu before it lost their keyboards; a press that still comes
        # (an old client, a replay) is stale: a toast, neither message changes, nothing is
        # booked again.
        for count, old in enumerate((reminder, menu), start=1):
            await eventually(partial(bare, user, old))
            before = await as_now(user, old)
            await user.press_button(old, data_for(old, "📅 Book a class"))
            await eventually(partial(expired, emulator, count))
            assert await as_now(user, old) == before
        assert await booked_seats(db) == 2
