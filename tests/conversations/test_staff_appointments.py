"""Staff in chat: their own appointments (/upcoming, /pending, /past, /cancelled), and the
fixtures the staff availability tests share.

The example studio at Fri 20 Nov 2026 09:00 (London, GMT = UTC). Maya (staff, on Telegram)
and Tom offer a 60-minute lesson, Monday to Friday 09:00-17:00 (set through the service,
as the CLI would); Maya also teaches the Saturday Glazing Workshop (10:00-12:30) and the
Wheel Throwing Taster (14:00-16:00). Ben books with Maya; his own zone is New York.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.services import appointments, availability
from bookbot.services.appointment_rows import Appointment
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import NOT_STAFF, customer, staff_chat

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MONDAY = (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC))
TUESDAY = (datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
COMMANDS = ["/availability", "/upcoming", "/pending", "/past", "/cancelled"]


async def rows_of(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction(write=False) as tx:
        return list(await tx.all(sql, params))


async def staff_id_of(db: Database, studio_id: int, key: str) -> int:
    rows = await rows_of(
        db, "SELECT id FROM staff WHERE studio_id = :s AND key = :k", s=studio_id, k=key
    )
    return int(rows[0]["id"])


async def lessons(db: Database, clock: FrozenClock, studio_id: int) -> dict[str, int]:
    """A 60-minute lesson offered by Maya and Tom, weekdays 09:00-17:00."""
    ids = {key: await staff_id_of(db, studio_id, key) for key in ("maya", "tom")}
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
        "Cancelled: Lesson with Ben Baker, Mon 23 Nov, 10:00. We have told Ben Baker, with"
        " your reason." in maya.text
    )
    assert "nothing to refund" in maya.text
    rows = await rows_of(
        db, "SELECT status, cancel_reason FROM appointments WHERE id = :id", id=appointment.id
    )
    assert tuple(rows[0]) == ("cancelled_by_staff", "I am ill, sorry")
    notices = await rows_of(
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
    rows = await rows_of(db, "SELECT status FROM appointments WHERE id = :id", id=appointment.id)
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
    logged = await rows_of(db, "SELECT command, allowed FROM staff_audit WHERE address = '6002'")
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
    assert await rows_of(db, "SELECT id FROM availability_blocks") == []


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
    rows = await rows_of(db, "SELECT status FROM appointments")
    assert [r["status"] for r in rows] == ["cancelled_by_staff"]
    assert await rows_of(db, "SELECT id FROM outbox WHERE template LIKE 'appointment%'") == []
