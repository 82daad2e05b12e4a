"""Recurring bookings in chat, on SQLite and PostgreSQL: right after booking, "every 2
weeks" makes the appointment the first date of a series and books the next 6 weeks (a
blocked date is said to be skipped); My bookings shows the series, skips one date and
ends it, saying first what ending cancels.

The studio and the trial lesson are test_appointments_chat's: Tom (London, weekdays
10:00-12:00), 5-hour cutoffs; it is Fri 20 Nov 2026, 09:00 UTC.
"""

from __future__ import annotations

from datetime import date

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.services import availability
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_appointments_chat import _to_times, trial

__all__ = ["trial"]  # the fixture, used by name


async def _occurrences(db: Database) -> list[tuple[object, str, str]]:
    rows = await db.all(
        "SELECT occurrence_date, status, origin FROM appointments ORDER BY starts_at"
    )
    return [(r["occurrence_date"], r["status"], r["origin"]) for r in rows]


async def test_every_two_weeks_after_booking_then_skip_a_date_and_end_it(
    chat: Chat, db: Database, clock: FrozenClock, trial: int, studio_id: int
) -> None:
    assert trial
    tom = int(await db.scalar("SELECT id FROM staff WHERE key = 'tom'"))
    await availability.block_day(
        db, clock, studio_id, tom, day=date(2026, 12, 7), reason="Course", source="chat"
    )
    await _to_times(chat, "Tom Hargreaves", "Mon 23 Nov")
    await chat.press("10:00")
    await chat.press("✅ Confirm")
    assert chat.replies[0].text.startswith("✅ Booked!")
    assert chat.labels[0] == "📅 Book a class"  # the menu, with the offer after it
    assert chat.labels[-2:] == ["🔁 Make this weekly", "🔁 Every 2 weeks"]

    await chat.press("🔁 Every 2 weeks")

    assert "🔁 Done: Trial lesson with Tom Hargreaves every 2 weeks, Monday 10:00." in chat.text
    assert "Booked: Mon 21 Dec, 10:00." in chat.text
    assert "Not possible on Mon 7 Dec, 10:00: Tom Hargreaves is away." in chat.text
    assert "The new dates are paid at the studio." in chat.text
    assert "🔁 Make this weekly" not in chat.labels
    assert await _occurrences(db) == [
        (date(2026, 11, 23), "confirmed", "recurring"),
        (date(2026, 12, 21), "confirmed", "recurring"),
    ]

    await chat.press("🗓 My bookings")
    await chat.press("🔁 Trial lesson with Tom Hargreaves every 2 weeks")
    assert "Next: Mon 23 Nov, 10:00, Mon 21 Dec, 10:00." in chat.text
    assert "Skipped: Mon 7 Dec, 10:00." in chat.text
    await chat.press("⏸ Skip one date")
    assert chat.labels[:2] == ["Mon 23 Nov, 10:00", "Mon 21 Dec, 10:00"]
    await chat.press("Mon 21 Dec")
    assert "⏸ Skipped: Mon 21 Dec, 10:00. The other dates stay booked." in chat.text
    assert (date(2026, 12, 21), "cancelled_by_customer", "recurring") in await _occurrences(db)

    await chat.press("⏹ End this series")
    assert "These will be cancelled: Mon 23 Nov, 10:00." in chat.text
    await chat.press("Yes, end it")
    assert "⏹ Your recurring booking has ended." in chat.text
    assert "1 lesson was cancelled." in chat.text
    assert [s for _d, s, _o in await _occurrences(db)] == ["cancelled_by_customer"] * 2
    assert await db.scalar("SELECT status FROM recurring_bookings") == "ended"
    assert not any(label.startswith("🔁") for label in chat.labels)


async def test_a_moved_appointment_gets_no_offer(chat: Chat, trial: int) -> None:
    assert trial
    await _to_times(chat, "Tom Hargreaves", "Mon 23 Nov")
    await chat.press("10:00")
    await chat.press("✅ Confirm")
    await chat.press("🗓 My bookings")
    await chat.press("Trial lesson with Tom Hargreaves")
    await chat.press("🔁 Reschedule")
    await chat.press("Tue 24 Nov")
    await chat.press("11:00")
    await chat.press("✅ Move it")
    assert chat.replies[0].text.startswith("✅ Moved!")
    assert "🔁 Make this weekly" not in chat.labels


async def test_a_date_cancelled_on_its_own_is_not_offered_to_skip(chat: Chat, trial: int) -> None:
    assert trial
    await _to_times(chat, "Tom Hargreaves", "Mon 23 Nov")
    await chat.press("10:00")
    await chat.press("✅ Confirm")
    await chat.press("🔁 Make this weekly")
    assert "Booked: Mon 30 Nov, 10:00, Mon 7 Dec, 10:00, Mon 14 Dec, 10:00" in chat.text
    await chat.press("🗓 My bookings")
    await chat.press("Trial lesson with Tom Hargreaves · Mon 30 Nov")
    await chat.press("✖ Cancel appointment")
    await chat.press("Yes, cancel it")  # back to My bookings
    await chat.press("🔁 Trial lesson with Tom Hargreaves every week")
    await chat.press("⏸ Skip one date")
    assert chat.labels[:3] == ["Mon 23 Nov, 10:00", "Mon 7 Dec, 10:00", "Mon 14 Dec, 10:00"]


async def test_by_sms_the_offer_is_answered_by_typing_it(dialogues: Dialogues, trial: int) -> None:
    assert trial
    sms = Chat(dialogues, address="+447700900777", name="Ben", channel=Channel.SMS)
    await sms.say("MENU")
    await _to_times(sms, "Tom Hargreaves", "Mon 23 Nov")
    await sms.press("10:00")
    await sms.press("✅ Confirm")
    assert "🔁 Every 2 weeks" in sms.labels
    await sms.say("weekly")
    assert "🔁 Done: Trial lesson with Tom Hargreaves every week, Monday 10:00." in sms.text
