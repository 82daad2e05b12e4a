"""The `bookbot` command line: `bookbot --help` lists the commands, each has its own --help.

Every refusal, whether a bad option, a database that cannot be opened or a booking rule,
is one line on stderr starting with `error:` and exit status 1; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bookbot.cli import (
    admin,
    appointments,
    availability,
    certificates,
    conflicts,
    demo,
    doctor,
    event_loop,
    packages,
    passes,
    payments,
    recurring,
    report,
    run,
    shell,
    slots,
)
from bookbot.cli.common import DATABASE_HELP, Parser, accept_database_anywhere
from bookbot.cli.failures import failure_message
from bookbot.config import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="bookbot", description="A booking assistant for studios that lives in chat."
    )
    parser.add_argument("--database", metavar="URL", help=DATABASE_HELP)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do (each has --help)"
    )
    admin.register(commands)
    demo.register(commands)
    shell.register(commands)
    run.register(commands)
    run.register_jobs(commands)
    passes.register(commands)
    payments.register(commands)
    packages.register(commands)
    slots.register(commands)
    availability.register(commands)
    appointments.register(commands)
    conflicts.register(commands)
    recurring.register(commands)
    report.register(commands)
    certificates.register(commands)
    doctor.register(commands)
    accept_database_anywhere(parser)
    return parser


def _run(settings: Settings, args: argparse.Namespace) -> int:
    result = args.run(settings, args)
    if asyncio.iscoroutine(result):
        result = event_loop.run(result)  # uvloop where installed (BOOKBOT_EVENT_LOOP)
    return int(result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    url: str | None = None
    try:
        args = build_parser().parse_args(argv)
        settings = Settings.from_env(args.database)
        url = settings.database_url
        return _run(settings, args)
    except Exception as error:
        message = failure_message(error, url)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1
