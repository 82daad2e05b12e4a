"""Applying Alembic migrations programmatically (`bookbot db upgrade`)."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.config import Config

from bookbot.store.db import Database, DatabaseURL

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", DatabaseURL.parse(url).sqlalchemy_url())
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`. Safe to run again.

    Alembic's environment runs its own event loop: inside a running loop, use
    `upgrade_async` instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("migrate.upgrade() inside an event loop: await upgrade_async()")
    parsed = DatabaseURL.parse(url)
    if parsed.dialect == "sqlite":
        Path(parsed.target).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
    if parsed.dialect == "sqlite":
        # WAL lets readers go on while a booking writes; the mode is stored in the file.
        with closing(sqlite3.connect(parsed.target)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db")).get_current_head()
    return head or ""


class SchemaOutOfDate(Exception):  # noqa: N818
    """The database has not been migrated to this version of bookbot."""


async def check_schema(db: Database) -> None:
    """Raise SchemaOutOfDate with the fix when `db` is not at the head revision."""
    try:
        async with db.transaction(write=False) as tx:
            current = await tx.scalar("SELECT version_num FROM alembic_version")
    except Exception as error:  # noqa: BLE001 - any failure here means "no schema yet"
        current = None
        if "alembic_version" not in str(error):
            raise
    if current != head_revision():
        raise SchemaOutOfDate(
            f"the database at {db.url} is not set up for this bookbot version "
            f"(schema {current or 'missing'}, need {head_revision()}): "
            "run `bookbot db upgrade` (or `bookbot demo` for a demo database)"
        )


async def upgrade_async(url: str) -> None:
    """`upgrade` for callers already inside an event loop (env.py runs its own)."""
    await asyncio.to_thread(upgrade, url)
