"""Staff in chat: their own week (/availability) and appointments (/upcoming, /pending,
/past, /cancelled).

The example studio at Fri 20 Nov 2026 09:00 (London, GMT = UTC). Maya (staff, on Telegram)
and Tom offer a 60-minute lesson, Monday to Friday 09:00-17:00 (set through the service,
as the CLI would); Maya also teaches the Saturday Glazing Workshop (10:00-12:30) and the
Wheel Throwing Taster (14:00-16:00). Ben books with Maya; his own zone is New York.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.conversations.staff_availability_input import (
    Unreadable,
    parse_hours,
    parse_period,
    parse_window,
)
from bookbot.engine.clock import FrozenClock
from bookbot.services import appointments, availability
from bookbot.services.appointment_rows import Appointment
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import NOT_STAFF, customer, staff_chat
from tests.examples import load_tutor_studio

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MONDAY = (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC))
TUESDAY = (datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
TODAY = date(2026, 11, 30)
COMMANDS = ["/availability", "/upcoming", "/pending", "/past", "/cancelled"]


async def _all(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction(write=False) as tx:
        return list(await tx.all(sql, params))


async def _staff_id(db: Database, studio_id: int, key: str) -> int:
    rows = await _all(
        db, "SELECT id FROM staff WHERE studio_id = :s AND key = :k", s=studio_id, k=key
    )
    return int(rows[0]["id"])


async def lessons(db: Database, clock: FrozenClock, studio_id: int) -> dict[str, int]:
    """A 60-minute lesson offered by Maya and Tom, weekdays 09:00-17:00."""
    ids = {key: await _staff_id(db, studio_id, key) for key in ("maya", "tom")}
    async with db.transaction() as tx:
        service_id = await tx.scalar(
            "INSERT INTO services (studio_id, key, name, duration_minutes, price_minor)"
            " VALUES (:s, 'lesson', 'Lesson', 60, 4000) RETURNING id",
            {"s": studio_id},
        )
        for staff_id in ids.values():
            await tx.execute(
                "INSERT INTO service_staff (studio_id, service_id, staff_id) VALUES (:s, :v, :p)",
                {"s": studio_id, "v": service_id, "p": staff_id},
            )
    for staff_id in ids.values():
        for weekday in range(5):
            await availability.set_weekday_hours(
                db,
                clock,
                studio_id,
                staff_id,
                weekday=weekday,
                windows=[(time(9), time(17))],
                source="cli",
            )
    return {**ids, "service": int(service_id)}


async def booked(
    db: Database,
    clock: FrozenClock,
    studio_id: int,
    *,
    customer_id: int,
    staff_id: int,
    service_id: int,
    at: datetime,
) -> Appointment:
    held = await appointments.hold(
        db,
        clock,
        studio_id,
        customer_id=customer_id,
        service_id=service_id,
        staff_id=staff_id,
        starts_at=at,
    )
    return await appointments.confirm(
        db, clock, studio_id, appointment_id=held.id, customer_id=customer_id
    )


async def ben(db: Database, clock: FrozenClock, studio_id: int) -> int:
    ben_id = await customer(db, clock, studio_id, "Ben Baker", "+447700900201")
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE customers SET timezone = 'America/New_York' WHERE id = :id", {"id": ben_id}
        )
    return ben_id


async def slots(
    db: Database, studio_id: int, ids: dict[str, int], day: tuple[datetime, datetime], now: datetime
) -> int:
    found = await appointments.free_slots(
        db,
        studio_id,
        service_id=ids["service"],
        staff_id=ids["maya"],
        now=now,
        start=day[0],
        end=day[1],
    )
    return len(found)


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
        " then: cancel it under /upcoming if it cannot go ahead." in maya.text
    )
    assert "Your week (times in London):" in maya.text
    assert "Mon 23 Nov: no open hours\n   ⛔ all day" in maya.text
    assert await slots(db, studio_id, ids, MONDAY, clock.now()) == 0
    assert await slots(db, studio_id, ids, TUESDAY, clock.now()) > 0
    rows = await _all(db, "SELECT staff_id, source FROM availability_blocks")
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
    ]:
        await maya.say(bad)
        assert "Sorry, I could not read that as a period" in maya.text, bad
        assert "Nothing was changed." in maya.text
    assert await _all(db, "SELECT id FROM availability_blocks") == []

    await maya.say("14 Dec - 18 Dec, holiday")

    assert "Blocked from Mon 14 Dec 2026 to Fri 18 Dec 2026, both included.\n" in maya.text
    rows = await _all(
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
        db, studio_id, await _staff_id(db, studio_id, "maya"), "America/New_York"
    )
    ids = await lessons(db, clock, studio_id)  # 09:00-17:00 on Maya's New York clock
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/availability")
    assert "Your week (times in New York):" in maya.text
    assert "Mon 23 Nov: 09:00–17:00" in maya.text
    await maya.press("🏖 Block a period")
    await maya.say("2026-12-14 to 2026-12-14")

    rows = await _all(db, "SELECT starts_at, ends_at FROM availability_blocks")
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
    assert await _all(db, "SELECT id FROM availability_additions") == []

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


async def test_upcoming_lists_own_appointments_a_page_at_a_time_with_the_time_toggle(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    ben_id = await ben(db, clock, studio_id)
    for hours in range(9):  # Monday 09:00 .. Tuesday 09:00: one more than a page
        at = MONDAY[0] + timedelta(hours=9 + hours if hours < 8 else 33)
        await booked(
            db,
            clock,
            studio_id,
            customer_id=ben_id,
            staff_id=ids["maya"],
            service_id=ids["service"],
            at=at,
        )
    cleo = await customer(db, clock, studio_id, "Cleo Cruz", "+447700900202")
    await booked(
        db,
        clock,
        studio_id,
        customer_id=cleo,
        staff_id=ids["tom"],
        service_id=ids["service"],
        at=MONDAY_10,
    )
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/upcoming")

    assert "Your upcoming appointments · Times in London." in maya.text
    assert maya.labels[0] == "Mon 23 Nov, 09:00 · Ben Baker · Lesson"
    assert len([label for label in maya.labels if "Ben Baker" in label]) == 8
    assert not any("Cleo" in label for label in maya.labels)  # Tom's customer
    assert "Later ➡" in maya.labels

    await maya.press("🌐 Show customer's time")
    assert "Times in each customer's zone." in maya.text
    assert maya.labels[0] == "Mon 23 Nov, 04:00 (New York) · Ben Baker · Lesson"

    await maya.press("Later ➡")
    assert maya.labels[:2] == ["Tue 24 Nov, 04:00 (New York) · Ben Baker · Lesson", "⬅ Sooner"]
    await maya.press("🕘 Show my time")
    assert maya.labels[0] == "Tue 24 Nov, 09:00 · Ben Baker · Lesson"

    await maya.say("/pending")
    assert "Held, waiting for the customer to confirm" in maya.text
    assert "None." in maya.text


async def test_staff_cancel_with_a_reason_tells_the_customer(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    ben_id = await ben(db, clock, studio_id)
    appointment = await booked(
        db,
        clock,
        studio_id,
        customer_id=ben_id,
        staff_id=ids["maya"],
        service_id=ids["service"],
        at=MONDAY_10,
    )
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/staff")
    await maya.press("📆 My appointments")
    await maya.press("Mon 23 Nov, 10:00")
    assert "Customer: Ben Baker" in maya.text
    assert "When: Mon 23 Nov, 10:00–11:00 (London)" in maya.text
    assert "Status: confirmed" in maya.text

    await maya.press("✖ Cancel with a reason")
    assert "Type the reason" in maya.text
    await maya.say("x" * 400)
    assert "Please type a short reason" in maya.text
    await maya.say("I am ill, sorry")

    assert (
        "Cancelled: Lesson with Ben Baker, Mon 23 Nov, 10:00. Ben Baker is told, with your"
        " reason." in maya.text
    )
    assert "nothing to refund" in maya.text
    rows = await _all(
        db, "SELECT status, cancel_reason FROM appointments WHERE id = :id", id=appointment.id
    )
    assert tuple(rows[0]) == ("cancelled_by_staff", "I am ill, sorry")
    notices = await _all(
        db,
        "SELECT customer_id, params FROM outbox WHERE template = 'appointment_cancelled_by_staff'",
    )
    assert len(notices) == 1
    assert notices[0]["customer_id"] == ben_id
    assert "I am ill, sorry" in notices[0]["params"]

    await maya.say("/cancelled")
    assert maya.labels[0] == "Mon 23 Nov, 10:00 · Ben Baker · Lesson"


async def test_no_show_only_after_the_start(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    appointment = await booked(
        db,
        clock,
        studio_id,
        customer_id=await ben(db, clock, studio_id),
        staff_id=ids["maya"],
        service_id=ids["service"],
        at=MONDAY_10,
    )
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/upcoming")
    await maya.press("Mon 23 Nov, 10:00")
    assert "🚫 Mark no-show" not in maya.labels
    assert "You can mark a no-show once it has started." in maya.text

    clock.advance(MONDAY_10 + timedelta(minutes=20) - clock.now())
    await maya.say("/staff")  # after days of quiet the chat starts again from the menu
    await maya.say("/upcoming")
    await maya.press("Mon 23 Nov, 10:00")
    assert "✖ Cancel with a reason" not in maya.labels  # it has begun
    await maya.press("🚫 Mark no-show")

    assert "Ben Baker is marked as a no-show." in maya.text
    rows = await _all(db, "SELECT status FROM appointments WHERE id = :id", id=appointment.id)
    assert rows[0]["status"] == "no_show"
    await maya.say("/past")
    await maya.press("Mon 23 Nov, 10:00")
    assert "Status: no-show" in maya.text
    assert "🚫 Mark no-show" not in maya.labels


async def test_a_customer_is_refused_and_a_staff_member_taken_off_the_list_cannot_type_changes(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await lessons(db, clock, studio_id)
    eve = Chat(dialogues, address="6002", name="Eve", channel=Channel.TELEGRAM)
    await eve.say("/start")
    for command in COMMANDS:
        await eve.say(command)
        assert NOT_STAFF in eve.text, command
    logged = await _all(db, "SELECT command, allowed FROM staff_audit WHERE address = '6002'")
    assert [tuple(r) for r in logged] == [
        ("staff_availability", False),
        ("staff_upcoming", False),
        ("staff_pending", False),
        ("staff_past", False),
        ("staff_cancelled", False),
    ]

    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/availability")
    await maya.press("🏖 Block a period")
    async with db.transaction() as tx:
        await tx.execute("UPDATE staff SET telegram_user_id = NULL WHERE key = 'maya'", {})
    await maya.say("14 Dec - 18 Dec")

    assert NOT_STAFF in maya.text
    assert await _all(db, "SELECT id FROM availability_blocks") == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("15 Dec - 20 Dec", (date(2026, 12, 15), date(2026, 12, 20), "")),
        ("2026-12-15 to 2026-12-20", (date(2026, 12, 15), date(2026, 12, 20), "")),
        ("15 dic al 20 dic: vacaciones", (date(2026, 12, 15), date(2026, 12, 20), "vacaciones")),
        ("Tue 15 Dec – Sun 20 Dec, away", (date(2026, 12, 15), date(2026, 12, 20), "away")),
        ("28 Dec - 3 Jan", (date(2026, 12, 28), date(2027, 1, 3), "")),  # into next year
        ("1 Nov - 2 Nov", (date(2027, 11, 1), date(2027, 11, 2), "")),  # the next 1 Nov
        ("30 Nov - 30 Nov", (TODAY, TODAY, "")),
    ],
)
def test_periods_that_read(typed: str, expected: tuple[date, date, str]) -> None:
    assert parse_period(typed, today=TODAY) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "December",
        "15 Dec",
        "20 Dec - 15 Dec",  # a slip, not nearly a year
        "2026-12-20 to 2026-12-15",
        "2026-11-01 to 2026-12-01",  # began before today
        "2026-12-01 to 2028-01-01",  # longer than a year
        "31 Feb - 3 Mar",
        "15 Foo - 20 Dec",
        "Mon 15 Dec - 20 Dec",  # the 15th is a Tuesday
        "15 Dec - 20 Dec " + "x" * 300,
    ],
)
def test_periods_refused(typed: str) -> None:
    with pytest.raises(Unreadable):
        parse_period(typed, today=TODAY)


def test_windows_and_hours() -> None:
    assert parse_window("Sat 12 Dec 10:00-13:00", today=TODAY) == (
        date(2026, 12, 12),
        time(10),
        time(13),
        "",
    )
    assert parse_window("2026-12-12 9:30 to 12:00 extra", today=TODAY)[1:] == (
        time(9, 30),
        time(12),
        "extra",
    )
    for bad in ["Fri 12 Dec 10:00-13:00", "12 Dec 13:00-10:00", "12 Dec 10:00-24:00", "12 Dec"]:
        with pytest.raises(Unreadable):
            parse_window(bad, today=TODAY)
    assert parse_hours("15:00-18:00, 09:00-12:00") == [(time(9), time(12)), (time(15), time(18))]
    assert parse_hours("Off") == []
    for bad in ["09:00-12:00, 11:00-13:00", "9-12", "09:00-12:00,", "12:00-09:00", "09:60-10:00"]:
        with pytest.raises(Unreadable):
            parse_hours(bad)


async def test_a_held_slot_is_listed_as_pending_and_cancelling_it_releases_it_quietly(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ids = await lessons(db, clock, studio_id)
    cleo = await customer(db, clock, studio_id, "Cleo Cruz", "+447700900202")
    await appointments.hold(
        db,
        clock,
        studio_id,
        customer_id=cleo,
        service_id=ids["service"],
        staff_id=ids["maya"],
        starts_at=MONDAY_10,
    )
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/upcoming")
    assert "None." in maya.text

    await maya.say("/pending")
    await maya.press("Mon 23 Nov, 10:00 · Cleo Cruz")
    assert "Status: held, not yet confirmed" in maya.text
    await maya.press("✖ Cancel with a reason")
    await maya.say("Room closed")

    assert "Released: Lesson with Cleo Cruz, Mon 23 Nov, 10:00, was only held" in maya.text
    rows = await _all(db, "SELECT status FROM appointments")
    assert [r["status"] for r in rows] == ["cancelled_by_staff"]
    assert await _all(db, "SELECT id FROM outbox WHERE template LIKE 'appointment%'") == []


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
    jake_id = await _staff_id(db, studio_id, "jake")
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
    rows = await _all(
        db, "SELECT staff_id, starts_at, ends_at FROM availability_blocks WHERE source = 'chat'"
    )
    assert [tuple(r) for r in rows] == [(jake_id, *wednesday)]
