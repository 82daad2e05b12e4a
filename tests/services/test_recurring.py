"""Recurring member bookings on both databases: a fortnightly Tuesday series keeps 10:00
local across the US and UK clock changes, is placed 6 weeks ahead and extended by the
02:00 job (run twice: the second changes nothing); dates that cannot be placed are skipped
with notices, once; a series made from a booked appointment; pause; end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.jobs.sweeps import Sweeps
from bookbot.services import appointments, availability, recurring
from bookbot.services.recurring import NewSeries
from bookbot.store.db import Database
from tests import builders
from tests.services.test_appointments_world import outbox_rows
from tests.services.test_appointments_world import world as make_world

SPRING = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # Monday; US clocks change 14 Mar, UK 28 Mar


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await make_world(db)
    await db.execute(
        "UPDATE staff SET timezone = 'America/New_York' WHERE id = :id", {"id": w["tom"]}
    )
    return w


def spec(w: builders.World, *, who: str, staff: str, **changes: Any) -> NewSeries:
    values: dict[str, Any] = {
        "customer_id": w[who],
        "service_id": w["lesson_service"],
        "staff_id": w[staff],
        "weekday": 1,
        "start_time": "10:00",
        "interval_weeks": 1,
        "starts_on": date(2026, 11, 3),
        **changes,
    }
    return NewSeries(**values)


async def snapshot(db: Database, studio_id: int) -> list[Any]:
    """Everything the job may write: occurrences, skips, series rows, queued messages."""
    tables = (
        "SELECT id, status, starts_at, occurrence_date, origin, recurring_booking_id"
        " FROM appointments WHERE studio_id = :s ORDER BY id",
        "SELECT recurring_booking_id, on_date, reason, detail FROM recurring_skips"
        " WHERE studio_id = :s ORDER BY id",
        "SELECT id, status, materialized_until, next_extension_at FROM recurring_bookings"
        " WHERE studio_id = :s ORDER BY id",
        "SELECT template, dedupe_key FROM outbox WHERE studio_id = :s ORDER BY id",
    )
    return [[tuple(r) for r in await db.all(sql, {"s": studio_id})] for sql in tables]


async def starts(db: Database, series_id: int) -> dict[date, datetime]:
    rows = await db.all(
        "SELECT occurrence_date, starts_at FROM appointments"
        " WHERE recurring_booking_id = :id AND status = 'confirmed' ORDER BY occurrence_date",
        {"id": series_id},
    )
    return {r["occurrence_date"]: r["starts_at"] for r in rows}


def utc(month: int, day: int, hour: int) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=UTC)


async def test_fortnightly_tuesdays_keep_10_local_across_us_and_uk_dst_and_the_job_is_idempotent(
    db: Database, world: builders.World
) -> None:
    clock = FrozenClock(SPRING)
    london = await recurring.create(
        db,
        clock,
        world.studio_id,
        spec(world, who="ana", staff="maya", interval_weeks=2, starts_on=date(2027, 3, 1)),
    )
    new_york = await recurring.create(
        db,
        clock,
        world.studio_id,
        spec(world, who="ben", staff="tom", interval_weeks=2, starts_on=date(2027, 3, 2)),
    )
    # 6 weeks from Monday 1 March: three fortnightly Tuesdays, each 10:00 on the local clock.
    assert london.series.starts_on == date(2027, 3, 2)
    assert london.placement.placed == (date(2027, 3, 2), date(2027, 3, 16), date(2027, 3, 30))
    assert london.placement.skipped == ()
    assert await starts(db, london.series.id) == {
        date(2027, 3, 2): utc(3, 2, 10),  # GMT
        date(2027, 3, 16): utc(3, 16, 10),  # still GMT: the US changed on the 14th
        date(2027, 3, 30): utc(3, 30, 9),  # BST since the 28th
    }
    assert await starts(db, new_york.series.id) == {
        date(2027, 3, 2): utc(3, 2, 15),  # EST
        date(2027, 3, 16): utc(3, 16, 14),  # EDT
        date(2027, 3, 30): utc(3, 30, 14),
    }
    rows = await db.all(
        "SELECT origin, status, price_minor FROM appointments WHERE recurring_booking_id = :id",
        {"id": london.series.id},
    )
    assert {(r["origin"], r["status"], r["price_minor"]) for r in rows} == {
        ("recurring", "confirmed", 4000)
    }
    reminders = await outbox_rows(db, world.studio_id, "appointment_reminder_24h")
    assert len(reminders) == 6
    # The next run is the next 02:00 in the studio's zone (London).
    assert london.series.next_extension_at == utc(3, 2, 2)
    sweeps = Sweeps(db, clock)
    assert await sweeps.extend_series() == 0  # not due before 02:00

    # Two weeks on, at 02:00 London (BST has not begun): the window reaches 26 April.
    clock.set(utc(3, 16, 2) + timedelta(seconds=30))
    assert await sweeps.extend_series() == 2
    assert (await starts(db, london.series.id))[date(2027, 4, 13)] == utc(4, 13, 9)
    assert (await starts(db, new_york.series.id))[date(2027, 4, 13)] == utc(4, 13, 14)
    before = await snapshot(db, world.studio_id)
    assert await sweeps.extend_series() == 0
    assert await snapshot(db, world.studio_id) == before
    # The next night London's window reaches 27 April; in New York it is still the 16th.
    clock.set(utc(3, 17, 2) + timedelta(seconds=1))
    assert await sweeps.extend_series() == 1
    assert (await starts(db, london.series.id))[date(2027, 4, 27)] == utc(4, 27, 9)
    assert date(2027, 4, 27) not in await starts(db, new_york.series.id)
    after = await recurring.series_by_id(db, world.studio_id, london.series.id)
    assert after.next_extension_at == utc(3, 18, 2)
    assert after.materialized_until == date(2027, 4, 27)


async def test_dates_that_cannot_be_placed_are_skipped_with_notices_once(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await availability.block_day(
        db,
        clock,
        world.studio_id,
        world["maya"],
        day=date(2026, 11, 17),
        reason="Kiln day",
        source="chat",
    )
    await db.execute(  # Maya does not work on 24 November (a date override, no hours)
        "INSERT INTO availability_overrides (studio_id, staff_id, on_date, source)"
        " VALUES (:s, :p, :d, 'chat')",
        {"s": world.studio_id, "p": world["maya"], "d": date(2026, 11, 24)},
    )
    held = await appointments.hold(
        db,
        clock,
        world.studio_id,
        customer_id=world["ben"],
        service_id=world["trial_service"],
        staff_id=world["maya"],
        starts_at=datetime(2026, 11, 10, 10, 30, tzinfo=UTC),
    )
    await appointments.confirm(
        db, clock, world.studio_id, appointment_id=held.id, customer_id=world["ben"]
    )

    made = await recurring.create(db, clock, world.studio_id, spec(world, who="ana", staff="maya"))

    assert made.placement.placed == (date(2026, 11, 3), date(2026, 12, 1), date(2026, 12, 8))
    assert made.placement.skipped == (
        (date(2026, 11, 10), "clash"),
        (date(2026, 11, 17), "blocked"),
        (date(2026, 11, 24), "unavailable"),
    )
    skips = await recurring.skips(db, world.studio_id, made.series.id, since=date(2026, 11, 1))
    assert [(s.on_date, s.reason, s.detail) for s in skips] == [
        (date(2026, 11, 10), "clash", ""),
        (date(2026, 11, 17), "blocked", "Kiln day"),
        (date(2026, 11, 24), "unavailable", ""),
    ]
    told = await outbox_rows(db, world.studio_id, "recurring_skipped")
    assert [(m["customer_id"], m["params"]["reason"]) for m in told] == [
        (world["ana"], "clash"),
        (world["ana"], "blocked"),
        (world["ana"], "unavailable"),
    ]
    staff_told = await outbox_rows(db, world.studio_id, "staff_recurring_skipped")
    assert [(m["address"], m["params"]["starts_at"]) for m in staff_told] == [
        ("777", "2026-11-10T10:00:00+00:00"),
        ("777", "2026-11-17T10:00:00+00:00"),
        ("777", "2026-11-24T10:00:00+00:00"),
    ]
    # Never double-booked: Ben's trial still stands alone at 10:30 on the 10th.
    busy = await db.all(
        "SELECT customer_id FROM appointments WHERE staff_id = :p AND status = 'confirmed'"
        " AND starts_at >= :a AND starts_at < :b",
        {
            "p": world["maya"],
            "a": datetime(2026, 11, 10, tzinfo=UTC),
            "b": datetime(2026, 11, 11, tzinfo=UTC),
        },
    )
    assert [r["customer_id"] for r in busy] == [world["ben"]]

    # The nightly job skips a date blocked later the same way, and tells nobody twice.
    await availability.block_period(
        db,
        clock,
        world.studio_id,
        world["maya"],
        start=datetime(2026, 12, 22, 9, tzinfo=UTC),
        end=datetime(2026, 12, 22, 13, tzinfo=UTC),
        reason="Dentist",
        source="chat",
    )
    for day in range(3, 18):  # every night at 02:00 London, to 17 November
        clock.set(datetime(2026, 11, day, 2, 0, 5, tzinfo=UTC))
        await Sweeps(db, clock).extend_series()
    placed = await starts(db, made.series.id)
    assert date(2026, 12, 15) in placed
    assert date(2026, 12, 22) not in placed
    skips = await recurring.skips(db, world.studio_id, made.series.id, since=date(2026, 12, 1))
    assert [(s.on_date, s.reason, s.detail) for s in skips] == [
        (date(2026, 12, 22), "blocked", "Dentist")
    ]
    told = await outbox_rows(db, world.studio_id, "recurring_skipped")
    assert [m["params"]["reason"] for m in told] == ["clash", "blocked", "unavailable", "blocked"]
    assert len(await outbox_rows(db, world.studio_id, "staff_recurring_skipped")) == 4


async def test_a_booked_appointment_becomes_a_fortnightly_series(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    held = await appointments.hold(
        db,
        clock,
        world.studio_id,
        customer_id=world["ana"],
        service_id=world["lesson_service"],
        staff_id=world["maya"],
        starts_at=datetime(2026, 11, 5, 14, tzinfo=UTC),
    )
    booked = await appointments.confirm(
        db, clock, world.studio_id, appointment_id=held.id, customer_id=world["ana"]
    )
    assert (booked.recurring_booking_id, booked.occurrence_date) == (None, None)

    made = await recurring.create_from_appointment(
        db,
        clock,
        world.studio_id,
        appointment_id=booked.id,
        customer_id=world["ana"],
        interval_weeks=2,
    )

    assert (made.series.weekday, made.series.start_time, made.series.source) == (3, "14:00", "chat")
    assert made.placement.placed == (date(2026, 11, 19), date(2026, 12, 3))
    first = await appointments.appointment_by_id(db, world.studio_id, booked.id)
    assert (first.recurring_booking_id, first.occurrence_date) == (
        made.series.id,
        date(2026, 11, 5),
    )
    again = await recurring.create_from_appointment(
        db,
        clock,
        world.studio_id,
        appointment_id=booked.id,
        customer_id=world["ana"],
        interval_weeks=2,
    )
    assert again.series.id == made.series.id
    assert len(await recurring.series_of_customer(db, world.studio_id, world["ana"])) == 1
    with pytest.raises(errors.NotFound):
        await recurring.create_from_appointment(
            db,
            clock,
            world.studio_id,
            appointment_id=booked.id,
            customer_id=world["ben"],
            interval_weeks=1,
        )


async def test_pause_skips_one_date_and_end_cancels_what_the_policy_allows(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    made = await recurring.create(db, clock, world.studio_id, spec(world, who="ana", staff="maya"))
    series_id, ana = made.series.id, world["ana"]
    assert len(made.placement.placed) == 6  # 3 Nov .. 8 Dec

    cancelled = await recurring.pause(
        db, clock, world.studio_id, series_id=series_id, on_date=date(2026, 11, 17), customer_id=ana
    )
    assert cancelled is not None
    assert cancelled.status == "cancelled_by_customer"
    # A date beyond the window: the job will pass over it.
    assert (
        await recurring.pause(
            db,
            clock,
            world.studio_id,
            series_id=series_id,
            on_date=date(2026, 12, 22),
            customer_id=ana,
        )
        is None
    )
    with pytest.raises(errors.NotASeriesDate):  # a Wednesday is not a date of the series
        await recurring.pause(
            db,
            clock,
            world.studio_id,
            series_id=series_id,
            on_date=date(2026, 11, 18),
            customer_id=ana,
        )
    with pytest.raises(errors.NotFound):  # nor is it Ben's series
        await recurring.pause(
            db,
            clock,
            world.studio_id,
            series_id=series_id,
            on_date=date(2026, 11, 24),
            customer_id=world["ben"],
        )
    clock.set(datetime(2026, 11, 17, 2, 0, 1, tzinfo=UTC))
    await Sweeps(db, clock).extend_series()  # the window now reaches 22 Dec
    placed = await starts(db, series_id)
    assert date(2026, 11, 17) not in placed
    assert date(2026, 12, 22) not in placed
    assert date(2026, 12, 15) in placed

    # Monday 23 Nov 12:00: the 24 Nov lesson is inside the 24 h cutoff, so it is kept.
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    ended = await recurring.end(
        db, clock, world.studio_id, series_id=series_id, customer_id=ana, reason="moving away"
    )
    assert (ended.series.status, ended.series.end_reason) == ("ended", "moving away")
    assert [a.occurrence_date for a in ended.kept] == [date(2026, 11, 24)]
    assert [a.occurrence_date for a in ended.cancelled] == [
        date(2026, 12, 1),
        date(2026, 12, 8),
        date(2026, 12, 15),
    ]
    assert list(await starts(db, series_id)) == [
        date(2026, 11, 3),
        date(2026, 11, 10),
        date(2026, 11, 24),
    ]
    again = await recurring.end(db, clock, world.studio_id, series_id=series_id, customer_id=ana)
    assert (again.cancelled, again.series.end_reason) == ((), "moving away")
    clock.set(datetime(2026, 11, 24, 2, 0, 1, tzinfo=UTC))
    assert await Sweeps(db, clock).extend_series() == 0
    assert await recurring.series_of_customer(db, world.studio_id, ana) == []
    assert len(await outbox_rows(db, world.studio_id, "staff_recurring_ended")) == 1
    with pytest.raises(errors.SeriesEnded):
        await recurring.pause(
            db, clock, world.studio_id, series_id=series_id, on_date=date(2026, 12, 29)
        )


async def test_a_series_with_an_end_date_stops_at_it(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    made = await recurring.create(
        db,
        clock,
        world.studio_id,
        spec(world, who="ben", staff="tom", interval_weeks=2, ends_on=date(2026, 11, 30)),
    )
    assert made.placement.placed == (date(2026, 11, 3), date(2026, 11, 17))
    assert made.series.next_extension_at is None  # its last date is placed: no more runs
    clock.set(datetime(2026, 11, 10, 2, 0, 1, tzinfo=UTC))
    assert await Sweeps(db, clock).extend_series() == 0
