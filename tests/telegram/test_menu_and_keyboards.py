"""Telegram, customers, on the Bot API emulator as `bookbot run` serves it: the "/" menu
(setMyCommands in English and Spanish, staff commands scoped to staff chats), old keyboards
taken off when a screen is left, stale presses answered with a toast, /cancel, /mydata."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database

from .emulator import AsyncTgClient, Emulator, aclient, eventually
from .test_bot import (
    EXPIRED,
    TOKEN,
    _document,
    booked_seats,
    buttons,
    data_for,
    latest,
    press,
    running,
    toasted,
)
from .test_payments_telegram import to_summary

CUSTOMER_MENU = ["start", "book", "my", "passes", "help", "cancel", "human", "mydata", "forget"]


def published(emulator: Emulator) -> list[dict[str, Any]]:
    """setMyCommands calls as sent: {scope, language, commands: {name: description}}."""
    found = []
    for call in emulator.calls(TOKEN, "setMyCommands"):
        params = call["params"]
        commands = json.loads(params["commands"])
        found.append(
            {
                "scope": json.loads(params.get("scope", '{"type": "default"}')),
                "language": params.get("language_code"),
                "commands": {c["command"]: c["description"] for c in commands},
            }
        )
    return found


@pytest.mark.usefixtures("studio")
async def test_run_publishes_the_menu_in_both_languages_with_staff_commands_for_staff(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE staff SET telegram_user_id = 7001 WHERE key = 'tom'")
        await tx.execute("UPDATE studios SET staff_chat_id = -100500")
    async with running(db, clock, emulator):

        async def six() -> bool:
            return len(published(emulator)) == 6

        await eventually(six)

    menus = published(emulator)
    everyone = [m for m in menus if m["scope"] == {"type": "default"}]
    assert [m["language"] for m in everyone] == [None, "es"]
    assert list(everyone[0]["commands"]) == CUSTOMER_MENU
    assert everyone[0]["commands"]["cancel"] == "Stop what I am doing"
    staff = [m for m in menus if m["scope"]["type"] == "chat"]
    assert sorted((m["scope"]["chat_id"], m["language"] or "") for m in staff) == [
        (-100500, ""),
        (-100500, "es"),
        (7001, ""),
        (7001, "es"),
    ]
    for menu in staff:
        assert list(menu["commands"])[: len(CUSTOMER_MENU)] == CUSTOMER_MENU
        assert "roster" in menu["commands"]
    today = {m["language"]: m["commands"]["today"] for m in staff}
    assert today[None] == "Today's sessions"
    assert today["es"] != today[None]  # the Spanish menu is in Spanish


@pytest.mark.usefixtures("studio")
async def test_a_booked_summary_loses_its_confirm_button_and_a_replay_is_a_toast(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=131, first_name="Ana")
    async with running(db, clock, emulator):
        summary = await to_summary(user)
        confirm = data_for(summary, "✅ Confirm")
        await user.press_button(summary, confirm)
        await latest(user, "What would you like to do?")  # the menu, in a new message
        assert await booked_seats(db) == 2
        # The press was answered at once with the outcome's first line, as a toast.
        said = [a.get("text") for a in emulator.callback_answers(TOKEN) if a.get("text")]
        assert len(said) == 1
        assert said[0].startswith("🎉 Booked! Wheel Throwing Taster")

        await eventually(partial(bare, user, summary))  # no live ✅ Confirm left behind
        [shown] = [m for m in await user.history() if m["message_id"] == summary["message_id"]]
        assert shown["text"] == summary["text"]  # its words stay
        removed = emulator.calls(TOKEN, "editMessageReplyMarkup")
        assert [c["params"]["message_id"] for c in removed] == [str(summary["message_id"])]
        assert json.loads(removed[0]["params"]["reply_markup"]) == {"inline_keyboard": []}

        # A press that still comes for it (a replay, an old client): a toast, nothing else.
        count = len(await user.history())
        await user.press_button(summary, confirm)
        await eventually(lambda: toasted(emulator, EXPIRED))
        assert len(await user.history()) == count
        assert await booked_seats(db) == 2


async def bare(user: AsyncTgClient, message: dict[str, Any]) -> bool:
    [now] = [m for m in await user.history() if m["message_id"] == message["message_id"]]
    return buttons(now) == {}


@pytest.mark.usefixtures("studio")
async def test_slash_cancel_leaves_the_booking_under_way_for_the_menu(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=132, first_name="Ana")
    async with running(db, clock, emulator):
        summary = await to_summary(user)
        await user.send_text("/cancel")
        menu = await latest(user, "Stopped. Here is the menu.")
        assert "📅 Book a class" in buttons(menu)
        await eventually(partial(bare, user, summary))
        assert await booked_seats(db) == 0


@pytest.mark.usefixtures("studio")
async def test_mydata_arrives_as_a_json_file(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=133, first_name="Ana")
    async with running(db, clock, emulator):
        summary = await to_summary(user)
        await press(user, "✅ Confirm", "What would you like to do?", on=summary)
        await user.send_text("/mydata")

        async def export() -> dict[str, Any] | None:
            found = await _document(user)
            if found is None or found["document"]["file_name"] != "my-data.json":
                # the booking's calendar file came first
                files = [m for m in await user.history() if "document" in m]
                return None if len(files) < 2 else files[-1]
            return found

        await eventually(export)
    files = [m for m in await user.history() if "document" in m]
    assert files[-1]["document"]["file_name"] == "my-data.json"
    assert files[-1]["document"]["mime_type"] == "application/json"
    calls = [c for c in emulator.calls(TOKEN, "sendDocument") if c["file"]]
    assert calls[-1]["file"]["file_name"] == "my-data.json"
    async with db.transaction(write=False) as tx:
        audited = await tx.all("SELECT action, channel FROM privacy_audit")
    assert [(r["action"], r["channel"]) for r in audited] == [("export", "telegram")]
