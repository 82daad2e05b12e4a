"""A multi-day course reads as one item with its span in every list: the classes list's
"next" date, a course's start dates, the staff no-shows and the customer's /mydata summary
(the training centre's three-day ACS Core, Wed to Fri, 09:00-17:00 each day)."""

from __future__ import annotations

from datetime import UTC, datetime

from bookbot.cli.demo import TRAINING_EXAMPLE
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.services import attendance, booking
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import MAYA_TELEGRAM, customer
from tests.examples import NOW, load_example_studio

ACS = "Gas Safe ACS Core"


async def _training(db: Database, clock: FrozenClock) -> int:
    return await load_example_studio(db, clock, name=TRAINING_EXAMPLE)


async def _session(db: Database, studio_id: int, starts_at: datetime) -> int:
    found = await db.scalar(
        "SELECT s.id FROM sessions s JOIN classes c ON c.id = s.class_id"
        " WHERE s.studio_id = :s AND c.key = 'acs-core' AND s.starts_at = :at",
        {"s": studio_id, "at": starts_at},
    )
    assert found is not None
    return int(found)


async def test_the_classes_list_gives_a_course_its_span(db: Database) -> None:
    clock = FrozenClock(NOW)  # Fri 20 Nov: the 18-20 Nov course is under way
    await _training(db, clock)
    ana = Chat(Dialogues(db, clock))
    await ana.say("/start")
    await ana.say("book")

    assert f"• {ACS} · £850.00 · next Wed 2 – Fri 4 Dec, 09:00–17:00 daily" in ana.text


async def test_a_courses_start_dates_give_each_run_its_span(db: Database) -> None:
    clock = FrozenClock(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    studio_id = await _training(db, clock)
    await db.execute(
        "UPDATE classes SET kind = 'course' WHERE studio_id = :s AND key = 'acs-core'",
        {"s": studio_id},
    )
    ana = Chat(Dialogues(db, clock))
    await ana.say("/start")
    await ana.say("book")
    await ana.press(ACS)

    assert "starts Wed 4 – Fri 6 Nov, 09:00–17:00 daily · 2 sessions · 0/12 enrolled" in ana.labels


async def test_a_no_show_on_a_course_gives_its_span(db: Database) -> None:
    clock = FrozenClock(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    studio_id = await _training(db, clock)
    ben = await customer(db, clock, studio_id, "Ben Baker", "+447700900201")
    course = await _session(db, studio_id, datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    await booking.book_session(db, clock, studio_id, ben, course, guests=1)
    clock.set(datetime(2026, 11, 20, 18, 0, tzinfo=UTC))  # its last day ended at 17:00
    await attendance.close_ended(db, clock)
    await db.execute(
        "UPDATE staff SET telegram_user_id = :tg WHERE studio_id = :s AND key = 'gareth'",
        {"tg": int(MAYA_TELEGRAM), "s": studio_id},
    )
    gareth = Chat(Dialogues(db, clock), address=MAYA_TELEGRAM, channel=Channel.TELEGRAM)
    await gareth.say("/start")
    await gareth.say("/noshows")

    assert f"• Wed 18 – Fri 20 Nov, 09:00–17:00 daily · {ACS} · Ben Baker" in gareth.text


async def test_mydata_by_text_gives_a_course_its_span(db: Database) -> None:
    clock = FrozenClock(NOW)
    studio_id = await _training(db, clock)
    ana = Chat(Dialogues(db, clock), channel=Channel.SMS)
    await ana.say("hi")
    ana_id = await db.scalar(
        "SELECT id FROM customers WHERE studio_id = :s AND phone = :p",
        {"s": studio_id, "p": ana.address},
    )
    course = await _session(db, studio_id, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    await booking.book_session(db, clock, studio_id, int(ana_id), course, guests=1)
    await ana.say("MYDATA")

    assert f"Next: {ACS}, Wed 2 – Fri 4 Dec, 09:00–17:00 daily." in ana.text
