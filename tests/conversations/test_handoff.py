"""Talking to a person: /human forwards the conversation to the studio's staff chat, staff
replies go back to the customer, /bot, /done or silence return the customer to the bot."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.handoff_staff import StaffMessage, end_quiet, staff_message
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.console import Shell, ShellCustomer
from bookbot.services import handoff, inbox
from bookbot.services.inbox import InboxItem
from bookbot.store.db import Database
from tests.conversations.chat import Chat

STAFF_CHAT = -100500


@pytest.fixture
async def staffed(db: Database, studio_id: int) -> int:
    """The example studio with a staff chat (a Telegram group)."""
    await db.execute(
        "UPDATE studios SET staff_chat_id = :chat WHERE id = :id",
        {"chat": STAFF_CHAT, "id": studio_id},
    )
    return studio_id


async def to_staff(db: Database) -> list[str]:
    """The texts queued for the staff chat, oldest first."""
    rows = await db.all(
        "SELECT params FROM outbox WHERE channel = 'telegram' AND address = :chat ORDER BY id",
        {"chat": str(STAFF_CHAT)},
    )
    return [json.loads(r["params"])["text"] for r in rows]


async def to_customer(db: Database, address: str) -> list[str]:
    rows = await db.all(
        "SELECT params FROM outbox WHERE address = :address ORDER BY id", {"address": address}
    )
    return [json.loads(r["params"])["text"] for r in rows]


async def sent(db: Database, message_id: int) -> None:
    """The delivery sent every forward still without a chat message id: number them from
    `message_id` as Telegram would."""
    rows = await db.all(
        "SELECT studio_id, outbox_id FROM handoff_messages WHERE staff_message_id IS NULL"
        " ORDER BY id"
    )
    for offset, row in enumerate(rows):
        await handoff.note_sent(
            db,
            studio_id=row["studio_id"],
            outbox_id=row["outbox_id"],
            chat_id=STAFF_CHAT,
            message_id=message_id + offset,
        )


async def stored(db: Database, clock: FrozenClock, external_id: str) -> InboxItem:
    """A staff chat message as the inbox holds it, claimed (each from its own sender, so an
    earlier one left to the bot does not hold it back)."""
    payload: dict[str, Any] = {"update_id": int(external_id)}
    chat = f"telegram:{external_id}"
    assert await inbox.accept(db, "telegram", external_id, chat, payload, now=clock.now())
    [item] = await inbox.claim(db, clock.now(), 1, timedelta(seconds=30))
    return item


async def staff_says(
    db: Database, clock: FrozenClock, text: str, *, replying_to: int | None, update: int
) -> bool:
    item = await stored(db, clock, str(update))
    return await staff_message(db, clock, item, StaffMessage(STAFF_CHAT, replying_to, text, "Mia"))


async def open_handoffs(db: Database) -> list[dict[str, Any]]:
    rows = await db.all("SELECT ended_at, ended_by FROM handoffs ORDER BY id")
    return [{"ended": r["ended_at"] is not None, "by": r["ended_by"]} for r in rows]


@pytest.mark.usefixtures("staffed")
async def test_human_forwards_the_chat_and_staff_answers_come_back(
    chat: Chat, db: Database, clock: FrozenClock
) -> None:
    await chat.say("book")
    await chat.say("/human")
    assert "talking to a person at" in chat.text
    assert "send BOT" in chat.text
    [intro] = await to_staff(db)
    assert "Ana asks to talk to a person (the terminal)" in intro
    assert "They were at: classes" in intro
    assert "reply /done" in intro

    assert await chat.say("Can I bring my own clay?") == []  # forwarded, not run by the bot
    assert (await to_staff(db))[-1] == "💬 Ana: Can I bring my own clay?"
    await sent(db, 900)  # the intro is message 900, the question 901

    assert await staff_says(db, clock, "Yes, of course!", replying_to=901, update=1)
    assert (await to_customer(db, chat.address))[-1] == ("💬 Mia (Clay & Kiln): Yes, of course!")

    await chat.say("/bot")
    assert "You are back with the bot." in chat.text
    assert "What would you like to do?" in chat.text
    assert (await to_staff(db))[-1] == "Ana went back to the bot; the chat has ended."
    assert await open_handoffs(db) == [{"ended": True, "by": "customer"}]

    # Back with the bot: what they write is the bot's again, and a late staff reply is told so.
    await chat.say("MY")
    assert "bookings" in chat.text.lower()
    assert await staff_says(db, clock, "Anything else?", replying_to=900, update=2)
    assert (await to_staff(db))[-1] == "That chat has ended; Ana is back with the bot."


@pytest.mark.usefixtures("staffed")
async def test_keywords_and_the_menu_open_it_in_both_languages(
    dialogues: Dialogues, db: Database
) -> None:
    for words, language in (("AGENTE", "es"), ("hablar con una persona", "es"), ("HUMAN", "en")):
        person = Chat(dialogues, address=f"+4477009001{len(words):02}", language=language)
        await person.say("/start")
        await person.say(words)
        assert person.text.strip(), words
        assert await dialogues_state(db, person.address) == "handoff", words
        await person.say("volver al bot")
        assert await dialogues_state(db, person.address) == "menu", words
    ana = Chat(dialogues)
    await ana.say("/start")
    await ana.press("💬 Talk to a person")
    assert await dialogues_state(db, ana.address) == "handoff"


async def dialogues_state(db: Database, address: str) -> str:
    return str(
        await db.scalar("SELECT state FROM conversations WHERE address = :a", {"a": address})
    )


@pytest.mark.usefixtures("staffed")
async def test_staff_done_ends_it_and_the_next_message_goes_to_the_bot(
    chat: Chat, db: Database, clock: FrozenClock
) -> None:
    await chat.say("/human")
    await sent(db, 700)
    assert await staff_says(db, clock, "/done", replying_to=700, update=1)
    assert (await to_customer(db, chat.address))[-1] == (
        "Clay & Kiln ended the chat. You are back with the bot: send MENU for the menu."
    )
    assert (await to_staff(db))[-1] == "The chat with Ana has ended."
    assert await open_handoffs(db) == [{"ended": True, "by": "staff"}]
    await chat.say("MY")  # the bot's again
    assert "bookings" in chat.text.lower()
    # /done again on the same message: it has ended, staff are told so, nothing else.
    assert await staff_says(db, clock, "/done", replying_to=700, update=2)
    assert (await to_staff(db))[-1] == "That chat has ended; Ana is back with the bot."


@pytest.mark.usefixtures("staffed")
async def test_other_staff_chat_messages_are_left_to_the_bot(
    chat: Chat, db: Database, clock: FrozenClock
) -> None:
    await chat.say("/human")
    await sent(db, 700)
    # A reply to a message that was never forwarded, and a plain message: not handoff work.
    assert not await staff_says(db, clock, "hello", replying_to=12345, update=1)
    assert not await staff_says(db, clock, "hello", replying_to=None, update=2)
    # /done that replies to nothing: a hint on how to end a chat; the handoff stays open.
    assert await staff_says(db, clock, "/done", replying_to=None, update=3)
    assert (await to_staff(db))[-1] == "To end a chat, reply /done to a customer's message."
    assert await open_handoffs(db) == [{"ended": False, "by": None}]


@pytest.mark.usefixtures("staffed")
async def test_silence_closes_it_once(chat: Chat, db: Database, clock: FrozenClock) -> None:
    await chat.say("/human")
    clock.advance(handoff.QUIET - timedelta(minutes=1))
    await chat.say("Still there?")  # a message keeps it open
    clock.advance(handoff.QUIET - timedelta(minutes=1))
    assert await end_quiet(db, clock) == 0
    clock.advance(timedelta(minutes=2))
    assert await end_quiet(db, clock) == 1
    assert await end_quiet(db, clock) == 0
    assert (await to_customer(db, chat.address))[-1].startswith(
        "The chat with Clay & Kiln went quiet, so I closed it."
    )
    assert (await to_staff(db))[-1] == "The chat with Ana went quiet and was closed."
    assert await open_handoffs(db) == [{"ended": True, "by": "timeout"}]
    await chat.say("MY")
    assert "bookings" in chat.text.lower()


async def test_a_studio_without_a_staff_chat_says_so(chat: Chat, db: Database) -> None:
    await chat.say("/human")
    assert "cannot chat with you here" in chat.text
    assert "What would you like to do?" in chat.text
    assert "💬 Talk to a person" not in chat.labels  # not offered where nobody can answer
    assert await open_handoffs(db) == []


@pytest.mark.usefixtures("staffed")
async def test_one_open_handoff_and_commands_are_for_the_bot(chat: Chat, db: Database) -> None:
    await chat.say("/human")
    await chat.say("/human")  # a command is for the bot: not forwarded, and said so
    assert chat.text == "You are talking to a person now. Send /bot to go back to the bot first."
    assert await open_handoffs(db) == [{"ended": False, "by": None}]
    assert len(await to_staff(db)) == 1  # the intro only
    await chat.say("/start")  # as /bot: back to the bot
    assert "You are back with the bot." in chat.text
    assert await open_handoffs(db) == [{"ended": True, "by": "customer"}]


@pytest.mark.usefixtures("staffed")
async def test_an_sms_customer_is_answered_by_sms(
    dialogues: Dialogues, db: Database, clock: FrozenClock
) -> None:
    sam = Chat(dialogues, address="+447700900777", name="", channel=Channel.SMS)
    await sam.say("HUMAN")
    assert "send BOT" in sam.text
    [intro] = await to_staff(db)
    assert "(SMS, +447700900777)" in intro
    await sam.say("Is parking free?")
    await sent(db, 40)
    assert await staff_says(db, clock, "It is!", replying_to=41, update=1)
    rows = await db.all(
        "SELECT channel, address, params FROM outbox WHERE address = '+447700900777'"
    )
    assert [(r["channel"], json.loads(r["params"])["text"]) for r in rows] == [
        ("sms", "💬 Mia (Clay & Kiln): It is!")
    ]


@pytest.mark.usefixtures("staffed")
async def test_staff_who_asked_for_handoff_notices_are_told(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await db.execute(
        "INSERT INTO staff_notice_subscriptions (studio_id, channel, address, events, mode,"
        " created_at) VALUES (:studio_id, 'telegram', '777', 'handoff', 'instant', :now)",
        {"studio_id": studio_id, "now": clock.now()},
    )
    await chat.say("/human")
    await chat.say("/bot")
    clock.advance(timedelta(minutes=5))
    await chat.say("/human")  # a second handoff is a second notice
    rows = await db.all("SELECT params FROM outbox WHERE template = 'staff_activity' ORDER BY id")
    assert [json.loads(r["params"])["customer_name"] for r in rows] == ["Ana", "Ana"]


@pytest.mark.usefixtures("staffed")
async def test_the_terminal_shows_staff_answers_at_the_next_line(
    dialogues: Dialogues, db: Database, clock: FrozenClock
) -> None:
    out = io.StringIO()
    shell = Shell(dialogues, ShellCustomer("+447700900321", "Ana", "en"), out)
    await shell.say("/start")
    await shell.say("HUMAN")
    assert "send BOT" in out.getvalue()
    await sent(db, 300)
    assert await staff_says(db, clock, "Hello Ana!", replying_to=300, update=1)
    await shell.show_waiting()  # what an empty line (Enter) does
    assert out.getvalue().endswith("💬 Mia (Clay & Kiln): Hello Ana!\n\n")
    await shell.show_waiting()  # shown once
    assert out.getvalue().count("Hello Ana!") == 1


@pytest.mark.usefixtures("staffed")
async def test_on_telegram_a_button_returns_to_the_bot(dialogues: Dialogues, db: Database) -> None:
    ana = Chat(dialogues, address="931", channel=Channel.TELEGRAM)
    await ana.say("/start")
    await ana.say("book")
    await ana.press("Wheel Throwing Taster")
    menu_token = ana.token("⬅")  # a button of a screen left behind
    await ana.say("/human")
    assert "send /bot" in ana.text
    [intro] = await to_staff(db)
    assert "They were at: class (Wheel Throwing Taster)" in intro
    back = ana.token("🤖 Back to the bot")

    [toast] = await ana.press_token(menu_token)  # an old button: a toast, nothing forwarded
    assert toast.toast
    assert toast.notice == "You are talking to a person. Send /bot to go back to the bot."
    assert len(await to_staff(db)) == 1

    await ana.press_token(back)
    assert "You are back with the bot." in ana.text
    assert await open_handoffs(db) == [{"ended": True, "by": "customer"}]
