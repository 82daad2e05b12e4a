"""The roster of a three-day course in chat: on its second day /today lists it, the roster
says "Day 2 of 3", a tap checks a person in for that day, and each day has its mark."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.services import booking
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests.conversations.test_staff import customer, staff_chat


async def test_day_two_of_a_course_on_the_roster(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    made = await add_session(
        db,
        clock,
        studio_id,
        NewSession(
            "wheel-taster", date(2026, 11, 21), time(9, 0), time(17, 0), capacity=12, days=3
        ),
    )
    ben = await customer(db, clock, studio_id, "Ben Baker", "+447700900201")
    await booking.book_session(db, clock, studio_id, ben, made.id, guests=1)
    clock.set(datetime(2026, 11, 22, 8, 30, tzinfo=UTC))  # Sunday, day 2

    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/today")
    await maya.press("09:00 Wheel Throwing Taster")

    assert "Wheel Throwing Taster · Sat 21 – Mon 23 Nov, 09:00–17:00 daily" in maya.text
    assert "Day 2 of 3" in maya.text
    assert maya.labels[0] == "Ben Baker · ○ ○ ○"  # no day marked yet
    await maya.press("Ben Baker · ○ ○ ○")
    assert "Ben Baker is checked in." in maya.text
    assert maya.labels[0] == "✅ Ben Baker · checked in · ○ ✓ ○"
    marks = await db.all(
        "SELECT day_number, status FROM day_attendance WHERE studio_id = :s", {"s": studio_id}
    )
    assert [(m["day_number"], m["status"]) for m in marks] == [(2, "attended")]
