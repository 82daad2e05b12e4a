"""A package is never over-redeemed, whatever the concurrency, on both databases: 20
bookings of 20 different free slots, from 4 OS processes at once (5 concurrent each), all
paying with one 7-session package. Exactly 7 are confirmed; the other 13 are refused as
used up and book nothing. Separate processes matter on SQLite: within one event loop its
transactions never interleave, so only other processes prove that BEGIN IMMEDIATE locks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services import appointments, packages
from bookbot.store.db import Database, connect
from tests.processes import START_TIMEOUT, run_workers
from tests.services.test_appointments_world import NOW, TUE, at, world
from tests.services.test_packages import lessons

BOOKINGS = 20
SESSIONS = 7
WORKERS = 4
STORM_TIMEOUT = 180


@dataclass(frozen=True)
class _Target:
    url: str
    studio_id: int
    service_id: int
    staff_id: int
    customer_id: int
    package_id: int


def _outcome(result: object) -> str:
    if not isinstance(result, BaseException):
        return "ok"
    return type(result).__name__ if isinstance(result, errors.BookingError) else repr(result)


async def _book_in_process(target: _Target, barrier: Any, starts: list[datetime]) -> list[str]:
    db = await connect(target.url, lock_timeout=30)
    clock = FrozenClock(NOW)

    async def attempt(starts_at: datetime) -> None:
        # The customer's holds let each other go (one hold a customer): confirming a hold
        # that was let go re-checks its time and books it afresh, as the chat would.
        held = await appointments.hold(
            db,
            clock,
            target.studio_id,
            customer_id=target.customer_id,
            service_id=target.service_id,
            staff_id=target.staff_id,
            starts_at=starts_at,
        )
        await appointments.confirm(
            db,
            clock,
            target.studio_id,
            appointment_id=held.id,
            customer_id=target.customer_id,
            package_id=target.package_id,
        )

    try:
        barrier.wait(START_TIMEOUT)
        results = await asyncio.gather(*(attempt(s) for s in starts), return_exceptions=True)
    finally:
        await db.close()
    return [_outcome(r) for r in results]


def _twenty_slots() -> list[datetime]:
    """Five lesson starts a day (60 minutes and 15 of buffer fit between them), Tuesday to
    Friday: 20 different free times."""
    days = [TUE + timedelta(days=d) for d in range(4)]
    return [at(day, hour, minute) for day in days for hour, minute in _STARTS]


_STARTS = ((9, 0), (10, 30), (12, 0), (13, 30), (15, 0))


async def test_twenty_processes_booking_with_one_package_stop_at_its_balance(
    db: Database, database_url: str
) -> None:
    w = await world(db)
    package = await packages.issue(
        db,
        NOW,
        w.studio_id,
        customer_id=w["ana"],
        terms=lessons(w, sessions=SESSIONS),
        payment="staff_issued",
    )
    starts = _twenty_slots()
    assert len(starts) == BOOKINGS
    target = _Target(
        database_url, w.studio_id, w["lesson_service"], w["maya"], w["ana"], package.id
    )

    shares = [starts[i::WORKERS] for i in range(WORKERS)]
    outcomes = await asyncio.to_thread(
        run_workers, _book_in_process, target, shares, timeout=STORM_TIMEOUT
    )

    assert outcomes.count("ok") == SESSIONS, outcomes
    assert set(outcomes) == {"ok", "PackageUsedUp"}
    assert (await packages.package_by_id(db, w.studio_id, package.id)).remaining == 0
    redeemed = await db.all(
        "SELECT r.appointment_id, a.status FROM package_redemptions r"
        " JOIN appointments a ON a.id = r.appointment_id"
        " WHERE r.package_id = :p AND r.status = 'redeemed'",
        {"p": package.id},
    )
    assert len(redeemed) == SESSIONS
    assert {r["status"] for r in redeemed} == {"confirmed"}
    confirmed = await db.scalar(
        "SELECT COUNT(*) FROM appointments WHERE customer_id = :c AND status = 'confirmed'",
        {"c": w["ana"]},
    )
    assert int(confirmed) == SESSIONS
