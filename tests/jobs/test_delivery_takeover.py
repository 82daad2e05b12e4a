"""A delivery worker's claims after a crash: the restart takes a dead worker's rows over within
seconds (a short lease), while a live worker keeps its rows however long they wait (it renews
the lease). The black-box kill -9 test once lost a reply this way: its row, claimed by the
killed process, was held for a minute."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.jobs.delivery import DeliveryWorker, RateLimits
from bookbot.services import outbox
from bookbot.services.outbox import OutboundMessage
from bookbot.services.transport import Route
from bookbot.store.db import Database
from tests import builders

NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
UNLIMITED = RateLimits({}, {})
# What "within seconds" promises: well inside the black-box test's wait (40 s) and the
# dialogue lease a killed turn leaves behind (30 s).
TAKEOVER = timedelta(seconds=15)


class Sms:
    """Twilio, as far as delivery sees it: records sends, and can say what arrived."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.asked: list[str] = []

    async def route(self, message: OutboundMessage) -> Route | None:
        return Route("sms", message.address or "")

    async def send(self, message: OutboundMessage, _route: Route) -> None:
        await asyncio.sleep(0)
        self.sent[message.dedupe_key] += 1

    async def already_sent(
        self, message: OutboundMessage, _route: Route, _since: datetime
    ) -> bool | None:
        self.asked.append(message.dedupe_key)
        return self.sent[message.dedupe_key] > 0


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


async def queue_replies(db: Database, clock: FrozenClock, n: int) -> None:
    w = await builders.studio(db)
    async with db.transaction() as tx:
        for i in range(n):
            await outbox.enqueue(
                tx,
                now=clock.now(),
                studio_id=w.studio_id,
                customer_id=None,
                template="reply",
                params={"text": "Hi"},
                due_at=clock.now(),
                dedupe_key=f"reply:{i}",
                channel="sms",
                address=f"+4474001230{i:02}",
            )


async def statuses(db: Database) -> list[str]:
    rows = await db.all("SELECT status FROM outbox ORDER BY id")
    return [r["status"] for r in rows]


async def test_replies_claimed_by_a_killed_worker_are_sent_by_the_restart_within_seconds(
    db: Database, clock: FrozenClock
) -> None:
    await queue_replies(db, clock, 3)
    sms = Sms()
    # The killed process: it claimed all three with its lease, began sending the first two,
    # the first of which reached Twilio, and died.
    dead = await outbox.claim(db, clock.now(), 3, DeliveryWorker(db, clock, sms).lease)
    for message in dead[:2]:
        assert await outbox.begin_send(
            db, message, clock.now(), DeliveryWorker(db, clock, sms).lease
        )
    await sms.send(dead[0], Route("sms", dead[0].address or ""))

    restarted = DeliveryWorker(db, clock, sms, UNLIMITED)
    assert (await restarted.run_until_idle()).handled == 0  # the dead claim still looks live
    clock.advance(TAKEOVER)
    stats = await restarted.run_until_idle()

    assert sms.sent == Counter({"reply:0": 1, "reply:1": 1, "reply:2": 1})
    assert sorted(sms.asked) == ["reply:0", "reply:1"]  # the two sends it had begun
    assert (stats.confirmed, stats.sent) == (1, 2)
    assert await statuses(db) == ["sent"] * 3


async def test_a_live_worker_keeps_the_rows_it_holds_past_the_lease_by_renewing_it(
    db: Database, clock: FrozenClock
) -> None:
    await queue_replies(db, clock, 2)
    started, release = asyncio.Event(), asyncio.Event()
    sms = Sms()

    class SlowSms(Sms):
        async def send(self, message: OutboundMessage, route: Route) -> None:
            started.set()
            await release.wait()
            await sms.send(message, route)

    lease = timedelta(seconds=0.3)  # renewed every 0.1 s (real time)
    # One send at a time: the second row waits for the first, claimed but not begun.
    worker = DeliveryWorker(db, clock, SlowSms(), UNLIMITED, in_flight=1, lease=lease)
    working = asyncio.create_task(worker.run_until_idle())
    await started.wait()
    for _ in range(3):  # well past the lease by the clock, but renewed meanwhile
        clock.advance(timedelta(seconds=0.2))
        await asyncio.sleep(0.5)
        assert await outbox.claim(db, clock.now(), 10, timedelta(seconds=60)) == []
    release.set()

    assert (await working).sent == 2
    assert sms.sent == Counter({"reply:0": 1, "reply:1": 1})
    assert await statuses(db) == ["sent", "sent"]
