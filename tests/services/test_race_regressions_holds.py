"""A confirm whose clock is behind the clock of an operation that judged its hold lapsed.

The interleaving test found it on SQLite (seed 2681084650, round 3413): "4 seats taken of
3 (2 booked, 2 held)". Each operation reads its clock before its transaction, and clocks
differ between processes (and a transaction may wait for the write lock after reading it),
so two operations judge one hold at different instants. Here, in the exact order:

1. Ana holds 2 of the 3 seats (and 2 of the 3 wheels) until `HELD + 10 min`.
2. Ben holds 2 seats on a clock past that: by his clock Ana's hold lapsed, so her room is
   free and he gets it.
3. Ana confirms on a clock before her hold's end: by her clock it is live. Confirming it
   as it stood booked Ana's 2 over Ben's 2 held. It must be judged like a lapsed hold:
   booked afresh if the room is there, else refused, and nothing sold twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.services import holds
from bookbot.services.invariants import find_violations
from bookbot.store.db import Database
from tests import builders

HELD = datetime(2026, 11, 8, 2, 40, tzinfo=UTC)
HOLD_FOR = timedelta(minutes=10)  # the studio default
STARTS = HELD + timedelta(hours=1)
SINGLE = RegistrationKind.SINGLE


@pytest.fixture
async def world(db: Database) -> builders.World:
    """3 seats and 3 potter's wheels (one per student) on a taster an hour ahead."""
    w = await builders.studio(db)
    await builders.set_wheels(db, w, 3)
    await builders.session(db, w, "s1", "taster", STARTS, capacity=3, minutes=20)
    for name in ("ana", "ben"):
        await builders.customer(db, w, name)
    return w


async def _hold(db: Database, w: builders.World, who: str, at: datetime, guests: int) -> int:
    held = await holds.hold(
        db, FrozenClock(at), w.studio_id, w[who], SINGLE, guests=guests, session_ids=[w["s1"]]
    )
    return held.id


async def _statuses(db: Database, w: builders.World) -> dict[int, str]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT id, status FROM registrations WHERE studio_id = :s ORDER BY id",
            {"s": w.studio_id},
        )
    return {int(r["id"]): str(r["status"]) for r in rows}


async def test_a_confirm_on_an_earlier_clock_does_not_take_back_room_given_away(
    db: Database, world: builders.World
) -> None:
    anas = await _hold(db, world, "ana", HELD, 2)
    later = HELD + HOLD_FOR + timedelta(minutes=1)  # Ana's hold lapsed by this clock
    bens = await _hold(db, world, "ben", later, 2)

    earlier = FrozenClock(HELD + HOLD_FOR - timedelta(minutes=1))  # still live by this one
    with pytest.raises(errors.NotEnoughSeats):
        await holds.confirm_hold(db, earlier, world.studio_id, world["ana"], anas)

    assert await find_violations(db, later, studio_id=world.studio_id) == []
    assert await _statuses(db, world) == {anas: "held", bens: "held"}  # left to lapse


async def test_a_confirm_on_an_earlier_clock_books_when_the_room_is_still_there(
    db: Database, world: builders.World
) -> None:
    anas = await _hold(db, world, "ana", HELD, 2)
    later = HELD + HOLD_FOR + timedelta(minutes=1)
    bens = await _hold(db, world, "ben", later, 1)  # 2 + 1 fit: nothing was given away

    earlier = FrozenClock(HELD + HOLD_FOR - timedelta(minutes=1))
    booked = await holds.confirm_hold(db, earlier, world.studio_id, world["ana"], anas)

    assert booked.id == anas  # the hold itself became the booking
    assert await _statuses(db, world) == {anas: "confirmed", bens: "held"}
    assert await find_violations(db, later, studio_id=world.studio_id) == []
