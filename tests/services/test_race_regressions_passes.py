"""Two reservations on one pass at once, each judging the pass's limits (PostgreSQL).

The interleaving test found it (seed 1464984978, round 1884): "pass 14 has 20 of 20
sessions used, but 21 reservation(s) used a punch". It showed in a round of class ends
and check-ins, where the last punches were taken, but it was made earlier, when two
reservations on the pass ran at once. Reserving locks the pass row (`FOR UPDATE`) and
counts the pass's pending and live reservations to check its punches and its advance
limit. When that count was read in the statement that took the lock, a reservation that
waited for the lock read it on the snapshot taken before the wait: the other
reservation, committed meanwhile, was not counted, so both got in. A pass with 2 punches
left then had 3 reservations pending, and the third to be checked in or closed as a
no-show was marked as using a punch that was not there.

Forced here: a gate transaction locks the pass; the first reservation reaches the pass
lock and waits, the second does too, behind it; the gate lets go; the first commits
while the second waits, and the second must then count it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.reservations import PassKind
from bookbot.services import attendance, passes, reservations
from bookbot.services.invariants import find_violations
from bookbot.store.db import Database
from tests import builders
from tests.lock_waits import outcome, until_waiting

pytestmark = pytest.mark.backends("postgresql")  # SQLite serialises writers: no such wait

MON_18 = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)


async def _behind_the_pass(
    db: Database,
    pass_id: int,
    first: Callable[[], Awaitable[Any]],
    second: Callable[[], Awaitable[Any]],
) -> list[Any]:
    """Both wait on the pass row's lock, `first` ahead; then the gate lets go."""
    async with db.transaction() as gate:
        await gate.lock("passes", [pass_id])
        ahead = asyncio.create_task(outcome(first()))
        await until_waiting(db, 1)
        behind = asyncio.create_task(outcome(second()))
        await until_waiting(db, 2)
    return [await ahead, await behind]


@pytest.fixture
async def world(db: Database) -> builders.World:
    """Three Monday tasters a week apart, and Ana."""
    w = await builders.studio(db)
    for week in range(3):
        await builders.session(db, w, f"s{week}", "taster", MON_18 + timedelta(weeks=week))
    await builders.customer(db, w, "ana")
    return w


async def _pass(
    db: Database, w: builders.World, clock: FrozenClock, *, punches: int, advance: int | None
) -> int:
    terms = passes.PassTerms(PassKind.PUNCH, sessions=punches, valid_days=60, max_advance=advance)
    return await passes.issue_pass(
        db,
        clock.now(),
        w.studio_id,
        w["ana"],
        w["taster"],
        terms=terms,
        payment="staff_issued",
        valid_from=clock.now().date(),
    )


def _reserving(
    db: Database, w: builders.World, clock: FrozenClock, pass_id: int, session: str
) -> Callable[[], Awaitable[reservations.Reservation]]:
    return lambda: reservations.reserve(
        db, clock, w.studio_id, w["ana"], pass_id, session_id=w[session]
    )


async def test_two_reservations_at_once_cannot_promise_more_punches_than_are_left(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    pass_id = await _pass(db, world, clock, punches=2, advance=None)
    await _reserving(db, world, clock, pass_id, "s0")()  # one punch promised, one left

    outcomes = await _behind_the_pass(
        db,
        pass_id,
        _reserving(db, world, clock, pass_id, "s1"),
        _reserving(db, world, clock, pass_id, "s2"),
    )

    assert isinstance(outcomes[0], reservations.Reservation)
    assert isinstance(outcomes[1], errors.NoPunchesLeft)
    # Every reservation ends as a no-show (a punch each): the punches add up.
    last_end = FrozenClock(MON_18 + timedelta(weeks=3))
    await attendance.close_ended(db, last_end)
    assert await find_violations(db, last_end.now(), studio_id=world.studio_id) == []


async def test_two_reservations_at_once_keep_the_advance_limit(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    pass_id = await _pass(db, world, clock, punches=10, advance=2)
    await _reserving(db, world, clock, pass_id, "s0")()  # one of two ahead

    outcomes = await _behind_the_pass(
        db,
        pass_id,
        _reserving(db, world, clock, pass_id, "s1"),
        _reserving(db, world, clock, pass_id, "s2"),
    )

    assert isinstance(outcomes[0], reservations.Reservation)
    assert isinstance(outcomes[1], errors.AdvanceLimitReached)
