"""The outbox and its delivery: reminders at the right instant, withdrawn when cancelled,
retried after 429, never lost and never doubled, one worker or two."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.jobs.delivery import DeliveryWorker, RateLimits
from bookbot.jobs.transport import DeliveryError, Route
from bookbot.services import outbox
from bookbot.services.booking import book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.outbox import OutboundMessage
from bookbot.store.db import Database, connect
from tests import builders

NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
UNLIMITED = RateLimits({}, {})


class Recorder:
    """Stands in for the outside world: records sends, fails when told to."""

    def __init__(self, failures: list[DeliveryError] | None = None) -> None:
        self.sent: Counter[str] = Counter()
        self.failures = list(failures or [])

    async def route(self, message: OutboundMessage) -> Route | None:
        return Route("telegram", str(message.customer_id))

    async def send(self, message: OutboundMessage, route: Route) -> None:
        await asyncio.sleep(0)  # a real send yields to other tasks
        if self.failures:
            raise self.failures.pop(0)
        self.sent[message.dedupe_key] += 1


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


async def queued(db: Database) -> list[tuple[str, str, datetime]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT dedupe_key, status, due_at FROM outbox ORDER BY due_at, dedupe_key"
        )
    return [(r[0], r[1], r[2]) for r in rows]


async def enqueue_many(db: Database, clock: FrozenClock, n: int) -> None:
    w = await builders.studio(db)
    customer = await builders.customer(db, w, "ana")
    async with db.transaction() as tx:
        for i in range(n):
            await outbox.enqueue(
                tx,
                now=clock.now(),
                studio_id=w.studio_id,
                customer_id=customer,
                template="reminder_1h",
                params={"i": i},
                due_at=clock.now(),
                dedupe_key=f"test:{i}",
            )


async def test_a_booking_queues_reminders_24h_and_1h_before_across_the_dst_change(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    # Monday 29 Mar 2027 18:00 BST, the day after the clocks went forward.
    starts = datetime(2027, 3, 29, 17, 0, tzinfo=UTC)
    await builders.session(db, w, "s", "taster", starts)
    await builders.customer(db, w, "ana")

    reg = await book_session(db, clock, w.studio_id, w["ana"], w["s"], 2)

    assert await queued(db) == [
        (f"reminder_24h:booking-{reg.id}-{w['s']}", "pending", starts - timedelta(hours=24)),
        (f"reminder_1h:booking-{reg.id}-{w['s']}", "pending", starts - timedelta(hours=1)),
    ]


async def test_cancelled_bookings_get_no_reminders(db: Database, clock: FrozenClock) -> None:
    w = await builders.studio(db)
    await builders.session(db, w, "s", "taster", NOW + timedelta(days=3))
    await builders.customer(db, w, "ana")
    reg = await book_session(db, clock, w.studio_id, w["ana"], w["s"], 1)
    await cancel_registration(db, clock, w.studio_id, reg.id, customer_id=w["ana"])
    recorder = Recorder()

    clock.advance(timedelta(days=3))
    await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()

    assert recorder.sent == Counter()
    assert {status for _, status, _ in await queued(db)} == {"withdrawn"}


async def test_queueing_twice_queues_once(db: Database, clock: FrozenClock) -> None:
    await enqueue_many(db, clock, 3)
    await enqueue_many_again(db, clock)
    assert len(await queued(db)) == 3


async def enqueue_many_again(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as tx:
        added = await outbox.enqueue(
            tx,
            now=clock.now(),
            studio_id=1,
            customer_id=1,
            template="reminder_1h",
            params={},
            due_at=clock.now(),
            dedupe_key="test:0",
        )
    assert not added


async def test_a_crash_after_claiming_loses_nothing_and_a_restart_sends_nothing_twice(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 10)
    crashed = await outbox.claim(db, clock.now(), 4, timedelta(seconds=60))  # then the worker dies
    assert len(crashed) == 4
    recorder = Recorder()

    await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()
    assert sum(recorder.sent.values()) == 6  # the 4 claimed rows wait for their lease
    clock.advance(timedelta(seconds=61))
    await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()
    await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()  # a restart

    assert recorder.sent == Counter({f"test:{i}": 1 for i in range(10)})
    assert {status for _, status, _ in await queued(db)} == {"sent"}


async def test_429_is_retried_after_retry_after_and_errors_back_off(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 1)
    recorder = Recorder([DeliveryError("429", retry_after=30), DeliveryError("502")])
    worker = DeliveryWorker(db, clock, recorder, UNLIMITED, backoff=timedelta(seconds=5))

    assert (await worker.run_until_idle()).retried == 1
    clock.advance(timedelta(seconds=29))
    assert (await worker.run_until_idle()).handled == 0  # not before retry_after
    clock.advance(timedelta(seconds=1))
    assert (await worker.run_until_idle()).retried == 1  # a 502: back off 2 × 5 s
    clock.advance(timedelta(seconds=9))
    assert (await worker.run_until_idle()).handled == 0
    clock.advance(timedelta(seconds=1))
    assert (await worker.run_until_idle()).sent == 1
    assert recorder.sent == Counter({"test:0": 1})


async def test_it_gives_up_with_the_reason(db: Database, clock: FrozenClock) -> None:
    await enqueue_many(db, clock, 2)
    recorder = Recorder(
        [DeliveryError("bot blocked", permanent=True)] + [DeliveryError("down")] * 3
    )
    worker = DeliveryWorker(db, clock, recorder, UNLIMITED, max_attempts=3, backoff=timedelta(0))
    for _ in range(4):
        await worker.run_until_idle()
    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT status, last_error FROM outbox ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("failed", "bot blocked"),
        ("failed", "gave up after 3 attempts: down"),
    ]


async def test_two_workers_deliver_each_message_exactly_once(
    db: Database, database_url: str, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 300)
    recorder = Recorder()
    others = [await connect(database_url) for _ in range(2)]
    try:
        workers = [DeliveryWorker(d, clock, recorder, UNLIMITED, batch=25) for d in others]
        await asyncio.gather(*(w.run_until_idle() for w in workers))
    finally:
        for d in others:
            await d.close()
    assert recorder.sent == Counter({f"test:{i}": 1 for i in range(300)})


async def test_rate_limits_pace_sends() -> None:
    limits = RateLimits({"telegram": 50.0}, {"telegram": 1000.0})
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(11):
        await limits.acquire("telegram", "1")
    assert loop.time() - started >= 0.19  # 10 intervals of 20 ms after the first token


async def test_a_customer_with_no_channel_to_reach_is_skipped_with_the_reason(
    db: Database, clock: FrozenClock
) -> None:
    from bookbot.handlers.notices import NoticeRouter
    from bookbot.jobs.notice_transport import NoticeTransport

    await enqueue_many(db, clock, 1)  # a customer known only from the studio's own records
    stats = await DeliveryWorker(
        db, clock, NoticeTransport(NoticeRouter(db, clock)), UNLIMITED
    ).run_until_idle()
    assert stats.skipped == 1
    async with db.transaction(write=False) as tx:
        row = await tx.one("SELECT status, last_error FROM outbox")
    assert tuple(row) == ("skipped", "no channel to reach them")


async def test_a_worker_whose_lease_ran_out_does_not_send(db: Database, clock: FrozenClock) -> None:
    await enqueue_many(db, clock, 1)
    [slow] = await outbox.claim(db, clock.now(), 1, timedelta(seconds=60))
    clock.advance(timedelta(seconds=61))  # the slow worker's lease runs out…
    recorder = Recorder()
    await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()  # …and another takes it
    assert not await outbox.renew(db, slow, clock.now(), timedelta(seconds=60))
    assert recorder.sent == Counter({"test:0": 1})
