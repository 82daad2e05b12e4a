"""Waitlist offers hold equipment as well as seats, and an accepted offer always books.

The studio has 3 potter's wheels (one per student) and sessions of 8 seats, so wheels,
not seats, are what runs out. Every test checks, from the rows themselves, that what is
booked, held and offered never exceeds the seats or the wheels there are.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.engine.reservations import PassKind
from bookbot.services import catalog, holds, passes, reservations, waitlist
from bookbot.services.booking import Registration, book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.reminders import keys
from bookbot.store.db import Database, connect, instant
from tests import builders

MON_18 = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)
WHEELS = 3
OFFER_FOR = timedelta(minutes=120)  # builders' studio holds an offer this long


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db)
    await builders.set_wheels(db, w, WHEELS)
    await builders.session(db, w, "s1", "taster", MON_18)
    for name in ("ana", "ben", "cai", "dee", "eve", "fay", "gus"):
        await builders.customer(db, w, name)
    return w


@dataclass(frozen=True)
class Promised:
    """What a session has given away, counted from rows (not through `facts`); each
    class here needs one wheel per person."""

    seats: int
    wheels: int
    live_offers: int


async def promised(db: Database, session_id: int, now: datetime) -> Promised:
    params = {"s": session_id, "now": now}
    async with db.transaction(write=False) as tx:
        seats = await tx.scalar(
            "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions WHERE session_id = :s"
            " AND (status = 'booked' OR (status = 'held' AND held_until > :now))",
            params,
        )
        wheels = await tx.scalar(
            "SELECT COALESCE(SUM(quantity), 0) FROM resource_allocations WHERE session_id = :s"
            " AND (held_until IS NULL OR held_until > :now)",
            params,
        )
        reserved = await tx.scalar(  # a pass reservation: one seat and one wheel
            "SELECT COUNT(*) FROM reservations WHERE session_id = :s"
            " AND status IN ('pending', 'checked_in', 'attended', 'no_show')",
            params,
        )
        live = await tx.one(
            "SELECT COALESCE(SUM(guest_count), 0) AS guests, COUNT(*) AS offers"
            " FROM waitlist_entries"
            " WHERE session_id = :s AND status = 'offered' AND offer_expires_at > :now",
            params,
        )
    offered, offers = (0, 0) if live is None else (live["guests"], live["offers"])
    others = int(reserved) + int(offered)
    return Promised(int(seats) + others, int(wheels) + others, int(offers))


async def assert_within_capacity(db: Database, session_id: int, now: datetime) -> Promised:
    shown = await promised(db, session_id, now)
    assert shown.seats <= 8
    assert shown.wheels <= WHEELS
    return shown


async def statuses(db: Database) -> dict[int, str]:
    """Waitlist entry status by customer id."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT customer_id, status FROM waitlist_entries ORDER BY id")
    return {int(r["customer_id"]): str(r["status"]) for r in rows}


async def wheels_free(db: Database, w: builders.World, session: str, now: datetime) -> int:
    view = await catalog.session_availability(db, w.studio_id, w[session], now, 1)
    return view.availability.resources[0].available


async def book(
    db: Database,
    clock: FrozenClock,
    w: builders.World,
    who: str,
    guests: int,
    *,
    session: str = "s1",
) -> Registration:
    return await book_session(db, clock, w.studio_id, w[who], w[session], guests=guests)


async def queue(
    db: Database,
    clock: FrozenClock,
    w: builders.World,
    who: str,
    guests: int,
    *,
    session: str = "s1",
) -> None:
    await waitlist.join_waitlist(db, clock, w.studio_id, w[who], w[session], guests=guests)


async def cancel(db: Database, clock: FrozenClock, w: builders.World, reg: Registration) -> int:
    """Staff cancel `reg`; how many waitlist offers that made."""
    done = await cancel_registration(db, clock, w.studio_id, reg.id, by_staff=True)
    return len(done.offers)


async def dee_offered_two(
    db: Database, clock: FrozenClock, w: builders.World, session: str = "s1"
) -> None:
    """`session` fully booked by ana (every wheel), dee queued for 2, then ana cancelled:
    dee is offered 2 wheels, and one stays free."""
    full = await book(db, clock, w, "ana", 3, session=session)
    await queue(db, clock, w, "dee", 2, session=session)
    await cancel(db, clock, w, full)


async def offer_to(db: Database, w: builders.World, who: str, now: datetime) -> int:
    offer = await waitlist.live_offer(db, w.studio_id, w[who], now)
    assert offer is not None, f"{who} has no live offer"
    return offer.id


async def test_live_offers_never_promise_more_wheels_than_exist(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    now = clock.now()
    singles = [await book(db, clock, world, who, 1) for who in ("ana", "ben", "cai")]
    for who in ("dee", "eve", "fay"):  # parties of 2: the wheels, not the seats, are gone
        await queue(db, clock, world, who, 2)

    assert await cancel(db, clock, world, singles[0]) == 0  # 1 wheel: no party of 2 fits
    assert await cancel(db, clock, world, singles[1]) == 1  # 2 wheels: dee, and only dee
    assert (await assert_within_capacity(db, world["s1"], now)).wheels == WHEELS
    assert await cancel(db, clock, world, singles[2]) == 0  # 1 more wheel: still not 2

    assert await statuses(db) == {
        world["dee"]: "offered",
        world["eve"]: "waiting",
        world["fay"]: "waiting",
    }
    assert await assert_within_capacity(db, world["s1"], now) == Promised(2, 2, 1)
    assert await wheels_free(db, world, "s1", now) == 1


async def test_an_offer_keeps_its_wheels_from_bookings_and_holds(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await dee_offered_two(db, clock, world)
    await book(db, clock, world, "ben", 1)  # the one wheel the offer does not hold

    with pytest.raises(errors.NotEnoughResource) as refused:
        await book(db, clock, world, "gus", 1)
    assert refused.value.params["available"] == 0
    with pytest.raises(errors.NotEnoughResource):
        await holds.hold(
            db, clock, world.studio_id, world["cai"], RegistrationKind.SINGLE,
            guests=1, session_ids=[world["s1"]],
        )  # fmt: skip
    assert await wheels_free(db, world, "s1", clock.now()) == 0


async def test_accepting_an_offer_for_a_wheel_class_books_it(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await dee_offered_two(db, clock, world)
    await book(db, clock, world, "ben", 1)  # every wheel now booked or offered
    clock.advance(OFFER_FOR - timedelta(seconds=1))

    reg = await waitlist.accept_offer(
        db, clock, world.studio_id, world["dee"], await offer_to(db, world, "dee", clock.now())
    )

    assert (reg.guest_count, reg.session_ids, reg.held_until) == (2, (world["s1"],), None)
    assert await statuses(db) == {world["dee"]: "accepted"}
    shown = await assert_within_capacity(db, world["s1"], clock.now())
    assert shown == Promised(3, 3, 0)  # ben's 1 and dee's 2, nothing counted twice
    async with db.transaction(write=False) as tx:
        wheels = await tx.scalar(
            "SELECT SUM(quantity) FROM resource_allocations WHERE registration_id = :r",
            {"r": reg.id},
        )
        reminders = await tx.scalar(
            "SELECT COUNT(*) FROM outbox WHERE dedupe_key IN (:a, :b)",
            dict(zip("ab", keys("booking", reg.id, world["s1"]), strict=True)),
        )
    assert wheels == 2
    assert reminders == 2  # 24 h and 1 h before, like any booking


async def test_an_offer_that_is_no_longer_live_is_refused_with_the_truth(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    full = await book(db, clock, world, "ana", 3)
    for who in ("dee", "eve"):
        await queue(db, clock, world, who, 1)
    await cancel(db, clock, world, full)  # two wheels free again: dee and eve, 1 each
    dee, eve = [await offer_to(db, world, who, clock.now()) for who in ("dee", "eve")]
    accept = waitlist.accept_offer
    sid = world.studio_id

    await accept(db, clock, sid, world["dee"], dee)
    with pytest.raises(errors.OfferAlreadyAccepted):
        await accept(db, clock, sid, world["dee"], dee)
    with pytest.raises(errors.NotFound):  # someone else's offer is nobody's business
        await accept(db, clock, sid, world["eve"], dee)
    assert await waitlist.decline(db, clock, sid, world["eve"], eve)
    assert not await waitlist.decline(db, clock, sid, world["eve"], eve)
    with pytest.raises(errors.OfferDeclined):
        await accept(db, clock, sid, world["eve"], eve)
    assert await statuses(db) == {world["dee"]: "accepted", world["eve"]: "declined"}


async def test_a_lapsed_offer_is_refused_swept_or_not_and_holds_nothing(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await dee_offered_two(db, clock, world)
    dee = await offer_to(db, world, "dee", clock.now())
    clock.advance(OFFER_FOR)

    assert await wheels_free(db, world, "s1", clock.now()) == WHEELS  # lapsed: free at once
    with pytest.raises(errors.OfferExpired):
        await waitlist.accept_offer(db, clock, world.studio_id, world["dee"], dee)
    assert await waitlist.expire_offers(db, clock) == 1
    assert await waitlist.expire_offers(db, clock) == 0  # run twice, once
    with pytest.raises(errors.OfferExpired):
        await waitlist.accept_offer(db, clock, world.studio_id, world["dee"], dee)
    assert await assert_within_capacity(db, world["s1"], clock.now()) == Promised(0, 0, 0)


async def test_an_offer_ends_by_the_booking_cutoff_so_a_live_one_can_be_booked(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db, booking_cutoff_minutes=60)
    await builders.set_wheels(db, w, WHEELS)
    soon = clock.now() + timedelta(hours=2)  # the offer would outlast the cutoff
    await builders.session(db, w, "s1", "taster", soon)
    for name in ("ana", "dee"):
        await builders.customer(db, w, name)
    full = await book(db, clock, w, "ana", 3)
    await queue(db, clock, w, "dee", 1)
    await cancel(db, clock, w, full)

    offer = await waitlist.live_offer(db, w.studio_id, w["dee"], clock.now())
    assert offer is not None
    assert offer.offer_expires_at == soon - timedelta(minutes=60)
    clock.advance(timedelta(minutes=59))
    reg = await waitlist.accept_offer(db, clock, w.studio_id, w["dee"], offer.id)
    assert reg.guest_count == 1


async def test_no_offer_goes_to_someone_already_booked_there_with_a_pass(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    """An offer they could not take would hold wheels for nobody until it lapsed."""
    ana, ben = await book(db, clock, world, "ana", 1), await book(db, clock, world, "ben", 2)
    await queue(db, clock, world, "dee", 2)
    assert await cancel(db, clock, world, ana) == 0  # one wheel: dee's party of 2 waits
    pass_id = await passes.issue_pass(
        db, clock.now(), world.studio_id, world["dee"], world["taster"],
        terms=passes.PassTerms(PassKind.PUNCH, sessions=3), payment="staff_issued",
        valid_from=date(2026, 11, 1),
    )  # fmt: skip
    await reservations.reserve(
        db, clock, world.studio_id, world["dee"], pass_id, session_id=world["s1"]
    )
    await queue(db, clock, world, "eve", 1)

    assert await cancel(db, clock, world, ben) == 1  # two wheels: dee is in already

    assert await statuses(db) == {world["dee"]: "waiting", world["eve"]: "offered"}
    await waitlist.accept_offer(
        db, clock, world.studio_id, world["eve"], await offer_to(db, world, "eve", clock.now())
    )
    assert await assert_within_capacity(db, world["s1"], clock.now()) == Promised(2, 2, 0)


async def waiting_offer(
    db: Database, clock: FrozenClock, w: builders.World, session: str
) -> tuple[int, datetime]:
    """`dee_offered_two` on `session`: dee's offer and its end."""
    await dee_offered_two(db, clock, w, session)
    async with db.transaction(write=False) as tx:
        row = await tx.one(
            "SELECT id, offer_expires_at FROM waitlist_entries"
            " WHERE session_id = :s AND status = 'offered'",
            {"s": w[session]},
        )
    assert row is not None
    return int(row["id"]), instant(row["offer_expires_at"])


async def settled(
    db: Database, w: builders.World, session: str, entry_id: int, now: datetime
) -> tuple[str, int]:
    """(the entry's status, wheels allocated on `session`), after the race."""
    async with db.transaction(write=False) as tx:
        status = await tx.scalar(
            "SELECT status FROM waitlist_entries WHERE id = :id", {"id": entry_id}
        )
        wheels = await tx.scalar(
            "SELECT COALESCE(SUM(quantity), 0) FROM resource_allocations WHERE session_id = :s",
            {"s": w[session]},
        )
    await assert_within_capacity(db, w[session], now)
    assert await wheels_free(db, w, session, now) == WHEELS - int(wheels)  # nothing leaked
    return str(status), int(wheels)


@pytest.mark.parametrize("first", ["accept", "sweep"])
async def test_accept_against_expiry_in_either_order_has_one_outcome(
    db: Database, world: builders.World, clock: FrozenClock, first: str
) -> None:
    entry, expires = await waiting_offer(db, clock, world, "s1")
    customer = FrozenClock(expires - timedelta(microseconds=1))  # pressed just in time
    sweeper = FrozenClock(expires)  # the sweep's clock already says it lapsed

    async def accept() -> str:
        try:
            await waitlist.accept_offer(db, customer, world.studio_id, world["dee"], entry)
        except errors.OfferExpired:
            return "refused"
        return "booked"

    async def sweep() -> str:
        return f"expired {await waitlist.expire_offers(db, sweeper)}"

    if first == "accept":
        outcome = (await accept(), await sweep())
        assert outcome == ("booked", "expired 0")
        assert await settled(db, world, "s1", entry, expires) == ("accepted", 2)
    else:
        outcome = (await sweep(), await accept())
        assert outcome == ("expired 1", "refused")
        assert await settled(db, world, "s1", entry, expires) == ("expired", 0)


ROUNDS = 12
WAITING_FOR_A_LOCK = (
    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock'"
)


async def waiting(gate: Database, backends: int) -> None:
    """Until `backends` connections wait for a lock (the row the gate holds), 10 s at most."""
    async with asyncio.timeout(10):
        while (await gate.all(WAITING_FOR_A_LOCK))[0][0] < backends:  # noqa: ASYNC110 - another server process, no event to wait on
            await asyncio.sleep(0.005)


async def race(
    dbs: tuple[Database, Database, Database],
    w: builders.World,
    session: str,
    offer: tuple[int, datetime],
    n: int,
) -> tuple[object, object]:
    """Accept on one connection and sweep on another at once; odd rounds put the sweep first.

    On PostgreSQL a third connection holds the session's row lock until both have read the
    offer as live and queue for that lock in the round's order, so the second to get it
    moves the offer on a stale read: only the guarded UPDATE can refuse it. SQLite runs
    one writer at a time, in whichever order comes."""
    (db, other, gate), (entry, expires) = dbs, offer
    accept = waitlist.accept_offer(
        db, FrozenClock(expires - timedelta(microseconds=1)), w.studio_id, w["dee"], entry
    )
    sweep = waitlist.expire_offers(other, FrozenClock(expires))
    pair = [accept, sweep] if n % 2 == 0 else [sweep, accept]
    if db.dialect != "postgresql":
        results = await asyncio.gather(*pair, return_exceptions=True)
    else:
        async with gate.transaction() as tx:
            await tx.lock("sessions", [w[session]])
            tasks = []
            for queued, operation in enumerate(pair, start=1):
                tasks.append(asyncio.ensure_future(operation))
                await waiting(gate, queued)
        results = await asyncio.gather(*tasks, return_exceptions=True)
    return (results[0], results[1]) if n % 2 == 0 else (results[1], results[0])


async def test_accept_racing_expiry_on_two_connections_has_exactly_one_winner(
    db: Database, database_url: str, world: builders.World, clock: FrozenClock
) -> None:
    """The customer's connection accepts while the jobs' connection sweeps, at once."""
    other = await connect(database_url, lock_timeout=30)
    gate = await connect(database_url, lock_timeout=30)
    wins: dict[str, int] = {"accepted": 0, "expired": 0}
    try:
        for n in range(ROUNDS):
            session = f"race{n}"
            await builders.session(db, world, session, "taster", MON_18 + timedelta(days=n))
            entry, expires = await waiting_offer(db, clock, world, session)
            accepted, swept = await race((db, other, gate), world, session, (entry, expires), n)
            status, wheels = await settled(db, world, session, entry, expires)
            if status == "accepted":
                assert isinstance(accepted, Registration), accepted
                assert (swept, wheels) == (0, 2)
            else:
                assert isinstance(accepted, errors.OfferExpired), accepted
                assert (status, swept, wheels) == ("expired", 1, 0)
            wins[status] += 1
    finally:
        await other.close()
        await gate.close()
    assert sum(wins.values()) == ROUNDS
    if db.dialect == "postgresql":  # the gate decides the order: each side won its rounds
        assert wins == {"accepted": ROUNDS // 2, "expired": ROUNDS // 2}
