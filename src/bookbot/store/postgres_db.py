"""PostgreSQL: an `asyncpg` pool. Rows are locked with `SELECT ... FOR UPDATE` in sorted id
order (`Tx.lock`), with the server's `lock_timeout` set on each connection. A read-only
transaction (`write=False`) reads without BEGIN and COMMIT: at READ COMMITTED every statement
reads its own snapshot, inside a transaction block or not, so those two round trips bought
nothing. Its reads run one by one on one pooled connection; a call that may need a block
(`execute`, e.g. SET TRANSACTION ISOLATION LEVEL REPEATABLE READ for one snapshot;
`execute_many`; `lock`) opens a READ ONLY one first, so the server still refuses writes there.
(`one`/`all` running an UPDATE ... RETURNING are not refused, as on SQLite.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from bookbot.store.db_api import (
    Busy,
    Database,
    ExclusionViolation,
    Params,
    Row,
    Tx,
    UniqueViolation,
)

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
