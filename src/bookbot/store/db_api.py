"""The database seam every caller uses: `Database`, the `Tx` it yields, rows and the errors a
write can meet. `db.connect` opens one of the two implementations (`sqlite_db`,
`postgres_db`); callers import these names from `bookbot.store.db`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import fields
from datetime import UTC, datetime
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
