"""Customers check in to ordinary bookings by the reservations' rules: from 2 h before to
2 h after the start, their own booking only, once; a class the sweep closed is closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services import attendance, booking, self_check_in
from bookbot.services.cancellation import cancel_registration
from bookbot.store.db import Database
from tests import builders

STARTS = datetime(2026, 11, 10, 18, tzinfo=UTC)


async def _booked(db: Database, clock: FrozenClock) -> tuple[builders.World, int, int]:
    """Ana's booking of a taster at STARTS: the world, her id, her booked session's row."""
    w = await builders.studio(db)
    await builders.session(db, w, "s1", "taster", STARTS)
    ana = await builders.customer(db, w, "ana")
    await builders.customer(db, w, "ben")
    reg = await booking.book_session(db, clock, w.studio_id, ana, w["s1"], guests=2)
    entry = await db.scalar(
        "SELECT id FROM registration_sessions WHERE registration_id = :r", {"r": reg.id}
    )
    return w, ana, int(entry)


async def _attendance(db: Database, entry: int) -> str | None:
    value = await db.scalar(
        "SELECT attendance FROM registration_sessions WHERE id = :id", {"id": entry}
    )
    return None if value is None else str(value)


async def test_inside_the_window_checks_in_once(db: Database, clock: FrozenClock) -> None:
    w, ana, entry = await _booked(db, clock)
    clock.set(STARTS - timedelta(hours=1))  # "opens 2 hours before": it is open
    [open_now] = await self_check_in.open_now(db, w.studio_id, ana, clock.now())
    assert (open_now.kind, open_now.id, open_now.checked_in) == ("booking", entry, False)
    assert await self_check_in.check_in_booking(db, clock, w.studio_id, entry, customer_id=ana)
    assert await _attendance(db, entry) == "checked_in"
    assert not await self_check_in.check_in_booking(db, clock, w.studio_id, entry, customer_id=ana)
    [again] = await self_check_in.open_now(db, w.studio_id, ana, clock.now())
    assert again.checked_in


@pytest.mark.parametrize(
    ("at", "error"),
    [
        (STARTS - timedelta(hours=2, minutes=1), errors.CheckInNotOpen),
        (STARTS + timedelta(hours=2, minutes=1), errors.CheckInClosed),
    ],
)
async def test_outside_the_window_is_refused(
    db: Database, clock: FrozenClock, at: datetime, error: type[errors.BookingError]
) -> None:
    w, ana, entry = await _booked(db, clock)
    clock.set(at)
    assert await self_check_in.open_now(db, w.studio_id, ana, clock.now()) == []
    with pytest.raises(error):
        await self_check_in.check_in_booking(db, clock, w.studio_id, entry, customer_id=ana)
    assert await _attendance(db, entry) is None


async def test_both_ends_of_the_window_are_open(db: Database, clock: FrozenClock) -> None:
    w, ana, entry = await _booked(db, clock)
    clock.set(STARTS - timedelta(hours=2))
    assert await self_check_in.open_now(db, w.studio_id, ana, clock.now())
    clock.set(STARTS + timedelta(hours=2))
    assert await self_check_in.check_in_booking(db, clock, w.studio_id, entry, customer_id=ana)


async def test_someone_elses_booking_is_not_found(db: Database, clock: FrozenClock) -> None:
    w, _ana, entry = await _booked(db, clock)
    clock.set(STARTS - timedelta(minutes=30))
    with pytest.raises(errors.NotFound):
        await self_check_in.check_in_booking(db, clock, w.studio_id, entry, customer_id=w["ben"])
    assert await self_check_in.open_now(db, w.studio_id, w["ben"], clock.now()) == []
    assert await _attendance(db, entry) is None


async def test_a_cancelled_booking_cannot_be_checked_in(db: Database, clock: FrozenClock) -> None:
    w, ana, entry = await _booked(db, clock)
    reg = await db.scalar(
        "SELECT registration_id FROM registration_sessions WHERE id = :id", {"id": entry}
    )
    await cancel_registration(db, clock, w.studio_id, int(reg), by_staff=True)
    clock.set(STARTS - timedelta(minutes=30))
    assert await self_check_in.open_now(db, w.studio_id, ana, clock.now()) == []
    with pytest.raises(errors.NotFound):
        await self_check_in.check_in_booking(db, clock, w.studio_id, entry, customer_id=ana)


async def test_once_the_sweep_closed_the_class_it_is_closed(
    db: Database, clock: FrozenClock
) -> None:
    w, ana, entry = await _booked(db, clock)
    clock.set(STARTS + timedelta(hours=2))  # the class ended at +2 h
    await attendance.close_ended(db, clock)
    assert await _attendance(db, entry) == "no_show"
    assert await self_check_in.open_now(db, w.studio_id, ana, clock.now()) == []
    with pytest.raises(errors.CheckInClosed):
        await self_check_in.check_in_booking(db, clock, w.studio_id, entry, customer_id=ana)


async def test_checked_in_then_attended(db: Database, clock: FrozenClock) -> None:
    w, ana, entry = await _booked(db, clock)
    clock.set(STARTS - timedelta(minutes=10))
    await self_check_in.check_in_booking(db, clock, w.studio_id, entry, customer_id=ana)
    clock.set(STARTS + timedelta(hours=2))
    await attendance.close_ended(db, clock)
    assert await _attendance(db, entry) == "attended"


async def test_next_start_for_the_opening_time(db: Database, clock: FrozenClock) -> None:
    w, ana, _entry = await _booked(db, clock)
    clock.set(STARTS - timedelta(days=1))
    assert await self_check_in.next_booked_start(db, w.studio_id, ana, clock.now()) == STARTS
    clock.set(STARTS - timedelta(hours=1))  # inside the window: nothing "next"
    assert await self_check_in.next_booked_start(db, w.studio_id, ana, clock.now()) is None
