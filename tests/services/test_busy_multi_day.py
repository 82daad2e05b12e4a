"""A multi-day course its instructor teaches is busy time on each of its days' hours: not
the nights between (appointments fit there), and not missed on its third day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.engine.multi_day import course_days
from bookbot.services import appointments, staffing
from bookbot.services.multi_day_rows import write_days
from bookbot.store.db import Database
from tests import builders
from tests.services.test_appointments_world import TUE, at
from tests.services.test_appointments_world import world as make_world

MON, WED = TUE - timedelta(days=1), TUE + timedelta(days=1)


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await make_world(db)
    course = await builders.session(db, w, "course", "taster", at(MON, 10), minutes=120)
    days = course_days(date(2026, 11, 2), time(10), timedelta(hours=2), 3, "UTC")
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET days = 3, ends_at = :end WHERE id = :id",
            {"end": days[-1].ends_at, "id": course},
        )
        await write_days(tx, w.studio_id, course, days)
    await staffing.assign(db, w.studio_id, course, w["maya"], as_instructor=True)
    return w


async def _starts(db: Database, w: builders.World, day: datetime) -> list[datetime]:
    found = await appointments.free_slots(
        db,
        w.studio_id,
        service_id=w["lesson_service"],
        staff_id=w["maya"],
        now=FrozenClock(MON - timedelta(days=7)).now(),
        start=day,
        end=day + timedelta(days=1),
    )
    return [s.start for s in found]


async def test_each_course_day_is_busy_on_its_hours_only(
    db: Database, world: builders.World
) -> None:
    for day in (MON, TUE, WED):
        free = await _starts(db, world, day)
        assert at(day, 10) not in free
        assert at(day, 11) not in free
        assert at(day, 13) in free  # the afternoon is the course's own time off
