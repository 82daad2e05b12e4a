"""Two runs of the 02:00 extension job at once, through two connections to one database:
each date is placed once, the two runs together place exactly what one would, and a third
run changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.services import recurring
from bookbot.services.recurring import NewSeries
from bookbot.services.recurring_placing import extend_in, lock_series
from bookbot.store.db import Database, connect
from tests import builders
from tests.services.test_appointments_world import world as make_world


async def test_two_job_runs_at_once_place_each_date_once(
    db: Database, database_url: str, clock: FrozenClock
) -> None:
    w: builders.World = await make_world(db)
    made = []
    for staff in ("maya", "tom"):
        for who, start_time in (
            ("ana", "09:00"),
            ("ben", "10:30"),
            ("ana", "12:00"),
            ("ben", "14:00"),
        ):
            for weekday in (1, 2, 4):
                spec = NewSeries(
                    customer_id=w[who],
                    service_id=w["lesson_service"],
                    staff_id=w[staff],
                    weekday=weekday,
                    start_time=start_time,
                    interval_weeks=1,
                    starts_on=date(2026, 11, 3),
                )
                made.append(await recurring.create(db, clock, w.studio_id, spec))
    assert all(len(m.placement.placed) == 6 for m in made)

    clock.set(datetime(2026, 11, 17, 2, 0, 30, tzinfo=UTC))  # two weeks on: 2 more dates each
    other = await connect(database_url)
    try:
        results = await asyncio.gather(
            recurring.extend_due(db, clock, batch=5), recurring.extend_due(other, clock, batch=5)
        )
    finally:
        await other.close()

    assert sum(results) == 2 * len(made)
    counts = await db.all(
        "SELECT recurring_booking_id, COUNT(*) AS n, COUNT(DISTINCT occurrence_date) AS dates"
        " FROM appointments WHERE studio_id = :s GROUP BY recurring_booking_id",
        {"s": w.studio_id},
    )
    assert {(r["n"], r["dates"]) for r in counts} == {(8, 8)}
    assert await db.scalar("SELECT COUNT(*) FROM recurring_skips") == 0
    assert await recurring.extend_due(db, clock) == 0


@pytest.mark.backends("postgresql")
async def test_a_date_paused_while_the_job_places_it_ends_cancelled_not_booked(
    db: Database, database_url: str, clock: FrozenClock
) -> None:
    """The member skips a date just as the 02:00 job places it: the pause looks, finds
    nothing booked, waits for the job's locks; once the job commits, the pause must cancel
    the new occurrence rather than leave it booked under a 'paused' skip row."""
    w: builders.World = await make_world(db)
    spec = NewSeries(
        customer_id=w["ana"],
        service_id=w["lesson_service"],
        staff_id=w["maya"],
        weekday=1,
        start_time="10:00",
        interval_weeks=1,
        starts_on=date(2026, 11, 3),
    )
    made = await recurring.create(db, clock, w.studio_id, spec)
    assert date(2026, 12, 15) not in made.placement.placed  # beyond the first 6 weeks
    clock.set(datetime(2026, 11, 10, 2, 0, 30, tzinfo=UTC))  # the window now reaches 15 Dec
    job = await connect(database_url)
    try:
        async with job.transaction() as tx:
            found = await lock_series(tx, w.studio_id, made.series)
            placed = await extend_in(tx, clock.now(), found)
            assert date(2026, 12, 15) in placed.placed
            pausing = asyncio.create_task(
                recurring.pause(
                    db,
                    clock,
                    w.studio_id,
                    series_id=made.series.id,
                    on_date=date(2026, 12, 15),
                    customer_id=w["ana"],
                )
            )
            while not await db.scalar("SELECT COUNT(*) FROM pg_locks WHERE NOT granted"):
                assert not pausing.done(), pausing.result()
                await asyncio.sleep(0.01)  # the pause is waiting for the job's locks
        cancelled = await pausing
    finally:
        await job.close()

    assert cancelled is not None
    assert (cancelled.occurrence_date, cancelled.status) == (
        date(2026, 12, 15),
        "cancelled_by_customer",
    )
    skips = await db.all(
        "SELECT on_date, reason FROM recurring_skips WHERE recurring_booking_id = :id",
        {"id": made.series.id},
    )
    assert [(r["on_date"], r["reason"]) for r in skips] == [(date(2026, 12, 15), "paused")]
