"""The customer's time zone: typed as a city or a zone name, guessed from the phone number,
confirmed by the local time, and then used for every time shown. Only stable, well-known
zones are asserted (the zone database changes)."""

from __future__ import annotations

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.conversations.timezone_steps import city, zones_named
from bookbot.phones import zone_for_phone
from bookbot.store.db import Database
from tests.conversations.chat import Chat


def test_a_city_or_a_zone_name_in_any_case_names_its_zone() -> None:
    assert zones_named("Madrid") == ["Europe/Madrid"]
    assert zones_named("new york") == ["America/New_York"]
    assert zones_named("America/New_York") == ["America/New_York"]
    assert zones_named("america/new_york") == ["America/New_York"]
    assert zones_named("UTC") == ["UTC"]
    assert zones_named("Atlantis") == []
    assert zones_named("  ") == []


def test_a_zone_is_named_by_its_city() -> None:
    assert city("America/New_York") == "New York"
    assert city("UTC") == "UTC"


def test_the_phone_number_guesses_a_zone_only_when_its_area_has_one() -> None:
    assert zone_for_phone("+34912345678") == "Europe/Madrid"  # a Madrid landline
    assert zone_for_phone("+12125551234") == "America/New_York"  # Manhattan
    assert zone_for_phone("+447700900001") is None  # the drama range: placed nowhere
    assert zone_for_phone("not a number") is None


async def _zone_of(db: Database, address: str) -> str | None:
    async with db.transaction(write=False) as tx:
        found = await tx.scalar(
            "SELECT c.timezone FROM customers c JOIN channel_identities i"
            " ON i.customer_id = c.id WHERE i.address = :address",
            {"address": address},
        )
    return None if found is None else str(found)


async def test_time_zone_set_by_city_and_confirmed_by_the_clock(chat: Chat, db: Database) -> None:
    await chat.press("🌐 Language")
    await chat.press("🕒 Time zone")
    assert "I show times in London time (Europe/London); it is 09:00 there now." in chat.text

    await chat.say("madrid")
    assert "Is it 10:00 where you are? (Madrid, Europe/Madrid)" in chat.text
    await chat.say("yes")

    assert "Done: I will show times in Madrid time (Europe/Madrid) from now on." in chat.text
    assert await _zone_of(db, chat.address) == "Europe/Madrid"
    await chat.say("book")
    assert "next Sat 21 Nov, 15:00 CET" in chat.text  # the studio's 14:00, in Madrid


async def test_no_to_the_clock_asks_again_and_saves_nothing(chat: Chat, db: Database) -> None:
    await chat.say("language")
    await chat.press("🕒 Time zone")
    await chat.say("New York")
    assert "Is it 04:00 where you are?" in chat.text
    await chat.press("No")
    assert "Then please type your city" in chat.text
    await chat.say("Atlantis")
    assert 'I do not know a time zone called "Atlantis".' in chat.text
    assert await _zone_of(db, chat.address) is None


async def test_the_phone_number_offers_its_zone_first(dialogues: Dialogues, db: Database) -> None:
    lola = Chat(dialogues, address="+34912345678", name="Lola", channel=Channel.SMS)
    await lola.say("hi")
    await lola.say("language")
    await lola.say("time zone")
    assert lola.labels[0] == "📍 Madrid (Europe/Madrid)"
    await lola.say("1")
    await lola.say("yes")
    assert await _zone_of(db, lola.address) == "Europe/Madrid"
