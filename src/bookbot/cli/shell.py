"""`bookbot shell`: book in the terminal as a customer, on the demo database by default."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bookbot.cli.common import chosen_studio, is_blank_sqlite, opened, phone, sqlite_path
from bookbot.cli.demo import prepare_demo
from bookbot.config import Settings
from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import SystemClock
from bookbot.handlers.console import Shell, ShellCustomer, interactive


def register(commands: Any) -> None:
    shell = commands.add_parser(
        "shell",
        help="chat with the bot in the terminal as a customer (creates the demo database if needed)",
        description="Type the number of an option or its words. MENU starts again, BACK goes "
        "back, /quit leaves. Reads plain stdin, so it can be scripted: "
        "printf '1\\n1\\n' | bookbot shell",
    )
    shell.add_argument(
        "--phone",
        type=phone,
        default="+447700900123",
        help="the customer's phone, their identity (default +447700900123)",
    )
    shell.add_argument("--name", default="Sam", help="the customer's name")
    shell.add_argument("--lang", choices=["en", "es"], help="language (default: the studio's)")
    shell.add_argument(
        "--studio",
        metavar="SLUG",
        help="studio slug (default: $BOOKBOT_DEFAULT_STUDIO, else the only or first-loaded studio)",
    )
    shell.add_argument("--save-to", type=Path, metavar="DIR", help="save calendar files here")
    shell.set_defaults(run=run_shell)


def _needs_demo(settings: Settings) -> bool:
    """A SQLite file that is missing, or blank (an earlier bookbot could leave one behind)."""
    path = sqlite_path(settings.database_url)
    return path is not None and is_blank_sqlite(path)


async def run_shell(settings: Settings, args: argparse.Namespace) -> int:
    if _needs_demo(settings):
        print("Creating the demo studio (first run)…", file=sys.stderr)
        await prepare_demo(settings)
    async with opened(settings) as db:
        studio = await chosen_studio(db, args.studio, settings.default_studio)
        dialogues = Dialogues(db, SystemClock(), default_studio=studio.slug)
        shell = Shell(
            dialogues,
            ShellCustomer(args.phone, args.name, args.lang),
            sys.stdout,
            args.save_to,
            studio=studio.slug,
        )
        await shell.run(sys.stdin, echo=not interactive())
    return 0
