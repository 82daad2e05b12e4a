"""Dialogue state in the database, and the lease that lets one process work on it at a time.

In one process, an `asyncio.Lock` per person serialises their updates; across processes
(two bot workers), a lease column claimed with a conditional UPDATE does. A lease that
outlives a crashed worker simply expires.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bookbot.engine.clock import Clock
from bookbot.store.db import Database, Tx

LEASE = timedelta(seconds=30)
CLAIM_WAIT = 10.0


class ConversationBusy(Exception):  # noqa: N818
    """Another worker held this dialogue for longer than we were willing to wait."""


@dataclass
class Conversation:
    id: int
    channel: str
    address: str
    studio_id: int
    customer_id: int | None
    language: str
    state: str
    data: dict[str, Any]
    options: list[dict[str, Any]]
    step: int
    message_ref: str | None
    updated_at: datetime
    created: bool = field(default=False, compare=False)


_COLUMNS = """id, channel, address, studio_id, customer_id, language, state, data, options, step,
    message_ref, updated_at"""


def _conversation(row: Any, created: bool = False) -> Conversation:
    return Conversation(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        json.loads(row[7]),
        json.loads(row[8]),
        row[9],
        row[10],
        row[11],
        created,
    )


async def find(db: Database, channel: str, address: str) -> Conversation | None:
    async with db.transaction(write=False) as tx:
        row = await tx.one(
            f"SELECT {_COLUMNS} FROM conversations WHERE channel = :channel AND address = :address",  # noqa: S608
            {"channel": channel, "address": address},
        )
    return None if row is None else _conversation(row)


async def create(
    db: Database,
    now: datetime,
    channel: str,
    address: str,
    *,
    studio_id: int,
    language: str,
    state: str,
) -> Conversation:
    """A new dialogue in `state`, or the one another worker created a moment ago."""
    params = {"channel": channel, "address": address}
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO conversations (channel, address, studio_id, language, state, updated_at)"
            " VALUES (:channel, :address, :studio_id, :language, :state, :now)"
            " ON CONFLICT (channel, address) DO NOTHING",
            {**params, "studio_id": studio_id, "language": language, "state": state, "now": now},
        )
        row = await tx.one(
            f"SELECT {_COLUMNS} FROM conversations WHERE channel = :channel AND address = :address",  # noqa: S608
            params,
        )
    return _conversation(row, created=True)


async def save(db: Database, conversation: Conversation, now: datetime, lease: Lease) -> None:
    """Write the dialogue back and release its lease, in one statement."""
    async with db.transaction() as tx:
        await save_in(tx, conversation, now)
    lease.held = False


async def save_in(tx: Tx, conversation: Conversation, now: datetime) -> None:
    """`save` inside the caller's transaction (with the replies it queues)."""
    c = conversation
    await tx.execute(
        "UPDATE conversations SET studio_id = :studio_id, customer_id = :customer_id,"
        " language = :language, state = :state, data = :data, options = :options,"
        " step = :step, message_ref = :message_ref, updated_at = :now, lease_until = NULL"
        " WHERE id = :id",
        {
            "studio_id": c.studio_id,
            "customer_id": c.customer_id,
            "language": c.language,
            "state": c.state,
            "data": json.dumps(c.data),
            "options": json.dumps(c.options),
            "step": c.step,
            "message_ref": c.message_ref,
            "now": now,
            "id": c.id,
        },
    )


async def _claim(db: Database, key: tuple[str, str], now: datetime) -> bool:
    async with db.transaction() as tx:
        claimed = await tx.execute(
            "UPDATE conversations SET lease_until = :until WHERE channel = :channel"
            " AND address = :address AND (lease_until IS NULL OR lease_until < :now)",
            {"until": now + LEASE, "now": now, "channel": key[0], "address": key[1]},
        )
    return claimed == 1


async def _release(db: Database, key: tuple[str, str]) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE conversations SET lease_until = NULL WHERE channel = :channel"
            " AND address = :address",
            {"channel": key[0], "address": key[1]},
        )


@dataclass
class Lease:
    held: bool = True


class Serializer:
    """One update at a time per person: a lock in this process, a lease across processes."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._users: dict[tuple[str, str], int] = {}

    @asynccontextmanager
    async def hold(self, channel: str, address: str) -> AsyncIterator[Lease]:
        """Hold the person's dialogue; `save` releases the lease with the new state, and
        anything left held (an early return, an error) is released on the way out."""
        key = (channel, address)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await self._lease(key)
                lease = Lease()
                try:
                    yield lease
                finally:
                    if lease.held:
                        await _release(self._db, key)
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # forget idle people so the maps do not grow
                del self._users[key], self._locks[key]

    async def _lease(self, key: tuple[str, str]) -> None:
        """Claim the lease; a dialogue not created yet has nothing to claim (and no rival)."""
        delay, waited = 0.01, 0.0
        while not await _claim(self._db, key, self._clock.now()):
            if not await _exists(self._db, key):
                return
            if waited >= CLAIM_WAIT:
                raise ConversationBusy(f"{key[0]}:{key[1]}")
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.5)


async def _exists(db: Database, key: tuple[str, str]) -> bool:
    async with db.transaction(write=False) as tx:
        found = await tx.scalar(
            "SELECT 1 FROM conversations WHERE channel = :channel AND address = :address",
            {"channel": key[0], "address": key[1]},
        )
    return found is not None


async def note_message(db: Database, channel: str, address: str, message_ref: str) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE conversations SET message_ref = :ref WHERE channel = :channel"
            " AND address = :address",
            {"ref": message_ref, "channel": channel, "address": address},
        )
