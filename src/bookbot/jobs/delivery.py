"""The delivery job: claims due outbox rows and sends them, within each channel's limits.

Telegram allows about 30 messages/s per bot and 1/s per chat; Twilio about 1/s per long
code (more with a Messaging Service); WhatsApp about 80/s. Limits are token buckets per
channel and per address. A 429 is retried after its `retry_after`; other temporary
failures back off exponentially; after `max_attempts` (or a permanent failure such as a
blocked bot or an opted-out number) the row is marked failed with the reason.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import timedelta

from bookbot.engine.clock import Clock
from bookbot.jobs.transport import DeliveryError, OutboundMessage, Transport
from bookbot.services import outbox
from bookbot.store.db import Database

TELEGRAM_LIMITS = {"telegram": 30.0, "sms": 1.0, "whatsapp": 80.0}
PER_ADDRESS_LIMITS = {"telegram": 1.0}
MAX_BACKOFF = timedelta(hours=1)


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up (loop time: pacing, not business time)."""

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.tokens = self.burst
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


@dataclass
class RateLimits:
    per_channel: dict[str, float] = field(default_factory=lambda: dict(TELEGRAM_LIMITS))
    per_address: dict[str, float] = field(default_factory=lambda: dict(PER_ADDRESS_LIMITS))
    _buckets: dict[str, TokenBucket] = field(default_factory=dict, repr=False)

    async def acquire(self, channel: str, address: str) -> None:
        for key, rate in (
            (channel, self.per_channel.get(channel)),
            (f"{channel}:{address}", self.per_address.get(channel)),
        ):
            if rate:
                bucket = self._buckets.get(key)
                if bucket is None:
                    # 10 ms of tokens: a late wake-up must not waste what accrued meanwhile.
                    bucket = self._buckets[key] = TokenBucket(rate, burst=max(1.0, rate / 100))
                await bucket.take()
        if len(self._buckets) > 100_000:  # forget idle chats' buckets
            self._buckets.clear()


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped


@dataclass
class DeliveryWorker:
    db: Database
    clock: Clock
    transport: Transport
    limits: RateLimits = field(default_factory=RateLimits)
    batch: int = 100
    in_flight: int = 20
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 8
    backoff: timedelta = timedelta(seconds=5)

    async def run_once(self) -> DeliveryStats:
        """Claim one batch of due messages and deliver them; returns what happened."""
        stats = DeliveryStats()
        messages = await outbox.claim(self.db, self.clock.now(), self.batch, self.lease)
        gate = asyncio.Semaphore(self.in_flight)

        async def one(message: OutboundMessage) -> None:
            async with gate:
                await self._deliver(message, stats)

        await asyncio.gather(*(one(m) for m in messages))
        return stats

    async def run_until_idle(self) -> DeliveryStats:
        """Deliver until nothing is due (a tick of the scheduler, or a test)."""
        total = DeliveryStats()
        while (stats := await self.run_once()).handled:
            for name in ("sent", "retried", "failed", "skipped"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
        return total

    async def _deliver(self, message: OutboundMessage, stats: DeliveryStats) -> None:
        route = await self.transport.route(message)
        if route is None:
            await outbox.mark_final(self.db, message, "skipped", "no channel to reach them")
            stats.skipped += 1
            return
        await self.limits.acquire(route.channel, route.address)
        if not await outbox.renew(self.db, message, self.clock.now(), self.lease):
            return  # the lease ran out while waiting and another worker took the row
        try:
            await self.transport.send(message, route)
        except DeliveryError as error:
            await self._failed(message, error, stats)
            return
        await outbox.mark_sent(self.db, message, self.clock.now(), route.channel)
        stats.sent += 1

    async def _failed(
        self, message: OutboundMessage, error: DeliveryError, stats: DeliveryStats
    ) -> None:
        if error.permanent or message.attempts >= self.max_attempts:
            why = (
                error.reason
                if error.permanent
                else f"gave up after {message.attempts} attempts: {error.reason}"
            )
            await outbox.mark_final(self.db, message, "failed", why)
            stats.failed += 1
            return
        if error.retry_after is not None:
            delay = timedelta(seconds=error.retry_after)
        else:
            delay = min(self.backoff * 2 ** (message.attempts - 1), MAX_BACKOFF)
        await outbox.mark_retry(self.db, message, self.clock.now() + delay, error.reason)
        stats.retried += 1
