"""A three-day course's check-in count is the day's (issue 17, found by a tester): on day 2
the /today table and the roster header say 0 checked in until someone is checked in that
day, though they were on day 1 (the booking's own attendance says "came on some day"). In
English and Spanish, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.services import booking
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests.conversations.test_staff import customer, staff_chat

HEADER = {
    "en": "2/12 booked · {n} checked in",
    "es": "2/12 reservadas · {n} presentes",
}


def _table_count(text: str) -> str:
    """The last column (checked in) of the course's row of the /today table."""
    row = next(line for line in text.splitlines() if "Wheel Throwing Taster" in line)
    return re.split(r"\s+", row.strip())[-1]


@pytest.mark.parametrize("language", ["en", "es"])
async def test_each_day_counts_its_own_check_ins(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int, language: str
) -> None:
    course = NewSession("wheel-taster", date(2026, 11, 21), time(9), time(17), 12, days=3)
    made = await add_session(db, clock, studio_id, course)
    ben = await customer(db, clock, studio_id, "Ben Baker", "+447700900201")
    await booking.book_session(db, clock, studio_id, ben, made.id, guests=2)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say(f"LANG {language}")

    clock.set(datetime(2026, 11, 21, 8, 30, tzinfo=UTC))  # day 1
    await maya.say("/today")
    await maya.press("09:00 Wheel Throwing Taster")
    await maya.press("Ben Baker")
    assert HEADER[language].format(n=2) in maya.text

    clock.set(datetime(2026, 11, 22, 8, 30, tzinfo=UTC))  # day 2: nobody yet
    await maya.say("/today")
    assert _table_count(maya.text) == "0"
    await maya.press("09:00 Wheel Throwing Taster")
    assert HEADER[language].format(n=0) in maya.text
    await maya.press("Ben Baker")
    assert HEADER[language].format(n=2) in maya.text
    await maya.say("/today")
    assert _table_count(maya.text) == "2"
