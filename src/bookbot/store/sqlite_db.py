"""SQLite (the default): the standard library's `sqlite3` on the event-loop thread, one
connection per process guarded by an `asyncio.Lock`. A write transaction starts with
`BEGIN IMMEDIATE`, which takes SQLite's only write lock up front, so every check-then-write
inside it is serialised against every other process too. The busy handler is off (it would
block the loop). Every step that can meet another connection's lock (opening the connection
and its PRAGMAs, BEGIN, COMMIT) is retried with async backoff until `lock_timeout`, then
`Busy` is raised; a lock met inside a transaction is `Busy` at once, for `retrying` to rerun
the whole transaction. Lock errors are told apart by SQLite's result code (BUSY, LOCKED),
never by message text."""

from __future__ import annotations

import asyncio
import sqlite3
import time as _time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from bookbot.store.db_api import Busy, Database, Params, Row, Tx, UniqueViolation

_T = TypeVar("_T")

_PLAIN = (int, str, float, bytes, type(None))


def _to_sqlite(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: instants must be timezone-aware")
        # Fixed width, so text comparison in SQL orders instants correctly.
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _sqlite_params(params: Params) -> dict[str, Any]:
    return {k: _to_sqlite(v) for k, v in (params or {}).items()}


def _parse_instant(raw: bytes) -> datetime:
    parsed = datetime.fromisoformat(raw.decode())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# Converters are chosen by declared column type (SQLAlchemy emits these names on SQLite).
sqlite3.register_converter("DATETIME", _parse_instant)
sqlite3.register_converter("DATE", lambda raw: date.fromisoformat(raw.decode()))
sqlite3.register_converter("TIME", lambda raw: time.fromisoformat(raw.decode()))
sqlite3.register_converter("BOOLEAN", lambda raw: raw not in (b"0", b""))


# Primary result codes; extended codes (SQLITE_BUSY_SNAPSHOT = 517, SQLITE_BUSY_RECOVERY = 261,
# SQLITE_LOCKED_SHAREDCACHE = 262, ...) carry the primary one in their low byte.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
_LOCK_CODES = (SQLITE_BUSY, SQLITE_LOCKED)
# SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY.
_UNIQUE_CODES = (2067, 1555)


def _is_locked(error: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds a lock (by result code: the
    message text is for people, and "no such table: locked_out" is not a lock)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _LOCK_CODES


def _translated(error: sqlite3.Error) -> Exception | None:
    """The project's error for a driver error, or None to let the driver's own through."""
    if _is_locked(error):
        return Busy(str(error))
    if getattr(error, "sqlite_errorcode", None) in _UNIQUE_CODES:
        return UniqueViolation(str(error))
    return None


class _Backoff:
    """Async waits between attempts on a locked database (1 ms doubling to 50 ms), so the
    event loop keeps running; once `timeout` seconds have gone by, `Busy` instead."""

    def __init__(self, timeout: float) -> None:
        self._deadline = _time.monotonic() + timeout
        self._delay = 0.001

    async def wait(self, error: sqlite3.Error) -> None:
        remaining = self._deadline - _time.monotonic()
        if remaining <= 0:
            raise Busy(str(error)) from error
        await asyncio.sleep(min(self._delay, remaining))
        self._delay = min(self._delay * 2, 0.05)


def _open(path: Path) -> sqlite3.Connection:
    """A configured connection. Its PRAGMAs read (and may change) the file, so they can meet
    another connection's lock, e.g. one closing its WAL; on any error nothing is left open."""
    conn = sqlite3.connect(
        path,
        isolation_level=None,  # we issue BEGIN/COMMIT ourselves
        detect_types=sqlite3.PARSE_DECLTYPES,
        check_same_thread=False,
        timeout=0,
    )
    try:
        conn.row_factory = sqlite3.Row
        # Switching to WAL needs the write lock; the mode persists, so ask first.
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _start(conn: sqlite3.Connection, write: bool) -> None:
    """Begin a transaction holding every lock it will need, so that waiting for a lock
    happens here, where it can be retried, rather than at some statement in the middle."""
    if write:
        conn.execute("BEGIN IMMEDIATE")  # the write lock (and the read snapshot) now
        return
    conn.execute("BEGIN")
    try:
        conn.execute("PRAGMA schema_version").fetchone()  # takes the read snapshot now
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _fetch_all(conn: sqlite3.Connection, sql: str, params: Params) -> list[Row]:
    rows: list[Row] = conn.execute(sql, _sqlite_params(params)).fetchall()
    return rows


def _fetch_one(conn: sqlite3.Connection, sql: str, params: Params) -> Row | None:
    cursor = conn.execute(sql, _sqlite_params(params))
    try:
        row: Row | None = cursor.fetchone()
    finally:
        # Finishes the statement, so a write outside a transaction commits now.
        cursor.close()
    return row


def _run(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    return conn.execute(sql, _sqlite_params(params)).rowcount


class SQLiteTx(Tx):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _guarded(self, call: Callable[[], _T]) -> _T:
        """Run a driver call. A lock error inside a transaction becomes `Busy` and is not
        retried here: the snapshot may be stale, so only rerunning the whole transaction
        (`retrying`) can help."""
        try:
            return call()
        except sqlite3.Error as error:
            translated = _translated(error)
            if translated is None:
                raise
            raise translated from error

    async def all(self, sql: str, params: Params = None) -> list[Row]:
        return self._guarded(lambda: _fetch_all(self._conn, sql, params))

    async def one(self, sql: str, params: Params = None) -> Row | None:
        return self._guarded(lambda: _fetch_one(self._conn, sql, params))

    async def execute(self, sql: str, params: Params = None) -> int:
        return self._guarded(lambda: _run(self._conn, sql, params))

    async def execute_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self._guarded(lambda: self._conn.executemany(sql, [_sqlite_params(r) for r in rows]))

    async def lock(self, table: str, ids: Sequence[int]) -> None:
        """Nothing to do: `BEGIN IMMEDIATE` already holds the database's write lock."""

    def for_update(self, alias: str) -> str:  # noqa: ARG002 - no row locks in SQLite
        return ""


class SQLiteDatabase(Database):
    """Every step that can meet another connection's lock (opening the connection and its
    PRAGMAs, BEGIN, COMMIT) is retried with async backoff until `lock_timeout`, then `Busy`."""

    dialect = "sqlite"

    def __init__(self, url: str, path: Path, *, lock_timeout: float) -> None:
        self.url = url
        self.path = path
        self.lock_timeout = lock_timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    async def _unlocked(self, step: Callable[[], _T]) -> _T:
        """Run `step` until no lock is in its way; other errors pass through unchanged."""
        backoff = _Backoff(self.lock_timeout)
        while True:
            try:
                return step()
            except sqlite3.Error as error:
                if not _is_locked(error):
                    raise
                await backoff.wait(error)

    async def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = await self._unlocked(lambda: _open(self.path))
        return self._conn

    def _rollback(self, conn: sqlite3.Connection) -> None:
        """Undo the open transaction (SQLite may already have, after some errors). Should the
        ROLLBACK itself fail, the connection is dropped: closing it releases every lock."""
        if not conn.in_transaction:
            return
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            conn.close()
            self._conn = None

    async def _commit(self, conn: sqlite3.Connection) -> None:
        """COMMIT, waiting out a lock (the transaction stays open while COMMIT is busy)."""
        try:
            await self._unlocked(lambda: conn.execute("COMMIT"))
        except BaseException:
            self._rollback(conn)
            raise

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Tx]:
        async with self._lock:
            conn = await self._connection()
            await self._unlocked(lambda: _start(conn, write))
            try:
                yield SQLiteTx(conn)
            except BaseException:
                self._rollback(conn)
                raise
            await self._commit(conn)

    async def _alone(self, step: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run one statement outside any transaction: SQLite commits it by itself, and a lock
        in its way leaves it undone, so it is retried whole until `lock_timeout`."""
        async with self._lock:
            conn = await self._connection()
            try:
                return await self._unlocked(lambda: step(conn))
            except sqlite3.Error as error:
                translated = _translated(error)
                if translated is None:
                    raise
                raise translated from error

    async def one(self, sql: str, params: Params = None) -> Row | None:
        return await self._alone(lambda conn: _fetch_one(conn, sql, params))

    async def all(self, sql: str, params: Params = None) -> list[Row]:
        return await self._alone(lambda conn: _fetch_all(conn, sql, params))

    async def execute(self, sql: str, params: Params = None) -> int:
        return await self._alone(lambda conn: _run(conn, sql, params))

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
