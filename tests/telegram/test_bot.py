"""The real Telegram bot, end to end, against the Bot API emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bookbot.config import Settings
from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.telegram_bot import TelegramBot, TelegramSettings
from bookbot.serve import build, serve
from bookbot.store.db import Database
from tests.pipeline import UNLIMITED

from .emulator import AsyncTgClient, Emulator, aclient, eventually

TOKEN = "4242:BOOKBOT"


def make_bot(db: Database, clock: FrozenClock, emulator: Emulator) -> TelegramBot:
    return TelegramBot(Dialogues(db, clock), TelegramSettings(TOKEN, emulator.bot_api_base))


@asynccontextmanager
async def running(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> AsyncIterator[TelegramBot]:
    """`bookbot run`'s own serve(), polling the emulator (without the sending limits)."""
    settings = Settings(
        database_url="unused", telegram_token=TOKEN, telegram_api_base=emulator.bot_api_base
    )
    services = build(settings, db, clock)
    services.delivery.limits = UNLIMITED
    assert services.bot is not None
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(settings, services, stop))
    try:
        yield services.bot
    finally:
        stop.set()
        await serving


EXPIRED = "That option has expired. Please use the latest message."


async def toasted(emulator: Emulator, text: str, token: str = TOKEN) -> int:
    """How many callback answers showed `text` as a toast."""
    return sum(a.get("text") == text for a in emulator.callback_answers(token))


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Label -> callback data of a bot message's inline keyboard."""
    markup = message.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


def data_for(message: dict[str, Any], label_start: str) -> str:
    found = [data for label, data in buttons(message).items() if label.startswith(label_start)]
    assert len(found) == 1, (label_start, list(buttons(message)))
    return found[0]


async def latest(user: AsyncTgClient, containing: str) -> dict[str, Any]:
    """The newest bot message in the chat (edits applied) once it contains `containing`."""

    async def probe() -> dict[str, Any] | None:
        history = await user.history()
        return history[-1] if history and containing in history[-1].get("text", "") else None

    found: dict[str, Any] = await eventually(probe)
    return found


async def press(
    user: AsyncTgClient, label_start: str, then: str, on: dict[str, Any] | None = None
) -> dict[str, Any]:
    message = on or (await user.history())[-1]
    await user.press_button(message, data_for(message, label_start))
    return await latest(user, then)


async def booked_seats(db: Database) -> int:
    async with db.transaction(write=False) as tx:
        return int(
            await tx.scalar(
                "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions WHERE status = 'booked'"
            )
        )


@pytest.mark.usefixtures("studio")
async def test_book_for_two_see_it_and_cancel_it(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=101, first_name="Ana")
    async with running(db, clock, emulator):
        await user.send_text("/start")
        menu = await latest(user, "What would you like to do?")
        assert menu["text"].startswith("Hi Ana! I'm the booking assistant of Clay & Kiln.")

        await press(user, "📅 Book a class", "Our classes:")
        await press(user, "Wheel Throwing Taster", "Choose a date")
        await press(user, "Sat 28 Nov", "How many people")
        screen = await press(user, "2", "Please check your booking")
        assert "Total: £90.00, paid at the studio." in screen["text"]
        await user.press_button(screen, data_for(screen, "✅ Confirm"))

        document = await eventually(lambda: _document(user))
        assert document["document"]["file_name"].endswith(".ics")
        assert b"BEGIN:VEVENT" in document["attachment_bytes"]
        assert await booked_seats(db) == 2

        menu = await latest(user, "What would you like to do?")
        await press(user, "🗓 My bookings", "Your upcoming bookings", on=menu)
        await press(user, "Wheel Throwing Taster · Sat 28 Nov", "2 people")
        await press(user, "Cancel this booking", "This cannot be undone")
        await press(user, "Yes, cancel it", "Your booking is cancelled.")
    assert await booked_seats(db) == 0


@pytest.mark.usefixtures("studio")
async def test_a_customer_is_greeted_by_first_name_and_known_by_full_name(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    """Rosters and receipts need the full name Telegram gives (first and last)."""
    user = aclient(emulator, TOKEN, chat_id=109, first_name="Ana", last_name="Souza Lima")
    async with running(db, clock, emulator):
        await user.send_text("/start")
        menu = await latest(user, "What would you like to do?")
    assert menu["text"].startswith("Hi Ana! I'm the booking assistant of Clay & Kiln.")
    async with db.transaction(write=False) as tx:
        names = [r["name"] for r in await tx.all("SELECT name FROM customers")]
    assert names == ["Ana Souza Lima"]


async def _document(user: AsyncTgClient) -> dict[str, Any] | None:
    import base64

    for message in await user.history():
        if "document" in message:
            attachment = message.get("attachment", {})
            return {
                **message,
                "attachment_bytes": base64.b64decode(attachment.get("content_base64", "")),
            }
    return None


@pytest.mark.usefixtures("studio")
async def test_every_button_press_is_answered_before_the_screen_changes(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=102)
    async with running(db, clock, emulator):
        await user.send_text("/start")
        await latest(user, "What would you like to do?")
        await press(user, "📅 Book a class", "Our classes:")
        await press(user, "Wheel Throwing Taster", "Choose a date")
        calls = [
            c["method"]
            for c in emulator.calls(TOKEN)
            if c["method"] in ("answerCallbackQuery", "editMessageText")
        ]
    assert calls == ["answerCallbackQuery", "editMessageText"] * 2


@pytest.mark.usefixtures("studio")
async def test_a_forged_press_on_someone_elses_buttons_changes_nothing(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    ana = aclient(emulator, TOKEN, chat_id=103, first_name="Ana")
    mallory = aclient(emulator, TOKEN, chat_id=666, first_name="Mallory")
    async with running(db, clock, emulator):
        await ana.send_text("/start")
        await latest(ana, "What would you like to do?")
        await press(ana, "📅 Book a class", "Our classes:")
        await press(ana, "Wheel Throwing Taster", "Choose a date")
        await press(ana, "Sat 28 Nov", "How many people")
        confirm = await press(ana, "2", "Please check your booking")
        await mallory.send_text("/start")
        await latest(mallory, "What would you like to do?")

        # Mallory replays Ana's confirm button, on Ana's message id, from her own account.
        await mallory.press_button(confirm, data_for(confirm, "✅ Confirm"))
        await eventually(lambda: toasted(emulator, EXPIRED))  # a toast, no new message
        assert (await mallory.history())[-1]["text"].startswith("Hi Mallory!")

        assert await booked_seats(db) == 0
        assert (await ana.history())[-1]["text"] == confirm["text"]  # Ana's screen untouched
        await ana.press_button(confirm, data_for(confirm, "✅ Confirm"))
        await eventually(lambda: _document(ana))
    assert await booked_seats(db) == 2


@pytest.mark.usefixtures("studio")
async def test_a_restart_mid_booking_resumes_where_the_customer_was(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=104)
    async with running(db, clock, emulator):
        await user.send_text("/start")
        await latest(user, "What would you like to do?")
        await press(user, "📅 Book a class", "Our classes:")
        await press(user, "Wheel Throwing Taster", "Choose a date")
        guests = await press(user, "Sat 28 Nov", "How many people")

    async with running(db, clock, emulator):  # a new process: new Dialogues, same database
        await press(user, "2", "Please check your booking", on=guests)


@pytest.mark.usefixtures("studio")
async def test_typed_replies_work_like_buttons(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=105)
    async with running(db, clock, emulator):
        await user.send_text("/start")
        await latest(user, "What would you like to do?")
        await user.send_text("1")
        await latest(user, "Our classes:")
        await user.send_text("wheel throwing taster")
        await latest(user, "Choose a date")


@pytest.mark.usefixtures("studio")
async def test_a_spanish_telegram_user_gets_spanish(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=106, first_name="Lucía")
    user.sync.user["language_code"] = "es"
    async with running(db, clock, emulator):
        await user.send_text("/start")
        menu = await latest(user, "¿Qué te gustaría hacer?")
        assert "📅 Reservar una clase" in buttons(menu)


@pytest.mark.usefixtures("studio")
async def test_staff_commands_are_for_staff_only_over_telegram(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE staff SET telegram_user_id = 777 WHERE key = 'tom'")
    stranger = aclient(emulator, TOKEN, chat_id=601, first_name="Eve")
    tom = aclient(emulator, TOKEN, chat_id=777, first_name="Tom")
    async with running(db, clock, emulator):
        for command in ("/today", "/roster", "/report", "/override"):
            await stranger.send_text(command)
            await latest(stranger, "Sorry, that is for studio staff only.")
        await tom.send_text("/today")
        await latest(tom, "Today, ")
    async with db.transaction(write=False) as tx:
        denied = await tx.scalar(
            "SELECT COUNT(*) FROM staff_audit WHERE allowed = :no", {"no": False}
        )
    assert denied == 4


@pytest.mark.usefixtures("studio")
async def test_a_series_pass_reserved_over_telegram(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=602, first_name="Ana")
    async with running(db, clock, emulator):
        await user.send_text("/start")
        await latest(user, "What would you like to do?")
        await press(user, "📅 Book a class", "Our classes:")
        await press(user, "Open Studio Drop-in", "Pick the dates you want")
        await press(user, "🎟 Get an unlimited pass", "to pay at the studio. Get it?")
        await press(user, "✅ Get this pass", "Your pass is ready")
        await press(user, "📅 Reserve a session", "Choose a session to reserve:")
        screen = await press(user, "Mon 23 Nov", "Reserved.")
    assert "1 reserved" in screen["text"]
