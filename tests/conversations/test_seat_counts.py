"""The seat counts a customer sees read right for 0, 1, 2, 8 and 11 free seats, in English and
Spanish: "1 seat left" / "queda 1 plaza", and a full date says so, never "0 seats left"."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from bookbot.presentation.i18n import SUPPORTED
from bookbot.store.db import Database
from tests.conversations.chat import Chat

SEATS = (0, 1, 2, 8, 11)

# The seat counts as a customer sees them: the first Wheel Throwing Taster with 0-11 seats.
LEFT = {
    "en": {1: "1 seat left", 2: "2 seats left", 8: "8 seats left", 11: "11 seats left"},
    "es": {1: "queda 1 plaza", 2: "quedan 2 plazas", 8: "quedan 8 plazas", 11: "quedan 11 plazas"},
}
_NO_SEATS = re.compile(r"\b0 (?:seats?|plazas?)\b|\b(?:only|solo quedan?) 0\b", re.IGNORECASE)
_ONE_PLURAL = re.compile(r"\b1 (?:seats|plazas)\b|\bquedan 1\b", re.IGNORECASE)


async def seats_left_on_first_taster(db: Database, now: datetime, seats: int) -> None:
    """The first bookable Wheel Throwing Taster with `seats` free (0: full, by another's booking)."""
    async with db.transaction() as tx:
        session_id = await tx.scalar(
            "SELECT s.id FROM sessions s JOIN classes c ON c.id = s.class_id"
            " WHERE c.name = 'Wheel Throwing Taster' AND s.starts_at > :now"
            " ORDER BY s.starts_at LIMIT 1",
            {"now": now},
        )
        await tx.execute(
            "UPDATE sessions SET capacity = :seats WHERE id = :id",
            {"seats": max(seats, 1), "id": session_id},
        )
        await tx.execute("UPDATE resources SET total_quantity = 20 WHERE total_quantity < 20")


@pytest.mark.parametrize("seats", SEATS)
@pytest.mark.parametrize("language", SUPPORTED)
@pytest.mark.backends("sqlite")  # wording, the same on both databases
async def test_seat_counts_read_right(chat: Chat, db: Database, language: str, seats: int) -> None:
    await seats_left_on_first_taster(db, chat.dialogues.clock.now(), seats)
    if seats == 0:  # taken by someone else
        other = Chat(chat.dialogues, address="+447700900999")
        for said in ("/start", "1", "Wheel Throwing Taster", "1", "1", "confirm"):
            await other.say(said)
        assert "Booked!" in other.text
    chat.language = language
    await chat.say(f"LANG {language}")
    seen = []
    for said in ("1", "Wheel Throwing Taster"):
        await chat.say(said)
        seen.append(chat.text + "\n" + "\n".join(chat.labels))
    first_date = chat.labels[0]
    await chat.say("1")  # the first date
    seen.append(chat.text + "\n" + "\n".join(chat.labels))
    if seats:
        await chat.say(f"{seats + 1} {'people' if language == 'en' else 'personas'}")
        seen.append(chat.text)
    shown = "\n".join(seen)
    assert not _NO_SEATS.search(shown), shown
    assert not _ONE_PLURAL.search(shown), shown
    if seats == 0:
        assert "(" in first_date, first_date  # "full (waitlist)", not "0 seats left"
    else:
        assert LEFT[language][seats] in first_date, first_date
