"""Appointments in chat: booking (with whom, or the first available), times in two zones,
a slot taken meanwhile, rescheduling, cancelling inside the cutoff, and moving a class
booking to another date; on SQLite and PostgreSQL.

The pottery studio (Europe/London) gets two services by SQL: a 30-minute trial offered by
Sam (America/New_York, weekdays 09:00-12:00 his time) and Tom (London, weekdays
10:00-12:00), with 5-hour cancellation and reschedule cutoffs. It is Fri 20 Nov 2026,
09:00 UTC: Sam's Friday starts at 14:00 UTC (15:00 in Madrid).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database, instant
from tests.conversations.chat import Chat
from tests.examples import load_tutor_studio

WEEKDAYS = range(5)


@pytest.fixture
async def trial(db: Database, studio_id: int) -> int:
    """The trial lesson's service id (Sam in New York, Tom in London)."""
    ids = {"studio_id": studio_id}
    async with db.transaction() as tx:
        staff = {
            str(r["key"]): int(r["id"])
            for r in await tx.all("SELECT id, key FROM staff WHERE studio_id = :studio_id", ids)
        }
        await tx.execute(
            "UPDATE staff SET timezone = 'America/New_York' WHERE id = :id", {"id": staff["sam"]}
        )
        for key, start, end in (("sam", "09:00", "12:00"), ("tom", "10:00", "12:00")):
            for weekday in WEEKDAYS:
                await tx.execute(
                    "INSERT INTO availability_windows (studio_id, staff_id, weekday, start_time,"
                    " end_time, source) VALUES (:studio_id, :staff_id, :weekday, :start, :end,"
                    " 'file')",
                    {**ids, "staff_id": staff[key], "weekday": weekday, "start": start, "end": end},
                )
        service_id = int(
            await tx.scalar(
                "INSERT INTO services (studio_id, key, name, description, duration_minutes,"
                " price_minor, location, reschedule_cutoff_hours, cancellation_cutoff_hours)"
                " VALUES (:studio_id, 'trial', 'Trial lesson', 'Meet your teacher', 30, 1500,"
                " '1 Kiln Lane', 5, 5) RETURNING id",
                ids,
            )
        )
        for key in ("sam", "tom"):
            await tx.execute(
                "INSERT INTO service_staff (studio_id, service_id, staff_id)"
                " VALUES (:studio_id, :service_id, :staff_id)",
                {**ids, "service_id": service_id, "staff_id": staff[key]},
            )
    return service_id


async def _in_madrid(db: Database, chat: Chat) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE customers SET timezone = 'Europe/Madrid' WHERE id IN"
            " (SELECT customer_id FROM channel_identities WHERE address = :address)",
            {"address": chat.address},
        )


async def _appointments(db: Database) -> list[dict[str, object]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT id, starts_at, status, sequence FROM appointments ORDER BY id")
    return [
        {
            "id": r["id"],
            "starts_at": instant(r["starts_at"]),
            "status": r["status"],
            "sequence": r["sequence"],
        }
        for r in rows
    ]


async def _to_times(chat: Chat, teacher: str, day: str = "Fri 20 Nov") -> None:
    await chat.say("menu")  # the menu the chat fixture opened with predates the services
    await chat.press("👤 Book an appointment")
    await chat.press("Trial lesson")
    await chat.press(teacher)
    await chat.press(day)


def _event(chat: Chat) -> icalendar.cal.Component:
    attachment = chat.replies[0].attachment
    assert attachment is not None
    assert attachment.mime_type == "text/calendar"
    return icalendar.Calendar.from_ical(attachment.content).walk("VEVENT")[0]


async def test_menu_offers_appointments_only_where_there_are_services(
    chat: Chat, trial: int
) -> None:
    assert "👤 Book an appointment" not in chat.labels  # read before the services existed
    assert trial
    await chat.say("/start")
    assert chat.labels[:2] == ["📅 Book a class", "👤 Book an appointment"]
    assert "🌐 Language & time zone" in chat.labels


async def test_trial_with_the_new_york_coach_shows_both_zones_to_a_customer_in_madrid(
    chat: Chat, db: Database, trial: int
) -> None:
    assert trial
    await _in_madrid(db, chat)
    await _to_times(chat, "Sam Whitfield")
    assert "Times are in Madrid time (Europe/Madrid)." in chat.text
    assert chat.labels[0] == "15:00 your time (09:00 in New York)"

    await chat.press("17:00")
    assert "Trial lesson with Sam Whitfield" in chat.text
    assert "Fri 20 Nov 2026, 17:00 CET your time (11:00 in New York)" in chat.text
    assert "Price: £15.00, paid at the studio." in chat.text
    assert "Free cancellation until Fri 20 Nov, 12:00 CET." in chat.text
    assert "You can move it to another time until Fri 20 Nov, 12:00 CET." in chat.text
    assert "Where: 1 Kiln Lane" in chat.text

    await chat.press("✅ Confirm")
    [booked] = await _appointments(db)
    assert booked["status"] == "confirmed"
    assert booked["starts_at"] == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert chat.replies[0].text.startswith("✅ Booked!")
    assert f"Appointment #{booked['id']}: Trial lesson with Sam Whitfield" in chat.text
    event = _event(chat)
    assert str(event["UID"]) == f"appointment-{booked['id']}@bookbot"
    assert event.decoded("DTSTART") == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert chat.labels[0] == "📅 Book a class"  # back at the menu


async def test_first_available_takes_whoever_is_free_first(
    chat: Chat, db: Database, trial: int
) -> None:
    assert trial
    await _to_times(chat, "⚡ First available")
    assert chat.labels[0] == "10:00 · Tom Hargreaves"  # London, the studio's and Ana's zone
    assert "14:00 your time (09:00 in New York) · Sam Whitfield" in chat.labels
    await chat.say("10am")  # a typed time picks the slot
    assert "Trial lesson with Tom Hargreaves" in chat.text
    await chat.say("confirm")
    [booked] = await _appointments(db)
    assert booked["starts_at"] == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def test_a_slot_taken_between_choosing_and_confirming_is_refused_politely(
    dialogues: Dialogues, db: Database, clock: FrozenClock, trial: int
) -> None:
    assert trial
    ana = Chat(dialogues)
    ben = Chat(dialogues, address="+447700900002", name="Ben")
    await ana.say("/start")
    await _to_times(ana, "Sam Whitfield")
    await ana.press("14:00")  # held for the studio's 10 minutes
    clock.advance(timedelta(minutes=11))
    await ben.say("/start")
    await _to_times(ben, "Sam Whitfield")
    await ben.press("14:00")
    await ben.press("✅ Confirm")

    await ana.press("✅ Confirm")

    assert "That time was just taken. Please pick another." in ana.text
    assert ana.labels[0].startswith("14:30")  # the day's times again, Ben's gone
    assert [a["status"] for a in await _appointments(db)] == ["expired", "confirmed"]


async def test_rescheduling_moves_the_same_appointment_and_updates_the_calendar(
    chat: Chat, db: Database, trial: int
) -> None:
    assert trial
    await _to_times(chat, "Sam Whitfield", "Mon 23 Nov")
    await chat.press("14:00")
    await chat.press("✅ Confirm")

    await chat.press("🗓 My bookings")
    await chat.press("Trial lesson with Sam Whitfield")
    assert "You can move it to another time until Mon 23 Nov, 09:00." in chat.text
    await chat.press("🔁 Reschedule")
    await chat.press("Tue 24 Nov")
    await chat.say("3 pm")  # typed, on the customer's clock
    assert "to Tue 24 Nov 2026, 15:00 your time (10:00 in New York)?" in chat.text
    await chat.press("✅ Move it")

    assert chat.replies[0].text.startswith("✅ Moved!")
    [moved] = await _appointments(db)
    assert moved["starts_at"] == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    assert moved["sequence"] == 1
    event = _event(chat)
    assert str(event["UID"]) == f"appointment-{moved['id']}@bookbot"
    assert int(event["SEQUENCE"]) == 1


async def test_cancelling_inside_the_cutoff_is_refused_and_no_longer_offered(
    chat: Chat, db: Database, clock: FrozenClock, trial: int
) -> None:
    assert trial
    await _to_times(chat, "Sam Whitfield")
    await chat.press("14:15")  # 5-hour cutoff: free cancellation until 09:15, now 09:00
    await chat.press("✅ Confirm")
    await chat.press("🗓 My bookings")
    await chat.press("Trial lesson with Sam Whitfield")
    await chat.press("✖ Cancel appointment")
    assert "Free cancellation until Fri 20 Nov, 09:15." in chat.text

    clock.advance(timedelta(minutes=16))
    await chat.press("Yes, cancel it")

    assert "Bookings can be cancelled up to 5 hours before the start." in chat.text
    assert "It can no longer be cancelled: cancelling closes 5 hours before the start." in (
        chat.text
    )
    assert "✖ Cancel appointment" not in chat.labels
    assert "🔁 Reschedule" not in chat.labels
    assert [a["status"] for a in await _appointments(db)] == ["confirmed"]


async def test_cancelling_before_the_cutoff(chat: Chat, db: Database, trial: int) -> None:
    assert trial
    await _to_times(chat, "Sam Whitfield", "Mon 23 Nov")
    await chat.press("14:00")
    await chat.press("✅ Confirm")
    await chat.press("🗓 My bookings")
    await chat.press("Trial lesson with Sam Whitfield")
    await chat.press("✖ Cancel appointment")
    await chat.press("Yes, cancel it")
    assert "Your appointment is cancelled." in chat.text
    assert [a["status"] for a in await _appointments(db)] == ["cancelled_by_customer"]


async def test_leaving_the_summary_lets_the_slot_go(dialogues: Dialogues, trial: int) -> None:
    assert trial
    ana = Chat(dialogues)
    await ana.say("/start")
    await _to_times(ana, "Sam Whitfield")
    await ana.press("14:00")
    await ana.say("menu")
    ben = Chat(dialogues, address="+447700900002", name="Ben")
    await ben.say("/start")
    await _to_times(ben, "Sam Whitfield")
    assert ben.labels[0].startswith("14:00")


async def test_a_class_booking_moves_to_another_date(chat: Chat, db: Database) -> None:
    await chat.say("1")
    await chat.say("Wheel Throwing Taster")
    await chat.press("Sat 28 Nov")
    await chat.say("1")
    await chat.say("confirm")
    await chat.press("🗓 My bookings")
    await chat.press("Wheel Throwing Taster")
    assert "You can move it to another date until Thu 26 Nov, 14:00." in chat.text
    await chat.press("🔁 Move to another date")
    await chat.press("Sat 5 Dec")
    await chat.press("✅ Move it")

    assert chat.replies[0].text.startswith("✅ Moved! Wheel Throwing Taster, Sat 5 Dec 2026")
    async with db.transaction(write=False) as tx:
        starts = await tx.scalar(
            "SELECT s.starts_at FROM registration_sessions rs"
            " JOIN sessions s ON s.id = rs.session_id WHERE rs.status = 'booked'"
        )
    assert instant(starts).date() == datetime(2026, 12, 5, tzinfo=UTC).date()
    assert int(_event(chat)["SEQUENCE"]) == 1


@pytest.fixture
async def tutors(db: Database, clock: FrozenClock) -> Chat:
    """A customer of examples/tutor-studio.toml (Europe/Madrid), at its menu."""
    await load_tutor_studio(db, clock)
    lola = Chat(Dialogues(db, clock), address="+447700900003", name="Lola")
    await lola.say("/start")
    return lola


async def test_tutor_studio_trial_with_the_new_york_coach_online(
    tutors: Chat, db: Database
) -> None:
    await tutors.press("👤 Book an appointment")
    await tutors.press("Trial session")
    await tutors.press("Jake Miller")
    await tutors.press("Fri 20 Nov")
    assert tutors.labels[0] == "15:00 your time (09:00 in New York)"
    await tutors.press("15:00")
    assert "Fri 20 Nov 2026, 15:00 your time (09:00 in New York)" in tutors.text
    assert "Price: €10.00, paid at the studio." in tutors.text
    await tutors.press("✅ Confirm")
    [booked] = await _appointments(db)
    assert f"Online: https://meet.example.com/trial-{booked['id']}" in tutors.text
    assert str(_event(tutors)["URL"]) == f"https://meet.example.com/trial-{booked['id']}"


async def test_tutor_studio_lesson_for_two_asks_the_party_size(tutors: Chat, db: Database) -> None:
    await tutors.press("👤 Book an appointment")
    await tutors.press("Spanish for two")
    await tutors.press("Lucía Martín")
    await tutors.press("Mon 23 Nov")  # 12 hours' notice: nothing left this Friday
    await tutors.press("09:00")
    assert tutors.labels[:2] == ["1", "2"]
    await tutors.say("2")
    assert "2 people" in tutors.text
    await tutors.say("confirm")
    async with db.transaction(write=False) as tx:
        assert await tx.scalar("SELECT guest_count FROM appointments") == 2


async def test_by_sms_with_numbers_and_a_typed_time(db: Database, clock: FrozenClock) -> None:
    await load_tutor_studio(db, clock)
    sms = Chat(Dialogues(db, clock), address="+34912345678", name="", channel=Channel.SMS)
    await sms.say("hi")
    assert sms.labels[1] == "👤 Book an appointment"
    await sms.say("2")
    assert sms.labels[3].startswith("Trial session (30 min) · 30 min · €10.00")
    await sms.say("4")
    assert sms.labels[:2] == ["⚡ First available · Fri 20 Nov, 10:00", "Jake Miller"]
    await sms.say("2")
    await sms.say("1")  # Fri 20 Nov
    await sms.say("3pm")  # 15:00 in Madrid, 09:00 in New York
    assert "Fri 20 Nov 2026, 15:00 your time (09:00 in New York)" in sms.text
    await sms.say("yes")
    assert sms.last.attachment is None  # no files by SMS
    assert "Appointment #" in sms.text
    [booked] = await _appointments(db)
    assert booked["starts_at"] == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


async def test_later_dates_page_on_and_back(tutors: Chat) -> None:
    await tutors.press("👤 Book an appointment")
    await tutors.press("Trial session")
    await tutors.press("Jake Miller")
    days = [label for label in tutors.labels if label[:3] in ("Mon", "Wed", "Fri")]
    assert days[0] == "Fri 20 Nov"
    assert len(days) == 7
    await tutors.press("➡ Later dates")
    assert tutors.labels[0] == "Mon 7 Dec"
    await tutors.press("⬅ Earliest dates")
    assert tutors.labels[0] == "Fri 20 Nov"


async def _stops_offering(db: Database, trial: int, name: str) -> None:
    """The studio file took the staff member off the service (its service_staff row goes)."""
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM service_staff WHERE service_id = :service_id AND staff_id IN"
            " (SELECT id FROM staff WHERE name = :name)",
            {"service_id": trial, "name": name},
        )


async def test_a_teacher_taken_off_the_service_meanwhile_is_said_not_crashed_on(
    chat: Chat, db: Database, trial: int
) -> None:
    await _to_times(chat, "Sam Whitfield", "Mon 23 Nov")
    await chat.press("14:00")
    await chat.press("✅ Confirm")
    await chat.press("🗓 My bookings")
    await chat.press("Trial lesson with Sam Whitfield")
    await _stops_offering(db, trial, "Sam Whitfield")

    await chat.press("🔁 Reschedule")  # his days are read for a service he no longer gives

    assert "Sam Whitfield does not offer Trial lesson." in chat.text

    await chat.say("menu")
    await chat.press("👤 Book an appointment")
    await chat.press("Trial lesson")
    await chat.press("Tom Hargreaves")
    await _stops_offering(db, trial, "Tom Hargreaves")

    await chat.press("Mon 23 Nov")  # his times, likewise

    assert "Tom Hargreaves does not offer Trial lesson." in chat.text


async def test_rescheduling_offers_times_overlapping_the_appointment_itself(
    chat: Chat, db: Database, trial: int
) -> None:
    """The time being left is not busy for its own move: a quarter of an hour later is
    offered, and the service moves it there."""
    assert trial
    await _to_times(chat, "Sam Whitfield", "Mon 23 Nov")
    await chat.press("14:00")
    await chat.press("✅ Confirm")
    await chat.press("🗓 My bookings")
    await chat.press("Trial lesson with Sam Whitfield")
    await chat.press("🔁 Reschedule")
    await chat.press("Mon 23 Nov")

    assert "14:15 your time (09:15 in New York)" in chat.labels
    assert "14:00 your time (09:00 in New York)" not in chat.labels  # where it is now
    await chat.press("14:15 your time (09:15 in New York)")
    await chat.press("✅ Move it")

    [moved] = await _appointments(db)
    assert moved["starts_at"] == datetime(2026, 11, 23, 14, 15, tzinfo=UTC)


async def test_cancel_typed_at_an_appointment_asks_to_cancel_it(chat: Chat, trial: int) -> None:
    # "cancel" at an appointment's page is about the appointment, not the way to the menu.
    assert trial
    await _to_times(chat, "Sam Whitfield", "Mon 23 Nov")
    await chat.press("14:00")
    await chat.press("✅ Confirm")
    await chat.press("🗓 My bookings")
    await chat.press("Trial lesson with Sam Whitfield")
    assert "✖ Cancel" not in chat.labels
    await chat.say("cancel")
    assert chat.text.startswith("Cancel Trial lesson with Sam Whitfield on Mon 23 Nov")


async def test_book_an_appointment_typed_anywhere_starts_one(chat: Chat, trial: int) -> None:
    assert trial
    await chat.say("my passes")
    await chat.say("book an appointment")
    assert chat.text.startswith("What would you like to book?")
    await chat.say("menu")
    await chat.say("book")
    await chat.say("cita")
    assert chat.text.startswith("What would you like to book?")


async def test_no_passes_in_a_studio_with_services_names_packages_too(
    chat: Chat, trial: int
) -> None:
    assert trial
    await chat.say("my passes")
    assert chat.text.startswith("You have no passes or packages yet.")
    assert "A service offers its packages when you choose it." in chat.text
