"""Holds: seats kept while a customer confirms; lapsed ones count for nothing at once and
are swept (once) with the seats offered on; confirming a lapsed one re-checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.engine.reservations import PassKind
from bookbot.services import catalog, holds, passes, reservations
from bookbot.services.booking import Registration, book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.waitlist import join_waitlist, live_offer
from bookbot.store.db import Database
from tests import builders

MON_18 = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)
SINGLE = RegistrationKind.SINGLE
HOLD_FOR = timedelta(minutes=10)  # the studio default


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db)
    await builders.session(db, w, "s1", "taster", MON_18, capacity=4)
    for name in ("ana", "ben", "cai"):
        await builders.customer(db, w, name)
    return w


async def hold_for(
    db: Database, w: builders.World, clock: FrozenClock, who: str, guests: int
) -> Registration:
    return await holds.hold(
        db, clock, w.studio_id, w[who], SINGLE, guests=guests, session_ids=[w["s1"]]
    )


async def left(db: Database, w: builders.World, clock: FrozenClock) -> tuple[int, int]:
    """(seats left, wheels free) on s1 now."""
    view = await catalog.session_availability(db, w.studio_id, w["s1"], clock.now(), 1)
    return view.availability.seats_left, view.availability.resources[0].available


async def statuses(db: Database) -> list[tuple[str, ...]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT r.status AS registration, rs.status AS seat FROM registrations r"
            " JOIN registration_sessions rs ON rs.registration_id = r.id ORDER BY r.id"
        )
    return [(r["registration"], r["seat"]) for r in rows]


async def outbox_keys(db: Database) -> list[str]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT dedupe_key FROM outbox ORDER BY dedupe_key")
    return [r["dedupe_key"] for r in rows]


async def test_a_hold_takes_seats_and_wheels_from_everyone_else_until_it_lapses(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    placed = await hold_for(db, world, clock, "ana", 3)

    assert placed.held_until == clock.now() + HOLD_FOR
    assert await left(db, world, clock) == (1, 5)
    with pytest.raises(errors.NotEnoughSeats):
        await book_session(db, clock, world.studio_id, world["ben"], world["s1"], guests=2)
    assert await outbox_keys(db) == []  # no reminders for a hold

    clock.advance(HOLD_FOR)  # lapsed: counts for nothing at once, swept or not
    assert await left(db, world, clock) == (4, 8)
    await book_session(db, clock, world.studio_id, world["ben"], world["s1"], guests=4)


async def test_confirming_a_live_hold_makes_it_the_booking_with_its_reminders(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    placed = await hold_for(db, world, clock, "ana", 2)
    clock.advance(timedelta(minutes=9))

    reg = await holds.confirm_hold(db, clock, world.studio_id, world["ana"], placed.id)

    assert reg.id == placed.id
    assert (reg.guest_count, reg.price_minor) == (2, 9000)
    assert await statuses(db) == [("confirmed", "booked")]
    assert len(await outbox_keys(db)) == 2  # 24 h and 1 h reminders
    again = await holds.confirm_hold(db, clock, world.studio_id, world["ana"], reg.id)
    assert again.id == reg.id  # a second tap changes nothing
    assert await left(db, world, clock) == (2, 6)


async def test_a_lapsed_hold_is_booked_afresh_when_the_seats_are_still_there(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    placed = await hold_for(db, world, clock, "ana", 2)
    clock.advance(timedelta(minutes=30))

    reg = await holds.confirm_hold(db, clock, world.studio_id, world["ana"], placed.id)

    assert reg.id != placed.id
    assert await statuses(db) == [("expired", "cancelled"), ("confirmed", "booked")]
    assert await left(db, world, clock) == (2, 6)


async def test_a_lapsed_hold_whose_seats_went_meanwhile_is_refused_with_the_reason(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    placed = await hold_for(db, world, clock, "ana", 2)
    clock.advance(timedelta(minutes=11))
    await book_session(db, clock, world.studio_id, world["ben"], world["s1"], guests=3)

    with pytest.raises(errors.NotEnoughSeats):
        await holds.confirm_hold(db, clock, world.studio_id, world["ana"], placed.id)
    assert await left(db, world, clock) == (1, 5)


async def test_someone_elses_hold_cannot_be_confirmed_or_released(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    placed = await hold_for(db, world, clock, "ana", 1)
    with pytest.raises(errors.NotFound):
        await holds.confirm_hold(db, clock, world.studio_id, world["ben"], placed.id)
    assert not await holds.release_hold(db, clock, world.studio_id, world["ben"], placed.id)
    assert await statuses(db) == [("held", "held")]


async def test_a_new_hold_lets_go_of_the_customers_previous_one(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await hold_for(db, world, clock, "ana", 4)
    await hold_for(db, world, clock, "ana", 1)  # changed their mind about the party size

    assert await statuses(db) == [("cancelled", "cancelled"), ("held", "held")]
    assert await left(db, world, clock) == (3, 7)


async def test_the_sweep_expires_lapsed_holds_once_and_offers_the_seats_on(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await hold_for(db, world, clock, "ana", 3)
    await book_session(db, clock, world.studio_id, world["ben"], world["s1"], guests=1)
    await join_waitlist(db, clock, world.studio_id, world["cai"], world["s1"], guests=2)
    assert await holds.expire_holds(db, clock) == 0  # nothing lapsed yet

    clock.advance(HOLD_FOR + timedelta(seconds=1))
    assert await holds.expire_holds(db, clock) == 1
    assert await holds.expire_holds(db, clock) == 0  # run twice, once

    assert await statuses(db) == [("expired", "cancelled"), ("confirmed", "booked")]
    offer = await live_offer(db, world.studio_id, world["cai"], clock.now())
    assert offer is not None
    assert offer.guest_count == 2
    assert f"waitlist-offer:{offer.id}" in await outbox_keys(db)


async def test_the_hold_lasts_as_long_as_the_studio_says(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE studios SET hold_minutes = 30 WHERE id = :id", {"id": world.studio_id}
        )
    placed = await hold_for(db, world, clock, "ana", 1)
    assert placed.held_until == clock.now() + timedelta(minutes=30)


async def wheels_allocated(db: Database) -> int:
    async with db.transaction(write=False) as tx:
        return int(await tx.scalar("SELECT COALESCE(SUM(quantity), 0) FROM resource_allocations"))


async def test_staff_cancel_of_a_hold_frees_its_seats_and_wheels_at_once(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    placed = await hold_for(db, world, clock, "ana", 3)

    cancelled = await cancel_registration(db, clock, world.studio_id, placed.id, by_staff=True)

    assert cancelled.session_ids == (world["s1"],)
    assert await statuses(db) == [("cancelled", "cancelled")]
    assert await wheels_allocated(db) == 0  # the rows go, not only their count
    assert await left(db, world, clock) == (4, 8)
    assert await holds.expire_holds(db, at_lapse(clock)) == 0  # nothing left to sweep
    with pytest.raises(errors.AlreadyCancelled):
        await holds.confirm_hold(db, clock, world.studio_id, world["ana"], placed.id)


async def test_a_customer_lets_go_of_a_hold_by_cancelling_it_whatever_the_cutoff(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db, cancellation_cutoff_hours=48)
    await builders.session(db, w, "s1", "taster", clock.now() + timedelta(hours=5), capacity=4)
    await builders.customer(db, w, "ana")
    placed = await hold_for(db, w, clock, "ana", 2)

    await cancel_registration(db, clock, w.studio_id, placed.id, customer_id=w["ana"])

    assert await statuses(db) == [("cancelled", "cancelled")]
    assert await wheels_allocated(db) == 0


async def test_a_lapsed_hold_cannot_be_cancelled_again_once_swept(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    placed = await hold_for(db, world, clock, "ana", 2)
    assert await holds.expire_holds(db, at_lapse(clock)) == 1

    with pytest.raises(errors.AlreadyCancelled):
        await cancel_registration(db, clock, world.studio_id, placed.id, by_staff=True)
    assert await statuses(db) == [("expired", "cancelled")]


async def test_confirming_a_hold_let_go_for_a_newer_one_says_it_is_cancelled(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    old = await hold_for(db, world, clock, "ana", 2)
    await hold_for(db, world, clock, "ana", 1)  # a second checkout lets go of the first

    with pytest.raises(errors.AlreadyCancelled):
        await holds.confirm_hold(db, clock, world.studio_id, world["ana"], old.id)
    assert await outbox_keys(db) == []  # no reminders for what was not booked


def at_lapse(clock: FrozenClock) -> FrozenClock:
    return FrozenClock(clock.now() + HOLD_FOR)


async def test_a_hold_is_not_confirmed_over_a_reservation_made_meanwhile(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    placed = await hold_for(db, world, clock, "ana", 1)
    pass_id = await passes.issue_pass(
        db,
        clock.now(),
        world.studio_id,
        world["ana"],
        world["taster"],
        terms=passes.PassTerms(PassKind.UNLIMITED, valid_days=60),
        payment="staff_issued",
        valid_from=clock.now().date(),
    )
    await reservations.reserve(
        db, clock, world.studio_id, world["ana"], pass_id, session_id=world["s1"]
    )

    with pytest.raises(errors.AlreadyBooked):
        await holds.confirm_hold(db, clock, world.studio_id, world["ana"], placed.id)
    assert await statuses(db) == [("held", "held")]  # left to lapse, booking nothing
    assert await outbox_keys(db) == [
        f"reminder_{h}:reservation-1-{world['s1']}" for h in ("1h", "24h")
    ]
