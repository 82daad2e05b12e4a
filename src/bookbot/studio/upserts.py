"""Generic upserts for the studio loader: keyed rows, and child rows replaced as a set.

Table and column names come from the loaders' constants, never from the file, so building
SQL text from them is safe; every value travels as a parameter.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from bookbot.store.db import Row, Tx


@dataclass(frozen=True)
class Table:
    """A keyed table and the columns the file sets (besides id, studio_id and key)."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Children:
    """A table of rows owned by a parent row, replaced as a set."""

    name: str
    parent: str
    columns: tuple[str, ...]
    # When set, only the rows of this source are the file's to replace; others are kept.
    source: str | None = None


@dataclass
class Outcome:
    ids: dict[str, int] = field(default_factory=dict)
    created: set[int] = field(default_factory=set)
    updated: set[int] = field(default_factory=set)


def differs(row: Row, values: dict[str, Any]) -> bool:
    return any(row[column] != value for column, value in values.items())


def assignments(columns: tuple[str, ...]) -> str:
    return ", ".join(f"{c} = :{c}" for c in columns)


def placeholders(columns: tuple[str, ...]) -> str:
    return ", ".join(f":{c}" for c in columns)


async def upsert(
    tx: Tx, table: Table, studio_id: int, wanted: dict[str, dict[str, Any]]
) -> Outcome:
    """Insert or update `wanted` (key -> column values); report ids by key and what changed."""
    cols = table.columns
    rows = await tx.all(
        f"SELECT id, key, {', '.join(cols)} FROM {table.name}"  # noqa: S608
        " WHERE studio_id = :studio_id",
        {"studio_id": studio_id},
    )
    existing = {row["key"]: row for row in rows}
    outcome = Outcome()
    for key, values in wanted.items():
        params = {"studio_id": studio_id, "key": key, **values}
        row = existing.get(key)
        if row is None:
            row_id = await tx.scalar(
                f"INSERT INTO {table.name} (studio_id, key, {', '.join(cols)})"  # noqa: S608
                f" VALUES (:studio_id, :key, {placeholders(cols)}) RETURNING id",
                params,
            )
            outcome.created.add(row_id)
        else:
            row_id = row["id"]
            if differs(row, values):
                await tx.execute(
                    f"UPDATE {table.name} SET {assignments(cols)}"  # noqa: S608
                    " WHERE studio_id = :studio_id AND key = :key",
                    params,
                )
                outcome.updated.add(row_id)
        outcome.ids[key] = row_id
    return outcome


async def sync_children(
    tx: Tx, children: Children, studio_id: int, wanted: dict[int, list[tuple[Any, ...]]]
) -> set[int]:
    """Make each listed parent's child rows equal `wanted`; return the parents changed."""
    cols = children.columns
    mine = " AND source = :source" if children.source else ""
    rows = await tx.all(
        f"SELECT {children.parent}, {', '.join(cols)} FROM {children.name}"  # noqa: S608
        f" WHERE studio_id = :studio_id{mine}",
        {"studio_id": studio_id, "source": children.source},
    )
    current: dict[int, Counter[tuple[Any, ...]]] = defaultdict(Counter)
    for row in rows:
        current[row[children.parent]][tuple(row[col] for col in cols)] += 1
    changed = {pid for pid, want in wanted.items() if Counter(want) != current[pid]}
    inserted = (*cols, "source") if children.source else cols
    for parent_id in sorted(changed):
        scope = {"studio_id": studio_id, "parent_id": parent_id, "source": children.source}
        await tx.execute(
            f"DELETE FROM {children.name}"  # noqa: S608
            f" WHERE studio_id = :studio_id AND {children.parent} = :parent_id{mine}",
            scope,
        )
        await tx.execute_many(
            f"INSERT INTO {children.name} (studio_id, {children.parent}, {', '.join(inserted)})"  # noqa: S608
            f" VALUES (:studio_id, :parent_id, {placeholders(inserted)})",
            [{**scope, **dict(zip(cols, values, strict=True))} for values in wanted[parent_id]],
        )
    return changed
