"""The delivery job: claims due outbox rows and sends them, within each channel's limits.

Telegram allows about 30 messages/s per bot and 1/s per chat; Twilio about 1/s per long
code (more with a Messaging Service); WhatsApp about 80/s. Limits are token buckets per
channel and per address. A 429 is retried after its `retry_after`, and other messages
to that chat wait as long (postponed, not sent into the refusal); other temporary
failures back off exponentially; after `max_attempts` (or a permanent failure such as a
blocked bot or an opted-out number) the row is marked failed with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Coroutine, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bookbot.engine.clock import Clock
from bookbot.jobs.batching import Batched
from bookbot.jobs.waking import Waker
from bookbot.services import outbox
from bookbot.services.transport import DeliveryError, OutboundMessage, Route, Transport
from bookbot.store.db import Database
from bookbot.store.heartbeat import Heartbeat

log = logging.getLogger(__name__)
CHANNEL_SEND_RATES = {"telegram": 30.0, "sms": 1.0, "whatsapp": 80.0}
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
    per_channel: dict[str, float] = field(default_factory=lambda: dict(CHANNEL_SEND_RATES))
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
    confirmed: int = 0  # in doubt after a crash; the channel said it had arrived
    resent_unsure: int = 0  # in doubt, and the channel could not say: sent again
    postponed: int = 0  # its chat is waiting out a 429

    @property
    def handled(self) -> int:
        return (
            self.sent + self.retried + self.failed + self.skipped + self.confirmed + self.postponed
        )

    def add(self, other: DeliveryStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class DeliveryWorker:
    """Claims due rows and sends them; a rolling window of claims, so a slow channel's queue
    never holds back a fast one's. `stop()` finishes the sends under way and gives back the
    rest, so a clean shutdown leaves nothing in doubt."""

    db: Database
    clock: Clock
    transport: Transport
    limits: RateLimits = field(default_factory=RateLimits)
    batch: int = 100
    in_flight: int = 20
    # Short and renewed while the rows are held (waiting their turn, being sent): after a
    # crash, the restart (or another process) takes a dead worker's rows over within seconds.
    lease: timedelta = timedelta(seconds=10)
    max_attempts: int = 8
    backoff: timedelta = timedelta(seconds=5)
    _waker: Waker = field(default_factory=Waker, repr=False)
    _running: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _chats: _ChatLocks = field(default_factory=lambda: _ChatLocks(), repr=False)
    # (channel, address) -> when a 429's retry_after for that chat runs out
    _chat_waits: dict[tuple[str, str], datetime] = field(default_factory=dict, repr=False)
    # (outbox id, claim token) -> the claimed rows whose delivery has not finished
    _held: dict[tuple[int, str], OutboundMessage] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # The two writes around every send, grouped across the sends under way.
        self._begin: Batched[OutboundMessage, bool] = Batched(self._begin_many)
        self._sent: Batched[tuple[OutboundMessage, str], None] = Batched(self._sent_many)

    async def _begin_many(self, messages: Sequence[OutboundMessage]) -> list[bool]:
        held = await outbox.begin_sends(self.db, messages, self.clock.now(), self.lease)
        return [m.outbox_id in held for m in messages]

    async def _sent_many(self, sent: Sequence[tuple[OutboundMessage, str]]) -> list[None]:
        await outbox.mark_all_sent(self.db, sent, self.clock.now())
        return [None] * len(sent)

    def wake(self) -> None:
        """Something was queued that should go now (a reply): deliver without waiting."""
        self._waker.wake()

    async def run(self, poll_seconds: float = 5.0) -> None:
        """Deliver until `stop()`: at once when woken, and every `poll_seconds` for what
        became due meanwhile (reminders, retries, other processes' rows)."""
        await self._waker.loop(self._run_following, poll_seconds, "delivery")

    async def run_until_idle(self) -> DeliveryStats:
        """One bounded pass (`bookbot jobs --once`, a test): deliver the rows due when it
        begins, then return. What falls due meanwhile (new offers, retries, postponed chats)
        waits for the next pass, so the pass ends however fast new rows arrive: each row is
        claimed at most once in it."""
        return await self._pass(self.clock.now())

    async def _run_following(self) -> DeliveryStats:
        """A pass of `run`, which also takes what falls due while it runs: a reply queued
        during a long broadcast goes out at the next claim, not after the broadcast."""
        return await self._pass(None)

    async def _pass(self, due_by: datetime | None) -> DeliveryStats:
        """Deliver until nothing due by `due_by` (None: by now, each time) is left. Claims
        more as soon as half the claimed rows are done, not when the slowest is."""
        stats = DeliveryStats()
        async with self._running:
            beating = Heartbeat(self.lease.total_seconds() / 3, self._renew, "outbox rows")
            beating.start()
            try:
                await self._deliver_due(due_by, stats)
            finally:
                await beating.stop()
        return stats

    async def _deliver_due(self, due_by: datetime | None, stats: DeliveryStats) -> None:
        window = _Window(self.batch // 2)
        gate = asyncio.Semaphore(self.in_flight)
        while not self._waker.stopping and not window.errors:
            want = self.batch - len(window.tasks)
            claimed = await self._claim(due_by, want)
            window.start(self._gated(gate, m, stats) for m in claimed)
            if len(claimed) == want:
                await window.room()
            elif not window.tasks:
                break  # nothing due and nothing under way
            else:
                await window.drained()  # then look once more for newly due rows
        await window.drained()
        if window.errors:
            raise window.errors[0]

    async def _renew(self) -> bool:
        """Hold the rows still ours for another lease (a beat every third of one)."""
        if self._held:
            await outbox.renew(self.db, list(self._held.values()), self.clock.now() + self.lease)
        return True  # a row taken over is skipped by its own guarded writes

    async def _claim(self, due_by: datetime | None, want: int) -> list[OutboundMessage]:
        now = self.clock.now()
        cutoff = now if due_by is None else min(due_by, now)
        # `claim` counts the lease from the instant it is given: add the time since the
        # cutoff, so the lease still runs `self.lease` from now.
        claimed = await outbox.claim(self.db, cutoff, want, self.lease + (now - cutoff))
        self._held.update(((m.outbox_id, m.claim_token), m) for m in claimed)
        return claimed

    @property
    def stopping(self) -> bool:
        return self._waker.stopping

    async def stop(self) -> None:
        """Stop claiming; finish the sends under way, give the rest back; wait for that."""
        self._waker.stop()
        async with self._running:
            pass

    async def _gated(
        self, gate: asyncio.Semaphore, message: OutboundMessage, stats: DeliveryStats
    ) -> None:
        """One message, after the earlier ones to the same chat (taken in claim order)."""
        try:
            async with self._chats.turn(_chat_of(message)), gate:
                try:
                    await self._deliver(message, stats)
                except Exception as error:  # any failure counts as an attempt
                    log.exception("outbox %s: delivery failed", message.outbox_id)
                    failure = DeliveryError(f"{type(error).__name__}: {error}")
                    await self._failed(message, failure, stats, None)
        finally:
            self._held.pop((message.outbox_id, message.claim_token), None)

    async def _deliver(self, message: OutboundMessage, stats: DeliveryStats) -> None:
        if self._waker.stopping:
            await outbox.release(self.db, message)
            return
        route = await self.transport.route(message)
        if route is None:
            await outbox.mark_final(self.db, message, "skipped", "no channel to reach them")
            stats.skipped += 1
            return
        waits = self._chat_waits.get((route.channel, route.address))
        if waits is not None and waits > self.clock.now():
            await outbox.postpone(self.db, message, waits)
            stats.postponed += 1
            return
        if message.in_doubt_since is not None and await self._arrived(message, route, stats):
            return
        await self.limits.acquire(route.channel, route.address)
        if self._waker.stopping:
            await outbox.release(self.db, message)
            return
        started = self.clock.now()
        if not await self._begin(message):
            return  # the lease ran out while waiting and another worker took the row
        try:
            await self.transport.send(message, route)
        except DeliveryError as error:
            await self._failed(message, error, stats, started if error.maybe_sent else None, route)
            return
        except Exception as error:  # a bug or a surprise: still one attempt
            log.exception("outbox %s: send failed", message.outbox_id)
            failure = DeliveryError(f"{type(error).__name__}: {error}")
            await self._failed(message, failure, stats, started, route)  # it may have gone
            return
        await self._sent((message, route.channel))
        stats.sent += 1

    def _wait_for_chat(self, route: Route, until: datetime) -> None:
        key = (route.channel, route.address)
        self._chat_waits[key] = max(until, self._chat_waits.get(key, until))
        if len(self._chat_waits) > 10_000:  # forget waits that are over
            now = self.clock.now()
            self._chat_waits = {k: t for k, t in self._chat_waits.items() if t > now}

    async def _arrived(self, message: OutboundMessage, route: Route, stats: DeliveryStats) -> bool:
        """An earlier send's outcome is unknown: ask the channel before sending again."""
        since = message.in_doubt_since
        assert since is not None  # noqa: S101 - checked by the caller
        try:
            arrived = await self.transport.already_sent(message, route, since)
        except DeliveryError as error:  # cannot ask now: ask again later, still in doubt
            await self._failed(message, error, stats, since)
            return True
        if arrived:
            await outbox.mark_sent(self.db, message, self.clock.now(), route.channel)
            stats.confirmed += 1
            return True
        if arrived is None:
            log.info(
                "outbox %s: an interrupted send may have arrived; %s cannot say, sending again",
                message.outbox_id,
                route.channel,
            )
            stats.resent_unsure += 1
        return False

    async def _failed(
        self,
        message: OutboundMessage,
        error: DeliveryError,
        stats: DeliveryStats,
        in_doubt_since: datetime | None,
        route: Route | None = None,
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
        if route is not None:  # the chat's later messages wait too: they keep their order
            self._wait_for_chat(route, self.clock.now() + delay)
        await outbox.mark_retry(
            self.db, message, self.clock.now() + delay, error.reason, in_doubt_since=in_doubt_since
        )
        stats.retried += 1


def _chat_of(message: OutboundMessage) -> tuple[str, str] | None:
    """Whose messages must keep their order: a reply's chat (a conversation read out of
    order makes no sense). Notices (reminders of different classes) need no order."""
    if message.channel is not None and message.address is not None:
        return (message.channel, message.address)
    return None


class _ChatLocks:
    """One lock per chat, taken in the order the deliveries start; forgotten when idle."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, chat: tuple[str, str] | None) -> AsyncIterator[None]:
        if chat is None:
            yield
            return
        lock, users = self._locks.get(chat, (asyncio.Lock(), 0))
        self._locks[chat] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat]
            if users == 1:
                del self._locks[chat]
            else:
                self._locks[chat] = (lock, users - 1)


class _Window:
    """The deliveries under way in one run: room for more once at most `low` are left."""

    def __init__(self, low: int) -> None:
        self.low = low
        self.tasks: set[asyncio.Task[None]] = set()
        self.errors: list[BaseException] = []
        self._room = asyncio.Event()
        self._drained = asyncio.Event()

    def start(self, deliveries: Iterable[Coroutine[Any, Any, None]]) -> None:
        for delivery in deliveries:
            task = asyncio.create_task(delivery)
            self.tasks.add(task)
            task.add_done_callback(self._done)
        self._room.clear()
        self._drained.clear()

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(task.exception())  # type: ignore[arg-type]
        if len(self.tasks) <= self.low:
            self._room.set()
        if not self.tasks:
            self._drained.set()

    async def room(self) -> None:
        await self._room.wait()

    async def drained(self) -> None:
        if self.tasks:
            await self._drained.wait()
