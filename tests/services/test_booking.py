"""Booking, cancelling and the waitlist through the services, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services import catalog
from bookbot.services.booking import book_course, book_drop_in, book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.waitlist import join_waitlist
from bookbot.store.db import Database
from tests import builders

MON_18 = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db)
    await builders.session(db, w, "s1", "taster", MON_18, capacity=4)
    await builders.customer(db, w, "ana")
    await builders.customer(db, w, "ben")
    return w


async def seats_left(db: Database, w: builders.World, session: str, now: datetime) -> int:
    view = await catalog.session_availability(db, w.studio_id, w[session], now)
    return view.availability.seats_left


async def test_single_session_booking_takes_seats_wheels_and_is_priced_per_guest(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    reg = await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=2)

    assert (reg.guest_count, reg.price_minor, reg.currency) == (2, 9000, "GBP")
    view = await catalog.session_availability(db, world.studio_id, world["s1"], clock.now(), 2)
    assert view.availability.seats_left == 2
    assert [(r.needed, r.available) for r in view.availability.resources] == [(2, 6)]


async def test_too_many_guests_is_refused_with_the_numbers(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=3)

    with pytest.raises(errors.NotEnoughSeats) as refused:
        await book_session(db, clock, world.studio_id, world["ben"], world["s1"], guests=2)

    assert refused.value.params["seats_left"] == 1
    assert refused.value.params["needed"] == 2
    assert "Only 1 seats left" in str(refused.value)


async def test_scarce_resource_refusal_names_resource_and_counts(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await builders.set_wheels(db, world, 2)

    with pytest.raises(errors.NotEnoughResource) as refused:
        await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=3)

    assert str(refused.value).startswith("Only 2 × potter's wheel free")
    assert (refused.value.params["available"], refused.value.params["needed"]) == (2, 3)
    assert await seats_left(db, world, "s1", clock.now()) == 4


@pytest.mark.parametrize("guests", [0, -1])
async def test_guest_count_must_be_at_least_one(
    db: Database, world: builders.World, clock: FrozenClock, guests: int
) -> None:
    with pytest.raises(errors.GuestCountInvalid):
        await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=guests)


async def test_past_and_cancelled_sessions_are_refused(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    past = await builders.session(db, world, "past", "taster", clock.now() - timedelta(hours=1))
    with pytest.raises(errors.SessionInPast):
        await book_session(db, clock, world.studio_id, world["ana"], past, guests=1)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET status = 'cancelled' WHERE id = :id", {"id": world["s1"]}
        )
    with pytest.raises(errors.SessionNotOpen):
        await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=1)


async def test_session_starting_now_is_past(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    clock.set(MON_18)
    with pytest.raises(errors.SessionInPast):
        await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=1)


async def test_a_customer_cannot_book_the_same_session_twice(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=1)
    with pytest.raises(errors.AlreadyBooked):
        await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=1)


async def test_course_books_every_session_of_the_run_or_none(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await builders.pattern(
        db, world, "run", "course", "FREQ=WEEKLY;COUNT=3", start=MON_18.date(), at=MON_18.time()
    )
    for week in range(3):
        await builders.session(
            db,
            world,
            f"c{week}",
            "course",
            MON_18 + timedelta(weeks=week),
            capacity=2,
            pattern_key="run",
        )
    # The last week fills up through another route: the whole course must now be refused.
    async with db.transaction() as tx:
        await tx.execute("UPDATE sessions SET capacity = 1 WHERE id = :id", {"id": world["c2"]})
    await book_course(db, clock, world.studio_id, world["ana"], world["run"], guests=1)

    with pytest.raises(errors.NotEnoughSeats):
        await book_course(db, clock, world.studio_id, world["ben"], world["run"], guests=1)

    assert await seats_left(db, world, "c0", clock.now()) == 1  # nothing half-written


async def test_course_price_covers_the_run_and_drop_in_is_per_session(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await builders.pattern(
        db, world, "run", "course", "FREQ=WEEKLY;COUNT=2", start=MON_18.date(), at=MON_18.time()
    )
    for week in range(2):
        await builders.session(
            db, world, f"c{week}", "course", MON_18 + timedelta(weeks=week), pattern_key="run"
        )
        await builders.session(db, world, f"d{week}", "dropin", MON_18 + timedelta(days=week + 1))

    course = await book_course(db, clock, world.studio_id, world["ana"], world["run"], guests=2)
    drop_in = await book_drop_in(
        db, clock, world.studio_id, world["ana"], [world["d0"], world["d1"]], guests=2
    )

    assert (course.price_minor, len(course.session_ids)) == (48000, 2)
    assert (drop_in.price_minor, len(drop_in.session_ids)) == (2 * 2 * 1800, 2)


async def test_registration_type_must_match_the_class(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    dropin = await builders.session(db, world, "d0", "dropin", MON_18)
    with pytest.raises(errors.WrongRegistrationKind):
        await book_session(db, clock, world.studio_id, world["ana"], dropin, guests=1)
    with pytest.raises(errors.MixedClasses):
        await book_drop_in(
            db, clock, world.studio_id, world["ana"], [world["s1"], dropin], guests=1
        )


async def test_cancel_frees_seats_and_resources(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    reg = await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=4)
    assert await seats_left(db, world, "s1", clock.now()) == 0

    await cancel_registration(db, clock, world.studio_id, reg.id, customer_id=world["ana"])

    view = await catalog.session_availability(db, world.studio_id, world["s1"], clock.now(), 4)
    assert view.availability.fits(4)
    with pytest.raises(errors.AlreadyCancelled):
        await cancel_registration(db, clock, world.studio_id, reg.id, customer_id=world["ana"])


async def test_a_customer_cannot_cancel_someone_elses_booking(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    reg = await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=1)
    with pytest.raises(errors.NotFound):
        await cancel_registration(db, clock, world.studio_id, reg.id, customer_id=world["ben"])
    assert await seats_left(db, world, "s1", clock.now()) == 3


async def test_cancellation_cutoff_binds_customers_not_staff(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db, cancellation_cutoff_hours=24)
    await builders.session(db, w, "s1", "taster", clock.now() + timedelta(hours=23))
    await builders.customer(db, w, "ana")
    reg = await book_session(db, clock, w.studio_id, w["ana"], w["s1"], guests=1)

    with pytest.raises(errors.CancellationTooLate):
        await cancel_registration(db, clock, w.studio_id, reg.id, customer_id=w["ana"])
    await cancel_registration(db, clock, w.studio_id, reg.id, by_staff=True)


async def test_full_session_offers_waitlist_and_freed_seat_makes_an_offer(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    reg = await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=4)
    with pytest.raises(errors.NotEnoughSeats):
        await book_session(db, clock, world.studio_id, world["ben"], world["s1"], guests=1)
    entry = await join_waitlist(db, clock, world.studio_id, world["ben"], world["s1"], guests=1)
    assert entry.status == "waiting"
    with pytest.raises(errors.AlreadyWaitlisted):
        await join_waitlist(db, clock, world.studio_id, world["ben"], world["s1"], guests=1)

    cancelled = await cancel_registration(db, clock, world.studio_id, reg.id, by_staff=True)

    assert [(o.customer_id, o.status) for o in cancelled.offers] == [(world["ben"], "offered")]
    assert cancelled.offers[0].offer_expires_at == clock.now() + timedelta(minutes=120)
    # The offered seat is held for ben: others see one fewer; ben can take it.
    assert await seats_left(db, world, "s1", clock.now()) == 3
    await book_session(db, clock, world.studio_id, world["ben"], world["s1"], guests=1)
    async with db.transaction(write=False) as tx:
        status = await tx.scalar(
            "SELECT status FROM waitlist_entries WHERE id = :id", {"id": entry.id}
        )
    assert status == "accepted"


async def test_waitlist_is_refused_while_there_is_room(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    with pytest.raises(errors.SeatsAvailable):
        await join_waitlist(db, clock, world.studio_id, world["ben"], world["s1"], guests=1)
