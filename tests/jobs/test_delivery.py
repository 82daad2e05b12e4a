"""The outbox and its delivery: reminders at the right instant, withdrawn when cancelled,
retried after 429, never lost and never doubled, one worker or two."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.jobs.delivery import DeliveryWorker, RateLimits
from bookbot.services import outbox
from bookbot.services.booking import book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.outbox import OutboundMessage
from bookbot.services.transport import DeliveryError, Route
from bookbot.store.db import Database, Tx, connect
from tests import builders

NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
UNLIMITED = RateLimits({}, {})


class Recorder:
    """Stands in for the outside world: records sends, fails when told to; when
    `can_confirm`, it answers whether a message arrived (as Twilio can, Telegram cannot)."""

    def __init__(
        self, failures: list[DeliveryError] | None = None, *, can_confirm: bool = True
    ) -> None:
        self.sent: Counter[str] = Counter()
        self.failures = list(failures or [])
        self.can_confirm = can_confirm
        self.asked: list[str] = []

    async def route(self, message: OutboundMessage) -> Route | None:
        return Route("telegram", str(message.customer_id))

    async def send(self, message: OutboundMessage, _route: Route) -> None:
        await asyncio.sleep(0)  # a real send yields to other tasks
        if self.failures:
            raise self.failures.pop(0)
        self.sent[message.dedupe_key] += 1

    async def already_sent(
        self, message: OutboundMessage, _route: Route, _since: datetime
    ) -> bool | None:
        self.asked.append(message.dedupe_key)
        return self.sent[message.dedupe_key] > 0 if self.can_confirm else None


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


async def queued(db: Database) -> list[tuple[str, str, datetime]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT dedupe_key, status, due_at FROM outbox ORDER BY due_at, dedupe_key"
        )
    return [(r["dedupe_key"], r["status"], r["due_at"]) for r in rows]


async def enqueue_many(db: Database, clock: FrozenClock, n: int) -> None:
    w = await builders.studio(db)
    customer = await builders.customer(db, w, "ana")
    async with db.transaction() as tx:
        for i in range(n):
            await _due_reminder(tx, clock, w.studio_id, customer, i=i, key=f"test:{i}")


async def _due_reminder(
    tx: Tx, clock: FrozenClock, studio_id: int, customer: int, *, i: int, key: str
) -> None:
    """A 1-hour reminder due now, numbered `i`."""
    await outbox.enqueue(
        tx,
        now=clock.now(),
        studio_id=studio_id,
        customer_id=customer,
        template="reminder_1h",
        params={"i": i},
        due_at=clock.now(),
        dedupe_key=key,
    )


async def test_a_booking_queues_reminders_24h_and_1h_before_across_the_dst_change(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    # Monday 29 Mar 2027 18:00 BST, the day after the clocks went forward.
    starts = datetime(2027, 3, 29, 17, 0, tzinfo=UTC)
    await builders.session(db, w, "s", "taster", starts)
    await builders.customer(db, w, "ana")

    reg = await book_session(db, clock, w.studio_id, w["ana"], w["s"], guests=2)

    assert await queued(db) == [
        (f"reminder_24h:booking-{reg.id}-{w['s']}", "pending", starts - timedelta(hours=24)),
        (f"reminder_1h:booking-{reg.id}-{w['s']}", "pending", starts - timedelta(hours=1)),
    ]


async def test_cancelled_bookings_get_no_reminders(db: Database, clock: FrozenClock) -> None:
    w = await builders.studio(db)
    await builders.session(db, w, "s", "taster", NOW + timedelta(days=3))
    await builders.customer(db, w, "ana")
    reg = await book_session(db, clock, w.studio_id, w["ana"], w["s"], guests=1)
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
    assert [(r["status"], r["last_error"]) for r in rows] == [
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


async def test_a_429_holds_back_the_other_messages_to_that_chat_too(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 3)  # all to one customer: one chat
    recorder = Recorder([DeliveryError("429", retry_after=30)])
    worker = DeliveryWorker(db, clock, recorder, UNLIMITED, batch=1, in_flight=1)

    stats = await worker.run_until_idle()
    assert (stats.retried, stats.postponed, stats.sent) == (1, 2, 0)  # not sent into a 429
    clock.advance(timedelta(seconds=30))
    assert (await worker.run_until_idle()).sent == 3
    assert recorder.sent == Counter({f"test:{i}": 1 for i in range(3)})
    async with db.transaction(write=False) as tx:
        attempts = [r["attempts"] for r in await tx.all("SELECT attempts FROM outbox ORDER BY id")]
    assert attempts == [2, 1, 1]  # waiting for the chat did not count as a try


async def test_a_customer_with_no_channel_to_reach_is_skipped_with_the_reason(
    db: Database, clock: FrozenClock
) -> None:
    from bookbot.handlers.notice_transport import NoticeTransport
    from bookbot.handlers.notices import NoticeRouter

    await enqueue_many(db, clock, 1)  # a customer known only from the studio's own records
    stats = await DeliveryWorker(
        db, clock, NoticeTransport(NoticeRouter(db, clock)), UNLIMITED
    ).run_until_idle()
    assert stats.skipped == 1
    async with db.transaction(write=False) as tx:
        row = await tx.one("SELECT status, last_error FROM outbox")
    assert row is not None
    assert (row["status"], row["last_error"]) == ("skipped", "no channel to reach them")


async def test_a_worker_whose_lease_ran_out_does_not_send(db: Database, clock: FrozenClock) -> None:
    await enqueue_many(db, clock, 1)
    [slow] = await outbox.claim(db, clock.now(), 1, timedelta(seconds=60))
    clock.advance(timedelta(seconds=61))  # the slow worker's lease runs out…
    recorder = Recorder()
    await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()  # …and another takes it
    assert not await outbox.begin_send(db, slow, clock.now(), timedelta(seconds=60))
    assert recorder.sent == Counter({"test:0": 1})


async def crash_mid_send(
    db: Database, clock: FrozenClock, recorder: Recorder, n: int, arrived: int
) -> None:
    """A worker claims `n` rows, begins sending them, the channel takes the first `arrived`,
    and the worker dies before marking any; its lease then runs out."""
    claimed = await outbox.claim(db, clock.now(), n, timedelta(seconds=60))
    for message in claimed:
        assert await outbox.begin_send(db, message, clock.now(), timedelta(seconds=60))
    for message in claimed[:arrived]:
        await recorder.send(message, Route("telegram", "1"))
    clock.advance(timedelta(seconds=61))


async def test_a_crash_mid_send_is_checked_with_the_channel_so_nothing_is_sent_twice(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 6)
    recorder = Recorder()
    await crash_mid_send(db, clock, recorder, n=4, arrived=2)

    stats = await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()

    assert recorder.sent == Counter({f"test:{i}": 1 for i in range(6)})
    assert sorted(recorder.asked) == ["test:0", "test:1", "test:2", "test:3"]  # only those
    assert (stats.confirmed, stats.sent) == (2, 4)
    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT status, send_started_at FROM outbox")
    assert {(r["status"], r["send_started_at"]) for r in rows} == {("sent", None)}


async def test_a_channel_that_cannot_say_gets_the_message_again_rather_than_lose_it(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 2)
    recorder = Recorder(can_confirm=False)  # Telegram keeps no list a bot can ask
    await crash_mid_send(db, clock, recorder, n=2, arrived=1)

    stats = await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()

    assert recorder.sent == Counter({"test:0": 2, "test:1": 1})  # at least once
    assert (stats.resent_unsure, stats.sent) == (2, 2)


async def test_a_send_that_timed_out_is_checked_before_it_is_retried(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 1)
    recorder = Recorder()

    class ArrivedButTimedOut(Recorder):
        async def send(self, message: OutboundMessage, _route: Route) -> None:
            recorder.sent[message.dedupe_key] += 1  # the channel got it; the answer was lost
            raise DeliveryError("read timeout", maybe_sent=True)

    worker = DeliveryWorker(
        db, clock, ArrivedButTimedOut(), UNLIMITED, backoff=timedelta(seconds=5)
    )
    assert (await worker.run_until_idle()).retried == 1
    clock.advance(timedelta(seconds=5))
    stats = await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()
    assert (stats.confirmed, stats.sent) == (1, 0)
    assert recorder.sent == Counter({"test:0": 1})


async def test_when_the_channel_cannot_be_asked_the_row_waits_still_in_doubt(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 1)
    recorder = Recorder()
    await crash_mid_send(db, clock, recorder, n=1, arrived=1)

    class Unreachable(Recorder):
        async def already_sent(
            self, _message: OutboundMessage, _route: Route, _since: datetime
        ) -> bool | None:
            raise DeliveryError("twilio: unreachable")

    worker = DeliveryWorker(db, clock, Unreachable(), UNLIMITED, backoff=timedelta(seconds=5))
    assert (await worker.run_until_idle()).retried == 1
    clock.advance(timedelta(seconds=10))
    stats = await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()
    assert stats.confirmed == 1
    assert recorder.sent == Counter({"test:0": 1})


async def test_stopping_finishes_the_sends_under_way_and_gives_back_the_rest(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 10)
    started, release = asyncio.Event(), asyncio.Event()
    recorder = Recorder()

    class Slow(Recorder):
        async def send(self, message: OutboundMessage, route: Route) -> None:
            started.set()
            await release.wait()
            await recorder.send(message, route)

    worker = DeliveryWorker(db, clock, Slow(), UNLIMITED, batch=10, in_flight=2)
    running = asyncio.create_task(worker.run_until_idle())
    await started.wait()
    stopping = asyncio.create_task(worker.stop())
    await asyncio.sleep(0.01)
    assert not stopping.done()  # it waits for the two sends under way
    release.set()
    await stopping
    stats = await running

    assert (stats.sent, sum(recorder.sent.values())) == (2, 2)
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT status, attempts, send_started_at, lease_until FROM outbox ORDER BY id"
        )
    left = [(r["status"], r["attempts"], r["send_started_at"], r["lease_until"]) for r in rows]
    assert left[2:] == [("pending", 0, None, None)] * 8  # nothing in doubt
    await DeliveryWorker(db, clock, recorder, UNLIMITED).run_until_idle()  # the next one
    assert recorder.sent == Counter({f"test:{i}": 1 for i in range(10)})


async def test_a_slow_message_does_not_hold_back_the_rest(db: Database, clock: FrozenClock) -> None:
    await enqueue_many(db, clock, 22)
    recorder = Recorder()
    everyone_else_sent = asyncio.Event()

    class OneSlowChat(Recorder):
        async def send(self, message: OutboundMessage, route: Route) -> None:
            if message.dedupe_key in ("test:0", "test:1"):  # a slow channel's first two
                await everyone_else_sent.wait()
            await recorder.send(message, route)
            if sum(recorder.sent.values()) == 20:
                everyone_else_sent.set()

    worker = DeliveryWorker(db, clock, OneSlowChat(), UNLIMITED, batch=10, in_flight=10)
    stats = await asyncio.wait_for(worker.run_until_idle(), timeout=10)
    assert stats.sent == 22


async def test_any_exception_from_a_send_is_recorded_and_counted_as_an_attempt(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue_many(db, clock, 1)

    class Buggy(Recorder):
        async def send(self, _message: OutboundMessage, _route: Route) -> None:
            raise ValueError("cannot render this")

    worker = DeliveryWorker(db, clock, Buggy(), UNLIMITED, max_attempts=3)
    for _ in range(3):
        await worker.run_until_idle()
        async with db.transaction(write=False) as tx:
            row = await tx.one("SELECT status, attempts, last_error FROM outbox")
        assert row is not None
        assert row["last_error"].endswith("ValueError: cannot render this")
        clock.advance(timedelta(hours=1))
    assert row is not None
    assert (row["status"], row["attempts"]) == ("failed", 3)  # never left in 'sending'


async def sms_customers(db: Database, clock: FrozenClock, n: int) -> None:
    """`n` customers known only by an SMS number, each with a notice due now."""
    w = await builders.studio(db)
    for i in range(n):
        phone = f"+4477009{i:05d}"
        customer = await builders.customer(db, w, f"c{i}", phone)
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO channel_identities (studio_id, customer_id, channel, address)"
                " VALUES (:s, :c, 'sms', :a)",
                {"s": w.studio_id, "c": customer, "a": phone},
            )
            await _due_reminder(tx, clock, w.studio_id, customer, i=i, key=f"sms:{i}")


class CountingLimits(RateLimits):
    """The real limits (SMS 1/s), counting who waited for a token."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    async def acquire(self, channel: str, address: str) -> None:
        self.asked.append(channel)
        await super().acquire(channel, address)


async def test_notices_with_no_channel_here_are_skipped_at_once_without_a_rate_token(
    db: Database, clock: FrozenClock
) -> None:
    from bookbot.handlers.notice_transport import NoticeTransport
    from bookbot.handlers.notices import NoticeRouter

    await sms_customers(db, clock, 30)  # SMS customers, and Twilio is not configured here
    limits = CountingLimits()
    worker = DeliveryWorker(db, clock, NoticeTransport(NoticeRouter(db, clock)), limits)

    started = time.monotonic()
    stats = await asyncio.wait_for(worker.run_until_idle(), timeout=20)
    took = time.monotonic() - started

    assert (stats.skipped, stats.sent, stats.failed) == (30, 0, 0)
    assert limits.asked == []  # at 1 SMS a second, waiting for tokens took 30 s
    assert took < 1.0
    assert {(status, error) for status, error in await outcomes(db)} == {
        ("skipped", "no channel to reach them")
    }


async def outcomes(db: Database) -> list[tuple[str, str]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT status, last_error FROM outbox")
    return [(r["status"], r["last_error"]) for r in rows]


async def test_an_opted_out_number_is_skipped_without_a_rate_token(
    db: Database, clock: FrozenClock
) -> None:
    from bookbot.handlers.notice_transport import NoticeTransport
    from bookbot.handlers.notices import NoticeRouter
    from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
    from bookbot.handlers.twilio_webhook import TwilioChannel
    from bookbot.services import optouts

    await sms_customers(db, clock, 1)
    await optouts.opt_out(db, "sms", "+447700900000", clock.now())
    limits = CountingLimits()
    # Twilio is configured, but this number texted STOP: never contacted.
    settings = TwilioSettings("AC" + "1" * 32, "token", "+15017122661", api_base="http://0.0.0.0:9")
    async with TwilioSender(settings) as sender:
        router = NoticeRouter(db, clock, twilio=TwilioChannel(db, clock, sender))
        stats = await DeliveryWorker(db, clock, NoticeTransport(router), limits).run_until_idle()
    assert (stats.skipped, limits.asked) == (1, [])


async def test_a_pass_ends_while_new_rows_keep_arriving(db: Database, clock: FrozenClock) -> None:
    await enqueue_many(db, clock, 5)

    class Chaining(Recorder):
        """Each send queues another message due at once (a waitlist offer passed on)."""

        async def send(self, message: OutboundMessage, route: Route) -> None:
            await super().send(message, route)
            clock.advance(timedelta(milliseconds=1))  # time passes while the pass runs
            async with db.transaction() as tx:
                await outbox.enqueue(
                    tx,
                    now=clock.now(),
                    studio_id=message.studio_id,
                    customer_id=message.customer_id,
                    template="offer",
                    params={},
                    due_at=clock.now(),
                    dedupe_key=f"{message.dedupe_key}+",
                )

    worker = DeliveryWorker(db, clock, Chaining(), UNLIMITED, batch=4, in_flight=2)
    first = await asyncio.wait_for(worker.run_until_idle(), timeout=10)
    assert first.sent == 5  # what was due when it began, not what arrived meanwhile
    second = await asyncio.wait_for(worker.run_until_idle(), timeout=10)
    assert second.sent == 5  # the next pass takes those
    assert {status for _, status, _ in await queued(db)} == {"sent", "pending"}
