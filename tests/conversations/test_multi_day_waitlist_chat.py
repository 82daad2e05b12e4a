"""A full multi-day course in chat: the full notice, the waitlist question and the place
under My bookings name its dates and daily hours (one item), in English and Spanish. The
example studio, Fri 20 Nov 2026 09:00 London."""

from __future__ import annotations

from datetime import date, time

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import staff_chat

EN = "Wed 25 – Fri 27 Nov, 09:00–17:00 daily"
ES = "mié 25 – vie 27 nov, 09:00–17:00 cada día"


async def _full_course(dialogues: Dialogues, db: Database, clock: FrozenClock, studio: int) -> None:
    """A three-day taster course with one seat, which Ben books."""
    course = NewSession("wheel-taster", date(2026, 11, 25), time(9, 0), time(17, 0), 1, days=3)
    await add_session(db, clock, studio, course)
    ben = Chat(dialogues, address="+447700900002", name="Ben")
    await ben.say("/start")
    await ben.say("1")
    await ben.press("Wheel Throwing Taster")
    await ben.press(EN)
    await ben.say("1")
    await ben.say("confirm")
    assert "Booked!" in ben.text


async def test_joining_the_waitlist_of_a_full_course(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await _full_course(dialogues, db, clock, studio_id)
    ana = Chat(dialogues)
    await ana.say("/start")
    await ana.say("1")
    await ana.press("Wheel Throwing Taster")
    assert f"{EN} · full (waitlist)" in ana.labels
    await ana.press(EN)
    assert f"{EN} is full. Join the waitlist?" in ana.text
    await ana.say("1")
    assert f"Join the waitlist for {EN}, for 1 person?" in ana.text
    await ana.press("Join the waitlist")
    await ana.say("MY")
    assert f"⏳ Wheel Throwing Taster · {EN} · waitlist" in ana.labels
    await ana.press("⏳ Wheel Throwing Taster")
    assert f"You are on the waitlist for Wheel Throwing Taster, {EN}, for 1 person." in ana.text


async def test_joining_the_waitlist_of_a_full_course_in_spanish(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await _full_course(dialogues, db, clock, studio_id)
    lucia = Chat(dialogues, address="+34600000002", name="Lucía", language="es")
    await lucia.say("/start")
    await lucia.say("1")
    await lucia.press("Wheel Throwing Taster")
    await lucia.press(ES)
    assert ES in lucia.last.text
    await lucia.say("1")
    assert f"lista de espera del {ES} para 1 persona?" in lucia.last.text
    await lucia.press("Apuntarme a la lista de espera")
    await lucia.say("MY")
    assert f"⏳ Wheel Throwing Taster · {ES} · lista de espera" in lucia.labels


async def test_moving_a_course_booking_to_another_run(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await _full_course(dialogues, db, clock, studio_id)  # Ben's booking
    later = NewSession("wheel-taster", date(2026, 12, 2), time(9, 0), time(17, 0), 4, days=3)
    await add_session(db, clock, studio_id, later)
    ben = Chat(dialogues, address="+447700900002", name="Ben")
    await ben.say("MY")
    await ben.press("Wheel Throwing Taster")
    await ben.press("🔁 Move to another date")
    later_dates = "Wed 2 – Fri 4 Dec, 09:00–17:00 daily"
    assert f"{later_dates} · 4 seats left" in ben.labels
    await ben.press(later_dates)
    assert ben.last.text.startswith(
        "Move your booking to Wed 2 – Fri 4 Dec 2026, 09:00–17:00 daily?"
    )
    await ben.press("✅ Move it")
    assert "✅ Moved! Wheel Throwing Taster, Wed 2 – Fri 4 Dec 2026, 09:00–17:00 daily." in ben.text


async def test_assigning_staff_to_a_course_names_its_dates(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    course = NewSession("wheel-taster", date(2026, 11, 25), time(9, 0), time(17, 0), 4, days=3)
    await add_session(db, clock, studio_id, course)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/assign")
    await maya.press(f"{EN} · Wheel Throwing Taster")
    assert f"Wheel Throwing Taster · {EN}" in maya.last.text
    await maya.press(maya.labels[0])
    await maya.press("Assistant")
    assert f"assists at Wheel Throwing Taster on {EN}." in maya.text
