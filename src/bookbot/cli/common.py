"""Helpers the CLI commands share: opening the database, choosing the studio, printing."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bookbot.config import Settings
from bookbot.services.common import Studio, only_studio, studio_by_slug
from bookbot.store.db import Database, connect
from bookbot.store.migrate import check_schema


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Database]:
    db = await connect(settings.database_url)
    try:
        await check_schema(db)
        yield db
    finally:
        await db.close()


async def chosen_studio(db: Database, slug: str | None) -> Studio:
    """The studio named by --studio, or the only one when there is just one."""
    async with db.transaction(write=False) as tx:
        return await studio_by_slug(tx, slug) if slug else await only_studio(tx)


def add_studio_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--studio", metavar="SLUG", help="studio slug (default: the only studio)")
