"""A payment link for a hold whose room went to someone else (found next to the
interleaving test's confirm race, seed 2681084650; not among its operations).

Starting a checkout keeps the hold until the link's expiry (`holds.extend_in`). It checked
only that the registration still read `held`: a hold past its time that the sweep had not
reached yet, or one live by this clock but lapsed by the later clock of the operation that
took its seats, was kept again on top of the seats sold meanwhile ("4 seats taken of 2").
Now it is kept only if it still fits, else refused as a booking would be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.payments import Choice
from bookbot.engine.pricing import RegistrationKind
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.services import holds, payments
from bookbot.services.invariants import find_violations
from bookbot.services.payments import ReturnUrls
from bookbot.store.db import Database
from tests import builders
from tests.stripe_standin import StripeStandIn

KEY = "sk_test_regressions"
URLS = ReturnUrls("https://bot.example/paid", "https://bot.example/cancelled")
HOLD_FOR = timedelta(minutes=10)  # the studio default
LAPSED = HOLD_FOR + timedelta(minutes=1)


@pytest.fixture
async def gateway(clock: FrozenClock) -> AsyncIterator[StripeGateway]:
    async with StripeStandIn(secret_key=KEY, webhook_secret="whsec_r") as standin:
        standin.clock = lambda: clock.now().timestamp()
        made = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
        yield made
        await made.close()


@pytest.fixture
async def world(db: Database, clock: FrozenClock) -> builders.World:
    """A taster paid online, 2 seats (8 wheels) in a week; Ann and Bob."""
    w = await builders.studio(db)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE classes SET payment = 'online' WHERE id = :id", {"id": w["taster"]}
        )
    await builders.session(db, w, "s1", "taster", clock.now() + timedelta(days=7), capacity=2)
    for name in ("ann", "bob"):
        await builders.customer(db, w, name)
    return w


async def _hold(db: Database, w: builders.World, who: str, clock: FrozenClock) -> int:
    held = await holds.hold(
        db, clock, w.studio_id, w[who], RegistrationKind.SINGLE, guests=2, session_ids=[w["s1"]]
    )
    return held.id


async def _checkout(
    db: Database, w: builders.World, gateway: StripeGateway, clock: FrozenClock, reg: int
) -> payments.Checkout:
    return await payments.start_checkout(
        db,
        clock,
        gateway,
        studio_id=w.studio_id,
        customer_id=w["ann"],
        registration_id=reg,
        choice=Choice.FULL,
        urls=URLS,
    )


async def test_a_link_for_a_lapsed_hold_whose_seats_were_sold_is_refused(
    db: Database, world: builders.World, gateway: StripeGateway, clock: FrozenClock
) -> None:
    anns = await _hold(db, world, "ann", clock)
    later = FrozenClock(clock.now() + LAPSED)  # Ann's hold lapsed; the sweep has not run
    await _hold(db, world, "bob", later)

    with pytest.raises(errors.NotEnoughSeats):
        await _checkout(db, world, gateway, later, anns)

    assert await find_violations(db, later.now(), studio_id=world.studio_id) == []


async def test_a_link_on_an_earlier_clock_does_not_keep_room_given_away(
    db: Database, world: builders.World, gateway: StripeGateway, clock: FrozenClock
) -> None:
    anns = await _hold(db, world, "ann", clock)
    later = FrozenClock(clock.now() + LAPSED)
    await _hold(db, world, "bob", later)

    earlier = FrozenClock(clock.now() + HOLD_FOR - timedelta(minutes=1))  # live by this clock
    with pytest.raises(errors.NotEnoughSeats):
        await _checkout(db, world, gateway, earlier, anns)

    assert await find_violations(db, later.now(), studio_id=world.studio_id) == []


async def test_a_link_for_a_lapsed_hold_keeps_it_when_the_room_is_still_there(
    db: Database, world: builders.World, gateway: StripeGateway, clock: FrozenClock
) -> None:
    anns = await _hold(db, world, "ann", clock)
    later = FrozenClock(clock.now() + LAPSED)

    link = await _checkout(db, world, gateway, later, anns)

    assert link.expires_at > later.now()
    assert await find_violations(db, later.now(), studio_id=world.studio_id) == []
