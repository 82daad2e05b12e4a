"""The minute tick's sweeps work in bounded batches: more rows due than one batch are all
done in one run, each once, and the event loop runs other work between them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.engine.reservations import PassKind
from bookbot.jobs.sweeps import Sweeps
from bookbot.services import attendance, holds, outbox, passes, reservations, waitlist
from bookbot.store.db import Database
from tests import builders

MON_18 = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)  # the first of five daily tasters
DAYS = 5
LAST_END = MON_18 + timedelta(days=DAYS - 1, hours=2)
PEOPLE = ("ana", "ben", "cai", "dee", "eve")
BATCH = 2  # smaller than the rows due, so each sweep needs several batches


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db)
    for day in range(DAYS):
        await builders.session(db, w, f"s{day}", "taster", MON_18 + timedelta(days=day))
    await builders.session(db, w, "later", "taster", MON_18 + timedelta(days=14))
    for name in PEOPLE:
        await builders.customer(db, w, name)
    return w


async def punch_pass(db: Database, w: builders.World, clock: FrozenClock, who: str) -> int:
    return await passes.issue_pass(
        db,
        clock.now(),
        w.studio_id,
        w[who],
        w["taster"],
        terms=passes.PassTerms(PassKind.PUNCH, sessions=8, valid_days=60, max_advance=None),
        payment="staff_issued",
        valid_from=clock.now().date(),
    )


async def everyone_holds_a_seat(db: Database, w: builders.World, clock: FrozenClock) -> None:
    """Each of PEOPLE holds one seat on the first taster."""
    for who in PEOPLE:
        await holds.hold(
            db, clock, w.studio_id, w[who], RegistrationKind.SINGLE, guests=1, session_ids=[w["s0"]]
        )


async def column(db: Database, sql: str) -> list[object]:
    async with db.transaction(write=False) as tx:
        return [row["value"] for row in await tx.all(sql)]


async def test_close_ended_closes_every_ended_session_batch_after_batch(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    pass_id = await punch_pass(db, world, clock, "ana")
    for day in range(DAYS):
        await reservations.reserve(
            db, clock, world.studio_id, world["ana"], pass_id, session_id=world[f"s{day}"]
        )
        await holds.confirm_hold(
            db,
            clock,
            world.studio_id,
            world["ben"],
            (
                await holds.hold(
                    db,
                    clock,
                    world.studio_id,
                    world["ben"],
                    RegistrationKind.SINGLE,
                    guests=1,
                    session_ids=[world[f"s{day}"]],
                )
            ).id,
        )
    ended = FrozenClock(LAST_END)

    assert await attendance.close_ended(db, ended, batch=BATCH) == DAYS
    assert await attendance.close_ended(db, ended, batch=BATCH) == 0  # run twice, once

    assert await column(db, "SELECT status AS value FROM reservations") == ["no_show"] * DAYS
    assert (
        await column(db, "SELECT attendance AS value FROM registration_sessions")
        == ["no_show"] * DAYS
    )
    closed = "SELECT closed_at IS NOT NULL AS value FROM sessions ORDER BY starts_at"
    assert [bool(v) for v in await column(db, closed)] == [True] * DAYS + [False]
    left = "SELECT sessions_remaining AS value FROM passes"
    assert await column(db, left) == [8 - DAYS]  # one punch per no-show


async def test_the_absence_sweep_handles_every_due_no_show_batch_after_batch(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    for who in PEOPLE:
        pass_id = await punch_pass(db, world, clock, who)
        for session in ("s0", "later"):
            await reservations.reserve(
                db, clock, world.studio_id, world[who], pass_id, session_id=world[session]
            )
    await attendance.close_ended(db, FrozenClock(MON_18 + timedelta(hours=2)))
    night = FrozenClock(MON_18 + timedelta(hours=8))  # 01:00 in London, the next day

    notices = await attendance.auto_cancel_absences(db, night, world.studio_id, batch=BATCH)

    assert sorted(n.customer_id for n in notices) == sorted(world[p] for p in PEOPLE)
    assert await attendance.auto_cancel_absences(db, night, world.studio_id, batch=BATCH) == []
    statuses = "SELECT status AS value FROM reservations ORDER BY id"
    assert await column(db, statuses) == ["no_show", "auto_cancelled"] * len(PEOPLE)


async def test_the_hold_sweep_expires_every_lapsed_hold_batch_after_batch(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await everyone_holds_a_seat(db, world, clock)
    clock.advance(timedelta(hours=1))

    assert await holds.expire_holds(db, clock, batch=BATCH) == len(PEOPLE)
    assert await holds.expire_holds(db, clock, batch=BATCH) == 0
    statuses = "SELECT DISTINCT status AS value FROM registrations"
    assert await column(db, statuses) == ["expired"]


async def test_the_offer_sweep_expires_every_lapsed_offer_batch_after_batch(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    lapsed = clock.now() - timedelta(minutes=1)
    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO waitlist_entries (studio_id, session_id, customer_id, guest_count,"
            " status, created_at, offered_at, offer_expires_at) VALUES (:studio_id, :session_id,"
            " :customer_id, 1, 'offered', :at, :at, :lapsed)",
            [
                {
                    "studio_id": world.studio_id,
                    "session_id": world["s0"],
                    "customer_id": world[who],
                    "at": lapsed - timedelta(hours=2),
                    "lapsed": lapsed,
                }
                for who in PEOPLE
            ],
        )

    assert await waitlist.expire_offers(db, clock, batch=BATCH) == len(PEOPLE)
    assert await waitlist.expire_offers(db, clock, batch=BATCH) == 0
    statuses = "SELECT DISTINCT status AS value FROM waitlist_entries"
    assert await column(db, statuses) == ["expired"]


async def test_claims_take_the_due_rows_oldest_first_and_nothing_else(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    now = clock.now()
    async with db.transaction() as tx:
        for n, due in enumerate((3, 1, 2, -10, 5, 4)):  # minutes ago; -10: not due yet
            await outbox.enqueue(
                tx,
                now=now,
                studio_id=world.studio_id,
                customer_id=world["ana"],
                template="auto_cancelled",
                params={"n": n},
                due_at=now - timedelta(minutes=due),
                dedupe_key=f"row-{n}",
            )
    [stale] = await outbox.claim(db, now, 1, timedelta(seconds=60))  # then its worker dies
    later = now + timedelta(seconds=90)

    first = await outbox.claim(db, now, 2, timedelta(hours=1))  # the stale lease is live
    second = await outbox.claim(db, later, 10, timedelta(hours=1))  # now it has run out

    assert stale.dedupe_key == "row-4"
    assert [m.dedupe_key for m in first] == ["row-5", "row-0"]
    assert [m.dedupe_key for m in second] == ["row-4", "row-2", "row-1"]
    assert await outbox.claim(db, later, 10, timedelta(hours=1)) == []  # row-3 is not due


async def test_the_tick_lets_other_work_run_between_its_transactions(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await everyone_holds_a_seat(db, world, clock)
    clock.advance(timedelta(hours=1))
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            await asyncio.sleep(0)

    beating = asyncio.create_task(heartbeat())
    try:
        await Sweeps(db, clock).tick()
    finally:
        beating.cancel()

    assert beats >= len(PEOPLE)  # at least once between each hold's transaction
    statuses = "SELECT DISTINCT status AS value FROM registrations"
    assert await column(db, statuses) == ["expired"]
