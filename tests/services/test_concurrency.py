"""No seat and no resource is ever sold twice, whatever the concurrency.

Each test fires well over 100 concurrent booking attempts at a session with a few
seats (or a few wheels) left, through several independent connections to the same
database, and checks the totals exactly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services.booking import book_session
from bookbot.store.db import Database, connect
from tests import builders
from tests.processes import START_TIMEOUT, run_workers

ATTEMPTS = 120
WORKERS = 4
STORM_TIMEOUT = 120


def _outcome(result: object) -> str:
    if not isinstance(result, BaseException):
        return "ok"
    return "refused" if isinstance(result, errors.BookingError) else repr(result)


@dataclass(frozen=True)
class _Target:
    """The session every worker books, and where; a dataclass pickles into the processes."""

    url: str
    now: datetime
    studio_id: int
    session_id: int


async def _book_all(target: _Target, barrier: Any, customers: list[int]) -> list[str]:
    db = await connect(target.url, lock_timeout=30)  # opens lazily: the storm opens it too
    clock = FrozenClock(target.now)
    session_id = target.session_id
    try:
        barrier.wait(START_TIMEOUT)  # every worker is here; all fire at once
        results = await asyncio.gather(
            *(
                book_session(db, clock, target.studio_id, c, session_id, guests=1)
                for c in customers
            ),
            return_exceptions=True,
        )
    finally:
        await db.close()
    return [_outcome(r) for r in results]


async def _storm(
    url: str, clock: FrozenClock, w: builders.World, session_id: int, customers: list[int]
) -> tuple[int, list[str]]:
    """Book 1 seat per customer from WORKERS processes at once, each with many tasks.

    Separate processes matter on SQLite: within one event loop its transactions never
    interleave, so only other processes can prove that BEGIN IMMEDIATE really locks.
    """
    shares = [customers[i::WORKERS] for i in range(WORKERS)]
    target = _Target(url, clock.now(), w.studio_id, session_id)
    outcomes = await asyncio.to_thread(
        run_workers, _book_all, target, shares, timeout=STORM_TIMEOUT
    )
    return outcomes.count("ok"), [o for o in outcomes if o not in ("ok", "refused")]


async def _booked(db: Database, session_id: int) -> tuple[int, int]:
    async with db.transaction(write=False) as tx:
        seats = await tx.scalar(
            "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions"
            " WHERE session_id = :id AND status = 'booked'",
            {"id": session_id},
        )
        wheels = await tx.scalar(
            "SELECT COALESCE(SUM(quantity), 0) FROM resource_allocations WHERE session_id = :id",
            {"id": session_id},
        )
    return int(seats), int(wheels)


async def _customers(db: Database, w: builders.World) -> list[int]:
    return [await builders.customer(db, w, f"c{i}") for i in range(ATTEMPTS)]


async def test_last_few_seats_are_sold_exactly_once(
    db: Database, database_url: str, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    session_id = await builders.session(
        db, w, "s", "taster", datetime(2026, 12, 1, 18, tzinfo=UTC), capacity=5
    )
    customers = await _customers(db, w)

    sold, unexpected = await _storm(database_url, clock, w, session_id, customers)

    assert unexpected == []
    assert sold == 5
    assert await _booked(db, session_id) == (5, 5)


async def test_scarce_resource_is_never_overallocated(
    db: Database, database_url: str, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    await builders.set_wheels(db, w, 3)
    session_id = await builders.session(
        db, w, "s", "taster", datetime(2026, 12, 1, 18, tzinfo=UTC), capacity=50
    )
    customers = await _customers(db, w)

    sold, unexpected = await _storm(database_url, clock, w, session_id, customers)

    assert unexpected == []
    assert sold == 3
    assert await _booked(db, session_id) == (3, 3)


async def test_one_customer_hammering_one_session_books_once(
    db: Database, database_url: str, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    session_id = await builders.session(db, w, "s", "taster", datetime(2026, 12, 1, 18, tzinfo=UTC))
    ana = await builders.customer(db, w, "ana")

    sold, unexpected = await _storm(database_url, clock, w, session_id, [ana] * ATTEMPTS)

    assert unexpected == []
    assert sold == 1
    assert await _booked(db, session_id) == (1, 1)
