"""No staff member's hour is ever sold twice, whatever the concurrency, on both databases.

Many customers on several connections (and, in one test, several OS processes) race for
one slot; one staff member is booked for two services at overlapping times; an
appointment races an instructor assignment of a class at the same time. Exactly one wins
each race; the rest are refused (SlotTaken, StaffDoubleBooked), never half-done. On
PostgreSQL the exclusion constraint stands behind the staff row lock.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services import appointments, staffing
from bookbot.store.db import Database, ExclusionViolation, connect
from tests import builders
from tests.processes import START_TIMEOUT, run_workers
from tests.services.test_appointments_world import NOW, TUE, at
from tests.services.test_appointments_world import world as make_world

CONNECTIONS = 4
PER_CONNECTION = 10
WORKERS = 4
STORM_TIMEOUT = 120


def _outcome(result: object) -> str:
    if not isinstance(result, BaseException):
        return "ok"
    return type(result).__name__ if isinstance(result, errors.BookingError) else repr(result)


async def _customers(db: Database, w: builders.World, count: int) -> list[int]:
    return [await builders.customer(db, w, f"racer{i}") for i in range(count)]


async def _live(db: Database, staff_id: int) -> list[tuple[int, datetime]]:
    rows = await db.all(
        "SELECT service_id, starts_at FROM appointments WHERE staff_id = :p"
        " AND (status = 'confirmed' OR (status = 'held' AND held_until > :now))",
        {"p": staff_id, "now": NOW},
    )
    return [(r["service_id"], r["starts_at"]) for r in rows]


async def _hold(
    db: Database, w: builders.World, customer: int, service: str, starts_at: datetime
) -> appointments.Appointment:
    held = await appointments.hold(
        db,
        FrozenClock(NOW),
        w.studio_id,
        customer_id=customer,
        service_id=w[f"{service}_service"],
        staff_id=w["maya"],
        starts_at=starts_at,
    )
    return await appointments.confirm(
        db, FrozenClock(NOW), w.studio_id, appointment_id=held.id, customer_id=customer
    )


async def _storm(url: str, jobs: list[Any]) -> list[str]:
    """Run `jobs` (each: db -> awaitable) spread over several connections at once."""
    pools = [await connect(url, lock_timeout=30) for _ in range(CONNECTIONS)]
    try:
        results = await asyncio.gather(
            *(job(pools[i % CONNECTIONS]) for i, job in enumerate(jobs)), return_exceptions=True
        )
    finally:
        for pool in pools:
            await pool.close()
    return [_outcome(r) for r in results]


async def test_customers_racing_for_one_slot_one_wins(db: Database, database_url: str) -> None:
    w = await make_world(db)
    racers = await _customers(db, w, CONNECTIONS * PER_CONNECTION)
    jobs = [lambda pool, c=c: _hold(pool, w, c, "lesson", at(TUE, 10)) for c in racers]
    outcomes = await _storm(database_url, jobs)
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) == {"ok", "SlotTaken"}
    assert await _live(db, w["maya"]) == [(w["lesson_service"], at(TUE, 10))]


async def test_one_staff_member_two_services_at_overlapping_times(
    db: Database, database_url: str
) -> None:
    w = await make_world(db)
    racers = await _customers(db, w, CONNECTIONS * PER_CONNECTION)
    wanted = [("lesson", at(TUE, 10)), ("trial", at(TUE, 10, 30)), ("trial", at(TUE, 11))]
    jobs = [
        lambda pool, c=c, i=i: _hold(pool, w, c, *wanted[i % len(wanted)])
        for i, c in enumerate(racers)
    ]
    outcomes = await _storm(database_url, jobs)
    live = await _live(db, w["maya"])
    # The lesson's footprint (10:00-11:15) overlaps both trials; the trials do not overlap
    # each other. Either the lesson alone won, or one or both trials did.
    assert outcomes.count("ok") == len(live)
    assert live in (
        [(w["lesson_service"], at(TUE, 10))],
        [(w["trial_service"], at(TUE, 10, 30))],
        [(w["trial_service"], at(TUE, 11))],
        sorted([(w["trial_service"], at(TUE, 10, 30)), (w["trial_service"], at(TUE, 11))]),
    ) or sorted(live) in (
        sorted([(w["trial_service"], at(TUE, 10, 30)), (w["trial_service"], at(TUE, 11))]),
    )
    assert set(outcomes) <= {"ok", "SlotTaken"}


async def test_an_appointment_and_a_class_assignment_at_one_time(
    db: Database, database_url: str
) -> None:
    w = await make_world(db)
    (customer,) = await _customers(db, w, 1)
    rounds = 8
    sessions = [
        await builders.session(
            db,
            w,
            f"class{i}",
            "taster",
            at(TUE + timedelta(days=i // 4), 9 + 2 * (i % 4)),
            minutes=60,
        )
        for i in range(rounds)
    ]
    for i, session_id in enumerate(sessions):
        starts_at = at(TUE + timedelta(days=i // 4), 9 + 2 * (i % 4), 30)

        async def book(pool: Database, starts_at: datetime = starts_at) -> object:
            return await _hold(pool, w, customer, "trial", starts_at)

        async def assign(pool: Database, session_id: int = session_id) -> object:
            await staffing.assign(pool, w.studio_id, session_id, w["maya"], as_instructor=True)
            return None

        jobs = [book, assign] if i % 2 else [assign, book]
        outcomes = await _storm(database_url, jobs)
        assert sorted(outcomes) in (["StaffDoubleBooked", "ok"], ["SlotTaken", "ok"]), outcomes
        taught = await db.scalar(
            "SELECT instructor_id FROM sessions WHERE id = :id", {"id": session_id}
        )
        booked = await db.scalar(
            "SELECT COUNT(*) FROM appointments WHERE staff_id = :p AND starts_at = :at"
            " AND status = 'confirmed'",
            {"p": w["maya"], "at": starts_at},
        )
        assert (taught == w["maya"]) != (booked == 1)


@pytest.mark.backends("postgresql")  # SQLite has no exclusion constraints: its lock guards
async def test_the_exclusion_constraint_backs_the_lock_on_postgresql(db: Database) -> None:
    w = await make_world(db)
    await _hold(db, w, w["ana"], "lesson", at(TUE, 10))
    with pytest.raises(ExclusionViolation):
        async with db.transaction() as tx:  # a writer that skipped the lock and the check
            await tx.execute(
                "INSERT INTO appointments (studio_id, service_id, staff_id, customer_id,"
                " starts_at, ends_at, busy_from, busy_until, status, price_minor, currency,"
                " created_at, updated_at) VALUES (:s, :sv, :p, :c, :start, :end, :start,"
                " :end, 'confirmed', 0, 'GBP', :now, :now)",
                {
                    "s": w.studio_id,
                    "sv": w["trial_service"],
                    "p": w["maya"],
                    "c": w["ben"],
                    "start": at(TUE, 11),
                    "end": at(TUE, 11, 30),
                    "now": NOW,
                },
            )


# --- many processes -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    url: str
    studio_id: int
    service_id: int
    staff_id: int
    starts_at: datetime


async def _race_in_process(target: _Target, barrier: Any, customers: list[int]) -> list[str]:
    db = await connect(target.url, lock_timeout=30)
    clock = FrozenClock(NOW)

    async def attempt(customer: int) -> None:
        await appointments.hold(
            db,
            clock,
            target.studio_id,
            customer_id=customer,
            service_id=target.service_id,
            staff_id=target.staff_id,
            starts_at=target.starts_at,
        )

    try:
        barrier.wait(START_TIMEOUT)
        results = await asyncio.gather(*(attempt(c) for c in customers), return_exceptions=True)
    finally:
        await db.close()
    return [_outcome(r) for r in results]


async def test_processes_racing_for_one_slot_one_wins(db: Database, database_url: str) -> None:
    w = await make_world(db)
    racers = await _customers(db, w, WORKERS * PER_CONNECTION)
    target = _Target(database_url, w.studio_id, w["lesson_service"], w["maya"], at(TUE, 10))
    shares = [racers[i::WORKERS] for i in range(WORKERS)]
    outcomes = await asyncio.to_thread(
        run_workers, _race_in_process, target, shares, timeout=STORM_TIMEOUT
    )
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) == {"ok", "SlotTaken"}
    assert await _live(db, w["maya"]) == [(w["lesson_service"], at(TUE, 10))]
