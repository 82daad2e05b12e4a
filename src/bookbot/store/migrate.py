"""Applying Alembic migrations programmatically (`bookbot db upgrade`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from bookbot.store.db import DatabaseURL

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", DatabaseURL.parse(url).sqlalchemy_url())
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`. Safe to run again."""
    parsed = DatabaseURL.parse(url)
    if parsed.dialect == "sqlite":
        Path(parsed.target).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    """`upgrade` for callers already inside an event loop (env.py runs its own)."""
    await asyncio.to_thread(upgrade, url)
