"""/session in chat (issue 17): staff add a one-off session (class, typed date and times, a
length tapped, the capacity typed) that customers are then offered and can book; staff
change its time (attendees told, SEQUENCE+1) and its capacity (never below the seats
taken). The example studio, Fri 20 Nov 2026 09:00 London."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import icalendar

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.services import cancellation
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import SATURDAY_TASTER, session_at, staff_chat

NEW_LABEL = "Sat 21 Nov, 10:30 · Wheel Throwing Taster"


async def _add_tomorrow(maya: Chat) -> None:
    await maya.say("/session")
    assert maya.labels[:2] == ["➕ Add a one-off session", "✏️ Change a session"]
    await maya.press("➕ Add a one-off session")
    assert "Six-Week Wheel Course" not in maya.labels  # a course is booked as a run
    await maya.press("Wheel Throwing Taster")
    await maya.say("soon")  # not a date: asked again
    assert "Sorry, I did not understand that" in maya.text
    await maya.say("tomorrow")
    assert "start time" in maya.text
    await maya.say("half past ten")
    assert "Sorry, I did not understand that" in maya.text
    await maya.say("10:30")
    await maya.press("120 min")
    assert "How many seats? Type a number (usually 6)." in maya.text
    await maya.say("6")
    assert "New session of Wheel Throwing Taster:" in maya.text
    assert "Sat 21 Nov, 10:30–12:30" in maya.text
    await maya.press("✅ Confirm")


async def test_staff_add_a_session_that_customers_book_then_move_it(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await _add_tomorrow(maya)
    assert "added: Wheel Throwing Taster, Sat 21 Nov, 10:30." in maya.text
    row = await db.one(
        "SELECT id, starts_at, pattern_id, capacity FROM sessions WHERE studio_id = :s"
        " AND pattern_id IS NULL",
        {"s": studio_id},
    )
    assert row is not None
    assert row["capacity"] == 6
    session_id = int(row["id"])

    ana = Chat(dialogues)
    await ana.say("/start")
    await ana.say("1")
    await ana.say("Wheel Throwing Taster")
    assert any(label.startswith("Sat 21 Nov, 10:30") for label in ana.labels)
    await ana.press("Sat 21 Nov, 10:30")
    await ana.say("2")
    replies = await ana.say("confirm")
    assert replies[0].text.startswith("🎉 Booked! Wheel Throwing Taster, Sat 21 Nov 2026, 10:30")

    await maya.say("/session")
    await maya.press("✏️ Change a session")
    await maya.press(NEW_LABEL)
    assert "4 seats left (6)" in maya.text
    await maya.press("👥 Change the capacity")
    await maya.say("1")
    await maya.press("✅ Confirm")
    assert "Seats taken: 2. The capacity cannot be less than that." in maya.text
    assert await db.scalar("SELECT capacity FROM sessions WHERE id = :id", {"id": session_id}) == 6

    await maya.say("/session")
    await maya.press("✏️ Change a session")
    await maya.press(NEW_LABEL)
    await maya.press("🕒 Change the time")
    await maya.press("Same day")
    await maya.say("1pm")
    await maya.say("3pm")
    assert "Everyone booked is told of the new time" in maya.text
    await maya.press("✅ Confirm")
    assert "changed: Sat 21 Nov, 13:00, 6 seats. 1 person was told." in maya.text
    starts = await db.scalar("SELECT starts_at FROM sessions WHERE id = :id", {"id": session_id})
    assert str(starts).startswith("2026-11-21 13:00")
    told = await db.one("SELECT params FROM outbox WHERE template = 'session_changed'")
    assert told is not None
    params = json.loads(told["params"])
    assert params["sequence"] == 1
    assert params["starts_at"] == datetime(2026, 11, 21, 13, 0, tzinfo=UTC).isoformat()


async def test_session_is_for_staff_only(dialogues: Dialogues, db: Database) -> None:
    eve = Chat(dialogues, address="6002", name="Eve", channel=Channel.TELEGRAM)
    await eve.say("/start")
    await eve.say("/session")
    assert "➕ Add a one-off session" not in eve.labels
    assert await db.scalar("SELECT COUNT(*) FROM sessions WHERE pattern_id IS NULL") == 0


async def test_a_cancelled_session_is_not_offered(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ana = Chat(dialogues)
    await ana.say("/start")
    await ana.say("1")
    await ana.say("Wheel Throwing Taster")
    assert any(label.startswith("Sat 21 Nov, 14:00") for label in ana.labels)
    await cancellation.cancel_session(
        db, clock, studio_id, await session_at(db, studio_id, "wheel-taster", SATURDAY_TASTER),
        reason="Instructor ill",
    )  # fmt: skip
    await ana.say("menu")
    await ana.say("1")
    await ana.say("Wheel Throwing Taster")
    assert not any(label.startswith("Sat 21 Nov, 14:00") for label in ana.labels)


async def test_staff_add_a_three_day_course_in_chat_that_customers_see_as_one_item(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/session")
    await maya.press("➕ Add a one-off session")
    await maya.press("Wheel Throwing Taster")
    await maya.press("3 days")
    assert "A course over 3 days: type its first date" in maya.text
    await maya.say("tomorrow")
    await maya.say("9am")
    await maya.say("5pm")
    await maya.say("12")
    assert "Sat 21 Nov, 09:00–17:00" in maya.text
    assert "3 days, the same hours each day" in maya.text
    await maya.press("✅ Confirm")
    assert "Wheel Throwing Taster, Sat 21 – Mon 23 Nov, 09:00–17:00 daily." in maya.text
    days = await db.scalar(
        "SELECT COUNT(*) FROM session_days WHERE studio_id = :s", {"s": studio_id}
    )
    assert days == 3

    ana = Chat(dialogues)
    await ana.say("/start")
    await ana.say("1")
    await ana.press("Wheel Throwing Taster")
    [label] = [label for label in ana.labels if "Sat 21 – Mon 23 Nov, 09:00–17:00 daily" in label]
    assert label.endswith("12 seats left")
    await ana.press(label)
    await ana.say("1")
    assert "• Sat 21 – Mon 23 Nov 2026, 09:00–17:00 daily" in ana.text  # the summary
    replies = await ana.say("confirm")
    assert replies[0].text.startswith(
        "🎉 Booked! Wheel Throwing Taster, Sat 21 – Mon 23 Nov 2026, 09:00–17:00 daily"
    )
    attached = replies[0].attachment
    assert attached is not None
    events = icalendar.Calendar.from_ical(attached.content).walk("VEVENT")
    assert [str(e["UID"]).split("@")[0][-6:] for e in events] == ["-day-1", "-day-2", "-day-3"]
    booked = await db.all(
        "SELECT guest_count FROM registration_sessions WHERE studio_id = :s AND status = 'booked'",
        {"s": studio_id},
    )
    assert [r["guest_count"] for r in booked] == [1]
    await ana.say("MY")
    assert any("Sat 21 – Mon 23 Nov, 09:00–17:00 daily" in label for label in ana.labels)
