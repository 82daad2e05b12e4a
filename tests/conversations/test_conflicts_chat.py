"""Staff in chat: /conflicts lists the appointments a change of availability left outside
it, with Cancel and Keep for each (buttons on Telegram, numbers by SMS); a conflict handled
meanwhile is not handled twice. The studio, people and lessons are test_staff_appointments'
(Fri 20 Nov 2026; Maya and Tom give a 60-minute lesson weekdays 09:00-17:00 London).
"""

from __future__ import annotations

from datetime import timedelta

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.services import availability, conflicts
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import staff_chat
from tests.conversations.test_staff_appointments import (
    MONDAY_10,
    ben,
    booked,
    lessons,
    rows_of,
    staff_id_of,
)

MAYA_SMS = "+442079460101"  # her phone on the staff list


async def _two_monday_lessons(db: Database, clock: FrozenClock, studio_id: int) -> list[int]:
    ids = await lessons(db, clock, studio_id)
    ben_id = await ben(db, clock, studio_id)
    made = []
    for hours in (0, 4):  # 10:00 and 14:00
        made.append(
            await booked(
                db,
                clock,
                studio_id,
                customer_id=ben_id,
                staff_id=ids["maya"],
                service_id=ids["service"],
                at=MONDAY_10 + timedelta(hours=hours),
            )
        )
    return [a.id for a in made]


async def _statuses(db: Database) -> list[tuple[str, str | None]]:
    rows = await rows_of(
        db,
        "SELECT a.status, c.resolution FROM appointment_conflicts c"
        " JOIN appointments a ON a.id = c.appointment_id ORDER BY a.starts_at",
    )
    return [(r["status"], r["resolution"]) for r in rows]


async def test_new_hours_in_chat_then_keep_one_and_cancel_the_other(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await _two_monday_lessons(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/availability")
    await maya.press("🕘 Change a weekday's hours")
    await maya.press("Monday")
    await maya.say("15:00-17:00")

    assert "Weekly hours on Monday from now on: 15:00–17:00." in maya.text
    notices = await rows_of(
        db, "SELECT template, address FROM outbox WHERE template LIKE 'staff_c%'"
    )
    assert [tuple(r) for r in notices] == [("staff_conflicts_found", "5001")]

    await maya.say("/conflicts")

    assert "Booked appointments that no longer fit your availability (times in London):" in (
        maya.text
    )
    assert "1. Mon 23 Nov, 10:00–11:00 · Ben Baker · Lesson: outside your hours" in maya.text
    assert "2. Mon 23 Nov, 14:00–15:00 · Ben Baker · Lesson: outside your hours" in maya.text
    assert maya.labels[:4] == ["✖ Cancel 1", "✅ Keep 1", "✖ Cancel 2", "✅ Keep 2"]

    await maya.press("✅ Keep 2")

    assert "Kept: Lesson with Ben Baker, Mon 23 Nov, 14:00–15:00." in maya.text
    assert "1. Mon 23 Nov, 10:00–11:00" in maya.text
    assert "14:00–15:00 · Ben Baker" not in maya.text.split("Kept:")[1]
    assert maya.labels[:2] == ["✖ Cancel 1", "✅ Keep 1"]

    await maya.press("✖ Cancel 1")
    assert "Why are you cancelling?" in maya.text
    await maya.say("My Monday mornings are gone, sorry")

    assert (
        "Cancelled: Lesson with Ben Baker, Mon 23 Nov, 10:00–11:00. We have told Ben Baker,"
        " with your reason." in maya.text
    )
    assert "No conflicts: every booked appointment fits your hours." in maya.text
    assert await _statuses(db) == [("cancelled_by_staff", "cancelled"), ("confirmed", "kept")]
    told = await rows_of(
        db, "SELECT params FROM outbox WHERE template = 'appointment_cancelled_by_staff'"
    )
    assert len(told) == 1
    assert "My Monday mornings are gone" in told[0]["params"]


async def test_a_press_on_a_conflict_handled_meanwhile_says_so(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await _two_monday_lessons(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/availability")
    await maya.press("🕘 Change a weekday's hours")
    await maya.press("Monday")
    await maya.say("off")
    await maya.say("/conflicts")
    first, second = await conflicts.open_conflicts(db, clock, studio_id)

    # Kept from the command line while Maya looks at the list.
    await conflicts.keep(db, clock, studio_id, first.id, source="cli", actor="cli")
    await maya.press("✖ Cancel 1")

    assert "That conflict was already handled: the appointment was kept." in maya.text
    assert "1. Mon 23 Nov, 14:00–15:00" in maya.text  # the list as it is now

    await maya.press("✖ Cancel 1")  # now the 14:00 one
    await conflicts.cancel(db, clock, studio_id, second.id, reason="Closed", actor="cli")
    await maya.say("Too late, it seems")

    assert "That conflict was already handled: the appointment was cancelled." in maya.text
    assert await _statuses(db) == [("confirmed", "kept"), ("cancelled_by_staff", "cancelled")]
    told = await rows_of(
        db, "SELECT id FROM outbox WHERE template = 'appointment_cancelled_by_staff'"
    )
    assert len(told) == 1  # told once, with the first reason


async def test_by_sms_the_options_are_numbers_and_only_staff_may_ask(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await _two_monday_lessons(db, clock, studio_id)
    await _hours_off_on_monday(db, clock, studio_id)
    maya = Chat(dialogues, address=MAYA_SMS, name="Maya", channel=Channel.SMS)
    await maya.say("/conflicts")
    assert "1. Mon 23 Nov, 10:00–11:00 · Ben Baker · Lesson: outside your hours" in maya.text

    await maya.say("2")  # the second option: Keep 1

    assert "Kept: Lesson with Ben Baker, Mon 23 Nov, 10:00–11:00." in maya.text
    assert await _statuses(db) == [("confirmed", "kept"), ("confirmed", None)]

    stranger = Chat(dialogues, address="+447700900999", name="Zed", channel=Channel.SMS)
    await stranger.say("/conflicts")
    assert "Sorry, that is for studio staff only." in stranger.text


async def _hours_off_on_monday(db: Database, clock: FrozenClock, studio_id: int) -> None:
    await availability.set_weekday_hours(
        db,
        clock,
        studio_id,
        await staff_id_of(db, studio_id, "maya"),
        weekday=0,
        windows=[],
        source="cli",
    )
