"""Applying Alembic migrations programmatically (`bookbot db upgrade / downgrade / current`).

A run is one transaction on both databases (see `migrations/env.py`): when a revision fails,
the database is left as it was, at its old revision, and `MigrationError` says so after
reading the revision back. A run that cannot begin (an unknown revision, a downgrade that
would go up) is refused before anything is touched. On SQLite, rows a run leaves pointing
at rows it deleted get what their foreign key declares, as PostgreSQL would have done
(`settle_orphans`). The revision history is linear, `0001`
to the head; revisions that have landed never change (`migrations/landed.json`).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from bookbot.store.db import Database, DatabaseURL, connect

MIGRATIONS = Path(__file__).parent / "migrations"
# The instant data migrations treat as "now" (0010 queues only reminders still ahead);
# unset, they read the wall clock.
NOW_ATTRIBUTE = "bookbot_now"


class SchemaOutOfDate(Exception):
    """The database has not been migrated to this version of bookbot."""


class MigrationError(SchemaOutOfDate):
    """A migration refused before it began, or failed and was rolled back: the database is
    not at the revision asked for. The message is one line, and says where it is."""


def alembic_config(url: str, *, now: datetime | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", DatabaseURL.parse(url).sqlalchemy_url())
    if now is not None:
        config.attributes[NOW_ATTRIBUTE] = now
    return config


@functools.cache
def revisions() -> tuple[str, ...]:
    """Every revision, oldest first (read once: the files do not change while we run)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db"))
    return tuple(r.revision for r in reversed(list(script.walk_revisions())))


def head_revision() -> str:
    known = revisions()
    return known[-1] if known else ""


def upgrade(url: str, revision: str = "head", *, now: datetime | None = None) -> None:
    """Bring the database at `url` up to `revision` (default: the head). Safe to run again.

    Alembic's environment runs its own event loop: inside a running loop, use
    `upgrade_async` instead.
    """
    _outside_event_loop("upgrade")
    parsed = DatabaseURL.parse(url)
    if parsed.dialect == "sqlite":
        Path(parsed.target).parent.mkdir(parents=True, exist_ok=True)
    target = head_revision() if revision == "head" else _known(revision)
    _run(url, "upgrade", target, now, command.upgrade)
    if parsed.dialect == "sqlite":
        # WAL lets readers go on while a booking writes; the mode is stored in the file.
        with closing(sqlite3.connect(parsed.target)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")


def downgrade(url: str, revision: str, *, now: datetime | None = None) -> None:
    """Take the database at `url` back down to `revision` (at it already: nothing to do).

    A downgrade may delete what the newer schema could hold and the older cannot (0007's
    removes holds); where the revision's own steps fail, the whole run is rolled back.
    """
    _outside_event_loop("downgrade")
    _run(url, "downgrade", _known(revision), now, command.downgrade)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """`upgrade` for callers already inside an event loop (env.py runs its own)."""
    await asyncio.to_thread(upgrade, url, revision)


async def downgrade_async(url: str, revision: str) -> None:
    await asyncio.to_thread(downgrade, url, revision)


async def current_revision(db: Database) -> str | None:
    """The revision the database is at; None when it has no schema yet."""
    try:
        async with db.transaction(write=False) as tx:
            current = await tx.scalar("SELECT version_num FROM alembic_version")
    except Exception as error:  # any failure here means "no schema yet"
        if "alembic_version" not in str(error):
            raise
        return None
    return None if current is None else str(current)


async def read_revision(url: str) -> str | None:
    """`current_revision` of the database at `url`, on a connection opened for it alone."""
    db = await connect(url, pool_size=1)
    try:
        return await current_revision(db)
    finally:
        await db.close()


async def check_schema(db: Database) -> None:
    """Raise SchemaOutOfDate with the fix when `db` is not at the head revision."""
    current = await current_revision(db)
    if current != head_revision():
        raise SchemaOutOfDate(
            f"the database at {db.url} is not set up for this bookbot version "
            f"(schema {current or 'missing'}, need {head_revision()}): "
            "run `bookbot db upgrade` (or `bookbot demo` for a demo database)"
        )


# --- running one migration -----------------------------------------------------------------


def _outside_event_loop(action: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"migrate.{action}() inside an event loop: await {action}_async()")


def _known(revision: str) -> str:
    known = revisions()
    if revision not in known:
        raise MigrationError(
            f"unknown revision {revision!r}: this bookbot knows {known[0]} to {known[-1]}"
        )
    return revision


def _read_revision(url: str) -> str | None:
    return asyncio.run(read_revision(url))


def _refusal(action: str, current: str | None, target: str) -> str | None:
    """Why `action` to `target` cannot start from `current`; None when it can."""
    known = revisions()
    if current is not None and current not in known:
        return (
            f"the database is at revision {current}, which this bookbot does not know "
            "(a newer bookbot migrated it): use that version"
        )
    position = known.index(current) if current is not None else -1
    if action == "upgrade" and known.index(target) < position:
        return f"the database is at {current}, past {target}: use `bookbot db downgrade {target}`"
    if action == "downgrade" and known.index(target) > position:
        return (
            f"the database is at {current or 'no revision'}, below {target}: "
            f"use `bookbot db upgrade {target}`"
        )
    return None


def _run(
    url: str,
    action: str,
    target: str,
    now: datetime | None,
    step: Callable[[Config, str], None],
) -> None:
    before = _read_revision(url)
    refusal = _refusal(action, before, target)
    if refusal is not None:
        raise MigrationError(f"cannot {action} to {target}: {refusal}")
    try:
        step(alembic_config(url, now=now), target)
    except Exception as error:  # re-raised, with where the database is
        raise _failed(url, action, target, before, error) from error


def _failed(
    url: str, action: str, target: str, before: str | None, error: BaseException
) -> BaseException:
    """The error to raise for a failed run: where the database is now, read back, and why.
    When it cannot be read (the server went away), the original error, for the caller to
    explain."""
    try:
        after = _read_revision(url)
    except Exception:  # unreadable: the original error says more
        return error
    where = (
        f"nothing was changed, the database is still at {after or 'no revision'}"
        if after == before
        else f"the database is now at {after or 'no revision'}"
    )
    return MigrationError(f"{action} to {target} failed; {where}: {_reason(error)}")


def _reason(error: BaseException) -> str:
    """The driver's own words when SQLAlchemy wrapped them, on one line."""
    cause = getattr(error, "orig", None) or error
    text = " ".join(str(cause).split()) or type(cause).__name__
    return text if len(text) <= 300 else text[:297] + "..."


# --- SQLite: what PostgreSQL's foreign keys would have done to a run's rows ------------------
#
# Migrations run on SQLite with foreign keys off (batch mode rebuilds tables by dropping
# them, which with foreign keys on would delete every child row). So a revision's DELETE does
# not cascade there as it does on PostgreSQL: 0007's downgrade deleted held and expired
# registrations and left their seats behind, pointing at nothing. At the end of each run, in
# its transaction, such rows are settled as their declared ON DELETE says (CASCADE: deleted,
# SET NULL: cleared); any other orphan refuses the run, which rolls back.


class Violation(NamedTuple):
    """A row whose foreign key points at no row: `PRAGMA foreign_key_check`'s columns."""

    table: str
    rowid: int | None
    parent: str
    key: int  # the foreign key's id in `PRAGMA foreign_key_list` of `table`


class OrphanedRows(Exception):
    """A migration run would leave rows pointing at rows it deleted."""


def foreign_key_violations(connection: Connection) -> list[Violation]:
    """Rows whose foreign key points at no row (SQLite), in the run's transaction."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").mappings()
    return [Violation(str(r["table"]), r["rowid"], str(r["parent"]), int(r["fkid"])) for r in rows]


def settle_orphans(connection: Connection, before: list[Violation]) -> None:
    """Apply ON DELETE to the rows the run orphaned, until none is left. Orphans already there
    before the run are not ours to touch: then the run is only refused if it adds some."""
    if before:
        had, has = _per_key(before), _per_key(foreign_key_violations(connection))
        grown = [key for key, count in has.items() if count > had.get(key, 0)]
        if grown:
            table, parent, _ = grown[0]
            raise OrphanedRows(_orphan_message(table, parent))
        return
    seen: list[Violation] = []
    while violations := foreign_key_violations(connection):
        if violations == seen:  # settling changed nothing: it never will
            first = violations[0]
            raise OrphanedRows(_orphan_message(first.table, first.parent))
        seen = violations
        for violation in violations:
            _settle(connection, violation)


def _per_key(violations: list[Violation]) -> dict[tuple[str, str, int], int]:
    counts: dict[tuple[str, str, int], int] = {}
    for v in violations:
        counts[v.table, v.parent, v.key] = counts.get((v.table, v.parent, v.key), 0) + 1
    return counts


def _orphan_message(table: str, parent: str) -> str:
    return f"it would leave rows of {table} pointing at deleted rows of {parent}"


def _settle(connection: Connection, violation: Violation) -> None:
    table, rowid = violation.table, violation.rowid
    declared = [
        r
        for r in connection.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")').mappings()
        if r["id"] == violation.key
    ]
    action = str(declared[0]["on_delete"]).upper() if declared else ""
    if rowid is None or action not in ("CASCADE", "SET NULL"):
        raise OrphanedRows(_orphan_message(table, violation.parent))
    if action == "CASCADE":
        connection.exec_driver_sql(f'DELETE FROM "{table}" WHERE rowid = ?', (rowid,))  # noqa: S608
        return
    cleared = ", ".join(f'"{r["from"]}" = NULL' for r in declared)
    connection.exec_driver_sql(f'UPDATE "{table}" SET {cleared} WHERE rowid = ?', (rowid,))  # noqa: S608
