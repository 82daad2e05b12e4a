"""Conflicts on both databases: a change of availability (weekly hours, a block, a new zone,
the studio file's reload) records the booked appointments it leaves outside, tells the
staff member once, clears them when they fit again; Cancel and Keep each settle one, once.

The appointment tests' studio (Maya and Tom, Monday to Friday 09:00-17:00 London, a
60-minute lesson with 15 minutes after it and a 30-minute trial), on Mon 2 Nov 2026.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bookbot.cli.demo import TUTOR_EXAMPLE, example_path
from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.templates import render
from bookbot.presentation.i18n import translator
from bookbot.services import appointments, availability, conflicts, customers
from bookbot.services.appointments import Appointment
from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_file
from tests import builders
from tests.examples import NOW, load_tutor_studio
from tests.services.test_appointments_world import THU, TUE, at, outbox_rows
from tests.services.test_appointments_world import world as make_world

TUESDAY = 1


@pytest.fixture
async def world(db: Database) -> builders.World:
    return await make_world(db)


async def _book(
    db: Database,
    w: builders.World,
    clock: FrozenClock,
    starts_at: datetime,
    *,
    who: str = "ana",
    service: str = "lesson",
) -> Appointment:
    held = await appointments.hold(
        db,
        clock,
        w.studio_id,
        customer_id=w[who],
        service_id=w[f"{service}_service"],
        staff_id=w["maya"],
        starts_at=starts_at,
    )
    return await appointments.confirm(
        db, clock, w.studio_id, appointment_id=held.id, customer_id=w[who]
    )


async def _tuesday(db: Database, w: builders.World, clock: FrozenClock, *hours: int) -> None:
    windows = [(time(hours[i]), time(hours[i + 1])) for i in range(0, len(hours), 2)]
    await availability.set_weekday_hours(
        db, clock, w.studio_id, w["maya"], weekday=TUESDAY, windows=windows, source="chat"
    )


async def _rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction(write=False) as tx:
        return list(await tx.all(sql, params))


async def _all_conflicts(db: Database) -> list[tuple[int, str, str | None]]:
    rows = await _rows(
        db, "SELECT appointment_id, reason, resolution FROM appointment_conflicts ORDER BY id"
    )
    return [(r["appointment_id"], r["reason"], r["resolution"]) for r in rows]


async def test_new_hours_make_conflicts_and_cancel_and_keep_each_settle_one(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    lesson = await _book(db, world, clock, at(TUE, 10))  # busy 10:00-11:15
    trial = await _book(db, world, clock, at(TUE, 11, 30), who="ben", service="trial")
    fine = await _book(db, world, clock, at(TUE, 14))

    await _tuesday(db, world, clock, 13, 17)  # the mornings go

    assert await _all_conflicts(db) == [
        (lesson.id, "outside_hours", None),
        (trial.id, "outside_hours", None),
    ]
    (notice,) = await outbox_rows(db, world.studio_id, "staff_conflicts_found")
    assert notice["address"] == "777"  # Maya's Telegram
    text = render(notice["template"], notice["params"], translator("en"), "UTC")
    assert "2 booked appointments no longer fit it" in text
    assert "Tue 3 Nov 2026 10:00 GMT Wheel lesson · ana: outside your hours" in text
    assert "Send /conflicts" in text
    listed = await conflicts.open_conflicts(db, clock, world.studio_id, staff_id=world["maya"])
    assert [c.appointment_id for c in listed] == [lesson.id, trial.id]
    assert all(c.notified_at == clock.now() for c in listed)

    cancelled = await conflicts.cancel(
        db, clock, world.studio_id, listed[0].id, reason="My mornings changed", actor="cli"
    )
    kept = await conflicts.keep(db, clock, world.studio_id, listed[1].id, source="cli", actor="cli")

    assert cancelled.done
    assert cancelled.conflict.resolution == "cancelled"
    assert cancelled.appointment is not None
    assert cancelled.appointment.status == "cancelled_by_staff"
    (told,) = await outbox_rows(db, world.studio_id, "appointment_cancelled_by_staff")
    assert told["customer_id"] == world["ana"]
    assert told["params"]["reason"] == "My mornings changed"
    assert kept.done
    assert kept.conflict.resolution == "kept"
    additions = await _rows(db, "SELECT starts_at, ends_at, source FROM availability_additions")
    assert [tuple(r) for r in additions] == [(at(TUE, 11, 30), at(TUE, 12), "cli")]
    assert (
        await appointments.staff_list(
            db, world.studio_id, world["maya"], view="upcoming", now=clock.now(), limit=10
        )
    )[0].id == trial.id  # kept: still booked
    assert await conflicts.open_conflicts(db, clock, world.studio_id) == []

    # A second press of either, on either, says how it was handled and changes nothing.
    again = await conflicts.cancel(
        db, clock, world.studio_id, listed[1].id, reason="changed my mind", actor="cli"
    )
    assert not again.done
    assert again.conflict.resolution == "kept"
    assert again.conflict.appointment_status == "confirmed"
    again = await conflicts.keep(db, clock, world.studio_id, listed[0].id, source="cli", actor="x")
    assert not again.done
    assert again.conflict.resolution == "cancelled"
    assert len(await _rows(db, "SELECT id FROM availability_additions")) == 1

    # The next change finds the kept one fitting (its addition) and nothing new to tell.
    await _tuesday(db, world, clock, 13, 16)
    assert len(await _all_conflicts(db)) == 2
    assert len(await outbox_rows(db, world.studio_id, "staff_conflicts_found")) == 1
    assert fine.id not in [row[0] for row in await _all_conflicts(db)]


async def test_changing_the_hours_back_clears_the_conflicts(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    lesson = await _book(db, world, clock, at(TUE, 10))
    await _tuesday(db, world, clock, 13, 17)
    await _tuesday(db, world, clock, 13, 17)  # the same hours again: no second conflict
    assert await _all_conflicts(db) == [(lesson.id, "outside_hours", None)]

    await _tuesday(db, world, clock, 9, 12)

    assert await _all_conflicts(db) == [(lesson.id, "outside_hours", "cleared")]
    assert await conflicts.open_conflicts(db, clock, world.studio_id) == []
    assert len(await outbox_rows(db, world.studio_id, "staff_conflicts_found")) == 1


async def test_a_block_makes_a_blocked_conflict_that_keep_settles_for_good(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    lesson = await _book(db, world, clock, at(THU, 10))
    await availability.block_period(
        db,
        clock,
        world.studio_id,
        world["maya"],
        start=at(THU, 11),
        end=at(THU, 13),
        reason="Dentist",
        source="chat",
    )
    assert await _all_conflicts(db) == [(lesson.id, "blocked", None)]
    (found,) = await conflicts.open_conflicts(db, clock, world.studio_id, staff_id=world["maya"])

    kept = await conflicts.keep(db, clock, world.studio_id, found.id, source="chat", actor="maya")

    assert kept.done
    # Kept inside the block: a later change does not raise it again, the block still stands.
    await availability.block_day(
        db, clock, world.studio_id, world["maya"], day=THU.date(), reason="Ill", source="cli"
    )
    assert await _all_conflicts(db) == [(lesson.id, "blocked", "kept")]
    slots = await appointments.free_slots(
        db,
        world.studio_id,
        service_id=world["trial_service"],
        staff_id=world["maya"],
        now=clock.now(),
        start=THU,
        end=THU + timedelta(days=1),
    )
    assert slots == []


async def test_an_appointment_cancelled_or_moved_meanwhile_is_cleared_on_read(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    lesson = await _book(db, world, clock, at(TUE, 10))
    other = await _book(db, world, clock, at(TUE, 12), who="ben")
    await _tuesday(db, world, clock, 9, 10, 14, 17)
    first, second = await conflicts.open_conflicts(db, clock, world.studio_id)
    await appointments.cancel_by_customer(
        db, clock, world.studio_id, appointment_id=lesson.id, customer_id=world["ana"]
    )
    await appointments.reschedule(
        db,
        clock,
        world.studio_id,
        appointment_id=other.id,
        customer_id=world["ben"],
        starts_at=at(TUE, 15),
    )

    assert await conflicts.open_conflicts(db, clock, world.studio_id) == []
    assert await _all_conflicts(db) == [
        (lesson.id, "outside_hours", "cleared"),
        (other.id, "outside_hours", "cleared"),
    ]
    # Pressing Cancel on a stale list cancels nothing.
    late = await conflicts.cancel(db, clock, world.studio_id, second.id, reason="x", actor="cli")
    assert not late.done
    assert late.conflict.appointment_status == "confirmed"
    assert first.id != second.id


async def test_a_new_zone_moves_the_hours_and_flags_what_falls_outside(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    lesson = await _book(db, world, clock, at(TUE, 9))  # 09:00 London = 04:00 New York
    await availability.set_staff_timezone(
        db, world.studio_id, world["maya"], "America/New_York", clock=clock
    )
    assert await _all_conflicts(db) == [(lesson.id, "outside_hours", None)]


async def test_only_the_staff_members_own_conflicts_and_only_for_a_reason(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await _book(db, world, clock, at(TUE, 10))
    await _tuesday(db, world, clock, 13, 17)
    (found,) = await conflicts.open_conflicts(db, clock, world.studio_id)
    with pytest.raises(errors.NotFound):
        await conflicts.keep(
            db, clock, world.studio_id, found.id, source="chat", actor="tom", staff_id=world["tom"]
        )
    with pytest.raises(errors.NotFound):
        await conflicts.open_conflicts(db, clock, world.studio_id + 1, staff_id=world["maya"])
    with pytest.raises(errors.InvalidRequest):
        await conflicts.cancel(db, clock, world.studio_id, found.id, reason="  ", actor="cli")
    assert (await conflicts.get(db, world.studio_id, found.id)).open


async def test_cancel_and_keep_at_once_settle_it_one_way_only(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    lesson = await _book(db, world, clock, at(TUE, 10))
    await _tuesday(db, world, clock, 13, 17)
    (found,) = await conflicts.open_conflicts(db, clock, world.studio_id)

    cancelled, kept = await asyncio.gather(
        conflicts.cancel(db, clock, world.studio_id, found.id, reason="Sorry", actor="a"),
        conflicts.keep(db, clock, world.studio_id, found.id, source="chat", actor="b"),
    )

    assert [cancelled.done, kept.done].count(True) == 1
    after = await conflicts.get(db, world.studio_id, found.id)
    status = (await _rows(db, "SELECT status FROM appointments WHERE id = :id", id=lesson.id))[0]
    additions = await _rows(db, "SELECT id FROM availability_additions")
    if after.resolution == "kept":
        assert (status["status"], len(additions)) == ("confirmed", 1)
    else:
        assert (status["status"], len(additions)) == ("cancelled_by_staff", 0)


async def test_reloading_the_studio_file_with_new_hours_flags_and_then_clears(
    db: Database, tmp_path: Path
) -> None:
    clock = FrozenClock(NOW)  # Fri 20 Nov 2026; Lucía works Monday 09:00-13:00 Madrid
    studio_id = await load_tutor_studio(db, clock)
    lucia = await appointments.provider_by_key(db, studio_id, "lucia")
    lesson = await appointments.service_by_key(db, studio_id, "spanish-lesson")
    ana = await customers.customer_for(db, clock, studio_id, "sms", "+34600000001", name="Ana")
    monday_9 = datetime(2026, 11, 23, 8, tzinfo=UTC)  # 09:00 in Madrid
    held = await appointments.hold(
        db,
        clock,
        studio_id,
        customer_id=ana.id,
        service_id=lesson.id,
        staff_id=lucia.id,
        starts_at=monday_9,
    )
    booked = await appointments.confirm(
        db, clock, studio_id, appointment_id=held.id, customer_id=ana.id
    )
    original = example_path(TUTOR_EXAMPLE).read_text()
    edited = tmp_path / "tutor.toml"
    edited.write_text(
        original.replace(
            '{ day = "mon", start = "09:00", end = "13:00" }',
            '{ day = "mon", start = "11:00", end = "13:00" }',
        )
    )
    check = conflicts.after_reload(clock)

    await load_studio(db, parse_studio_file(edited), availability_changed=check)

    assert await _all_conflicts(db) == [(booked.id, "outside_hours", None)]
    await load_studio(db, parse_studio_file(edited), availability_changed=check)  # unchanged
    assert await _all_conflicts(db) == [(booked.id, "outside_hours", None)]

    await load_studio(
        db, parse_studio_file(example_path(TUTOR_EXAMPLE)), availability_changed=check
    )

    assert await _all_conflicts(db) == [(booked.id, "outside_hours", "cleared")]


async def test_a_cancel_cut_short_after_its_claim_is_finished_by_pressing_again(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    lesson = await _book(db, world, clock, at(TUE, 10))
    await _tuesday(db, world, clock, 13, 17)
    (found,) = await conflicts.open_conflicts(db, clock, world.studio_id)
    async with db.transaction() as tx:  # what a crash between the two steps leaves
        await tx.execute(
            "UPDATE appointment_conflicts SET resolved_at = :now, resolution = 'cancelled'"
            " WHERE id = :id",
            {"id": found.id, "now": clock.now()},
        )

    again = await conflicts.cancel(db, clock, world.studio_id, found.id, reason="Sorry", actor="x")

    assert again.done
    assert again.appointment is not None
    assert again.appointment.id == lesson.id
    assert again.appointment.status == "cancelled_by_staff"
    assert len(await outbox_rows(db, world.studio_id, "appointment_cancelled_by_staff")) == 1
