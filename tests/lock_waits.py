"""Making a PostgreSQL race happen on purpose: wait until connections queue on a lock (a
condition, polled, not a guessed delay), and take a refusal as an outcome like a result."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from bookbot.engine import errors
from bookbot.store.db import Database

LOCK_WAIT = 10.0  # seconds for an operation to reach the gate


async def waiting_on_locks(db: Database) -> int:
    async with db.transaction(write=False) as tx:
        return int(
            await tx.scalar(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
        )


async def until_waiting(db: Database, count: int) -> None:
    """Poll until `count` connections wait for a lock."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOCK_WAIT
    while await waiting_on_locks(db) < count:
        assert loop.time() < deadline, f"expected {count} operation(s) waiting on the gate"
        await asyncio.sleep(0.005)


async def outcome(operation: Awaitable[Any]) -> Any:
    """What the caller is told: the result, or the refusal."""
    try:
        return await operation
    except errors.BookingError as refusal:
        return refusal
