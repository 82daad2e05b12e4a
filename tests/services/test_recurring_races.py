"""Two runs of the 02:00 extension job at once, through two connections to one database:
each date is placed once, the two runs together place exactly what one would, and a third
run changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from bookbot.engine.clock import FrozenClock
from bookbot.services import recurring
from bookbot.services.recurring import NewSeries
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
