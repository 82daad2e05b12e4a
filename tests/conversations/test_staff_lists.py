"""Staff lists: ⬅ Back returns to the list a session was opened from, lists page and jump to
a typed date, /assign offers only qualified staff free at the time, rosters show the party
and its payment as a table.

The example studio at Fri 20 Nov 2026 09:00 (London, GMT), four weeks of sessions: the
weekday drop-in at 16:00 (Tom), Saturday glazing at 10:00 and the taster at 14:00, and more.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.conversations.staff_lists import typed_day
from bookbot.engine.clock import FrozenClock
from bookbot.services import attendance, booking
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import (
    TODAY_16,
    ben_and_cleo_today,
    customer,
    session_at,
    staff_chat,
)

SESSIONS = "Choose a session to see its roster:"


def _sessions(chat: Chat) -> list[str]:
    """The session options of a list (dated labels), without paging and navigation."""
    return [label for label in chat.labels if "·" in label]


async def test_back_from_a_roster_returns_to_the_list_at_its_page(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/roster")
    first = _sessions(maya)
    assert len(first) == 10
    assert first[0] == "Fri 20 Nov, 16:00 · Open Studio Drop-in"
    assert "Later ▸" in maya.labels
    assert "◂ Earlier" not in maya.labels  # nothing before today

    await maya.press("Later ▸")
    second = _sessions(maya)
    assert len(second) == 10
    assert not set(first) & set(second)
    assert "◂ Earlier" in maya.labels

    await maya.press(second[3])
    assert second[3].split(" · ")[1] in maya.text  # the roster of that session
    assert "Tap a name" in maya.text or "Nobody is booked yet." in maya.text

    await maya.press("⬅ Back")
    assert SESSIONS in maya.text
    assert _sessions(maya) == second  # the same page
    await maya.press("◂ Earlier")
    assert _sessions(maya) == first


async def test_back_from_a_roster_opened_from_today_returns_to_today(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await ben_and_cleo_today(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/today")
    await maya.press("16:00 Open Studio Drop-in")
    await maya.press("Cleo Cruz")  # check-in stays on the roster
    assert "Cleo Cruz is checked in." in maya.text

    await maya.press("⬅ Back")

    assert "Today, Fri 20 Nov:" in maya.text


async def test_a_typed_date_starts_the_list_that_day(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/roster")
    assert "Or type a date, such as 12 Jan or tomorrow." in maya.text

    await maya.say("12 dec")
    assert _sessions(maya)[0].startswith("Sat 12 Dec, 10:00")
    await maya.press("◂ Earlier")  # the page before that day
    assert _sessions(maya)[-1] == "Fri 11 Dec, 18:30 · Handbuilt Mug Course"
    await maya.press("Later ▸")
    assert _sessions(maya)[0].startswith("Sat 12 Dec, 10:00")

    await maya.say("tomorrow")
    assert _sessions(maya)[0].startswith("Sat 21 Nov")
    await maya.say("2026-12-14")
    assert _sessions(maya)[0].startswith("Mon 14 Dec")
    await maya.say("2028-01-01")
    assert "There are no sessions from Sat 1 Jan on." in maya.text
    assert "◂ Earlier" in maya.labels
    await maya.say("blorp")
    assert "Sorry, I did not understand that. Type a date such as 12 Jan." in maya.text

    await maya.say("/roster")  # afresh: from today again
    assert _sessions(maya)[0] == "Fri 20 Nov, 16:00 · Open Studio Drop-in"


def test_typed_days_in_english_and_spanish() -> None:
    friday = date(2026, 11, 20)
    english = {
        "today": friday,
        "Tomorrow": date(2026, 11, 21),
        "saturday": date(2026, 11, 21),
        "2028-01-01": date(2028, 1, 1),
        "12 Jan": date(2027, 1, 12),
        "jan 12": date(2027, 1, 12),
        "12 January": date(2027, 1, 12),
        "3 Sept": date(2027, 9, 3),
        "20/11": friday,
        "19/11": date(2027, 11, 19),
        "2026-12-14": date(2026, 12, 14),
        "31 feb": None,
        "blorp": None,
        "12": None,
    }
    spanish = {
        "hoy": friday,
        "mañana": date(2026, 11, 21),
        "12 de enero": date(2027, 1, 12),
        "3 dic": date(2026, 12, 3),
        "3 Dec": date(2026, 12, 3),  # English month names are read in Spanish too
    }
    for language, said in (("en", english), ("es", spanish)):
        for text, expected in said.items():
            assert typed_day(text, language, friday) == expected, (language, text)


async def test_assign_back_returns_each_step_to_the_one_before(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/assign")
    assert "Choose a session to assign staff to:" in maya.text
    assert len(_sessions(maya)) == 12
    await maya.press("Later ▸")
    page = _sessions(maya)
    await maya.press(page[0])
    assert "Who should work this session?" in maya.text
    await maya.press(maya.labels[0])
    assert "as the instructor or as an assistant?" in maya.text

    await maya.press("⬅ Back")
    assert "Who should work this session?" in maya.text
    await maya.press("⬅ Back")
    assert "Choose a session to assign staff to:" in maya.text
    assert _sessions(maya) == page


async def test_after_assigning_back_returns_to_the_list(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/assign")
    await maya.press("Fri 20 Nov, 16:00 · Open Studio Drop-in")
    await maya.press("Sam Whitfield")
    await maya.press("Assistant")
    assert "Sam Whitfield now assists" in maya.text

    await maya.press("⬅ Back")

    assert "Choose a session to assign staff to:" in maya.text


async def _busy(db: Database, studio_id: int) -> None:
    """Maya has time off over today's drop-in; Sam teaches a taster overlapping it."""
    async with db.transaction() as tx:
        ids = {
            r["key"]: r["id"]
            for r in await tx.all(
                "SELECT key, id FROM staff WHERE studio_id = :s", {"s": studio_id}
            )
        }
        taster = await tx.scalar(
            "SELECT id FROM classes WHERE studio_id = :s AND key = 'wheel-taster'", {"s": studio_id}
        )
        await tx.execute(
            "INSERT INTO availability_blocks (studio_id, staff_id, starts_at, ends_at, reason,"
            " source) VALUES (:s, :staff, :start, :end, 'dentist', 'chat')",
            {
                "s": studio_id,
                "staff": ids["maya"],
                "start": datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
                "end": datetime(2026, 11, 20, 16, 30, tzinfo=UTC),
            },
        )
        await tx.execute(
            "INSERT INTO sessions (studio_id, class_id, occurrence_date, starts_at, ends_at,"
            " capacity, instructor_id) VALUES (:s, :c, :day, :start, :end, 6, :sam)",
            {
                "s": studio_id,
                "c": taster,
                "day": date(2026, 11, 20),
                "start": datetime(2026, 11, 20, 17, 0, tzinfo=UTC),
                "end": datetime(2026, 11, 20, 19, 0, tzinfo=UTC),
                "sam": ids["sam"],
            },
        )


async def test_assign_leaves_out_busy_staff_and_says_when_nobody_is_free(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    await _busy(db, studio_id)  # today's drop-in runs 16:00-17:30
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/assign")
    await maya.press("Fri 20 Nov, 16:00 · Open Studio Drop-in")

    assert "Nobody else is qualified and free at that time." in maya.text
    assert maya.labels == ["⬅ Back", "🧰 Staff menu"]

    await maya.press("⬅ Back")
    await maya.press("Fri 20 Nov, 17:00 · Wheel Throwing Taster")  # Sam teaches it
    # Tom teaches the drop-in until 17:30; Maya's time off ends at 16:30.
    assert maya.labels[:2] == ["Maya Okafor", "⬅ Back"]


async def test_generate_back_from_a_preview_returns_to_the_patterns(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/generate")
    await maya.press("Open Studio Drop-in · weekday-dropin")
    assert "Preview for Open Studio Drop-in (weekday-dropin):" in maya.text

    await maya.press("⬅ Back")

    assert "Generate sessions from which pattern?" in maya.text


async def test_the_roster_is_a_table_of_full_names_party_sizes_and_passes(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await ben_and_cleo_today(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/today")
    replies = await maya.press("16:00 Open Studio Drop-in")

    assert replies[-1].preformatted
    rows = {line.split("  ")[0]: line.split() for line in maya.text.splitlines()}
    assert rows["Name"] == ["Name", "People", "Payment"]
    assert rows["Ben Baker"] == ["Ben", "Baker", "2"]
    assert rows["Cleo Cruz"] == ["Cleo", "Cruz", "1", "pass"]

    await maya.press("Cleo Cruz")
    rows = {line.split("  ")[0]: line.split() for line in maya.text.splitlines()}
    assert rows["Cleo Cruz"] == ["Cleo", "Cruz", "1", "pass", "checked", "in"]


async def test_by_sms_the_roster_is_its_numbered_options_only(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE staff SET phone = '+447700900555' WHERE studio_id = :s AND key = 'tom'",
            {"s": studio_id},
        )
    ben = await customer(db, clock, studio_id, "Ben Baker", "+447700900201")
    today = await session_at(db, studio_id, "open-studio", TODAY_16)
    await booking.book_drop_in(db, clock, studio_id, ben, [today], guests=2)
    tom = Chat(dialogues, address="+447700900555", name="", channel=Channel.SMS)
    await tom.say("hi")
    await tom.say("/today")
    replies = await tom.say("1")

    assert not replies[-1].preformatted
    assert "People" not in tom.text
    assert tom.labels[0] == "Ben Baker · 2 people"


async def test_today_steps_a_day_either_way_and_takes_a_typed_date(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/today")
    assert "Today, Fri 20 Nov:" in maya.text

    await maya.press("Later ▸")
    assert "Sessions on Sat 21 Nov:" in maya.text
    assert maya.labels[:2] == ["10:00 Saturday Glazing Workshop", "14:00 Wheel Throwing Taster"]
    await maya.press("◂ Earlier")
    assert "Today, Fri 20 Nov:" in maya.text

    await maya.say("mon 23 nov")
    assert "Sessions on Mon 23 Nov:" in maya.text
    await maya.press("16:00 Open Studio Drop-in")
    await maya.press("⬅ Back")
    assert "Sessions on Mon 23 Nov:" in maya.text  # back to the day it was opened from

    await maya.say("/today")  # afresh: today again
    assert "Today, Fri 20 Nov:" in maya.text


async def test_noshows_go_back_a_week_at_a_time_and_take_a_typed_date(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await ben_and_cleo_today(db, clock, studio_id)
    clock.set(datetime(2026, 11, 20, 18, 0, tzinfo=UTC))
    await attendance.close_ended(db, clock)  # Ben did not come
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/noshows")
    assert "No no-shows in the last 7 days." in maya.text
    assert "Later ▸" not in maya.labels
    await maya.press("◂ Earlier")
    assert "No-shows in the 7 days to Mon 23 Nov:" in maya.text
    assert "Ben Baker" in maya.text
    await maya.press("Later ▸")
    assert "No no-shows in the last 7 days." in maya.text

    await maya.say("21 nov")  # this year's, gone by
    assert "No-shows in the 7 days to Sat 21 Nov:" in maya.text
    assert "Ben Baker" in maya.text


async def test_a_long_report_table_is_cut_to_one_message(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    async with db.transaction() as tx:
        dropin = await tx.scalar(
            "SELECT id FROM classes WHERE studio_id = :s AND key = 'open-studio'", {"s": studio_id}
        )
        await tx.execute_many(
            "INSERT INTO sessions (studio_id, class_id, occurrence_date, starts_at, ends_at,"
            " capacity) VALUES (:s, :c, :day, :start, :end, 8)",
            [
                {
                    "s": studio_id,
                    "c": dropin,
                    "day": start.date(),
                    "start": start,
                    "end": start + timedelta(hours=1),
                }
                for hour in range(150)
                for start in [datetime(2026, 11, 19, 8, tzinfo=UTC) - timedelta(hours=4 * hour)]
            ],
        )
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/report")

    replies = await maya.press("By session, last 30 days")

    table = replies[-1].text
    assert len(table) <= 3500
    assert table.startswith("Utilization by session")
    assert "lines: bookbot report on the command line has them all." in table
    assert replies[0].attachment is not None  # the chart first, as ever
