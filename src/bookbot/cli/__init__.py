"""The `bookbot` command line: `bookbot --help` lists the commands, each has its own --help."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bookbot.cli import admin, demo, passes, run, shell
from bookbot.cli.common import CommandError
from bookbot.config import Settings
from bookbot.engine.errors import BookingError
from bookbot.store.migrate import SchemaOutOfDate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bookbot", description="A booking assistant for studios that lives in chat."
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="database URL (default: $BOOKBOT_DATABASE_URL or sqlite:///bookbot.db); "
        "PostgreSQL: postgresql://user@host/dbname",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    admin.register(commands)
    demo.register(commands)
    shell.register(commands)
    run.register(commands)
    run.register_jobs(commands)
    passes.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings.from_env(args.database)
    try:
        result = args.run(settings, args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except BookingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (ValueError, OSError, SchemaOutOfDate, CommandError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return int(result or 0)
