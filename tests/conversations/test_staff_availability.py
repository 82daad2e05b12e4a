"""Staff in chat: their own week (/availability): see it, block a day or a period, add a
one-off window, change a weekday's hours; typed input refused politely with nothing
written. The studio, people and lessons are test_staff_appointments' (see there).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.services import appointments, availability
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import staff_chat
from tests.conversations.test_staff_appointments import (
    MONDAY,
    MONDAY_10,
    TUESDAY,
    ben,
    booked,
    lessons,
    rows_of,
    slots,
    staff_id_of,
)
from tests.examples import load_tutor_studio


async def test_my_week_shows_open_windows_blocks_and_appointments(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    await booked(
        db,
        clock,
        studio_id,
        customer_id=await ben(db, clock, studio_id),
        staff_id=ids["maya"],
        service_id=ids["service"],
        at=MONDAY_10,
    )
    await availability.block_period(
        db,
        clock,
        studio_id,
        ids["maya"],
        start=datetime(2026, 11, 24, 12, tzinfo=UTC),
        end=datetime(2026, 11, 24, 14, tzinfo=UTC),
        reason="Dentist",
        source="cli",
    )
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/staff")

    await maya.press("🗓 My week")

    assert "Your week (times in London):" in maya.text
    assert (  # classes Maya teaches take her time too, in the order they happen
        "Sat 21 Nov: no open hours\n   🏺 10:00–12:30 Saturday Glazing Workshop\n"
        "   🏺 14:00–16:00 Wheel Throwing Taster" in maya.text
    )
    assert "Mon 23 Nov: 09:00–17:00\n   • 10:00 Lesson · Ben Baker" in maya.text
    assert "Tue 24 Nov: 09:00–12:00, 14:00–17:00\n   ⛔ 12:00–14:00 Dentist" in maya.text
    assert "Thu 26 Nov: 09:00–17:00" in maya.text
    assert maya.labels[:4] == [
        "⛔ Block a day",
        "🏖 Block a period",
        "➕ Add a one-off window",
        "🕘 Change a weekday's hours",
    ]


async def test_blocking_a_day_removes_that_days_slots_only(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    assert await slots(db, studio_id, ids, MONDAY, clock.now()) > 0
    await booked(
        db,
        clock,
        studio_id,
        customer_id=await ben(db, clock, studio_id),
        staff_id=ids["maya"],
        service_id=ids["service"],
        at=MONDAY_10,
    )

    await maya.say("/availability")
    await maya.press("⛔ Block a day")
    assert len([label for label in maya.labels if label[:3] in ("Mon", "Tue", "Fri")]) == 6
    await maya.press("Mon 23 Nov")

    assert (
        "Mon 23 Nov is blocked: nobody can book you that day. You still have 1 appointment"
        " then: keep or cancel it under /conflicts." in maya.text
    )
    assert "Your week (times in London):" in maya.text
    assert "Mon 23 Nov: no open hours\n   ⛔ all day" in maya.text
    assert await slots(db, studio_id, ids, MONDAY, clock.now()) == 0
    assert await slots(db, studio_id, ids, TUESDAY, clock.now()) > 0
    rows = await rows_of(db, "SELECT staff_id, source FROM availability_blocks")
    assert [tuple(r) for r in rows] == [(ids["maya"], "chat")]


async def test_a_bad_period_is_refused_politely_and_nothing_is_written(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/availability")
    await maya.press("🏖 Block a period")
    assert "“15 Dec - 20 Dec”" in maya.text

    for bad in [
        "sometime in December",
        "20 Dec - 15 Dec",
        "31 Feb - 3 Mar",
        "Mon 15 Dec - 20 Dec",
        "2026-11-01 to 2026-11-05",
        "15 Dec - 20 Dec " + "x" * 400,
        "9999-12-30 to 9999-12-31",  # its end, midnight after the last day, is no date
    ]:
        await maya.say(bad)
        assert "Sorry, I could not read that as a period" in maya.text, bad
        assert "Nothing was changed." in maya.text
    assert await rows_of(db, "SELECT id FROM availability_blocks") == []

    await maya.say("14 Dec - 18 Dec, holiday")

    assert "Blocked from Mon 14 Dec 2026 to Fri 18 Dec 2026, both included.\n" in maya.text
    rows = await rows_of(
        db, "SELECT staff_id, starts_at, ends_at, reason, source FROM availability_blocks"
    )
    assert len(rows) == 1
    assert rows[0]["staff_id"] == ids["maya"]
    assert rows[0]["starts_at"] == datetime(2026, 12, 14, tzinfo=UTC)
    assert rows[0]["ends_at"] == datetime(2026, 12, 19, tzinfo=UTC)
    assert (rows[0]["reason"], rows[0]["source"]) == ("holiday", "chat")


async def test_a_staff_member_in_another_zone_sees_and_types_their_own_local_times(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await availability.set_staff_timezone(
        db, studio_id, await staff_id_of(db, studio_id, "maya"), "America/New_York"
    )
    ids = await lessons(db, clock, studio_id)  # 09:00-17:00 on Maya's New York clock
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/availability")
    assert "Your week (times in New York):" in maya.text
    assert "Mon 23 Nov: 09:00–17:00" in maya.text
    await maya.press("🏖 Block a period")
    await maya.say("2026-12-14 to 2026-12-14")

    rows = await rows_of(db, "SELECT starts_at, ends_at FROM availability_blocks")
    assert tuple(rows[0]) == (
        datetime(2026, 12, 14, 5, tzinfo=UTC),  # midnight in New York (EST)
        datetime(2026, 12, 15, 5, tzinfo=UTC),
    )
    await booked(
        db,
        clock,
        studio_id,
        customer_id=await ben(db, clock, studio_id),
        staff_id=ids["maya"],
        service_id=ids["service"],
        at=datetime(2026, 11, 23, 14, tzinfo=UTC),
    )
    await maya.say("/upcoming")
    assert "Times in New York." in maya.text
    assert maya.labels[0] == "Mon 23 Nov, 09:00 · Ben Baker · Lesson"


async def test_a_one_off_window_is_added_on_the_date_typed(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    sunday = (datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/availability")
    await maya.press("➕ Add a one-off window")

    await maya.say("Sat 29 Nov 10:00-13:00")  # the 29th is a Sunday
    assert "Sorry, I could not read that." in maya.text
    await maya.say("Sun 29 Nov 13:00-10:00")
    assert "Sorry, I could not read that." in maya.text
    await maya.say("9999-12-31 22:00-23:00")  # past the end of the calendar in UTC
    assert "Sorry, I could not read that." in maya.text
    assert await rows_of(db, "SELECT id FROM availability_additions") == []

    await maya.say("Sun 29 Nov 10:00-13:00")

    assert "Added: Sun 29 Nov 2026, 10:00–13:00. Customers can book you then." in maya.text
    assert await slots(db, studio_id, ids, sunday, clock.now()) == 9  # 10:00 .. 12:00


async def test_changing_a_weekdays_hours(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/availability")
    await maya.press("🕘 Change a weekday's hours")
    assert maya.labels[:2] == ["Monday: 09:00–17:00", "Tuesday: 09:00–17:00"]
    assert "Saturday: off" in maya.labels
    await maya.press("Monday")
    assert "Monday: 09:00–17:00 now. Type the new hours" in maya.text

    await maya.say("15:00-12:00")
    assert "Sorry, I could not read those hours." in maya.text
    await maya.say("09:00-12:00, 11:00-13:00")  # overlapping
    assert "Sorry, I could not read those hours." in maya.text

    await maya.say("09:00-12:00, 15:00-18:00")

    assert "Weekly hours on Monday from now on: 09:00–12:00, 15:00–18:00." in maya.text
    assert "Mon 23 Nov: 09:00–12:00, 15:00–18:00" in maya.text
    held = await availability.availability_of(
        db, studio_id, ids["maya"], start=MONDAY[0], end=MONDAY[1]
    )
    assert sorted((w.start, w.end) for w in held.weekly if w.weekday == 0) == [
        (time(9), time(12)),
        (time(15), time(18)),
    ]
    tom = await availability.availability_of(
        db, studio_id, ids["tom"], start=MONDAY[0], end=MONDAY[1]
    )
    assert [(w.start, w.end) for w in tom.weekly if w.weekday == 0] == [(time(9), time(17))]

    await maya.press("🕘 Change a weekday's hours")
    await maya.press("Tuesday")
    await maya.say("off")
    assert "Weekly hours on Tuesday from now on: off." in maya.text
    assert await slots(db, studio_id, ids, TUESDAY, clock.now()) == 0


async def test_tutor_studio_the_new_york_coach_blocks_a_day_on_his_own_clock(
    db: Database, clock: FrozenClock
) -> None:
    """examples/tutor-studio.toml: Jake (New York) coaches online; Lucía is in Madrid."""
    studio_id = await load_tutor_studio(db, clock)
    async with db.transaction() as tx:
        await tx.execute("UPDATE staff SET telegram_user_id = 7001 WHERE key = 'jake'", {})
    jake = Chat(Dialogues(db, clock), address="7001", name="Jake", channel=Channel.TELEGRAM)
    await jake.say("/start")
    coaching = await appointments.service_by_key(db, studio_id, "coaching-session")
    jake_id = await staff_id_of(db, studio_id, "jake")
    wednesday = (datetime(2026, 12, 2, 5, tzinfo=UTC), datetime(2026, 12, 3, 5, tzinfo=UTC))

    async def wednesday_slots() -> int:
        found = await appointments.free_slots(
            db,
            studio_id,
            service_id=coaching.id,
            staff_id=jake_id,
            now=clock.now(),
            start=wednesday[0],
            end=wednesday[1],
        )
        return len(found)

    await jake.say("/availability")
    assert "Your week (times in New York):" in jake.text
    assert "Fri 20 Nov: 09:00–14:00" in jake.text
    assert "Mon 23 Nov: 08:00–12:00, 13:00–17:00" in jake.text
    assert await wednesday_slots() > 0

    await jake.press("⛔ Block a day")
    await jake.press("Wed 2 Dec")

    assert "Wed 2 Dec is blocked" in jake.text
    assert await wednesday_slots() == 0
    rows = await rows_of(
        db, "SELECT staff_id, starts_at, ends_at FROM availability_blocks WHERE source = 'chat'"
    )
    assert [tuple(r) for r in rows] == [(jake_id, *wednesday)]


async def test_blocking_a_later_period_warns_of_its_appointments_whatever_comes_before(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    customer_id = await ben(db, clock, studio_id)
    inside = await booked(
        db,
        clock,
        studio_id,
        customer_id=customer_id,
        staff_id=ids["maya"],
        service_id=ids["service"],
        at=datetime(2026, 12, 14, 10, tzinfo=UTC),
    )
    async with db.transaction() as tx:  # a busy fortnight booked before the holiday
        for hour in range(210):
            starts_at = MONDAY_10 + timedelta(hours=hour)
            await tx.execute(
                "INSERT INTO appointments (studio_id, service_id, staff_id, customer_id,"
                " starts_at, ends_at, busy_from, busy_until, guest_count, status,"
                " price_minor, currency, origin, meeting_url, sequence, cancel_reason,"
                " created_at, updated_at) VALUES (:studio_id, :service_id, :staff_id,"
                " :customer_id, :starts_at, :ends_at, :starts_at, :ends_at, 1, 'confirmed',"
                " 4000, 'GBP', 'one_time', '', 0, '', :now, :now)",
                {
                    "studio_id": studio_id,
                    "service_id": ids["service"],
                    "staff_id": ids["maya"],
                    "customer_id": customer_id,
                    "starts_at": starts_at,
                    "ends_at": starts_at + timedelta(hours=1),
                    "now": clock.now(),
                },
            )
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/availability")
    await maya.press("🏖 Block a period")

    await maya.say("14 Dec - 18 Dec, holiday")

    assert "Blocked from Mon 14 Dec 2026 to Fri 18 Dec 2026, both included." in maya.text
    assert "You still have 1 appointment then" in maya.text, inside.id
