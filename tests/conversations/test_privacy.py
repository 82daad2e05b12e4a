"""/mydata and /forget by chat: the export (a JSON file on Telegram, a summary by text), and
forgetting a customer after a confirmation that never invites an opt-out word. Audited;
the forgotten customer's bookings keep their seats."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services.booking import book_session
from bookbot.store.db import Database
from tests import builders
from tests.conversations.chat import Chat
from tests.examples import NOW

ANA = "+447700900001"


@pytest.fixture
async def world(db: Database) -> builders.World:
    """A studio with two taster sessions of 3 seats, and Ben (not Ana) booked on the second."""
    w = await builders.studio(db)
    await builders.session(db, w, "soon", "taster", NOW + timedelta(days=3), capacity=3)
    await builders.session(db, w, "later", "taster", NOW + timedelta(days=10), capacity=3)
    await builders.customer(db, w, "Ben", phone="+447700900222")
    return w


@pytest.fixture
def dialogues(db: Database, clock: FrozenClock) -> Dialogues:
    return Dialogues(db, clock)


async def customer_of(db: Database, channel: Channel, address: str) -> int:
    found = await db.scalar(
        "SELECT customer_id FROM channel_identities WHERE channel = :c AND address = :a",
        {"c": channel.value, "a": address},
    )
    assert found is not None
    return int(found)


async def ana_booked(
    dialogues: Dialogues, w: builders.World, channel: Channel, address: str = ANA
) -> tuple[Chat, int]:
    """Ana has written once on `channel` and holds 2 of the 3 seats of the first session."""
    chat = Chat(dialogues, address=address, channel=channel)
    await chat.say("hello")
    ana = await customer_of(dialogues.db, channel, address)
    await book_session(dialogues.db, dialogues.clock, w.studio_id, ana, w["soon"], guests=2)
    await book_session(dialogues.db, dialogues.clock, w.studio_id, w["Ben"], w["later"], guests=1)
    return chat, ana


async def audits(db: Database) -> list[tuple[int, str, str]]:
    rows = await db.all("SELECT customer_id, action, channel FROM privacy_audit ORDER BY id")
    return [(r["customer_id"], r["action"], r["channel"]) for r in rows]


async def test_mydata_on_telegram_is_a_json_file_of_their_own_data(
    dialogues: Dialogues, db: Database, world: builders.World
) -> None:
    chat, ana = await ana_booked(dialogues, world, Channel.TELEGRAM, "5101")
    replies = await chat.say("/mydata")

    attachment = replies[0].attachment
    assert attachment is not None
    assert attachment.mime_type == "application/json"
    data = json.loads(attachment.content)
    assert data["profile"]["name"] == "Ana"
    assert data["channel_identities"] == [{"channel": "telegram", "address": "5101"}]
    assert [(b["class_name"], b["guest_count"]) for b in data["bookings"]] == [("Taster", 2)]
    assert [s["guest_count"] for s in data["booked_sessions"]] == [2]
    assert "Ben" not in attachment.content.decode()  # another customer's booking is not here
    assert "+447700900222" not in attachment.content.decode()
    assert "everything we hold about you" in replies[0].text
    assert replies[-1].options  # and the menu after it
    assert await audits(db) == [(ana, "export", "telegram")]


async def test_mydata_by_sms_is_a_summary_with_the_next_booking(
    dialogues: Dialogues, db: Database, world: builders.World
) -> None:
    chat, ana = await ana_booked(dialogues, world, Channel.SMS)
    await chat.say("MYDATA")

    assert "1 booking, 0 appointments, 0 passes, 0 payments" in chat.text
    assert "Next: Taster, " in chat.text
    assert "send /mydata on Telegram" in chat.text
    assert await audits(db) == [(ana, "export", "sms")]


async def test_forget_by_sms_asks_without_an_opt_out_word_then_anonymises(
    dialogues: Dialogues, db: Database, world: builders.World
) -> None:
    chat, ana = await ana_booked(dialogues, world, Channel.SMS)
    await chat.say("FORGET")

    prompt = chat.text
    assert "Reply FORGET to confirm" in prompt
    assert "Your upcoming booking stays booked" in prompt
    for opt_out in ("STOP", "CANCEL", "UNSUBSCRIBE", "END", "QUIT", "STOPALL"):
        assert not re.search(rf"\b{opt_out}\b", prompt.upper()), opt_out
    assert await db.scalar("SELECT forgotten_at FROM customers WHERE id = :c", {"c": ana}) is None

    await chat.say("FORGET")

    assert "we have forgotten you" in chat.text
    row = await db.one(
        "SELECT name, phone, language, timezone, forgotten_at FROM customers WHERE id = :c",
        {"c": ana},
    )
    assert row is not None
    assert (row["name"], row["phone"], row["language"], row["timezone"]) == (
        "Forgotten customer",
        None,
        None,
        None,
    )
    assert row["forgotten_at"] is not None
    identities = "SELECT COUNT(*) FROM channel_identities WHERE customer_id = :c"
    assert await db.scalar(identities, {"c": ana}) == 0
    assert await audits(db) == [(ana, "forget", "sms")]
    # Her reminders are withdrawn; the booking itself stays.
    pending = "SELECT COUNT(*) FROM outbox WHERE customer_id = :c AND status = 'pending'"
    assert await db.scalar(pending, {"c": ana}) == 0
    booked = "SELECT SUM(guest_count) FROM registration_sessions WHERE customer_id = :c"
    assert await db.scalar(booked + " AND status = 'booked'", {"c": ana}) == 2

    # The same number writing again is a new customer, with nothing of hers.
    await chat.say("hello")
    fresh = await customer_of(db, Channel.SMS, ANA)
    assert fresh != ana
    assert await db.scalar("SELECT phone FROM customers WHERE id = :c", {"c": fresh}) == ANA
    await chat.say("MY")
    assert "You have no upcoming bookings." in chat.text


async def test_a_forgotten_customers_seats_still_count(
    dialogues: Dialogues, db: Database, world: builders.World
) -> None:
    chat, ana = await ana_booked(dialogues, world, Channel.TELEGRAM, "5102")
    await chat.say("/forget")
    await chat.press("🗑 Yes, forget me")
    assert "we have forgotten you" in chat.text
    await chat.press("📅 Book a class")  # the menu under it works, for a new customer
    assert "Our classes:" in chat.text
    assert await customer_of(db, Channel.TELEGRAM, "5102") != ana

    # Two of the three seats are still hers: one is left, not three.
    with pytest.raises(errors.NotEnoughSeats):
        await book_session(
            db, dialogues.clock, world.studio_id, world["Ben"], world["soon"], guests=2
        )
    await book_session(db, dialogues.clock, world.studio_id, world["Ben"], world["soon"], guests=1)


async def test_keep_my_data_changes_nothing(
    dialogues: Dialogues, db: Database, world: builders.World
) -> None:
    chat, ana = await ana_booked(dialogues, world, Channel.SMS)
    await chat.say("forget me")
    await chat.say("2")  # Keep my data
    assert chat.text == "What would you like to do?"
    assert await db.scalar("SELECT name FROM customers WHERE id = :c", {"c": ana}) == "Ana"
    assert await audits(db) == []


async def test_borrar_confirms_in_spanish(
    dialogues: Dialogues, db: Database, world: builders.World
) -> None:
    chat, ana = await ana_booked(dialogues, world, Channel.WHATSAPP)
    await chat.say("OLVIDAME")
    await chat.say("borrar")
    assert await audits(db) == [(ana, "forget", "whatsapp")]


async def test_slash_cancel_stops_what_i_am_doing_and_cancels_no_booking(
    dialogues: Dialogues, db: Database, world: builders.World
) -> None:
    chat, ana = await ana_booked(dialogues, world, Channel.TELEGRAM, "5103")
    await chat.say("/book")
    await chat.say("/cancel")
    assert chat.text.startswith("Stopped. Here is the menu.")
    booked = "SELECT SUM(guest_count) FROM registration_sessions WHERE customer_id = :c"
    assert await db.scalar(booked + " AND status = 'booked'", {"c": ana}) == 2
