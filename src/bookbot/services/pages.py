"""Newest-first lists a customer pages through (past bookings, past passes), by keyset.

A page is read from a position, never by OFFSET: the query seeks its index to the item at
the edge of the page shown and reads `size + 1` rows from there, so page 40 costs what
page 1 costs. Positions are `(time, id)` pairs: the id orders items that share a time, so
a page boundary between two of them neither repeats nor skips one.

One detail matters on SQLite: an older page's query carries the cursor as its only upper
bound. Given a second one (e.g. `starts <= :now`) its planner may seek to that one and
walk down to the cursor, which is OFFSET again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from bookbot.store.db import Row, Tx, instant

_T = TypeVar("_T")

PAGE_SIZE = 5


@dataclass(frozen=True)
class Cursor:
    """The `(time, id)` of an item at the edge of a page."""

    at: datetime
    id: int

    def stored(self) -> list[Any]:
        return [self.at.isoformat(), self.id]

    @classmethod
    def from_stored(cls, raw: Any) -> Cursor:
        at, ident = raw
        return cls(instant(at), int(ident))


@dataclass(frozen=True)
class PageAsk:
    """Which page: the newest (neither cursor set), the one older than `before`, or the one
    newer than `after`."""

    before: Cursor | None = None
    after: Cursor | None = None
    size: int = field(default=PAGE_SIZE, compare=False)  # items a page shows; not stored

    def stored(self) -> dict[str, Any]:
        if self.before is not None:
            return {"before": self.before.stored()}
        if self.after is not None:
            return {"after": self.after.stored()}
        return {}

    @classmethod
    def from_stored(cls, raw: Any) -> PageAsk:
        """What `stored` wrote; anything else is the newest page."""
        if not isinstance(raw, dict):
            return cls()
        if "before" in raw:
            return cls(before=Cursor.from_stored(raw["before"]))
        if "after" in raw:
            return cls(after=Cursor.from_stored(raw["after"]))
        return cls()


@dataclass(frozen=True)
class Page(Generic[_T]):
    """Items newest first; where the next older and newer pages start (None: no such page)."""

    items: list[_T]
    older: PageAsk | None
    newer: PageAsk | None


@dataclass(frozen=True)
class Keyset:
    """A newest-first list as SQL.

    `select` ends inside a WHERE clause (more conditions are appended with AND) and names
    the key columns `page_at` and `page_id`; `at` and `id` are the same two as expressions
    an index is ordered by. `newest` bounds the list from above (e.g. "nothing upcoming");
    an older page leaves it out, since its cursor lies below it already (see the module
    docstring). `every` filters every page.
    """

    select: str
    at: str
    id: str
    newest: str = ""
    every: str = ""

    def sql(self, *, older: bool, from_cursor: bool) -> str:
        """Rows going older (newest first) or newer (oldest first), from the cursor or from
        the newest end."""
        conditions = [self.every]
        if not (older and from_cursor):
            conditions.append(self.newest)
        if from_cursor:
            towards = "<" if older else ">"
            conditions.append(f"({self.at}, {self.id}) {towards} (:cursor_at, :cursor_id)")
        where = "".join(f" AND {c}" for c in conditions if c)
        way = "DESC" if older else "ASC"
        return f"{self.select}{where} ORDER BY {self.at} {way}, {self.id} {way} LIMIT :page_limit"


def _cursor(row: Row) -> Cursor:
    return Cursor(instant(row["page_at"]), int(row["page_id"]))


async def read_page(
    tx: Tx, keyset: Keyset, params: dict[str, Any], ask: PageAsk, make: Callable[[Row], _T]
) -> Page[_T]:
    """One page of `keyset`: `size + 1` rows read from the cursor tell whether the list goes
    on in that direction; one row read past the other edge tells whether it goes back. A
    cursor with nothing beyond it any more (its items were cancelled since) reads the
    newest page instead."""

    async def beyond(cursor: Cursor | None, *, older: bool, limit: int) -> list[Row]:
        at = {} if cursor is None else {"cursor_at": cursor.at, "cursor_id": cursor.id}
        sql = keyset.sql(older=older, from_cursor=cursor is not None)
        return await tx.all(sql, {**params, **at, "page_limit": limit})

    size = ask.size
    if ask.after is not None:
        rows = await beyond(ask.after, older=False, limit=size + 1)
        newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        older = bool(rows) and bool(await beyond(_cursor(rows[-1]), older=True, limit=1))
    else:
        rows = await beyond(ask.before, older=True, limit=size + 1)
        older = len(rows) > size
        rows = rows[:size]
        newer = (
            ask.before is not None
            and bool(rows)
            and bool(await beyond(_cursor(rows[0]), older=False, limit=1))
        )
    if not rows and (ask.before or ask.after):
        return await read_page(tx, keyset, params, PageAsk(size=size), make)
    return Page(
        [make(r) for r in rows],
        PageAsk(before=_cursor(rows[-1]), size=size) if older else None,
        PageAsk(after=_cursor(rows[0]), size=size) if newer else None,
    )
