"""The transaction layer: instants stay aware UTC, locks time out as Busy, migrations match."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from bookbot.store.db import Busy, Database, DatabaseURL, connect
from bookbot.store.schema import metadata


async def _insert_studio(db: Database) -> int:
    async with db.transaction() as tx:
        return int(
            await tx.scalar(
                "INSERT INTO studios (slug, name, timezone, currency, default_language)"
                " VALUES ('s', 'S', 'UTC', 'EUR', 'en') RETURNING id"
            )
        )


async def test_instants_come_back_aware_utc_and_dates_as_dates(db: Database) -> None:
    sid = await _insert_studio(db)
    async with db.transaction() as tx:
        when = datetime(2027, 1, 4, 19, 30, tzinfo=timezone(timedelta(hours=1)))
        cid = await tx.scalar(
            "INSERT INTO customers (studio_id, name, created_at) VALUES (:sid, 'A', :when) RETURNING id",
            {"sid": sid, "when": when},
        )
        stored = await tx.scalar("SELECT created_at FROM customers WHERE id = :id", {"id": cid})
    assert stored == datetime(2027, 1, 4, 18, 30, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(db: Database) -> None:
    sid = await _insert_studio(db)
    with pytest.raises((ValueError, TypeError)):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO customers (studio_id, name, created_at) VALUES (:sid, 'A', :when)",
                {"sid": sid, "when": datetime(2027, 1, 4, 18, 30)},  # noqa: DTZ001 - the point
            )


async def _insert_then_fail(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO studios (slug, name, timezone, currency, default_language)"
            " VALUES ('s', 'S', 'UTC', 'EUR', 'en')"
        )
        raise RuntimeError("boom")


async def test_failed_transaction_writes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        await _insert_then_fail(db)
    async with db.transaction(write=False) as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM studios") == 0


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_write_lock_held_elsewhere_becomes_busy(
    backend: str, tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "locked.db"
    shutil.copyfile(sqlite_template, path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding SQLite's write lock
    db = await connect(f"sqlite:///{path}", lock_timeout=0.2)
    try:
        with pytest.raises(Busy):
            async with db.transaction() as tx:
                await tx.execute("DELETE FROM studios")
        async with db.transaction(write=False) as tx:  # WAL: readers still read
            assert await tx.scalar("SELECT COUNT(*) FROM studios") == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
        await db.close()


async def test_migrations_produce_exactly_the_declared_schema(database_url: str) -> None:
    engine = create_async_engine(DatabaseURL.parse(database_url).sqlalchemy_url())
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata)
        )
    await engine.dispose()
    assert diff == []


@pytest.mark.parametrize(
    ("url", "dialect"),
    [
        ("sqlite:///x.db", "sqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite"),
        ("postgresql://u@h/db", "postgresql"),
        ("postgresql+asyncpg://u@h/db", "postgresql"),
    ],
)
def test_database_urls(url: str, dialect: str) -> None:
    assert DatabaseURL.parse(url).dialect == dialect


@pytest.mark.parametrize("url", ["mysql://x/y", "bookbot.db", "sqlite://", "sqlite:///:memory:"])
def test_unsupported_database_urls_are_explained(url: str) -> None:
    with pytest.raises(ValueError, match="sqlite"):
        DatabaseURL.parse(url)
