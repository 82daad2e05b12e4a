"""Session generation from patterns: DST, idempotence, conflicts, default staff."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.generation import ConflictReason
from bookbot.services.booking import book_session
from bookbot.services.generation import generate_sessions
from bookbot.store.db import Database
from tests import builders

LONDON = ZoneInfo("Europe/London")


async def _sessions(db: Database, pattern_id: int) -> list[tuple[datetime, int | None]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT starts_at, instructor_id FROM sessions WHERE pattern_id = :p ORDER BY starts_at",
            {"p": pattern_id},
        )
    return [(r[0], r[1]) for r in rows]


async def test_monday_course_keeps_18_00_local_across_the_spring_change(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    pid = await builders.pattern(
        db,
        w,
        "spring",
        "course",
        "FREQ=WEEKLY;BYDAY=MO;COUNT=6",
        start=date(2027, 3, 15),
        at=time(18, 0),
        instructor="maya",
    )

    report = await generate_sessions(db, clock, w.studio_id, "spring", preview=False)

    created = await _sessions(db, pid)
    assert len(report.plan.create) == 6
    assert [s.astimezone(LONDON).strftime("%d %b %H:%M %Z") for s, _ in created] == [
        "15 Mar 18:00 GMT",
        "22 Mar 18:00 GMT",
        "29 Mar 18:00 BST",
        "05 Apr 18:00 BST",
        "12 Apr 18:00 BST",
        "19 Apr 18:00 BST",
    ]
    assert {instructor for _, instructor in created} == {w["maya"]}


async def test_preview_writes_nothing_and_rerun_creates_no_duplicates(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    pid = await builders.pattern(
        db,
        w,
        "dropin",
        "dropin",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        start=date(2026, 11, 2),
        at=time(16, 0),
    )

    preview = await generate_sessions(
        db, clock, w.studio_id, pid, preview=True, horizon=timedelta(weeks=2)
    )
    assert await _sessions(db, pid) == []
    first = await generate_sessions(
        db, clock, w.studio_id, pid, preview=False, horizon=timedelta(weeks=2)
    )
    again = await generate_sessions(
        db, clock, w.studio_id, pid, preview=False, horizon=timedelta(weeks=2)
    )

    # Monday 2 Nov 09:00 UTC: today's 16:00 is still ahead, so 10 weekdays in two weeks.
    assert len(preview.plan.create) == len(first.plan.create) == 10
    assert (len(again.plan.create), len(again.plan.unchanged)) == (0, 10)
    assert len(await _sessions(db, pid)) == 10


async def test_pattern_edit_moves_unbooked_sessions_and_reports_booked_ones(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    pid = await builders.pattern(
        db, w, "weekly", "taster", "FREQ=WEEKLY;COUNT=3", start=date(2026, 11, 9), at=time(18, 0)
    )
    await generate_sessions(db, clock, w.studio_id, pid, preview=False)
    first_id = await _first_session_id(db, pid)
    ana = await builders.customer(db, w, "ana")
    await book_session(db, clock, w.studio_id, ana, first_id, guests=1)
    async with db.transaction() as tx:  # the owner moves the class to 19:00 and drops week 3
        await tx.execute(
            "UPDATE schedule_patterns SET start_time = :t, rrule = 'FREQ=WEEKLY;COUNT=2' WHERE id = :p",
            {"t": time(19, 0), "p": pid},
        )

    report = await generate_sessions(db, clock, w.studio_id, pid, preview=False)

    assert [(c.session.session_id, c.reason) for c in report.plan.conflicts] == [
        (first_id, ConflictReason.MOVED)
    ]
    assert len(report.plan.update) == 1
    assert len(report.plan.delete) == 1
    hours = [s.astimezone(LONDON).hour for s, _ in await _sessions(db, pid)]
    assert hours == [18, 19]  # the booked session stayed put; week 3 (unbooked) is gone


async def _first_session_id(db: Database, pid: int) -> int:
    async with db.transaction(write=False) as tx:
        return int(
            await tx.scalar("SELECT MIN(id) FROM sessions WHERE pattern_id = :p", {"p": pid})
        )


async def test_booked_session_removed_from_pattern_is_a_conflict_not_a_deletion(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    pid = await builders.pattern(
        db, w, "weekly", "taster", "FREQ=WEEKLY;COUNT=2", start=date(2026, 11, 9), at=time(18, 0)
    )
    await generate_sessions(db, clock, w.studio_id, pid, preview=False)
    ana = await builders.customer(db, w, "ana")
    async with db.transaction(write=False) as tx:
        last = await tx.scalar("SELECT MAX(id) FROM sessions WHERE pattern_id = :p", {"p": pid})
    await book_session(db, clock, w.studio_id, ana, last, guests=1)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE schedule_patterns SET rrule = 'FREQ=WEEKLY;COUNT=1' WHERE id = :p", {"p": pid}
        )

    report = await generate_sessions(db, clock, w.studio_id, pid, preview=False)

    assert [c.reason for c in report.plan.conflicts] == [ConflictReason.REMOVED]
    assert len(await _sessions(db, pid)) == 2


async def test_default_instructor_busy_elsewhere_is_reported_not_double_booked(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    await builders.pattern(
        db,
        w,
        "a",
        "taster",
        "FREQ=WEEKLY;COUNT=2",
        start=date(2026, 11, 9),
        at=time(18, 0),
        instructor="maya",
    )
    await builders.pattern(
        db,
        w,
        "b",
        "dropin",
        "FREQ=WEEKLY;COUNT=2",
        start=date(2026, 11, 9),
        at=time(19, 0),
        instructor="maya",
    )
    await generate_sessions(db, clock, w.studio_id, "a", preview=False)

    report = await generate_sessions(db, clock, w.studio_id, "b", preview=False)

    assert len(report.staffing_problems) == 2
    assert "Maya already teaches an overlapping session" in report.staffing_problems[0]
    assert {i for _, i in await _sessions(db, w["b"])} == {None}


async def test_past_occurrences_are_not_generated(db: Database, clock: FrozenClock) -> None:
    w = await builders.studio(db)
    clock.set(datetime(2026, 11, 17, 12, 0, tzinfo=UTC))
    pid = await builders.pattern(
        db, w, "weekly", "taster", "FREQ=WEEKLY;COUNT=3", start=date(2026, 11, 9), at=time(18, 0)
    )
    report = await generate_sessions(db, clock, w.studio_id, pid, preview=False)
    assert [t.occurrence.local_date.day for t in report.plan.create] == [23]


async def test_unknown_pattern_is_a_clear_error(db: Database, clock: FrozenClock) -> None:
    w = await builders.studio(db)
    with pytest.raises(errors.NotFound, match="No schedule pattern with id nope"):
        await generate_sessions(db, clock, w.studio_id, "nope", preview=True)
