"""Helpers the CLI commands share: the parser, typed options, opening the database, the studio."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

from bookbot.config import Settings
from bookbot.engine.errors import BookingError
from bookbot.phones import InvalidPhone, normalise_phone
from bookbot.presentation.i18n import render_error, translator
from bookbot.services.common import Studio, default_studio, studio_by_slug
from bookbot.store.db import Database, DatabaseURL, connect
from bookbot.store.migrate import check_schema, upgrade_async

DATABASE_HELP = (
    "database URL (default: $BOOKBOT_DATABASE_URL or sqlite:///bookbot.db); "
    "PostgreSQL: postgresql://user@host/dbname"
)


class CommandError(Exception):
    """A refusal already rendered for the person at the terminal."""


class UsageError(CommandError):
    """The command line itself is wrong: an unknown option, a bad value, a missing argument."""


class MissingDatabase(CommandError):
    """A SQLite file that is not there; opening it would leave an empty one behind."""


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line and exit status 1 like every other refusal,
    raised as `UsageError` for `main` to print (argparse's own `error` prints the usage
    block and exits 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


# --- option types: each refuses a bad value with a message argparse shows as is -------


def phone(text: str) -> str:
    """An international phone number, in E.164."""
    try:
        return normalise_phone(text)
    except InvalidPhone as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    """A count, an id or a number of days: 1 or more."""
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def non_negative_int(text: str) -> int:
    """A number that may be 0 (hours of grace), never negative."""
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def id_list(text: str) -> list[int]:
    """Ids separated by commas: `13,14`."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("give ids separated by commas, e.g. 13,14")
    try:
        return [positive_int(part) for part in parts]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give ids (1 or more) separated by commas, e.g. 13,14"
        ) from None


def add_studio_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--studio",
        metavar="SLUG",
        help="studio slug (default: $BOOKBOT_DEFAULT_STUDIO, else the only or first-loaded studio)",
    )


def subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every command and subcommand parser below `parser`, depth first."""
    for action in parser._actions:  # argparse keeps subcommands here
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield sub
                yield from subparsers(sub)


def accept_database_anywhere(parser: argparse.ArgumentParser) -> None:
    """`bookbot sessions list --database URL` as well as `bookbot --database URL sessions list`.

    SUPPRESS leaves the name unset unless given there, so the top-level value is kept.
    """
    for sub in subparsers(parser):
        sub.add_argument("--database", metavar="URL", default=argparse.SUPPRESS, help=DATABASE_HELP)


# --- the database ------------------------------------------------------------------------


def shown_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///path` URL; None for any other database."""
    parsed = DatabaseURL.parse(url)
    return Path(parsed.target) if parsed.dialect == "sqlite" else None


def is_blank_sqlite(path: Path) -> bool:
    """No file, or a file without a single table (left by an earlier bookbot that created it
    on open). Read only: looking never creates anything."""
    if not path.exists():
        return True
    if path.is_dir():
        return False
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT COUNT(*) AS tables FROM sqlite_master").fetchone()
            return int(row["tables"]) == 0
    except sqlite3.DatabaseError:
        return False  # not ours to judge: opening it reports what is wrong


def require_database(url: str) -> None:
    """Refuse a SQLite file that does not exist, rather than let opening create it empty."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise MissingDatabase(
            f"no database at {path}: run `bookbot demo` (the demo studio) or "
            "`bookbot db upgrade` (an empty one) first, or point --database at yours"
        )


def check_sqlite_target(url: str) -> None:
    """Before migrating: a SQLite path must be a file, or creatable (the folder is made).

    Checked here because a failure inside Alembic's own event loop also leaves aiosqlite's
    worker thread printing tracebacks.
    """
    path = sqlite_path(url)
    if path is None:
        return
    if path.is_dir():
        raise CommandError(f"{path} is a folder, not a database file: add a file name")
    folder = next((p for p in path.absolute().parents if p.exists()), None)
    if not path.exists() and folder is not None and not os.access(folder, os.W_OK):
        raise CommandError(f"cannot create the database {path}: {folder} is not writable")


async def upgraded(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (default: this version's head), creating a
    SQLite file if need be."""
    check_sqlite_target(url)
    await upgrade_async(url, revision)


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Database]:
    require_database(settings.database_url)
    db = await connect(settings.database_url, pool_size=settings.db_pool_size)
    try:
        await check_schema(db)
        yield db
    finally:
        await db.close()


async def chosen_studio(db: Database, slug: str | None, configured: str | None) -> Studio:
    """The studio --studio names, else the default (`services.common.default_studio`); when
    other studios share the database, a line on stderr says which was taken and how to pick."""
    async with db.transaction(write=False) as tx:
        if slug:
            return await studio_by_slug(tx, slug)
        chosen = await default_studio(tx, configured)
    if chosen.others:
        print(
            f"(studio {chosen.studio.slug}; this database also has {', '.join(chosen.others)}:"
            " pick one with --studio SLUG)",
            file=sys.stderr,
        )
    return chosen.studio


@asynccontextmanager
async def studio_session(
    settings: Settings, slug: str | None
) -> AsyncIterator[tuple[Database, Studio]]:
    """The database and the studio named by --studio (or the only one).

    Refusals raised inside come out as CommandError, with times in the studio's zone.
    """
    async with opened(settings) as db:
        studio = await chosen_studio(db, slug, settings.default_studio)
        try:
            yield db, studio
        except BookingError as error:
            shown = render_error(error, translator(studio.default_language), studio.timezone)
            raise CommandError(shown) from error


def ask_at_terminal(question: str) -> bool:
    """Yes only when a person at a terminal says so; piped or scripted runs need --yes."""
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
