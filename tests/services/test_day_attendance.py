"""Attendance of a multi-day course day by day: staff check-in marks the day it is, the
closing sweep marks the days nobody checked in on as absent, and the booking's own
attendance is 'attended' when any day was. Both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services import attendance, browse, self_check_in, staff_views
from bookbot.services.booking import book_session
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests import builders


def _at(day: int, hour: int) -> datetime:
    return datetime(2027, 1, day, hour, 0, tzinfo=UTC)  # London is on GMT in January


async def _course(db: Database, clock: FrozenClock) -> tuple[builders.World, int, dict[str, int]]:
    """Wed 13 - Fri 15 Jan 2027, 09:00-17:00, ann and bob booked."""
    w = await builders.studio(db)
    made = await add_session(
        db,
        clock,
        w.studio_id,
        NewSession("taster", date(2027, 1, 13), time(9, 0), time(17, 0), capacity=12, days=3),
    )
    entries = {}
    for name in ("ann", "bob"):
        customer = await builders.customer(db, w, name)
        await book_session(db, clock, w.studio_id, customer, made.id, guests=1)
        entry = await db.scalar(
            "SELECT id FROM registration_sessions WHERE studio_id = :s AND customer_id = :c",
            {"s": w.studio_id, "c": customer},
        )
        entries[name] = int(entry)
    return w, made.id, entries


async def _check_in(db: Database, clock: FrozenClock, w: builders.World, entry: int) -> None:
    await staff_views.check_in_entry(
        db, clock, w.studio_id, staff_id=w["maya"], kind=staff_views.BOOKING, entry_id=entry
    )


async def _marks(db: Database, entry: int) -> list[tuple[int, str]]:
    rows = await db.all(
        "SELECT day_number, status FROM day_attendance WHERE registration_session_id = :e"
        " ORDER BY day_number",
        {"e": entry},
    )
    return [(int(r["day_number"]), str(r["status"])) for r in rows]


async def test_check_in_marks_the_day_it_is_and_the_sweep_marks_the_rest_absent(
    db: Database, clock: FrozenClock
) -> None:
    w, session_id, entry = await _course(db, clock)

    clock.set(_at(12, 10))  # the day before: not one of its days
    with pytest.raises(errors.NotClassDay):
        await _check_in(db, clock, w, entry["ann"])
    clock.set(_at(13, 8))
    await _check_in(db, clock, w, entry["ann"])
    await _check_in(db, clock, w, entry["ann"])  # twice: still one mark
    clock.set(_at(14, 12))
    on_day_two = await staff_views.roster(db, w.studio_id, session_id, clock.now())
    assert [(e.name, e.status, e.day_marks) for e in on_day_two] == [
        ("ann", "booked", ("attended", "", "")),  # expected again today
        ("bob", "booked", ("", "", "")),
    ]
    await _check_in(db, clock, w, entry["ann"])
    assert await _marks(db, entry["ann"]) == [(1, "attended"), (2, "attended")]

    clock.set(_at(15, 17))  # the end of the last day
    await attendance.close_ended(db, clock)

    assert await _marks(db, entry["ann"]) == [(1, "attended"), (2, "attended"), (3, "absent")]
    assert await _marks(db, entry["bob"]) == [(1, "absent"), (2, "absent"), (3, "absent")]
    overall = await db.all(
        "SELECT id, attendance FROM registration_sessions WHERE session_id = :s ORDER BY id",
        {"s": session_id},
    )
    assert [r["attendance"] for r in overall] == ["attended", "no_show"]
    with pytest.raises(errors.CheckInClosed):
        await _check_in(db, clock, w, entry["ann"])
    await attendance.close_ended(db, clock)  # again: nothing more
    assert len(await _marks(db, entry["bob"])) == 3


async def test_all_present_marks_today_for_everyone(db: Database, clock: FrozenClock) -> None:
    w, session_id, entry = await _course(db, clock)
    clock.set(_at(14, 9))

    marked = await staff_views.all_present(db, clock, w.studio_id, w["maya"], session_id)

    assert marked == 2
    assert await _marks(db, entry["bob"]) == [(2, "attended")]
    again = await staff_views.all_present(db, clock, w.studio_id, w["maya"], session_id)
    assert again == 0


async def test_a_course_is_on_the_list_of_each_of_its_days(
    db: Database, clock: FrozenClock
) -> None:
    w, session_id, _ = await _course(db, clock)

    async def listed(day: int, *, running: bool = True) -> list[tuple[int, int]]:
        since, until = _at(day, 0), _at(day + 1, 0)
        found = await staff_views.sessions_between(db, w.studio_id, since, until, running=running)
        return [(s.id, s.days) for s in found]

    for day in (13, 14, 15):
        assert await listed(day) == [(session_id, 3)]
    assert await listed(16) == []
    assert await listed(14, running=False) == []  # only what starts that day


async def test_customers_check_themselves_in_day_by_day(db: Database, clock: FrozenClock) -> None:
    w, _, entry = await _course(db, clock)
    ann = w["ann"]

    clock.set(_at(13, 8))
    assert await self_check_in.check_in_booking(
        db, clock, w.studio_id, entry["ann"], customer_id=ann
    )
    assert not await self_check_in.check_in_booking(
        db, clock, w.studio_id, entry["ann"], customer_id=ann
    )
    clock.set(_at(14, 8))
    [open_today] = await self_check_in.bookings_open(db, w.studio_id, ann, clock.now())
    assert (open_today.id, open_today.starts_at, open_today.checked_in) == (
        entry["ann"],
        _at(14, 9),
        False,
    )
    assert await self_check_in.check_in_booking(
        db, clock, w.studio_id, entry["ann"], customer_id=ann
    )
    clock.set(_at(14, 12))  # day 2's window has closed; day 3's opens at 07:00 tomorrow
    with pytest.raises(errors.CheckInNotOpen):
        await self_check_in.check_in_booking(db, clock, w.studio_id, entry["ann"], customer_id=ann)
    assert await _marks(db, entry["ann"]) == [(1, "attended"), (2, "attended")]


async def test_my_bookings_keeps_a_course_until_its_last_day_starts(
    db: Database, clock: FrozenClock
) -> None:
    w, _, _ = await _course(db, clock)

    async def upcoming(day: int, hour: int) -> list[tuple[datetime, int]]:
        found = await browse.my_bookings(db, w.studio_id, w["ann"], _at(day, hour))
        return [(b.first_start, b.days) for b in found]

    assert await upcoming(14, 12) == [(_at(13, 9), 3)]  # day 2: still on the list
    assert await upcoming(15, 8) == [(_at(13, 9), 3)]
    assert await upcoming(15, 10) == []  # the last day has begun: a past booking
