"""Every date of a class can be reached: pages of dates ("Later dates ▸", "◂ Earlier"), a
typed date to jump to, and only dates a tap can book (open, before the booking cutoff)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.examples import load_example_studio


@pytest.fixture
async def studio_id(db: Database, clock: FrozenClock) -> int:
    """Ten weeks of sessions: weekday drop-ins well beyond the first page."""
    return await load_example_studio(db, clock, weeks=10)


async def open_class(chat: Chat, name: str = "Open Studio Drop-in") -> None:
    await chat.say("book")
    await chat.say(name)


def dates(chat: Chat) -> list[str]:
    """The date options shown, as "Mon 23 Nov" (ticks and seats left off)."""
    found = []
    for label in chat.labels:
        head = label.removeprefix("✅ ").split(",")[0]
        if head[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
            found.append(head)
    return found


async def registration_dates(db: Database) -> list[str]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT s.starts_at FROM registration_sessions rs"
            " JOIN sessions s ON s.id = rs.session_id WHERE rs.status = 'booked'"
            " ORDER BY s.starts_at"
        )
    return [str(r["starts_at"])[:10] for r in rows]


async def test_later_and_earlier_page_through_every_weekday(chat: Chat) -> None:
    await open_class(chat)
    first = dates(chat)
    assert first == [
        "Fri 20 Nov",
        "Mon 23 Nov",
        "Tue 24 Nov",
        "Wed 25 Nov",
        "Thu 26 Nov",
        "Fri 27 Nov",
    ]
    assert "◂ Earlier" not in chat.labels
    assert "Or send a date to jump to it, e.g. “30 Nov”." in chat.text
    seen = list(first)
    for _ in range(6):
        await chat.press("Later dates ▸")
        seen += dates(chat)
    assert seen[-1].startswith("Mon 4 Jan") or len(seen) == 42  # six weeks ahead and more
    assert len(seen) == len(set(seen))  # every weekday once, none skipped
    assert {"Tue 22 Dec", "Fri 1 Jan"} <= set(seen)
    await chat.press("◂ Earlier")
    assert dates(chat) == seen[-12:-6]
    await chat.say("earlier")  # by text too
    assert dates(chat) == seen[-18:-12]


async def test_the_drop_in_selection_is_kept_across_pages(chat: Chat, db: Database) -> None:
    await open_class(chat)
    await chat.press("Mon 23 Nov")
    await chat.press("Later dates ▸")
    await chat.press("Later dates ▸")
    await chat.press("Wed 9 Dec")
    assert "Continue with 2 dates · £36.00" in chat.labels
    assert [label for label in chat.labels if label.startswith("✅")] == [
        "✅ Wed 9 Dec, 16:00 · 8 seats left"
    ]
    await chat.press("◂ Earlier")
    await chat.press("◂ Earlier")
    assert "✅ Mon 23 Nov, 16:00 · 8 seats left" in chat.labels
    await chat.press("Continue")
    await chat.say("1")
    assert "Mon 23 Nov" in chat.text
    assert "Wed 9 Dec" in chat.text
    await chat.say("yes")
    assert await registration_dates(db) == ["2026-11-23", "2026-12-09"]


async def test_a_typed_date_jumps_there(chat: Chat) -> None:
    await open_class(chat)
    await chat.say("11 jan")
    assert dates(chat)[0] == "Mon 11 Jan"
    assert "◂ Earlier" in chat.labels
    await chat.press("◂ Earlier")
    assert dates(chat) == [
        "Fri 1 Jan",
        "Mon 4 Jan",
        "Tue 5 Jan",
        "Wed 6 Jan",
        "Thu 7 Jan",
        "Fri 8 Jan",
    ]


async def test_a_day_with_no_date_left_says_so(chat: Chat) -> None:
    await open_class(chat, "Wheel Throwing Taster")
    await chat.say("1 jun")
    assert "There are no dates to book from Tue 1 Jun on." in chat.text
    assert dates(chat)[0] == "Sat 21 Nov"


async def test_past_the_cutoff_and_cancelled_dates_are_not_listed(
    chat: Chat, db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET status = 'cancelled' WHERE starts_at >= :a AND starts_at < :b",
            {"a": datetime(2026, 11, 24, tzinfo=UTC), "b": datetime(2026, 11, 25, tzinfo=UTC)},
        )
    clock.set(datetime(2026, 11, 20, 15, 30, tzinfo=UTC))  # Friday's 16:00 is inside the hour
    await open_class(chat)
    assert dates(chat)[:3] == ["Mon 23 Nov", "Wed 25 Nov", "Thu 26 Nov"]


async def test_a_full_date_is_shown_full_and_taps_to_its_waitlist(chat: Chat, db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET capacity = 0 WHERE starts_at >= :a AND starts_at < :b",
            {"a": datetime(2026, 11, 23, tzinfo=UTC), "b": datetime(2026, 11, 24, tzinfo=UTC)},
        )
    await open_class(chat)
    assert "Mon 23 Nov, 16:00 · full (waitlist)" in chat.labels
    await chat.press("Mon 23 Nov")
    assert "✅" not in " ".join(chat.labels)
    assert chat.text.startswith("Mon 23 Nov, 16:00 is full. Join the waitlist?")


async def test_a_week_day_drop_in_weeks_ahead_is_bookable(chat: Chat, db: Database) -> None:
    await open_class(chat)
    await chat.say("28 jan")
    await chat.press("Thu 28 Jan")
    await chat.press("Continue")
    await chat.say("2")
    await chat.say("yes")
    assert "Booked!" in chat.text
    assert await registration_dates(db) == ["2027-01-28"]


async def test_a_pass_reservation_list_pages_too(dialogues: Dialogues) -> None:
    chat = Chat(dialogues, address="+447700900077")
    await chat.say("/start")
    await open_class(chat)
    await chat.press("🎟 Get an unlimited pass")
    await chat.press("✅ Get this pass")
    await chat.press("📅 Reserve a session")
    first = dates(chat)
    assert first[0] == "Fri 20 Nov"
    assert len(first) == 6
    await chat.press("Later dates ▸")
    assert dates(chat)[0] == "Mon 30 Nov"
    await chat.press("Later dates ▸")
    await chat.press("Later dates ▸")
    # 28 days from 20 Nov: the pass ends on 18 Dec, and the list with it.
    assert dates(chat)[-1] == "Fri 18 Dec"
    assert "Later dates ▸" not in chat.labels
    await chat.press("◂ Earlier")
    assert dates(chat) == [
        "Tue 8 Dec",
        "Wed 9 Dec",
        "Thu 10 Dec",
        "Fri 11 Dec",
        "Mon 14 Dec",
        "Tue 15 Dec",
    ]


async def test_a_typed_date_at_the_reservation_list_jumps_there(dialogues: Dialogues) -> None:
    chat = Chat(dialogues, address="+447700900078")
    await chat.say("/start")
    await open_class(chat)
    await chat.press("🎟 Get an unlimited pass")
    await chat.press("✅ Get this pass")
    await chat.press("📅 Reserve a session")
    await chat.say("10 dec")
    assert dates(chat)[0] == "Thu 10 Dec"
    assert "◂ Earlier" in chat.labels


async def test_a_course_lists_its_runs_still_to_start(chat: Chat, clock: FrozenClock) -> None:
    await open_class(chat, "Six-Week Wheel Course")
    runs = [label for label in chat.labels if label.startswith("starts")]
    assert runs[0].startswith("starts Mon 15 Mar, 18:00 · 6 sessions")
    clock.set(datetime(2027, 3, 15, 17, 30, tzinfo=UTC))  # its first evening, inside the hour
    await chat.say("menu")
    await open_class(chat, "Six-Week Wheel Course")
    runs = [label for label in chat.labels if label.startswith("starts")]
    assert runs
    assert not runs[0].startswith("starts Mon 15 Mar")


async def test_a_date_already_booked_says_so_and_cannot_be_picked(chat: Chat) -> None:
    await open_class(chat)
    await chat.press("Mon 23 Nov")
    await chat.press("Continue")
    await chat.say("1")
    await chat.say("yes")
    await open_class(chat)
    assert "Mon 23 Nov, 16:00 · booked" in chat.labels
    await chat.press("Mon 23 Nov")
    assert not any(label.startswith("Continue") for label in chat.labels)


async def test_a_course_under_way_has_no_start_date_to_offer(
    chat: Chat, clock: FrozenClock
) -> None:
    clock.set(datetime(2027, 6, 8, 9, 0, tzinfo=UTC))  # both runs have started
    await chat.say("menu")
    await open_class(chat, "Six-Week Wheel Course")
    assert "This course has no start dates left to book." in chat.text
    assert not [label for label in chat.labels if label.startswith("starts")]


async def test_by_sms_chosen_drop_in_dates_are_marked_in_words(dialogues: Dialogues) -> None:
    """SMS folding drops emoji, so a chosen date says so in words, and the prompt asks for
    numbers rather than taps."""
    texter = Chat(dialogues, address="+447700900777", channel=Channel.SMS)
    await texter.say("hello")
    await open_class(texter)
    assert "Send the number of each date you want (again to remove it)" in texter.text
    assert "tap" not in texter.text
    await texter.say(str(texter.labels.index("Mon 23 Nov, 16:00 · 8 seats left") + 1))
    assert "Mon 23 Nov, 16:00 · 8 seats left · chosen" in texter.labels
    assert not any(label.startswith("✅") for label in texter.labels)
