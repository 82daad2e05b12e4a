"""A customer's booking page (My bookings → the booking) shows the attendee details they
gave, compactly, so they can check them (issue 17, found by a tester): the names, email,
company and job title on one line, the requests on their own. In English and Spanish."""

from __future__ import annotations

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_attendee_details import ALL, ask_for, to_details

GIVEN = "Ana María López, Ben Ode · ana@example.com · Acme Gas Ltd · Site engineer"
WORDS = {
    "en": {"my": "my", "details": "Details: ", "requests": "Requests: "},
    "es": {
        "my": "mis reservas",
        "details": "",
        "requests": "Peticiones: ",
    },  # "Details" to translate
}


@pytest.mark.parametrize("language", ["en", "es"])
async def test_the_booking_page_shows_the_details_given(
    dialogues: Dialogues, db: Database, studio_id: int, language: str
) -> None:
    await ask_for(db, studio_id, ALL)
    chat = Chat(dialogues, language=language)
    await chat.say("/start")
    await to_details(chat, "2")
    for said in ("Ana María López", "ana@example.com", "Acme Gas Ltd", "Site engineer"):
        await chat.say(said)
    await chat.say("Vegetarian lunch")
    await chat.say("Ben Ode")
    await chat.press("✅")
    await chat.say(WORDS[language]["my"])
    await chat.press("Wheel Throwing Taster")
    lines = chat.text.splitlines()
    details = [line for line in lines if line.endswith(GIVEN)]
    assert len(details) == 1
    assert details[0].startswith(WORDS[language]["details"])
    assert any(line.endswith(WORDS[language]["requests"] + "Vegetarian lunch") for line in lines)


async def test_a_booking_without_details_shows_none(chat: Chat) -> None:
    await to_details(chat, "1")  # the taster asks no details here: straight to the summary
    await chat.press("✅")
    await chat.say("my")
    await chat.press("Wheel Throwing Taster")
    assert "Details:" not in chat.text
