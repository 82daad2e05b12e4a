"""The inbox worker: processes stored inbound updates, each exactly once, in order per chat.

Webhooks and the Telegram poller only store (`services.inbox.accept`) and wake this
worker. It claims open rows (one per chat, oldest first), hands each to its source's
processor (Twilio, Telegram…), and the processor's dialogue marks the row done in the
transaction that saves its effects and queues its replies. A failure is retried with
backoff (the chat's later rows wait behind it, so order holds) and given up after
`max_attempts` with the reason kept.

Fairness: a claim takes at most one row per chat, and a chat that sends faster than a
person can (`ChatThrottle`) has the excess recorded as `throttled` and not run, so a
flooding number cannot starve everyone else or make us flood it back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Protocol

from bookbot.conversations.store import ConversationBusy
from bookbot.engine.clock import Clock
from bookbot.jobs.waking import Waker
from bookbot.services import inbox
from bookbot.services.inbox import InboxItem, LostClaim
from bookbot.store.db import Busy, Database
from bookbot.store.heartbeat import Heartbeat

log = logging.getLogger(__name__)
# Waiting for a lock or for another worker's turn with the same person, or a turn that
# outlived its lease on the dialogue and saved nothing (`LeaseLost`, a `ConversationBusy`):
# retried until it goes through (with backoff), never given up on.
TRANSIENT = (Busy, ConversationBusy)
MAX_BACKOFF = timedelta(minutes=5)
UNSERVED_WAIT = timedelta(minutes=1)


class Processor(Protocol):
    async def process(self, item: InboxItem) -> None:
        """Do the row's work; mark it done (`inbox.finish`) in the work's own transaction."""
        ...

    async def gave_up(self, item: InboxItem) -> None:
        """The row failed for good: tell the person something went wrong."""
        ...


@dataclass
class ChatThrottle:
    """Per chat: `burst` messages at once, then `rate` a second (monotonic time: pacing)."""

    rate: float = 1.0
    burst: float = 10.0
    _levels: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)

    def allow(self, chat: str) -> bool:
        now = time.monotonic()
        tokens, updated = self._levels.get(chat, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        allowed = tokens >= 1
        self._levels[chat] = (tokens - 1 if allowed else tokens, now)
        if len(self._levels) > 50_000:  # forget chats whose buckets are full again
            full = now - self.burst / self.rate
            self._levels = {k: v for k, v in self._levels.items() if v[1] > full}
        return allowed


@dataclass
class InboxWorker:
    db: Database
    clock: Clock
    processors: dict[str, Processor]
    on_processed: Callable[[], None] = lambda: None  # e.g. wake the delivery worker
    throttle: ChatThrottle = field(default_factory=ChatThrottle)
    batch: int = 50
    # Short and renewed while the rows are processed: after a crash, another process (or the
    # restart) takes the rows over within seconds.
    lease: timedelta = timedelta(seconds=10)
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=1)
    poll_seconds: float = 1.0  # look for rows other processes stored or left behind
    _waker: Waker = field(default_factory=Waker, repr=False)
    _running: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def wake(self) -> None:
        self._waker.wake()

    async def run(self) -> None:
        """Process until `stop()`: woken by new rows, and every `poll_seconds` anyway."""
        await self._waker.loop(self.run_until_idle, self.poll_seconds, "inbox")

    async def run_until_idle(self) -> int:
        """Process claimable rows until none is left; the number processed."""
        done = 0
        async with self._running:
            while not self._waker.stopping:
                items = await inbox.claim(self.db, self.clock.now(), self.batch, self.lease)
                if not items:
                    break
                beating = Heartbeat(
                    self.lease.total_seconds() / 3, partial(self._renew, items), "inbox rows"
                )
                beating.start()
                try:
                    await asyncio.gather(*(self._one(item) for item in items))
                finally:
                    await beating.stop()
                done += len(items)
                self.on_processed()
        return done

    async def _renew(self, items: list[InboxItem]) -> bool:
        await inbox.renew(self.db, items, self.clock.now() + self.lease)
        return True  # a row taken over fails its own commit (LostClaim)

    async def stop(self) -> None:
        """Stop claiming; let the rows under way finish (their work commits or not)."""
        self._waker.stop()
        async with self._running:
            pass

    async def _one(self, item: InboxItem) -> None:
        now = self.clock.now()
        processor = self.processors.get(item.source)
        if processor is None:  # a channel not configured here (any more): look again later
            why = f"{item.source} is not configured in this process"
            await inbox.retry(self.db, item, now + UNSERVED_WAIT, why)
            return
        try:
            if self.throttle.allow(item.chat):
                await processor.process(item)
            else:
                log.warning("inbox %s: %s sends too fast; recorded, not run", item.id, item.chat)
                await inbox.finish_alone(self.db, item, now, "throttled")
        except LostClaim:
            log.warning("inbox %s: lease ran out; another worker has it", item.id)
        except Exception as error:  # any failure: retried, then given up
            await self._failed(item, error)

    async def _failed(self, item: InboxItem, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        now = self.clock.now()
        if item.attempts >= self.max_attempts and not isinstance(error, TRANSIENT):
            log.error("inbox %s: giving up after %s attempts: %s", item.id, item.attempts, reason)
            await inbox.give_up(self.db, item, now, reason)
            try:
                await self.processors[item.source].gave_up(item)
            except Exception:  # the apology is a courtesy; the row is kept
                log.exception("inbox %s: could not say sorry", item.id)
            self.on_processed()
            return
        if not isinstance(error, TRANSIENT):
            log.warning("inbox %s failed (attempt %s): %s", item.id, item.attempts, reason)
        delay = min(self.backoff * 2 ** (item.attempts - 1), MAX_BACKOFF)
        await inbox.retry(self.db, item, now + delay, reason)
