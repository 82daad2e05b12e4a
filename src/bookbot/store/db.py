"""How bookbot talks to its database: one small transaction API over the raw drivers.

`Database.transaction()` yields a `Tx` that runs SQL with `:name` parameters. A statement
that needs no transaction around it (a read, or one write that is whole by itself) runs on
the `Database` directly (`one`, `scalar`, `all`, `execute`): it commits on its own, with no
BEGIN and COMMIT around it, which on PostgreSQL are a round trip each. The seam is declared
in `db_api` (re-exported here, where callers import it from); two implementations share it:
SQLite, the default (`sqlite_db`), and PostgreSQL (`postgres_db`); their docstrings say how
each locks and commits.

Why not SQLAlchemy for queries: measured on this machine, a booking transaction through
SQLAlchemy's async engine over aiosqlite ran at ~220/s against ~10,000/s for the same
statements on `sqlite3` directly (bench/booking.py keeps that comparison honest).
SQLAlchemy still declares the schema (`schema.py`) and Alembic migrates it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bookbot.store.db_api import (
    Busy,
    Database,
    ExclusionViolation,
    Reads,
    Row,
    Tx,
    UniqueViolation,
    instant,
    record,
)
from bookbot.store.postgres_db import PostgresDatabase
from bookbot.store.sqlite_db import SQLiteDatabase

__all__ = [
    "Busy",
    "Database",
    "DatabaseURL",
    "ExclusionViolation",
    "Reads",
    "Row",
    "Tx",
    "UniqueViolation",
    "connect",
    "instant",
    "record",
    "retrying",
    "settle_pages",
]

_T = TypeVar("_T")


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed `BOOKBOT_DATABASE_URL`: `sqlite:///path` or `postgresql://...`."""

    dialect: str
    target: str  # a file path for SQLite, a libpq DSN for PostgreSQL

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        scheme, sep, rest = url.partition("://")
        if not sep:
            raise ValueError(f"not a database URL: {url!r} (try sqlite:///bookbot.db)")
        backend = scheme.split("+", 1)[0]
        if backend == "sqlite":
            path = rest[1:] if rest.startswith("/") else rest
            if not path or path == ":memory:":
                raise ValueError("SQLite needs a file path: sqlite:///bookbot.db")
            return cls("sqlite", path)
        if backend in ("postgresql", "postgres"):
            return cls("postgresql", f"postgresql://{rest}")
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")

    def sqlalchemy_url(self) -> str:
        """The async SQLAlchemy URL that Alembic uses for migrations."""
        if self.dialect == "sqlite":
            return f"sqlite+aiosqlite:///{self.target}"
        return self.target.replace("postgresql://", "postgresql+asyncpg://", 1)


async def connect(url: str, *, lock_timeout: float = 5.0, pool_size: int = 10) -> Database:
    """Open the database named by `url`. The schema must already be migrated.

    `pool_size`: on PostgreSQL, the most connections this process opens (the command line
    passes BOOKBOT_DB_POOL_SIZE); a transaction waits for a free one. SQLite uses one.
    """
    if pool_size < 1:
        raise ValueError(f"a connection pool needs 1 connection or more, not {pool_size}")
    parsed = DatabaseURL.parse(url)
    if parsed.dialect == "sqlite":
        return SQLiteDatabase(url, Path(parsed.target), lock_timeout=lock_timeout)
    return await PostgresDatabase.open(url, parsed.target, lock_timeout, pool_size)


async def retrying(operation: Callable[[], Awaitable[_T]], *, attempts: int = 3) -> _T:
    """Run `operation()` (one whole transaction), retrying a bounded number of times on Busy."""
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except Busy:
            if attempt == attempts:
                raise
            await asyncio.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


async def settle_pages(
    db: Database,
    sql: str,
    params: Mapping[str, object],
    settle: Callable[[Row], Awaitable[tuple[int, bool]]],
    *,
    batch: int,
) -> int:
    """A sweep's loop: read a page of due rows (`sql`, given `params` and `:limit`) outside
    any write transaction, settle each in its own (the event loop gets a turn between them),
    and read again until a page comes back short or made no progress: what is left then was
    moved meanwhile by a racing writer, or waits for the next sweep rather than being read
    again and again. `settle` returns what it moved and whether its row made progress;
    returns the sum of what moved."""
    moved = 0
    while True:
        async with db.transaction(write=False) as tx:
            rows = await tx.all(sql, {**params, "limit": batch})
        progressed = False
        for row in rows:
            count, done = await settle(row)
            moved += count
            progressed = progressed or done
            await asyncio.sleep(0)
        if len(rows) < batch or not progressed:
            return moved
