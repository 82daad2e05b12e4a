"""Appointments on both databases: slots from hours minus busy time, holds that lapse at
once, confirm with reminders, atomic reschedule, cancellation policy, staff cancel and
no-show, the sweeps, the lists, and tenancy."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.appointment_templates import APPOINTMENT_TEMPLATES
from bookbot.handlers.templates import render
from bookbot.presentation.i18n import translator
from bookbot.services import appointments, availability, customers, staffing
from bookbot.services.appointments import Appointment
from bookbot.store.db import Database
from tests import builders
from tests.services.test_appointments_world import THU, TUE, at, outbox_rows
from tests.services.test_appointments_world import world as make_world

HOLD_FOR = timedelta(minutes=10)


@pytest.fixture
async def world(db: Database) -> builders.World:
    return await make_world(db)


async def _starts(
    db: Database, w: builders.World, clock: FrozenClock, day: datetime, who: str = "maya"
) -> list[datetime]:
    found = await appointments.free_slots(
        db,
        w.studio_id,
        service_id=w["lesson_service"],
        staff_id=w[who],
        now=clock.now(),
        start=day,
        end=day + timedelta(days=1),
    )
    return [s.start for s in found]


async def _book(
    db: Database,
    w: builders.World,
    clock: FrozenClock,
    starts_at: datetime,
    *,
    who: str = "ana",
    staff: str = "maya",
    service: str = "lesson",
) -> Appointment:
    held = await appointments.hold(
        db,
        clock,
        w.studio_id,
        customer_id=w[who],
        service_id=w[f"{service}_service"],
        staff_id=w[staff],
        starts_at=starts_at,
    )
    return await appointments.confirm(
        db, clock, w.studio_id, appointment_id=held.id, customer_id=w[who]
    )


async def test_slots_avoid_appointments_with_buffers_holds_classes_and_blocks(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    free = await _starts(db, world, clock, TUE)
    assert free[0] == at(TUE, 9)
    assert free[-1] == at(TUE, 15, 45)
    await _book(db, world, clock, at(TUE, 10))  # busy 10:00-11:15 with its buffer
    await appointments.hold(  # a live hold takes its time too
        db,
        clock,
        world.studio_id,
        customer_id=world["ben"],
        service_id=world["trial_service"],
        staff_id=world["maya"],
        starts_at=at(TUE, 13),
    )
    taught = await builders.session(db, world, "class", "taster", at(TUE, 15), minutes=60)
    await staffing.assign(db, world.studio_id, taught, world["maya"], as_instructor=True)

    free = await _starts(db, world, clock, TUE)
    # 09:00-10:45 run into the booking, 10:00-11:00 into it or its buffer (to 11:15);
    # 12:00-13:15 into the trial's hold (13:00-13:30); 14:00-15:45 into the class at 15:00.
    # Touching is not overlapping: 11:45 ends at 13:00, 13:45 at 15:00.
    assert free == [
        at(TUE, 11, 15),
        at(TUE, 11, 30),
        at(TUE, 11, 45),
        at(TUE, 13, 30),
        at(TUE, 13, 45),
    ]
    assert await _starts(db, world, clock, TUE, who="tom") != []  # Tom's day is his own

    await availability.block_day(
        db,
        clock,
        world.studio_id,
        world["maya"],
        day=date(2026, 11, 4),
        reason="Kiln day",
        source="chat",
    )
    assert await _starts(db, world, clock, TUE + timedelta(days=1)) == []


async def test_a_lapsed_hold_frees_the_time_at_once(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    held = await appointments.hold(
        db,
        clock,
        world.studio_id,
        customer_id=world["ana"],
        service_id=world["lesson_service"],
        staff_id=world["maya"],
        starts_at=at(TUE, 10),
    )
    assert held.status == "held"
    assert held.held_until == clock.now() + HOLD_FOR
    assert at(TUE, 10) not in await _starts(db, world, clock, TUE)
    with pytest.raises(errors.SlotTaken):
        await _book(db, world, clock, at(TUE, 10, 30), who="ben")

    clock.advance(HOLD_FOR)  # lapsed, not swept: counts for nothing
    assert at(TUE, 10) in await _starts(db, world, clock, TUE)
    booked = await _book(db, world, clock, at(TUE, 10), who="ben")
    assert booked.status == "confirmed"
    with pytest.raises(errors.SlotTaken):  # Ana's lapsed hold is re-checked: gone
        await appointments.confirm(
            db, clock, world.studio_id, appointment_id=held.id, customer_id=world["ana"]
        )


async def test_confirming_a_lapsed_hold_books_it_when_still_free(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    held = await appointments.hold(
        db,
        clock,
        world.studio_id,
        customer_id=world["ana"],
        service_id=world["lesson_service"],
        staff_id=world["maya"],
        starts_at=at(TUE, 10),
    )
    clock.advance(HOLD_FOR * 2)
    assert await appointments.expire_holds(db, clock) == 1
    booked = await appointments.confirm(
        db, clock, world.studio_id, appointment_id=held.id, customer_id=world["ana"]
    )
    assert (booked.id, booked.status, booked.held_until) == (held.id, "confirmed", None)


async def test_confirm_queues_reminders_and_tells_the_staff_member(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    booked = await _book(db, world, clock, at(THU, 10))
    assert (booked.status, booked.price_minor, booked.currency) == ("confirmed", 4000, "GBP")
    assert (booked.service_name, booked.staff_name, booked.location) == (
        "Wheel lesson",
        "Maya",
        "Studio B",
    )
    rows = await outbox_rows(db, world.studio_id)
    reminders = {r["template"]: r for r in rows if r["template"].startswith("appointment_rem")}
    assert reminders["appointment_reminder_24h"]["due_at"] == at(THU, 10) - timedelta(hours=24)
    assert reminders["appointment_reminder_1h"]["due_at"] == at(THU, 9)
    assert reminders["appointment_reminder_1h"]["dedupe_key"] == (
        f"appointment_reminder_1h:appointment-{booked.id}-0"
    )
    assert reminders["appointment_reminder_1h"]["params"]["staff_name"] == "Maya"
    (staff,) = [r for r in rows if r["template"] == "staff_appointment_booked"]
    assert (staff["channel"], staff["address"], staff["customer_id"]) == ("telegram", "777", None)

    again = await appointments.confirm(  # a second tap: the same booking, nothing more queued
        db, clock, world.studio_id, appointment_id=booked.id, customer_id=world["ana"]
    )
    assert again == booked
    assert len(await outbox_rows(db, world.studio_id)) == len(rows)


async def test_a_staff_member_without_a_chat_is_not_messaged(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await _book(db, world, clock, at(THU, 10), staff="tom")  # no Telegram id, no staff chat
    assert await outbox_rows(db, world.studio_id, "staff_") == []


async def test_reschedule_moves_the_same_row_atomically(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    booked = await _book(db, world, clock, at(THU, 10))
    moved = await appointments.reschedule(
        db,
        clock,
        world.studio_id,
        appointment_id=booked.id,
        customer_id=world["ana"],
        starts_at=at(THU, 14),
    )
    assert (moved.id, moved.starts_at, moved.sequence) == (booked.id, at(THU, 14), 1)
    free = await _starts(db, world, clock, THU)
    assert at(THU, 10) in free
    assert at(THU, 14) not in free
    rows = await outbox_rows(db, world.studio_id, "appointment_reminder")
    pending = {r["dedupe_key"] for r in rows if r["status"] == "pending"}
    assert pending == {
        f"appointment_reminder_24h:appointment-{booked.id}-1",
        f"appointment_reminder_1h:appointment-{booked.id}-1",
    }
    assert {r["status"] for r in rows if r["dedupe_key"].endswith("-0")} == {"withdrawn"}
    (note,) = await outbox_rows(db, world.studio_id, "staff_appointment_moved")
    assert note["params"]["was"] == at(THU, 10).isoformat()

    taken = await _book(db, world, clock, at(THU, 12), who="ben")
    with pytest.raises(errors.SlotTaken):  # onto Ben's time: refused, nothing moved
        await appointments.reschedule(
            db,
            clock,
            world.studio_id,
            appointment_id=booked.id,
            customer_id=world["ana"],
            starts_at=taken.starts_at,
        )
    assert (await _mine(db, world, booked.id)).starts_at == at(THU, 14)

    to_tom = await appointments.reschedule(
        db,
        clock,
        world.studio_id,
        appointment_id=booked.id,
        customer_id=world["ana"],
        starts_at=at(THU, 15),
        staff_id=world["tom"],
    )
    assert (to_tom.staff_name, to_tom.sequence) == ("Tom", 2)


async def _mine(db: Database, w: builders.World, appointment_id: int) -> Appointment:
    return await appointments.appointment_for_customer(db, w.studio_id, w["ana"], appointment_id)


async def test_reschedule_and_cancel_are_refused_inside_their_cutoffs(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    booked = await _book(db, world, clock, at(THU, 10))
    clock.set(at(THU, 10) - timedelta(hours=23))
    assert not appointments.can_reschedule(booked, 24, clock.now())
    with pytest.raises(errors.RescheduleTooLate) as late:
        await appointments.reschedule(
            db,
            clock,
            world.studio_id,
            appointment_id=booked.id,
            customer_id=world["ana"],
            starts_at=at(THU, 14),
        )
    assert late.value.params == {"cutoff_hours": 24, "deadline": at(THU, 10) - timedelta(hours=24)}
    with pytest.raises(errors.CancellationTooLate) as refused:
        await appointments.cancel_by_customer(
            db, clock, world.studio_id, appointment_id=booked.id, customer_id=world["ana"]
        )
    assert refused.value.params == {"hours": 24}
    assert (await _mine(db, world, booked.id)).status == "confirmed"


async def test_cancel_in_time_withdraws_reminders_and_tells_the_staff_member(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    booked = await _book(db, world, clock, at(THU, 10))
    service = await appointments.service_by_id(db, world.studio_id, world["lesson_service"])
    assert appointments.can_cancel(booked, service, clock.now())
    cancelled = await appointments.cancel_by_customer(
        db, clock, world.studio_id, appointment_id=booked.id, customer_id=world["ana"]
    )
    assert cancelled.status == "cancelled_by_customer"
    reminders = await outbox_rows(db, world.studio_id, "appointment_reminder")
    assert {r["status"] for r in reminders} == {"withdrawn"}
    assert len(await outbox_rows(db, world.studio_id, "staff_appointment_cancelled")) == 1
    assert at(THU, 10) in await _starts(db, world, clock, THU)


async def test_staff_cancel_tells_the_customer_the_reason(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    booked = await _book(db, world, clock, at(TUE, 10))  # inside the customer's cutoff
    cancelled = await appointments.cancel_by_staff(
        db,
        clock,
        world.studio_id,
        appointment_id=booked.id,
        staff_id=world["maya"],
        reason="Kiln broke",
    )
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled_by_staff", "Kiln broke")
    (told,) = await outbox_rows(db, world.studio_id, "appointment_cancelled_by_staff")
    assert (told["customer_id"], told["params"]["reason"]) == (world["ana"], "Kiln broke")
    with pytest.raises(errors.AppointmentNotActive):
        await appointments.mark_no_show(
            db, clock, world.studio_id, appointment_id=booked.id, staff_id=world["maya"]
        )


async def test_no_show_only_once_started(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    booked = await _book(db, world, clock, at(TUE, 10))
    with pytest.raises(errors.InvalidRequest):
        await appointments.mark_no_show(
            db, clock, world.studio_id, appointment_id=booked.id, staff_id=world["maya"]
        )
    clock.set(at(TUE, 12))
    assert await appointments.complete_ended(db, clock) == 1  # the sweep got there first
    missed = await appointments.mark_no_show(
        db, clock, world.studio_id, appointment_id=booked.id, staff_id=world["maya"]
    )
    assert missed.status == "no_show"


async def test_sweeps_complete_ended_and_expire_lapsed_once(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    for hour in (9, 11, 13):
        await _book(db, world, clock, at(TUE, hour))
    await appointments.hold(
        db,
        clock,
        world.studio_id,
        customer_id=world["ben"],
        service_id=world["trial_service"],
        staff_id=world["tom"],
        starts_at=at(TUE, 9),
    )
    clock.set(at(TUE, 12, 30))
    assert await appointments.complete_ended(db, clock, batch=1) == 2
    assert await appointments.complete_ended(db, clock) == 0
    assert await appointments.expire_holds(db, clock) == 1
    assert await appointments.expire_holds(db, clock) == 0
    statuses = await db.all("SELECT status FROM appointments ORDER BY id")
    assert [r["status"] for r in statuses] == ["completed", "completed", "confirmed", "expired"]


async def test_lists_for_customers_and_staff(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    first = await _book(db, world, clock, at(TUE, 9))
    later = await _book(db, world, clock, at(THU, 9))
    gone = await _book(db, world, clock, at(THU, 13))
    await appointments.cancel_by_customer(
        db, clock, world.studio_id, appointment_id=gone.id, customer_id=world["ana"]
    )
    held = await appointments.hold(
        db,
        clock,
        world.studio_id,
        customer_id=world["ben"],
        service_id=world["trial_service"],
        staff_id=world["maya"],
        starts_at=at(THU, 15),
    )
    upcoming = await appointments.customer_upcoming(db, world.studio_id, world["ana"], clock.now())
    assert [a.id for a in upcoming] == [first.id, later.id]

    async def view(name: str) -> list[int]:
        found = await appointments.staff_list(
            db, world.studio_id, world["maya"], view=name, now=clock.now()
        )
        return [a.id for a in found]

    assert await view("upcoming") == [first.id, later.id]
    assert await view("pending") == [held.id]
    assert await view("cancelled") == [gone.id]
    clock.set(at(THU, 12))
    assert await view("upcoming") == []
    assert await view("past") == [later.id, first.id]
    with pytest.raises(errors.InvalidRequest):
        await view("everything")


async def test_days_with_slots_and_first_available(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    days = await appointments.days_with_slots(
        db,
        world.studio_id,
        service_id=world["lesson_service"],
        staff_id=world["maya"],
        now=clock.now(),
        zone="Europe/London",
        limit=3,
    )
    assert days == [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]
    later = await appointments.days_with_slots(
        db,
        world.studio_id,
        service_id=world["lesson_service"],
        staff_id=None,
        now=clock.now(),
        zone="Europe/London",
        after=date(2026, 11, 5),
        limit=2,
    )
    assert later == [date(2026, 11, 6), date(2026, 11, 9)]  # the weekend has no hours
    found = await appointments.first_available(
        db, world.studio_id, service_id=world["lesson_service"], now=clock.now()
    )
    assert found is not None
    provider, slot = found
    assert (provider.key, slot.start) == ("maya", clock.now())  # ties: the lowest staff id
    on_tuesday = await appointments.slots_on(
        db,
        world.studio_id,
        service_id=world["lesson_service"],
        staff_id=None,
        now=clock.now(),
        zone="Pacific/Auckland",  # UTC+13: its 3rd runs from 11:00 UTC on the 2nd
        day=date(2026, 11, 3),
    )
    starts = [slot.start for slot, _ in on_tuesday]
    assert (starts[0], starts[-1]) == (at(TUE, -13), at(TUE, 10, 45))
    assert {p.key for _, p in on_tuesday} == {"maya"}  # one per time, the first by name


async def test_an_assignment_is_refused_over_an_appointment(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await _book(db, world, clock, at(TUE, 10))
    taught = await builders.session(db, world, "class", "taster", at(TUE, 11), minutes=60)
    with pytest.raises(errors.StaffDoubleBooked, match="Wheel lesson"):  # the buffer, to 11:15
        await staffing.assign(db, world.studio_id, taught, world["maya"], as_instructor=True)
    await staffing.assign(db, world.studio_id, taught, world["tom"], as_instructor=True)


async def test_other_studios_ids_are_refused(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    other = await make_world(db, "other")
    booked = await _book(db, world, clock, at(THU, 10))
    with pytest.raises(errors.NotFound):
        await appointments.hold(
            db,
            clock,
            other.studio_id,
            customer_id=other["ana"],
            service_id=world["lesson_service"],
            staff_id=other["maya"],
            starts_at=at(THU, 12),
        )
    with pytest.raises(errors.NotFound):
        await appointments.hold(
            db,
            clock,
            other.studio_id,
            customer_id=other["ana"],
            service_id=other["lesson_service"],
            staff_id=world["maya"],
            starts_at=at(THU, 12),
        )
    with pytest.raises(errors.NotFound):
        await appointments.appointment_for_customer(db, other.studio_id, other["ana"], booked.id)
    with pytest.raises(errors.NotFound):
        await appointments.cancel_by_customer(
            db, clock, other.studio_id, appointment_id=booked.id, customer_id=other["ana"]
        )
    with pytest.raises(errors.NotFound):
        await appointments.cancel_by_staff(
            db, clock, world.studio_id, appointment_id=booked.id, staff_id=other["maya"], reason=""
        )
    with pytest.raises(errors.NotFound):  # Ben's view of Ana's appointment
        await appointments.appointment_for_customer(db, world.studio_id, world["ben"], booked.id)
    assert (
        await appointments.staff_list(
            db, other.studio_id, world["maya"], view="upcoming", now=clock.now()
        )
        == []
    )


async def test_week_view_and_time_zones(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await _book(db, world, clock, at(TUE, 10))
    week = await availability.week_view(db, world.studio_id, world["maya"], now=clock.now())
    assert [d.day for d in week][:2] == [date(2026, 11, 2), date(2026, 11, 3)]
    assert len(week[1].appointments) == 1
    assert week[1].windows[0].start == at(TUE, 9)
    await availability.set_staff_timezone(db, world.studio_id, world["maya"], "America/New_York")
    assert at(TUE, 14) in await _starts(db, world, clock, TUE)  # 09:00 in New York
    assert at(TUE, 13, 45) not in await _starts(db, world, clock, TUE)
    with pytest.raises(errors.InvalidRequest):
        await customers.set_timezone(db, world.studio_id, world["ana"], "Mars/Olympus")
    await customers.set_timezone(db, world.studio_id, world["ana"], "Europe/Madrid")
    found = await customers.customer_by_id(db, world.studio_id, world["ana"])
    assert found is not None
    assert found.timezone == "Europe/Madrid"


async def test_every_appointment_notice_renders_what_it_is_about(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    booked = await _book(db, world, clock, at(THU, 10))
    await appointments.reschedule(
        db,
        clock,
        world.studio_id,
        appointment_id=booked.id,
        customer_id=world["ana"],
        starts_at=at(THU, 11),
    )
    await appointments.cancel_by_customer(
        db, clock, world.studio_id, appointment_id=booked.id, customer_id=world["ana"]
    )
    other = await _book(db, world, clock, at(THU, 14), who="ben")
    await appointments.cancel_by_staff(
        db, clock, world.studio_id, appointment_id=other.id, staff_id=world["maya"], reason="Ill"
    )
    texts = {
        row["dedupe_key"]: render(row["template"], row["params"], translator("en"), "Europe/Madrid")
        for row in await outbox_rows(db, world.studio_id)
    }
    assert {key.split(":")[0] for key in texts} == APPOINTMENT_TEMPLATES
    for template in ("appointment_reminder_24h", "appointment_reminder_1h"):
        text = texts[f"{template}:appointment-{booked.id}-1"]  # after the move to 11:00 UTC
        assert "Wheel lesson" in text
        assert "Maya" in text
        assert "12:00" in text  # in the customer's Madrid
        assert "Where: Studio B." in text
    texts = {key.split(":")[0]: text for key, text in texts.items()}
    assert "Ill" in texts["appointment_cancelled_by_staff"]
    assert "11:00" in texts["staff_appointment_moved"]  # the staff member's London time
    assert "10:00" in texts["staff_appointment_moved"]
    assert all("{" not in text for text in texts.values())


async def test_a_retired_service_cannot_be_held_from_a_stale_choice(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    """The studio file dropped the service (active = false) while a customer still had its
    times on screen: holding one is refused, as for a service the staff member never had."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE services SET active = :no WHERE id = :id",
            {"no": False, "id": world["lesson_service"]},
        )
    with pytest.raises(errors.ServiceNotOffered):
        await appointments.hold(
            db,
            clock,
            world.studio_id,
            customer_id=world["ana"],
            service_id=world["lesson_service"],
            staff_id=world["maya"],
            starts_at=at(THU, 10),
        )


async def test_an_appointment_booked_before_its_service_was_shortened_still_takes_its_time(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    """A reload may shorten a service after bookings: an appointment that began hours before
    a slot must still be seen, whatever the services say today."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE services SET duration_minutes = 240 WHERE id = :id",
            {"id": world["lesson_service"]},
        )
    await _book(db, world, clock, at(TUE, 9))  # busy 09:00-13:15
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE services SET duration_minutes = 30, buffer_after_minutes = 0 WHERE id = :id",
            {"id": world["lesson_service"]},
        )

    free = await _starts(db, world, clock, TUE)

    assert free[0] == at(TUE, 13, 15)
    with pytest.raises(errors.SlotTaken):
        await appointments.hold(
            db,
            clock,
            world.studio_id,
            customer_id=world["ben"],
            service_id=world["lesson_service"],
            staff_id=world["maya"],
            starts_at=at(TUE, 12),
        )
