"""How bookbot talks to its database: one small transaction API over the raw drivers.

`Database.transaction()` yields a `Tx` that runs SQL with `:name` parameters. A statement
that needs no transaction around it (a read, or one write that is whole by itself) runs on
the `Database` directly (`one`, `scalar`, `all`, `execute`): it commits on its own, with no
BEGIN and COMMIT around it, which on PostgreSQL are a round trip each. Two implementations
share that API:

* SQLite (the default) uses the standard library's `sqlite3` on the event-loop thread,
  one connection per process guarded by an `asyncio.Lock`. A write transaction starts
  with `BEGIN IMMEDIATE`, which takes SQLite's only write lock up front, so every
  check-then-write inside it is serialised against every other process too. The busy
  handler is off (it would block the loop). Every step that can meet another
  connection's lock (opening the connection and its PRAGMAs, BEGIN, COMMIT) is retried
  with async backoff until `lock_timeout`, then `Busy` is raised; a lock met inside a
  transaction is `Busy` at once, for `retrying` to rerun the whole transaction. Lock
  errors are told apart by SQLite's result code (BUSY, LOCKED), never by message text.
* PostgreSQL uses an `asyncpg` pool. Rows are locked with `SELECT ... FOR UPDATE` in
  sorted id order (`Tx.lock`), with the server's `lock_timeout` set on each connection.
  A read-only transaction (`write=False`) reads without BEGIN and COMMIT: at READ COMMITTED
  every statement reads its own snapshot, inside a transaction block or not, so those two
  round trips bought nothing. Its reads run one by one on one pooled connection; a call that
  may need a block (`execute`, e.g. SET TRANSACTION ISOLATION LEVEL REPEATABLE READ for one
  snapshot; `execute_many`; `lock`) opens a READ ONLY one first, so the server still refuses
  writes there. (`one`/`all` running an UPDATE ... RETURNING are not refused, as on SQLite.)

Why not SQLAlchemy for queries: measured on this machine, a booking transaction through
SQLAlchemy's async engine over aiosqlite ran at ~220/s against ~10,000/s for the same
statements on `sqlite3` directly (bench/booking.py keeps that comparison honest).
SQLAlchemy still declares the schema (`schema.py`) and Alembic migrates it.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time as _time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Protocol, TypeVar

Params = Mapping[str, Any] | None
_T = TypeVar("_T")


class Row(Protocol):
    """A result row: `sqlite3.Row` and `asyncpg.Record` both index by name and position."""

    def __getitem__(self, key: str | int) -> Any: ...


def record(cls: type[_T], row: Row, prefix: str = "") -> _T:
    """A dataclass built from a row by column name: every init field of `cls` must be a column
    of the query (named `prefix` + the field's name, where one query reads several tables), so
    a new or reordered column never shifts a value into the wrong field."""
    values = {f.name: row[prefix + f.name] for f in fields(cls) if f.init}  # type: ignore[arg-type]
    return cls(**values)


class Reads(Protocol):
    """Where a read can run: inside a transaction (`Tx`), or on its own (`Database`)."""

    async def one(self, sql: str, params: Params = None) -> Row | None: ...

    async def all(self, sql: str, params: Params = None) -> list[Row]: ...

    async def scalar(self, sql: str, params: Params = None) -> Any: ...


def instant(value: Any) -> datetime:
    """An instant from a result column whose type the driver could not see (on SQLite,
    aggregates such as MIN() and RETURNING lose the declared type and come back as text)."""
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


class Busy(Exception):
    """The database stayed locked longer than the lock timeout."""


class UniqueViolation(Exception):
    """A unique constraint refused a write (the database-level backstop fired)."""


class ExclusionViolation(Exception):
    """An exclusion constraint refused a write (PostgreSQL only: two live appointments of
    one staff member overlapping, `appointments_no_overlap`)."""


class Tx(ABC):
    """One open transaction. SQL uses `:name` parameters on every database."""

    dialect: str

    @abstractmethod
    async def all(self, sql: str, params: Params = None) -> list[Row]: ...

    @abstractmethod
    async def one(self, sql: str, params: Params = None) -> Row | None: ...

    @abstractmethod
    async def execute(self, sql: str, params: Params = None) -> int:
        """Run a statement; return the number of rows it changed."""

    @abstractmethod
    async def execute_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None: ...

    @abstractmethod
    async def lock(self, table: str, ids: Sequence[int]) -> None:
        """Lock rows of `table` for the rest of the transaction, in ascending id order."""

    @abstractmethod
    def for_update(self, alias: str) -> str:
        """The clause that row-locks `alias` in a SELECT (empty where the database cannot)."""

    async def scalar(self, sql: str, params: Params = None) -> Any:
        """The value of a one-column query's first row (None without a row)."""
        row = await self.one(sql, params)
        return None if row is None else row[0]


class Database(ABC):
    """A connection source that hands out transactions, and runs lone statements.

    `one`, `scalar`, `all` and `execute` run one statement that commits by itself: a read,
    or a write that is whole on its own (e.g. an `UPDATE ... RETURNING`). Anything that
    must see or change several statements' worth at once takes a `transaction()`.
    """

    dialect: str
    url: str

    @abstractmethod
    def transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[Tx]:
        """An async context manager yielding a `Tx`; commits on success, rolls back on error."""

    @abstractmethod
    async def one(self, sql: str, params: Params = None) -> Row | None:
        """One statement on its own; its first row."""

    @abstractmethod
    async def all(self, sql: str, params: Params = None) -> list[Row]:
        """One statement on its own; its rows."""

    @abstractmethod
    async def execute(self, sql: str, params: Params = None) -> int:
        """One statement on its own; the number of rows it changed."""

    async def scalar(self, sql: str, params: Params = None) -> Any:
        """One statement on its own; the value of its one column in its first row."""
        row = await self.one(sql, params)
        return None if row is None else row[0]

    @abstractmethod
    async def close(self) -> None: ...


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


# --- SQLite -----------------------------------------------------------------------------


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


# --- PostgreSQL -------------------------------------------------------------------------

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """Rewrite `:name` parameters as asyncpg's `$n`, returning the names in order."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(replace, sql), tuple(names)


_compiled: dict[str, tuple[str, tuple[str, ...]]] = {}


def _compile(sql: str) -> tuple[str, tuple[str, ...]]:
    """`_numbered`, once per distinct statement text."""
    compiled = _compiled.get(sql)
    if compiled is None:
        compiled = _compiled[sql] = _numbered(sql)
    return compiled


def _arguments(names: tuple[str, ...], params: Params) -> list[Any]:
    values = params or {}
    args = [values[name] for name in names]
    for value in args:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("naive datetime: instants must be timezone-aware")
    return args


def _changed(status: str) -> int:
    """The rows a statement changed, from its command tag ("UPDATE 3", "INSERT 0 1")."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class PostgresTx(Tx):
    dialect = "postgresql"

    def __init__(self, conn: Any, *, read_only: bool = False) -> None:
        self._conn = conn
        # Read-only: no transaction block until a call that may need one (`_open_block`).
        self._read_only = read_only
        self._block: Any = None

    async def _open_block(self) -> None:
        if self._read_only and self._block is None:
            self._block = self._conn.transaction(readonly=True)
            await self._block.start()

    async def end(self, *, failed: bool) -> None:
        """Close the block a read-only transaction opened, if it did."""
        if self._block is not None:
            await (self._block.rollback() if failed else self._block.commit())

    async def _call(self, method: str, sql: str, *arguments: Any) -> Any:
        """Run a driver method; a unique or exclusion constraint's refusal becomes
        `UniqueViolation` or `ExclusionViolation`."""
        import asyncpg

        try:
            return await getattr(self._conn, method)(sql, *arguments)
        except asyncpg.UniqueViolationError as error:
            raise UniqueViolation(str(error)) from error
        except asyncpg.ExclusionViolationError as error:
            raise ExclusionViolation(str(error)) from error

    async def _statement(self, method: str, sql: str, params: Params) -> Any:
        text, names = _compile(sql)
        return await self._call(method, text, *_arguments(names, params))

    async def all(self, sql: str, params: Params = None) -> list[Row]:
        rows: list[Row] = await self._statement("fetch", sql, params)
        return rows

    async def one(self, sql: str, params: Params = None) -> Row | None:
        row: Row | None = await self._statement("fetchrow", sql, params)
        return row

    async def scalar(self, sql: str, params: Params = None) -> Any:
        return await self._statement("fetchval", sql, params)

    async def execute(self, sql: str, params: Params = None) -> int:
        await self._open_block()
        return _changed(await self._statement("execute", sql, params))

    async def execute_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        await self._open_block()
        if not rows:
            return
        text, names = _compile(sql)
        await self._call("executemany", text, [_arguments(names, row) for row in rows])

    def for_update(self, alias: str) -> str:
        if not alias.isidentifier():
            raise ValueError(f"not a table alias: {alias!r}")
        return f" FOR UPDATE OF {alias}"

    async def lock(self, table: str, ids: Sequence[int]) -> None:
        await self._open_block()
        if not re.fullmatch(r"[a-z_]+", table):
            raise ValueError(f"not a table name: {table!r}")
        for row_id in sorted(set(ids)):
            await self._conn.execute(
                f"SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE",  # noqa: S608 - checked name
                row_id,
            )


async def _no_session_reset(conn: Any) -> None:
    """asyncpg's default reset on release costs a round trip (RESET ALL, UNLISTEN, advisory
    unlocks) per checkout. We keep no session state (settings come with the connection, locks
    are per transaction), and asyncpg still rolls back a transaction left open."""


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str, pool: Any) -> None:
        self.url = url
        self._pool = pool

    @classmethod
    async def open(
        cls, url: str, dsn: str, lock_timeout: float, pool_size: int
    ) -> PostgresDatabase:
        import asyncpg

        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            server_settings={"lock_timeout": str(int(lock_timeout * 1000)), "timezone": "UTC"},
            reset=_no_session_reset,
            # Closing idle connections costs a timer set and cancelled on every checkout
            # and release, and the pool is small: they stay open.
            max_inactive_connection_lifetime=0,
        )
        return cls(url, pool)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A pooled connection; a lock timeout or a deadlock on it becomes `Busy`."""
        import asyncpg

        async with self._pool.acquire() as conn:
            try:
                yield conn
            except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError) as error:
                raise Busy(str(error)) from error

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Tx]:
        async with self._connection() as conn:
            if write:
                async with conn.transaction():
                    yield PostgresTx(conn)
                return
            tx = PostgresTx(conn, read_only=True)  # no BEGIN/COMMIT: see the module docstring
            try:
                yield tx
            except BaseException:
                await tx.end(failed=True)
                raise
            await tx.end(failed=False)

    async def _alone(self, method: str, sql: str, params: Params) -> Any:
        """A lone statement commits by itself: one round trip, no BEGIN/COMMIT around it.
        The pool's own methods take a connection for it (the message path runs many of
        these: no context managers of ours around each)."""
        import asyncpg

        text, names = _compile(sql)
        try:
            return await getattr(self._pool, method)(text, *_arguments(names, params))
        except asyncpg.UniqueViolationError as error:
            raise UniqueViolation(str(error)) from error
        except asyncpg.ExclusionViolationError as error:
            raise ExclusionViolation(str(error)) from error
        except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError) as error:
            raise Busy(str(error)) from error

    async def one(self, sql: str, params: Params = None) -> Row | None:
        row: Row | None = await self._alone("fetchrow", sql, params)
        return row

    async def scalar(self, sql: str, params: Params = None) -> Any:
        return await self._alone("fetchval", sql, params)

    async def all(self, sql: str, params: Params = None) -> list[Row]:
        rows: list[Row] = await self._alone("fetch", sql, params)
        return rows

    async def execute(self, sql: str, params: Params = None) -> int:
        return _changed(await self._alone("execute", sql, params))

    async def close(self) -> None:
        await self._pool.close()


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
