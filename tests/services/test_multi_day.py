"""Multi-day sessions: generated day by day on the wall clock, one seat for the whole span."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bookbot.engine.clock import FrozenClock
from bookbot.services.generation import generate_sessions
from bookbot.store.db import Database
from tests import builders

LONDON = ZoneInfo("Europe/London")


async def three_day_pattern(db: Database, w: builders.World, start: date) -> int:
    pid = await builders.pattern(
        db, w, "acs", "course", "FREQ=WEEKLY;COUNT=2", start=start, at=time(9, 0)
    )
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE schedule_patterns SET days = 3, duration_minutes = 480"
            " WHERE studio_id = :s AND id = :p",
            {"s": w.studio_id, "p": pid},
        )
    return pid


def _local(instant: datetime) -> str:
    return instant.astimezone(LONDON).strftime("%a %d %b %H:%M %Z")


async def test_three_day_course_keeps_09_00_each_day_across_the_spring_change(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    pid = await three_day_pattern(db, w, date(2027, 3, 26))

    report = await generate_sessions(db, clock, w.studio_id, "acs", preview=False)

    assert len(report.plan.create) == 2
    async with db.transaction(write=False) as tx:
        sessions = await tx.all(
            "SELECT id, starts_at, ends_at, days FROM sessions WHERE studio_id = :s"
            " AND pattern_id = :p ORDER BY starts_at",
            {"s": w.studio_id, "p": pid},
        )
        days = await tx.all(
            "SELECT day_number, local_date, starts_at, ends_at FROM session_days"
            " WHERE studio_id = :s AND session_id = :id ORDER BY day_number",
            {"s": w.studio_id, "id": sessions[0]["id"]},
        )
    first = sessions[0]
    assert first["days"] == 3
    assert (_local(first["starts_at"]), _local(first["ends_at"])) == (
        "Fri 26 Mar 09:00 GMT",
        "Sun 28 Mar 17:00 BST",
    )
    assert [(d["day_number"], d["local_date"]) for d in days] == [
        (1, date(2027, 3, 26)),
        (2, date(2027, 3, 27)),
        (3, date(2027, 3, 28)),
    ]
    assert [(_local(d["starts_at"]), _local(d["ends_at"])) for d in days] == [
        ("Fri 26 Mar 09:00 GMT", "Fri 26 Mar 17:00 GMT"),
        ("Sat 27 Mar 09:00 GMT", "Sat 27 Mar 17:00 GMT"),
        ("Sun 28 Mar 09:00 BST", "Sun 28 Mar 17:00 BST"),
    ]


async def test_regenerating_a_multi_day_pattern_writes_no_more_days(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    await three_day_pattern(db, w, date(2027, 3, 26))
    await generate_sessions(db, clock, w.studio_id, "acs", preview=False)

    again = await generate_sessions(db, clock, w.studio_id, "acs", preview=False)

    assert again.plan.create == ()
    assert again.plan.update == ()
    async with db.transaction(write=False) as tx:
        count = await tx.scalar(
            "SELECT COUNT(*) FROM session_days WHERE studio_id = :s", {"s": w.studio_id}
        )
    assert count == 6
