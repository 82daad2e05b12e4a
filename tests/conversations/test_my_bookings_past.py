"""Past bookings and past passes in chat: a page at a time, newest first, Older and Newer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from babel.dates import format_date

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.services import booking, passes
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.examples import NOW

LATER = NOW + timedelta(weeks=5)  # every generated session (4 weeks of them) has started


async def customer_id(db: Database) -> int:
    async with db.transaction(write=False) as tx:
        found = await tx.one("SELECT id FROM customers ORDER BY id DESC LIMIT 1")
    assert found is not None
    return int(found["id"])


async def book_singles(db: Database, clock: FrozenClock, studio_id: int, count: int) -> list[str]:
    """Book the chat's customer into the next `count` single-session classes; their lines as
    the past list shows them, newest first."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT s.id FROM sessions s JOIN classes c ON c.id = s.class_id"
            " WHERE s.studio_id = :s AND c.kind = 'single' AND s.part_position IS NULL"
            " ORDER BY s.starts_at, s.id LIMIT :n",
            {"s": studio_id, "n": count},
        )
    who = await customer_id(db)
    for row in rows:
        await booking.book_session(db, clock, studio_id, who, row["id"], guests=1)
    assert len(rows) == count
    return [str(r["id"]) for r in rows]


def lines(chat: Chat) -> list[str]:
    return [line for line in chat.last.text.splitlines() if line.startswith("• ")]


async def test_past_bookings_page_five_at_a_time_with_older_and_newer(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await book_singles(db, clock, studio_id, 7)
    clock.set(LATER)

    await chat.say("my bookings")
    assert "You have no upcoming bookings." in chat.text
    assert chat.labels[0] == "🕘 Past bookings"

    await chat.press("🕘 Past bookings")
    assert chat.last.text.startswith("Your past bookings, newest first:")
    first = lines(chat)
    assert len(first) == 5
    assert chat.labels == ["⬇ Older", "⬅ Back", "✖ Cancel"]

    await chat.press("⬇ Older")
    second = lines(chat)
    assert len(second) == 2
    assert not set(first) & set(second)
    assert chat.labels == ["⬆ Newer", "⬅ Back", "✖ Cancel"]

    await chat.press("⬆ Newer")
    assert lines(chat) == first
    await chat.press("⬅ Back")
    assert "You have no upcoming bookings." in chat.text


async def test_the_past_list_is_newest_first_and_says_when_and_for_how_many(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await book_singles(db, clock, studio_id, 2)
    for reply in ("1", "Wheel Throwing Taster", "2", "2", "confirm"):  # Sat 28 Nov, 14:00
        await chat.say(reply)
    clock.set(LATER)

    await chat.say("my bookings")
    await chat.press("🕘 Past bookings")

    shown = lines(chat)
    assert "• Wheel Throwing Taster · Sat 28 Nov 2026, 14:00 · 2 people" in shown
    assert len(shown) == 3
    assert shown[0] != shown[-1]


async def test_upcoming_bookings_come_first_and_past_ones_behind_a_button(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await book_singles(db, clock, studio_id, 1)
    clock.set(NOW + timedelta(days=3))  # the first has started; the next one is booked now
    await chat.say("menu")
    for reply in ("1", "Wheel Throwing Taster", "2", "1", "confirm"):
        await chat.say(reply)

    await chat.say("my bookings")

    assert chat.text.startswith("Your upcoming bookings")
    assert chat.labels[1:] == ["🕘 Past bookings", "⬅ Back", "✖ Cancel"]


async def test_no_past_bookings_means_no_button(chat: Chat) -> None:
    await chat.say("my bookings")

    assert "You have no upcoming bookings." in chat.text
    assert "🕘 Past bookings" not in chat.labels


@pytest.fixture
async def sms(dialogues: Dialogues) -> Chat:
    chat = Chat(dialogues, address="+447700900777", name="", channel=Channel.SMS)
    await chat.say("Hi")
    return chat


async def test_by_sms_the_past_list_and_its_pages_are_numbered_options(
    sms: Chat, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await book_singles(db, clock, studio_id, 6)
    clock.set(LATER)

    await sms.say("MY")
    await sms.say("1")  # Past bookings
    assert len(lines(sms)) == 5
    await sms.say("older")
    assert len(lines(sms)) == 1
    await sms.say("1")  # Newer
    assert len(lines(sms)) == 5
    assert sms.labels == ["⬇ Older", "⬅ Back", "✖ Menu"]


async def test_in_spanish(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    lucia = Chat(dialogues, address="+34600000001", name="Lucía", language="es")
    await lucia.say("/start")
    await book_singles(db, clock, studio_id, 6)
    clock.set(LATER)

    await lucia.say("mis reservas")
    await lucia.press("🕘 Reservas pasadas")

    assert lucia.last.text.startswith("Tus reservas pasadas, de la más reciente a la más antigua:")
    assert lucia.labels[0] == "⬇ Anteriores"
    await lucia.say("anteriores")
    assert lucia.labels[0] == "⬆ Más recientes"


async def test_past_passes_are_behind_their_own_button(
    chat: Chat, db: Database, studio_id: int
) -> None:
    async with db.transaction(write=False) as tx:
        drop_in = await tx.one("SELECT id FROM classes WHERE kind = 'drop_in'")
    assert drop_in is not None
    month = passes.PassTerms(passes.PassKind.UNLIMITED, valid_days=28)
    who = await customer_id(db)
    for weeks in (20, 14, 8):
        start = (NOW - timedelta(weeks=weeks)).date()
        await passes.issue_pass(
            db,
            NOW - timedelta(weeks=weeks),
            studio_id,
            who,
            drop_in["id"],
            terms=month,
            payment="staff_issued",
            valid_from=start,
        )

    await chat.say("my passes")
    assert "You have no passes you can use now." in chat.text
    await chat.press("🕘 Past passes")

    assert chat.last.text.startswith("Your past passes, newest first:")
    # Each valid for 28 days from its issue: newest first, dates with their year.
    ends = [(NOW - timedelta(weeks=weeks) + timedelta(days=28)).date() for weeks in (8, 14, 20)]
    assert lines(chat) == [
        f"• Open Studio Drop-in · expired after {format_date(day, 'EEE d MMM y', locale='en')}"
        for day in ends
    ]
