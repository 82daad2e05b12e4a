"""Commands for the studio owner: database, studio file, sessions, staff, bookings."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bookbot.cli import bookings, sessions
from bookbot.cli.common import opened, require_database, shown_url, upgraded
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.services import conflicts
from bookbot.store import migrate


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(
        dest="db_command", required=True, metavar="ACTION", help="what to do to the database"
    )
    upgrade = db_commands.add_parser(
        "upgrade", help="apply database migrations up to REV (default: all; safe to re-run)"
    )
    upgrade.add_argument(
        "revision", metavar="REV", nargs="?", default="head", help="target revision, e.g. 0009"
    )
    upgrade.set_defaults(run=run_upgrade)
    downgrade = db_commands.add_parser(
        "downgrade",
        help="undo migrations down to REV, in one transaction (a failure changes nothing)",
    )
    downgrade.add_argument("revision", metavar="REV", help="target revision, e.g. 0006")
    downgrade.set_defaults(run=run_downgrade)
    current = db_commands.add_parser(
        "current", help="show the database's revision and whether it is the newest"
    )
    current.set_defaults(run=run_current)

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
    url = settings.database_url
    await upgraded(url, args.revision)
    if args.revision in ("head", migrate.head_revision()):
        print(f"database is up to date: {shown_url(url)}")
    else:
        print(
            f"database is at {args.revision} (newest: {migrate.head_revision()}): {shown_url(url)}"
        )
    return 0


async def run_downgrade(settings: Settings, args: argparse.Namespace) -> int:
    url = settings.database_url
    require_database(url)
    await migrate.downgrade_async(url, args.revision)
    print(f"database is at {args.revision} (newest: {migrate.head_revision()}): {shown_url(url)}")
    return 0


async def run_current(settings: Settings, _args: argparse.Namespace) -> int:
    """The revision, and whether it is the head (exit 0 either way: this only looks)."""
    url = settings.database_url
    require_database(url)
    current = await migrate.read_revision(url)
    print(f"{_revision_state(current)}: {shown_url(url)}")
    return 0


def _revision_state(current: str | None) -> str:
    head = migrate.head_revision()
    if current == head:
        return f"{current} (head)"
    if current is None:
        return f"no schema (head is {head}: run `bookbot db upgrade`)"
    if current not in migrate.revisions():
        return f"{current} (unknown to this bookbot, whose head is {head}: a newer one migrated it)"
    return f"{current} (not head: head is {head}, run `bookbot db upgrade`)"


async def run_load(settings: Settings, args: argparse.Namespace) -> int:
    from bookbot.studio.channels import ChannelConflict
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
        try:
            report = await load_studio(
                db, spec, availability_changed=conflicts.after_reload(SystemClock())
            )
        except ChannelConflict as error:  # another studio's bot or number: nothing loaded
            print(f"{args.file}: 1 problem(s):\n  - {error}")
            return 2
    print(report.summary())
    return 0
