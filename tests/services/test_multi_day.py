"""Multi-day sessions: generated day by day on the wall clock, one seat for the whole span."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bookbot.engine.clock import FrozenClock
from bookbot.services import catalog
from bookbot.services.booking import book_session
from bookbot.services.generation import generate_sessions
from bookbot.services.session_changes import Change, NewSession, add_session, edit_session
from bookbot.store.db import Database, instant
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


async def _days(db: Database, w: builders.World, session_id: int) -> list[tuple[str, str]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT starts_at, ends_at FROM session_days WHERE studio_id = :s"
            " AND session_id = :id ORDER BY day_number",
            {"s": w.studio_id, "id": session_id},
        )
    return [(_local(r["starts_at"]), _local(r["ends_at"])) for r in rows]


async def test_a_three_day_one_off_session_and_moving_it_moves_every_day(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    made = await add_session(
        db,
        clock,
        w.studio_id,
        NewSession("taster", date(2027, 3, 26), time(9, 0), time(17, 0), capacity=12, days=3),
    )
    assert made.days == 3
    assert await _days(db, w, made.id) == [
        ("Fri 26 Mar 09:00 GMT", "Fri 26 Mar 17:00 GMT"),
        ("Sat 27 Mar 09:00 GMT", "Sat 27 Mar 17:00 GMT"),
        ("Sun 28 Mar 09:00 BST", "Sun 28 Mar 17:00 BST"),
    ]

    ann = await builders.customer(db, w, "ann")
    booked = await book_session(db, clock, w.studio_id, ann, made.id, guests=1)

    done = await edit_session(
        db, clock, w.studio_id, made.id, Change(day=date(2027, 3, 19), start=time(10, 0))
    )

    assert (_local(done.after.starts_at), _local(done.after.ends_at)) == (
        "Fri 19 Mar 10:00 GMT",
        "Sun 21 Mar 17:00 GMT",
    )
    assert await _days(db, w, made.id) == [
        ("Fri 19 Mar 10:00 GMT", "Fri 19 Mar 17:00 GMT"),
        ("Sat 20 Mar 10:00 GMT", "Sat 20 Mar 17:00 GMT"),
        ("Sun 21 Mar 10:00 GMT", "Sun 21 Mar 17:00 GMT"),
    ]
    last = await db.scalar(
        "SELECT last_starts_at FROM registrations WHERE studio_id = :s AND id = :id",
        {"s": w.studio_id, "id": booked.id},
    )
    assert _local(instant(last)) == "Sun 21 Mar 10:00 GMT"  # upcoming until the last day


async def test_a_multi_day_session_takes_one_seat_for_the_whole_span(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    ann = await builders.customer(db, w, "ann")
    made = await add_session(
        db,
        clock,
        w.studio_id,
        NewSession("taster", date(2027, 1, 13), time(9, 0), time(17, 0), capacity=12, days=3),
    )

    await book_session(db, clock, w.studio_id, ann, made.id, guests=1)

    view = await catalog.session_availability(db, w.studio_id, made.id, clock.now())
    assert view.availability.seats_left == 11
    async with db.transaction(write=False) as tx:
        booked = await tx.scalar(
            "SELECT COUNT(*) FROM registration_sessions WHERE studio_id = :s AND session_id = :id",
            {"s": w.studio_id, "id": made.id},
        )
    assert booked == 1
