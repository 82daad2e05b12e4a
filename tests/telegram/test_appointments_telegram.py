"""One-to-one appointments on Telegram end to end (issue 14): the tutor studio (Madrid) served
by `bookbot run`'s own build()/serve(), polling the Bot API emulator, customers pressing the
inline buttons; on SQLite and PostgreSQL, the bot's clock frozen at Fri 20 Nov 2026 09:00 UTC.

Jake, the coach, keeps New York time (UTC-5 in November), the studio and its customers by
default Madrid's (UTC+1): his Monday 09:00 is 15:00 in Madrid and 14:00 UTC. Without node
these skip (BOOKBOT_REQUIRE_NODE=1: fail), as every test in this folder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from bookbot.config import Settings
from bookbot.engine.clock import FrozenClock
from bookbot.jobs.inbox_worker import ChatThrottle
from bookbot.serve import build, serve
from bookbot.store.db import Database
from tests.examples import load_tutor_studio
from tests.pipeline import UNLIMITED

from .emulator import AsyncTgClient, Emulator, aclient, eventually
from .test_bot import buttons, data_for, latest, press

TOKEN = "1414:APPOINTMENTS"
POLICY = "It can no longer be cancelled: cancelling closes 24 hours before the start."
UNTHROTTLED = ChatThrottle(rate=1000.0, burst=1000.0)
TRIAL = "Trial session (30 min)"
# Mon 23 Nov 2026, 09:00 in New York.
MONDAY_NINE_NY = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@pytest.fixture
async def tutor(db: Database, clock: FrozenClock) -> int:
    """The tutor studio, with four weeks of Jake's Wednesday class (from Wed 2 Dec)."""
    return await load_tutor_studio(db, clock)


@asynccontextmanager
async def running(db: Database, clock: FrozenClock, emulator: Emulator) -> AsyncIterator[None]:
    """`bookbot run`'s own serve(), polling the emulator (without the sending limits)."""
    settings = Settings(
        database_url="unused", telegram_token=TOKEN, telegram_api_base=emulator.bot_api_base
    )
    services = build(settings, db, clock)
    services.delivery.limits = UNLIMITED
    services.inbox.throttle = UNTHROTTLED  # a whole booking and its change within seconds
    assert services.bot is not None
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(settings, services, stop))
    try:
        yield
    finally:
        stop.set()
        await serving


def times(message: dict[str, Any]) -> list[str]:
    """The time buttons of a times screen (the labels that start with a clock)."""
    return [label for label in buttons(message) if label[:2].isdigit()]


async def appointments(db: Database) -> list[dict[str, Any]]:
    rows = await db.all("SELECT * FROM appointments ORDER BY id")
    return [dict(cast(Any, row)) for row in rows]


async def said(user: AsyncTgClient, text: str) -> dict[str, Any]:
    """The newest message in the chat containing `text`, once there is one: a confirmation
    is the caption of its .ics file, followed by the menu, so it need not be the last. The
    caption is returned as the message's text."""

    async def probe() -> dict[str, Any] | None:
        found = [
            {**m, "text": m.get("text") or m.get("caption", "")}
            for m in await user.history()
            if text in (m.get("text") or m.get("caption", ""))
        ]
        return found[-1] if found else None

    message: dict[str, Any] = await eventually(probe)
    return message


async def menu(user: AsyncTgClient) -> dict[str, Any]:
    """/start, and the menu it brings (not an older menu still last in the chat: buttons of
    a screen the bot has moved on from are stale)."""
    seen = len(await user.history())
    await user.send_text("/start")

    async def probe() -> dict[str, Any] | None:
        history = await user.history()
        last = history[-1] if len(history) > seen else {}
        return last if "What would you like to do?" in last.get("text", "") else None

    found: dict[str, Any] = await eventually(probe)
    return found


async def to_days(user: AsyncTgClient, service: str = TRIAL) -> dict[str, Any]:
    """From /start to Jake's days for `service`."""
    await menu(user)
    await press(user, "👤 Book an appointment", "What would you like to book?")
    await press(user, service, "With whom?")
    return await press(user, "Jake Miller", "Choose a day:")


async def to_times(user: AsyncTgClient, day: str, service: str = TRIAL) -> dict[str, Any]:
    await to_days(user, service)
    return await press(user, day, "choose a time.")


async def book(user: AsyncTgClient, day: str, time: str) -> dict[str, Any]:
    """Book Jake's trial at `time` (a label's start) on `day`; the confirmation."""
    await to_times(user, day)
    summary = await press(user, time, "Please check your appointment:")
    await user.press_button(summary, data_for(summary, "✅ Confirm appointment"))
    return await said(user, "✅ Booked!")


async def set_zone(user: AsyncTgClient, typed: str, asked: str) -> None:
    """Change the customer's zone in chat, as they would: menu, language, time zone."""
    await menu(user)
    await press(user, "🌐 Language & time zone", "change your time zone")
    await press(user, "🕒 Time zone", "To change it, type your city")
    await user.send_text(typed)
    await latest(user, asked)
    await press(user, "✅ Yes", "from now on.")


@pytest.mark.usefixtures("tutor")
async def test_book_a_trial_with_the_new_york_coach_in_madrid_time(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=1401, first_name="Ana")
    async with running(db, clock, emulator):
        days = await to_days(user)
        assert "Times are in Madrid time (Europe/Madrid)." in days["text"]
        day_labels = [label for label in buttons(days) if label[:3] in ("Mon", "Wed", "Fri")]
        assert day_labels[:4] == ["Fri 20 Nov", "Mon 23 Nov", "Wed 25 Nov", "Fri 27 Nov"]

        screen = await press(user, "Mon 23 Nov", "choose a time.")
        assert screen["text"].startswith("Mon 23 Nov: choose a time.")
        # His Monday morning, 08:00-12:00 in New York, is 14:00-18:00 in Madrid.
        assert times(screen)[:3] == [
            "14:00 your time (08:00 in New York)",
            "14:30 your time (08:30 in New York)",
            "15:00 your time (09:00 in New York)",
        ]

        summary = await press(user, "15:00 your time", "Please check your appointment:")
        assert "Trial session (30 min) with Jake Miller" in summary["text"]
        assert "Mon 23 Nov 2026, 15:00 your time (09:00 in New York)" in summary["text"]
        assert "Price: €10.00, paid at the studio." in summary["text"]
        assert "Free cancellation until Sun 22 Nov, 15:00." in summary["text"]

        await user.press_button(summary, data_for(summary, "✅ Confirm appointment"))
        done = await said(user, "✅ Booked!")
        [row] = await appointments(db)
        assert f"Appointment #{row['id']}: Trial session (30 min) with Jake Miller" in done["text"]
        assert "Mon 23 Nov 2026, 15:00 your time (09:00 in New York)" in done["text"]
    assert row["status"] == "confirmed"
    assert _utc(row["starts_at"]) == MONDAY_NINE_NY
    assert _utc(row["ends_at"]) == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


def _utc(value: Any) -> datetime:
    """A timestamp as either backend returns it, as an aware UTC datetime."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else cast(datetime, value)
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


@pytest.mark.usefixtures("tutor")
async def test_a_customer_who_sets_tokyo_sees_tokyo_times_beside_new_york(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=1402, first_name="Yui")
    async with running(db, clock, emulator):
        # 09:00 UTC is 18:00 in Tokyo.
        await set_zone(user, "Tokyo", "Is it 18:00 where you are? (Tokyo, Asia/Tokyo)")
        days = await to_days(user)
        assert "Times are in Tokyo time (Asia/Tokyo)." in days["text"]

        # Jake's Monday 10:00 in New York is already Tuesday in Tokyo: his date is said.
        tuesday = await press(user, "Tue 24 Nov", "choose a time.")
        assert times(tuesday)[0] == "00:00 your time (Mon 23 Nov, 10:00 in New York)"
        await press(user, "⬅ Back", "Choose a day:")
        monday = await press(user, "Mon 23 Nov", "choose a time.")
        assert times(monday) == [
            "22:00 your time (08:00 in New York)",
            "22:30 your time (08:30 in New York)",
            "23:00 your time (09:00 in New York)",
            "23:30 your time (09:30 in New York)",
        ]
        summary = await press(user, "23:00 your time", "Please check your appointment:")
        assert "Mon 23 Nov 2026, 23:00 JST your time (09:00 in New York)" in summary["text"]
        await user.press_button(summary, data_for(summary, "✅ Confirm appointment"))
        done = await said(user, "✅ Booked!")
        assert "Mon 23 Nov 2026, 23:00 JST your time (09:00 in New York)" in done["text"]
    [row] = await appointments(db)
    assert _utc(row["starts_at"]) == MONDAY_NINE_NY


@pytest.mark.usefixtures("tutor")
async def test_reschedule_the_trial_to_another_day(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=1403, first_name="Ana")
    async with running(db, clock, emulator):
        await book(user, "Mon 23 Nov", "15:00 your time")
        [before] = await appointments(db)
        await latest(user, "What would you like to do?")
        await press(user, "🗓 My bookings", "Your upcoming bookings")
        screen = await press(
            user, "Trial session (30 min) with Jake Miller · Mon 23 Nov, 15:00", "Appointment #"
        )
        assert "Free cancellation until Sun 22 Nov, 15:00." in screen["text"]
        await press(user, "🔁 Reschedule", "to another day:")
        await press(user, "Wed 25 Nov", "choose a time.")
        question = await press(user, "15:30 your time", "Move Trial")
        assert "from Mon 23 Nov 2026, 15:00 your time (09:00 in New York)" in question["text"]
        assert "to Wed 25 Nov 2026, 15:30 your time (09:30 in New York)?" in question["text"]
        await user.press_button(question, data_for(question, "✅ Move it"))
        moved = await said(user, "✅ Moved!")
        assert "Wed 25 Nov 2026, 15:30 your time (09:30 in New York)" in moved["text"]
    [after] = await appointments(db)
    assert (after["id"], after["status"], after["sequence"]) == (before["id"], "confirmed", 1)
    assert _utc(after["starts_at"]) == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    assert _utc(after["busy_from"]) == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


@pytest.mark.usefixtures("tutor")
async def test_cancelling_inside_the_cutoff_is_refused_with_the_policy(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    user = aclient(emulator, TOKEN, chat_id=1404, first_name="Ana")
    async with running(db, clock, emulator):
        await book(user, "Mon 23 Nov", "15:00 your time")
        clock.set(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))  # 14 hours before the start
        # The day-ahead reminder is due now; let it come first, so the menu below is the
        # chat's last message (the delivery worker looks every few seconds).
        reminder = await said(user, "Reminder: your Trial session (30 min) with Jake Miller")
        assert "Mon 23 Nov 2026 15:00" in reminder["text"]
        await menu(user)
        await press(user, "🗓 My bookings", "Your upcoming bookings")
        screen = await press(
            user, "Trial session (30 min) with Jake Miller · Mon 23 Nov, 15:00", "Appointment #"
        )
        assert POLICY in screen["text"]
        assert (
            "It can no longer be moved: moving closes 24 hours before the start." in screen["text"]
        )
        assert not [label for label in buttons(screen) if "Cancel appointment" in label]
        assert not [label for label in buttons(screen) if "Reschedule" in label]

        await user.send_text("cancel appointment")
        # Typed, the words of a Cancel button that is not offered: not understood, and the
        # screen with the policy again.
        reply = await latest(user, "Sorry, I did not understand that.")
        assert POLICY in reply["text"]
        assert not [label for label in buttons(reply) if "Cancel appointment" in label]
    [row] = await appointments(db)
    assert row["status"] == "confirmed"


async def _outcome(user: AsyncTgClient) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        history = await user.history()
        last = history[-1] if history else {}
        text = last.get("text", "")
        return last if "Please check your appointment" in text or "just taken" in text else None

    found: dict[str, Any] = await eventually(probe)
    return found


@pytest.mark.usefixtures("tutor")
async def test_two_customers_race_for_one_slot_and_exactly_one_wins(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    ana = aclient(emulator, TOKEN, chat_id=1405, first_name="Ana")
    ben = aclient(emulator, TOKEN, chat_id=1406, first_name="Ben")
    async with running(db, clock, emulator):
        screens = [await to_times(ana, "Mon 23 Nov"), await to_times(ben, "Mon 23 Nov")]
        slot = "15:00 your time (09:00 in New York)"
        assert all(slot in times(s) for s in screens)
        await asyncio.gather(
            *(
                user.press_button(screen, data_for(screen, slot))
                for user, screen in zip((ana, ben), screens, strict=True)
            )
        )
        outcomes = [await _outcome(ana), await _outcome(ben)]
        winners = [i for i, o in enumerate(outcomes) if "Please check" in o["text"]]
        assert len(winners) == 1, [o["text"] for o in outcomes]
        winner = (ana, ben)[winners[0]]
        lost = outcomes[1 - winners[0]]
        assert "That time was just taken. Please pick another." in lost["text"]
        assert slot not in times(lost)
        assert "15:30 your time (09:30 in New York)" in times(lost)

        summary = outcomes[winners[0]]
        await winner.press_button(summary, data_for(summary, "✅ Confirm appointment"))
        await said(winner, "✅ Booked!")
    rows = await appointments(db)
    assert [(r["status"], _utc(r["starts_at"])) for r in rows] == [("confirmed", MONDAY_NINE_NY)]


@pytest.mark.usefixtures("tutor")
async def test_the_coachs_class_blocks_the_overlapping_slots(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    """Jake teaches 10:00-11:00 New York time on Wednesdays from 2 Dec: that Wednesday offers
    no trial at 10:00 or 10:30 (16:00, 16:30 in Madrid), which the Wednesday before does."""
    user = aclient(emulator, TOKEN, chat_id=1407, first_name="Ana")
    async with running(db, clock, emulator):
        before = await to_times(user, "Wed 25 Nov")
        assert "16:00 your time (10:00 in New York)" in times(before)
        assert "16:30 your time (10:30 in New York)" in times(before)
        await press(user, "⬅ Back", "Choose a day:")
        class_day = await press(user, "Wed 2 Dec", "choose a time.")
        assert [label.split(" your time")[0] for label in times(class_day)] == [
            "14:00", "14:30", "15:00", "15:30", "17:00", "17:30",
            "19:00", "19:30", "20:00", "20:30", "21:00", "21:30",
        ]  # fmt: skip


@pytest.mark.usefixtures("tutor")
async def test_the_class_and_the_buffer_after_block_an_hour_long_session(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    """Coaching takes 60 minutes and 15 after: before the 10:00 class it must start by 08:45;
    after it nothing fits before his 12:00 break."""
    coaching = "Career coaching (60 min)"
    user = aclient(emulator, TOKEN, chat_id=1408, first_name="Ana")
    async with running(db, clock, emulator):
        before = await to_times(user, "Wed 25 Nov", coaching)
        assert times(before)[-1] == "16:45 your time (10:45 in New York)"
        await press(user, "⬅ Back", "Choose a day:")
        class_day = await press(user, "Wed 2 Dec", "choose a time.")
        assert [label.split(" your time")[0] for label in times(class_day)] == [
            "14:00", "14:15", "14:30", "14:45",
            "19:00", "19:15", "19:30", "19:45", "20:00", "20:15", "20:30", "20:45",
        ]  # fmt: skip
        assert times(class_day)[3] == "14:45 your time (08:45 in New York)"


@pytest.mark.usefixtures("tutor")
async def test_a_lapsed_hold_loses_the_race_of_the_two_confirms(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    """Ana's summary held the slot ten minutes and she left it longer; Ben then took it to his
    summary. Both press Confirm at once: Ben's live hold wins, Ana is shown other times."""
    ana = aclient(emulator, TOKEN, chat_id=1409, first_name="Ana")
    ben = aclient(emulator, TOKEN, chat_id=1410, first_name="Ben")
    slot = "15:00 your time (09:00 in New York)"
    async with running(db, clock, emulator):
        ana_times, ben_times = await to_times(ana, "Mon 23 Nov"), await to_times(ben, "Mon 23 Nov")
        ana_summary = await press(ana, slot, "Please check your appointment:", on=ana_times)
        clock.advance(timedelta(minutes=11))
        ben_summary = await press(ben, slot, "Please check your appointment:", on=ben_times)
        await asyncio.gather(
            ana.press_button(ana_summary, data_for(ana_summary, "✅ Confirm appointment")),
            ben.press_button(ben_summary, data_for(ben_summary, "✅ Confirm appointment")),
        )
        await said(ben, "✅ Booked!")
        lost = await latest(ana, "That time was just taken. Please pick another.")
        assert slot not in times(lost)
        assert "15:30 your time (09:30 in New York)" in times(lost)
    rows = await appointments(db)
    confirmed = [r for r in rows if r["status"] == "confirmed"]
    assert [utc_start(r) for r in confirmed] == [MONDAY_NINE_NY]
    assert len(rows) == 2  # Ana's hold stays as it ended, not confirmed


def utc_start(row: dict[str, Any]) -> datetime:
    return _utc(row["starts_at"])
