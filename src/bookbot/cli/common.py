"""Helpers the CLI commands share: opening the database, choosing the studio, printing."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bookbot.config import Settings
from bookbot.engine.errors import BookingError
from bookbot.i18n import render_error, translator
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


class CommandError(Exception):
    """A refusal already rendered for the person at the terminal."""


async def _chosen_studio(db: Database, slug: str | None) -> Studio:
    async with db.transaction(write=False) as tx:
        return await studio_by_slug(tx, slug) if slug else await only_studio(tx)


@asynccontextmanager
async def studio_session(
    settings: Settings, slug: str | None
) -> AsyncIterator[tuple[Database, Studio]]:
    """The database and the studio named by --studio (or the only one).

    Refusals raised inside come out as CommandError, with times in the studio's zone.
    """
    async with opened(settings) as db:
        studio = await _chosen_studio(db, slug)
        try:
            yield db, studio
        except BookingError as error:
            shown = render_error(error, translator(studio.default_language), studio.timezone)
            raise CommandError(shown) from error


def add_studio_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--studio", metavar="SLUG", help="studio slug (default: the only studio)")
