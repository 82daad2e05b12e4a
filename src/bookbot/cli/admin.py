"""Commands for the studio owner: database, studio file, sessions, staff, bookings."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bookbot.cli import bookings, sessions
from bookbot.cli.common import shown_url, upgraded
from bookbot.config import Settings


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(
        dest="db_command", required=True, metavar="ACTION", help="what to do to the database"
    )
    upgrade = db_commands.add_parser("upgrade", help="apply database migrations (safe to re-run)")
    upgrade.set_defaults(run=run_upgrade)

    studio = commands.add_parser("studio", help="load a studio from its TOML file")
    studio_commands = studio.add_subparsers(
        dest="studio_command", required=True, metavar="ACTION", help="what to do with the file"
    )
    load = studio_commands.add_parser(
        "load", help="validate a studio file and create or update the studio (idempotent)"
    )
    load.add_argument(
        "file", type=Path, help="the studio's TOML file, e.g. examples/clay-studio.toml"
    )
    load.add_argument("--check", action="store_true", help="only validate; change nothing")
    load.set_defaults(run=run_load)

    sessions.register(commands)
    bookings.register(commands)


async def run_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    await upgraded(settings.database_url)
    print(f"database is up to date: {shown_url(settings.database_url)}")
    return 0


async def run_load(settings: Settings, args: argparse.Namespace) -> int:
    from bookbot.cli.common import opened
    from bookbot.studio.loader import load_studio
    from bookbot.studio.model import StudioFileError, parse_studio_file

    try:
        spec = parse_studio_file(args.file)
    except StudioFileError as error:
        print(f"{args.file}: {len(error.problems)} problem(s):")
        for problem in error.problems:
            print(f"  - {problem}")
        return 2
    if args.check:
        print(f"{args.file}: valid")
        return 0
    await upgraded(settings.database_url)
    async with opened(settings) as db:
        report = await load_studio(db, spec)
    print(report.summary())
    return 0
