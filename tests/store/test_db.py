"""The transaction layer: instants stay aware UTC, locks time out as Busy, migrations match."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import shutil
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from bookbot.store.db import (
    Busy,
    Database,
    DatabaseURL,
    Tx,
    UniqueViolation,
    connect,
    record,
)
from bookbot.store.migrate import alembic_config
from bookbot.store.schema import metadata

_NEW_STUDIO = (
    "INSERT INTO studios (slug, name, timezone, currency, default_language)"
    " VALUES ('{slug}', 'S', 'UTC', 'EUR', 'en')"
)


async def _insert_studio(db: Database) -> int:
    async with db.transaction() as tx:
        return int(await tx.scalar(_NEW_STUDIO.format(slug="s") + " RETURNING id"))


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
        await tx.execute(_NEW_STUDIO.format(slug="s"))
        raise RuntimeError("boom")


async def test_failed_transaction_writes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        await _insert_then_fail(db)
    async with db.transaction(write=False) as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM studios") == 0


async def test_sqlite_write_lock_held_elsewhere_becomes_busy(
    tmp_path: Path, sqlite_template: Path
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


def _locked_file(tmp_path: Path, template: Path, journal_mode: str = "wal") -> Path:
    path = tmp_path / "locked.db"
    shutil.copyfile(template, path)
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute(f"PRAGMA journal_mode={journal_mode}")
    setup.close()
    return path


def _holder(path: Path, hold: str) -> sqlite3.Connection:
    """Another connection (as if another process) holding a lock on the file."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE" if hold == "exclusive" else "BEGIN")
    if hold == "shared":
        other.execute("SELECT COUNT(*) FROM studios").fetchone()
    return other


def _journal_mode(path: Path) -> str:
    probe = sqlite3.connect(path)
    try:
        return str(probe.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        probe.close()


# Opening the connection runs PRAGMAs that meet other connections' locks: "exclusive"
# blocks even reading the schema (PRAGMA journal_mode), "shared" blocks the switch to WAL
# (PRAGMA journal_mode=WAL). Both are what a connection meets when another process holds
# the file for a moment (closing its WAL connection, for one).
CONNECT_TIME_LOCKS = ["exclusive", "shared"]


@pytest.mark.parametrize("hold", CONNECT_TIME_LOCKS)
async def test_sqlite_lock_at_connect_is_waited_for(
    hold: str, tmp_path: Path, sqlite_template: Path
) -> None:
    path = _locked_file(tmp_path, sqlite_template, journal_mode="delete")
    other = _holder(path, hold)
    asyncio.get_running_loop().call_later(0.2, other.execute, "ROLLBACK")
    db = await connect(f"sqlite:///{path}", lock_timeout=10)
    try:
        async with db.transaction(write=False) as tx:
            assert await tx.scalar("SELECT COUNT(*) FROM studios") == 0
    finally:
        other.close()
        await db.close()
    assert _journal_mode(path) == "wal"


@pytest.mark.parametrize("hold", CONNECT_TIME_LOCKS)
async def test_sqlite_lock_at_connect_outlasting_the_timeout_is_busy(
    hold: str, tmp_path: Path, sqlite_template: Path
) -> None:
    path = _locked_file(tmp_path, sqlite_template, journal_mode="delete")
    other = _holder(path, hold)
    db = await connect(f"sqlite:///{path}", lock_timeout=0.2)
    try:
        with pytest.raises(Busy) as raised:
            await db.execute("DELETE FROM studios")
        assert raised.value.__cause__.sqlite_errorcode == 5  # type: ignore[union-attr]
        other.execute("ROLLBACK")
        assert await db.execute("DELETE FROM studios") == 0  # the same db opens afresh
    finally:
        other.close()
        await db.close()


async def test_sqlite_lone_statement_waits_for_the_write_lock(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = _locked_file(tmp_path, sqlite_template)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.2, other.execute, "ROLLBACK")
    db = await connect(f"sqlite:///{path}", lock_timeout=10)
    try:
        started = time.monotonic()
        assert await db.execute("DELETE FROM studios") == 0
        assert time.monotonic() - started >= 0.15
    finally:
        other.close()
        await db.close()


async def test_sqlite_lone_reads_take_no_write_lock(tmp_path: Path, sqlite_template: Path) -> None:
    path = _locked_file(tmp_path, sqlite_template)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing throughout
    db = await connect(f"sqlite:///{path}", lock_timeout=0.2)
    try:
        assert await db.scalar("SELECT COUNT(*) AS n FROM studios") == 0
        assert await db.one("SELECT COUNT(*) AS n FROM studios") is not None
        assert await db.all("SELECT id FROM studios") == []
        with pytest.raises(Busy):
            await db.execute(_NEW_STUDIO.format(slug="s"))
    finally:
        other.execute("ROLLBACK")
        other.close()
        await db.close()


async def test_a_lone_statement_runs_outside_any_transaction(db: Database) -> None:
    # VACUUM refuses to run inside a transaction, on SQLite and on PostgreSQL alike.
    await db.execute("VACUUM")
    sid = await db.scalar(_NEW_STUDIO.format(slug="s") + " RETURNING id")
    async with db.transaction(write=False) as tx:  # committed by itself
        assert await tx.scalar("SELECT slug FROM studios WHERE id = :id", {"id": sid}) == "s"


async def test_a_unique_violation_is_one_error_however_the_write_is_sent(db: Database) -> None:
    await _insert_studio(db)
    with pytest.raises(UniqueViolation):
        await db.execute(_NEW_STUDIO.format(slug="s"))
    with pytest.raises(UniqueViolation):
        await db.one(_NEW_STUDIO.format(slug="s") + " RETURNING id")
    with pytest.raises(UniqueViolation):
        async with db.transaction() as tx:
            await tx.execute_many(
                "INSERT INTO studios (slug, name, timezone, currency, default_language)"
                " VALUES (:slug, 'S', 'UTC', 'EUR', 'en')",
                [{"slug": "t"}, {"slug": "t"}],
            )
    assert await db.scalar("SELECT COUNT(*) AS n FROM studios") == 1


async def _transaction_started(tx: Tx) -> datetime:
    started: datetime = await tx.scalar(
        "SELECT xact_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
    )
    return started


@pytest.mark.postgres
async def test_postgres_reads_take_no_begin_and_writes_are_still_refused(
    postgres_url: str,
) -> None:
    import asyncpg

    db = await connect(postgres_url)
    try:
        async with db.transaction(write=False) as tx:
            first = await _transaction_started(tx)
            await asyncio.sleep(0.01)
            assert await _transaction_started(tx) > first  # each read is its own
            # One snapshot for what follows: this opens a (READ ONLY) transaction block.
            await tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            opened = await _transaction_started(tx)
            await asyncio.sleep(0.01)
            assert await _transaction_started(tx) == opened
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            async with db.transaction(write=False) as tx:
                await tx.execute("DELETE FROM studios WHERE id < 0")
        async with db.transaction() as tx:  # the connection is back to normal
            assert await tx.execute("DELETE FROM studios WHERE id < 0") == 0
    finally:
        await db.close()


async def test_rows_map_to_dataclasses_by_column_name(db: Database) -> None:
    sid = await _insert_studio(db)
    row = await db.one(
        "SELECT name AS s_name, slug AS s_slug, id AS s_id FROM studios WHERE id = :id",
        {"id": sid},
    )
    assert row is not None
    assert record(_Named, row, "s_") == _Named(id=sid, slug="s", name="S")


@dataclass(frozen=True)
class _Named:
    id: int
    slug: str
    name: str


async def _read_then_write(db: Database, other: sqlite3.Connection, other_does: str) -> None:
    async with db.transaction(write=False) as tx:  # a reader that then writes
        await tx.scalar("SELECT COUNT(*) FROM studios")
        other.execute(other_does)
        await tx.execute(_NEW_STUDIO.format(slug="s"))


@pytest.mark.parametrize(
    ("other_does", "code"),
    [
        # SQLITE_BUSY: another connection is writing
        pytest.param("BEGIN IMMEDIATE", 5, id="busy"),
        # SQLITE_BUSY_SNAPSHOT: another connection wrote since our read; waiting cannot help
        pytest.param(_NEW_STUDIO.format(slug="o"), 517, id="busy_snapshot"),
    ],
)
async def test_sqlite_lock_inside_a_transaction_is_busy(
    other_does: str, code: int, tmp_path: Path, sqlite_template: Path
) -> None:
    path = _locked_file(tmp_path, sqlite_template)
    other = sqlite3.connect(path, isolation_level=None)
    db = await connect(f"sqlite:///{path}", lock_timeout=0.2)
    try:
        with pytest.raises(Busy) as raised:
            await _read_then_write(db, other, other_does)
        assert raised.value.__cause__.sqlite_errorcode == code  # type: ignore[union-attr]
        if other.in_transaction:
            other.execute("ROLLBACK")
        assert await _insert_studio(db) > 0  # rolled back cleanly; the db goes on
    finally:
        other.close()
        await db.close()


def _flaky_commits(monkeypatch: pytest.MonkeyPatch, failures: int, code: int) -> list[int]:
    """Make the next `failures` COMMITs fail as SQLite does when a lock is in the way;
    the returned list holds how many are left (set it to 0 to let the lock go)."""
    left = [failures]

    class FlakyCommit(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql == "COMMIT" and left[0] > 0:
                left[0] -= 1
                error = sqlite3.OperationalError("database is locked")
                error.sqlite_errorcode = code  # type: ignore[attr-defined]
                raise error
            return super().execute(sql, *args)

    monkeypatch.setattr(sqlite3, "connect", functools.partial(sqlite3.connect, factory=FlakyCommit))
    return left


async def test_sqlite_busy_commit_is_retried(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_template: Path
) -> None:
    path = _locked_file(tmp_path, sqlite_template)
    _flaky_commits(monkeypatch, failures=3, code=261)  # SQLITE_BUSY_RECOVERY
    db = await connect(f"sqlite:///{path}", lock_timeout=10)
    try:
        await _insert_studio(db)
        async with db.transaction(write=False) as tx:
            assert await tx.scalar("SELECT COUNT(*) FROM studios") == 1
    finally:
        await db.close()


async def test_sqlite_commit_locked_past_the_timeout_is_busy_and_rolled_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_template: Path
) -> None:
    path = _locked_file(tmp_path, sqlite_template)
    left = _flaky_commits(monkeypatch, failures=10**6, code=6)  # SQLITE_LOCKED
    db = await connect(f"sqlite:///{path}", lock_timeout=0.1)
    try:
        with pytest.raises(Busy):
            await _insert_studio(db)
        left[0] = 0
        async with db.transaction(write=False) as tx:
            assert await tx.scalar("SELECT COUNT(*) FROM studios") == 0
    finally:
        await db.close()


@pytest.mark.parametrize(
    "sql",
    [
        "SELEC 1",  # a syntax error
        "SELECT * FROM locked_out",  # "no such table: locked_out": says locked, is not a lock
        "SELECT * FROM database_is_busy",
    ],
)
async def test_sqlite_errors_that_are_not_locks_stay_what_they_are(
    sql: str, tmp_path: Path, sqlite_template: Path
) -> None:
    path = _locked_file(tmp_path, sqlite_template)
    db = await connect(f"sqlite:///{path}", lock_timeout=10)
    try:
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError) as raised:
            async with db.transaction() as tx:
                await tx.execute(sql)
        assert raised.value.sqlite_errorcode == 1  # SQLITE_ERROR
        assert time.monotonic() - started < 1  # not retried as if it were a lock
        assert await _insert_studio(db) > 0
    finally:
        await db.close()


async def _orphan_at_commit(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("PRAGMA defer_foreign_keys=ON")  # checked at COMMIT, not before
        await tx.execute(
            "INSERT INTO customers (studio_id, name, created_at) VALUES (999, 'A', :now)",
            {"now": datetime(2027, 1, 4, tzinfo=UTC)},
        )


async def test_sqlite_commit_refused_for_another_reason_rolls_back(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = _locked_file(tmp_path, sqlite_template)
    db = await connect(f"sqlite:///{path}", lock_timeout=10)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            await _orphan_at_commit(db)
        assert await _insert_studio(db) > 0  # no transaction was left open
        async with db.transaction(write=False) as tx:
            assert await tx.scalar("SELECT COUNT(*) FROM customers") == 0
    finally:
        await db.close()


async def _churn_for(url: str, seconds: float) -> list[str]:
    failures: list[str] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        db = await connect(url, lock_timeout=30)
        try:
            async with db.transaction(write=False) as tx:
                await tx.scalar("SELECT COUNT(*) FROM studios")
        except Exception as error:  # reported to the parent
            failures.append(repr(error))
        finally:
            await db.close()
    return failures


def _churn(barrier: Any, results: Any, url: str, seconds: float) -> None:
    """One process opening, reading and closing over and over. Each close of a WAL connection
    locks the file for a moment (it checks whether it is the last one, to checkpoint);
    another process's opening PRAGMAs meet that lock. This is how a raw "database is locked"
    once escaped tests/services/test_concurrency.py."""
    try:
        barrier.wait(timeout=60)
        results.put(asyncio.run(_churn_for(url, seconds)))
    except Exception as error:  # reported to the parent
        results.put([repr(error)])


def _churn_in_processes(url: str, processes: int, seconds: float) -> list[str]:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_churn, args=(barrier, results, url, seconds))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        return [failure for _ in workers for failure in results.get(timeout=120)]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()


async def test_sqlite_processes_opening_and_closing_at_once_never_see_a_lock_error(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = _locked_file(tmp_path, sqlite_template)
    parent = await connect(f"sqlite:///{path}")  # open throughout, as a test's own db is
    try:
        await parent.execute("DELETE FROM studios")
        failures = await asyncio.to_thread(_churn_in_processes, f"sqlite:///{path}", 3, 1.0)
    finally:
        await parent.close()
    assert failures == []


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


def test_migration_0008_keeps_the_inbound_ids_already_seen(tmp_path: Path) -> None:
    """Ids recorded by the old `inbound_receipts` stay known in the inbox (as done), so a
    late redelivery of one of them is still recognised; downgrading brings them back."""
    path = tmp_path / "old.db"
    config = alembic_config(f"sqlite:///{path}")
    command.upgrade(config, "0007")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO inbound_receipts VALUES ('twilio', 'SM1', '2026-11-01 10:00:00+00:00')"
        )
    command.upgrade(config, "head")
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT source, external_id, status FROM inbox").fetchall()
    assert rows == [("twilio", "SM1", "done")]
    command.downgrade(config, "0007")
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT external_id FROM inbound_receipts").fetchall() == [("SM1",)]


def test_migration_0009_writes_old_phones_in_e164_unless_another_customer_has_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    config = alembic_config(f"sqlite:///{path}")
    command.upgrade(config, "0008")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO studios (id, slug, name, timezone, currency, default_language)"
            " VALUES (1, 's', 'S', 'Europe/London', 'GBP', 'en')"
        )
        for id_, phone in ((1, "+44 7700 900123"), (2, "+447700900124"), (3, "+44 7700 900124")):
            conn.execute(
                "INSERT INTO customers (id, studio_id, name, phone, created_at)"
                " VALUES (:id, 1, 'x', :phone, '2026-11-01 10:00:00+00:00')",
                {"id": id_, "phone": phone},
            )
        conn.execute(
            "INSERT INTO staff (id, studio_id, key, name, phone) VALUES (1, 1, 'tom', 'Tom',"
            " '+44 20 7946 0101')"
        )
    command.upgrade(config, "0009")
    with closing(sqlite3.connect(path)) as conn:
        customers = conn.execute("SELECT phone FROM customers ORDER BY id").fetchall()
        staff = conn.execute("SELECT phone FROM staff").fetchall()
    # the third is the second person's number spelt another way: left for staff to merge
    assert customers == [("+447700900123",), ("+447700900124",), ("+44 7700 900124",)]
    assert staff == [("+442079460101",)]
