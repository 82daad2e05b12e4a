"""`bookbot demo`: a ready database with the example pottery studio and its coming sessions."""

from __future__ import annotations

import argparse
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from bookbot.cli.common import opened, positive_int, shown_url, upgraded
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.services import generation

EXAMPLE = "clay-studio.toml"


def example_path(name: str = EXAMPLE) -> Path:
    return Path(str(resources.files("bookbot") / "examples" / name))


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="create (or refresh) a demo database with the example studio; safe to re-run"
    )
    demo.add_argument(
        "--weeks", type=positive_int, default=8, help="weeks of sessions to generate (default 8)"
    )
    demo.set_defaults(run=run_demo)


async def prepare_demo(settings: Settings, weeks: int = 8) -> str:
    """Migrate, load the example studio and generate its sessions; return a summary."""
    from bookbot.studio.loader import load_studio
    from bookbot.studio.model import parse_studio_file

    await upgraded(settings.database_url)
    spec = parse_studio_file(example_path())
    clock = SystemClock()
    lines = []
    async with opened(settings) as db:
        report = await load_studio(db, spec)
        lines.append(report.summary())
        for pattern_id in await generation.pattern_ids(db, report.studio_id):
            result = await generation.generate_sessions(
                db,
                clock,
                report.studio_id,
                pattern_id,
                preview=False,
                horizon=timedelta(weeks=weeks),
            )
            lines.append(
                f"  {result.pattern.key}: {len(result.plan.create)} new sessions, "
                f"{len(result.plan.unchanged)} already there"
            )
    return "\n".join(lines)


async def run_demo(settings: Settings, args: argparse.Namespace) -> int:
    print(await prepare_demo(settings, args.weeks))
    print(
        f"demo database ready: {shown_url(settings.database_url)}\n"
        "try: bookbot sessions list   |   bookbot sessions generate --pattern monday-course --preview"
    )
    return 0
