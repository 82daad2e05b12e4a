"""The inbox worker's answer to a turn that lost its dialogue to another worker: run it
again later, however often that happens, never give the person's message up for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bookbot.conversations.store import LeaseLost
from bookbot.engine.clock import FrozenClock
from bookbot.jobs.inbox_worker import ChatThrottle, InboxWorker
from bookbot.services import inbox
from bookbot.services.inbox import InboxItem
from bookbot.store.db import Database

BACKOFF = timedelta(seconds=1)


@dataclass
class TakenOver:
    """A processor whose dialogue turns find the dialogue taken over `times` times, then go
    through (marking the row done, as a dialogue does when it saves)."""

    db: Database
    clock: FrozenClock
    times: int
    calls: int = 0
    given_up: list[int] = field(default_factory=list)

    async def process(self, item: InboxItem) -> None:
        self.calls += 1
        if self.calls <= self.times:
            raise LeaseLost(item.chat)
        await inbox.finish_alone(self.db, item, self.clock.now())

    async def gave_up(self, item: InboxItem) -> None:
        self.given_up.append(item.id)


async def test_a_turn_that_lost_its_lease_is_retried_past_max_attempts(
    db: Database, clock: FrozenClock
) -> None:
    processor = TakenOver(db, clock, times=3)
    worker = InboxWorker(
        db,
        clock,
        {"telegram": processor},
        throttle=ChatThrottle(rate=100, burst=100),
        max_attempts=2,
        backoff=BACKOFF,
    )
    await inbox.accept(db, "telegram", "u1", "telegram:7001", {}, now=clock.now())

    for _ in range(4):
        await worker.run_until_idle()
        clock.advance(timedelta(minutes=1))  # past any backoff

    assert processor.calls == 4
    assert processor.given_up == []
    row = await db.one("SELECT status, attempts, last_error FROM inbox")
    assert row is not None
    assert (row["status"], row["attempts"]) == ("done", 4)
    assert row["last_error"].startswith("LeaseLost")
