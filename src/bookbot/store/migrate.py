"""Applying Alembic migrations programmatically (`bookbot db upgrade / downgrade / current`).

A run is one transaction on both databases (see `migrations/env.py`): when a revision fails,
the database is left as it was, at its old revision, and `MigrationError` says so after
reading the revision back. A run that cannot begin (an unknown revision, a downgrade that
would go up) is refused before anything is touched. The revision history is linear, `0001`
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

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from bookbot.store.db import Database, DatabaseURL, connect

MIGRATIONS = Path(__file__).parent / "migrations"
# The instant data migrations treat as "now" (0010 queues only reminders still ahead);
# unset, they read the wall clock.
NOW_ATTRIBUTE = "bookbot_now"


class SchemaOutOfDate(Exception):  # noqa: N818
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
    except Exception as error:  # noqa: BLE001 - any failure here means "no schema yet"
        if "alembic_version" not in str(error):
            raise
        return None
    return None if current is None else str(current)


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
    async def read() -> str | None:
        db = await connect(url, pool_size=1)
        try:
            return await current_revision(db)
        finally:
            await db.close()

    return asyncio.run(read())


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
    except Exception as error:  # noqa: BLE001 - re-raised, with where the database is
        raise _failed(url, action, target, before, error) from error


def _failed(
    url: str, action: str, target: str, before: str | None, error: BaseException
) -> BaseException:
    """The error to raise for a failed run: where the database is now, read back, and why.
    When it cannot be read (the server went away), the original error, for the caller to
    explain."""
    try:
        after = _read_revision(url)
    except Exception:  # noqa: BLE001 - unreadable: the original error says more
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
