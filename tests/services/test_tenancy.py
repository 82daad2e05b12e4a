"""One studio can never read or change another studio's data, even given its ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services import catalog, staffing
from bookbot.services.booking import book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.generation import generate_sessions
from bookbot.store.db import Database
from tests import builders

WHEN = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)


@pytest.fixture
async def two(db: Database) -> tuple[builders.World, builders.World]:
    a = await builders.studio(db, "alpha")
    b = await builders.studio(db, "beta")
    for w in (a, b):
        await builders.session(db, w, "s", "taster", WHEN)
        await builders.customer(db, w, "ana")
    return a, b


async def test_booking_across_studios_finds_nothing(
    db: Database, clock: FrozenClock, two: tuple[builders.World, builders.World]
) -> None:
    a, b = two
    with pytest.raises(errors.NotFound):  # alpha's customer into beta's session
        await book_session(db, clock, a.studio_id, a["ana"], b["s"], guests=1)
    with pytest.raises(errors.NotFound):  # beta's customer through alpha
        await book_session(db, clock, a.studio_id, b["ana"], a["s"], guests=1)


async def test_cancel_and_views_across_studios_find_nothing(
    db: Database, clock: FrozenClock, two: tuple[builders.World, builders.World]
) -> None:
    a, b = two
    reg = await book_session(db, clock, b.studio_id, b["ana"], b["s"], guests=2)
    with pytest.raises(errors.NotFound):
        await cancel_registration(db, clock, a.studio_id, reg.id, by_staff=True)
    with pytest.raises(errors.NotFound):
        await catalog.session_availability(db, a.studio_id, b["s"], clock.now())
    assert [s.id for s in await catalog.upcoming_sessions(db, a.studio_id, clock.now())] == [a["s"]]
    view = await catalog.session_availability(db, b.studio_id, b["s"], clock.now())
    assert view.availability.seats_left == 6


async def test_staff_and_patterns_across_studios_find_nothing(
    db: Database, clock: FrozenClock, two: tuple[builders.World, builders.World]
) -> None:
    a, b = two
    with pytest.raises(errors.NotFound):
        await staffing.assign(db, a.studio_id, a["s"], b["maya"], as_instructor=True)
    with pytest.raises(errors.NotFound):
        await staffing.assign(db, a.studio_id, b["s"], a["maya"], as_instructor=True)
    with pytest.raises(errors.NotFound):
        await staffing.staff_id_by_key(db, a.studio_id, str(b["maya"]))
    pattern = await builders.pattern(
        db, b, "p", "taster", "FREQ=WEEKLY;COUNT=1", start=WHEN.date(), at=WHEN.time()
    )
    with pytest.raises(errors.NotFound):
        await generate_sessions(db, clock, a.studio_id, pattern, preview=True)
