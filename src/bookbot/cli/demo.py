"""`bookbot demo`: a ready database with the three example studios and their coming sessions.

The pottery studio (examples/clay-studio.toml: classes, courses, drop-ins, passes) is loaded
first, so commands that name no studio act on it (`cli.common.chosen_studio`); the tutor
studio (examples/tutor-studio.toml: one-to-one appointments with a Madrid tutor and a New
York coach) sits beside it, reached with `--studio tutor-studio` or the bot's deep link
`?start=tutor-studio`. The training centre (examples/training-centre.toml: Bristol, a
three-day Gas Safe course with company details, a 30% deposit and certificates, and a
one-day heat pump course) is the third, `--studio bristol-gas-training`.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from bookbot.cli.common import opened, positive_int, shown_url, upgraded
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.services import conflicts, generation
from bookbot.store.db import Database

EXAMPLE = "clay-studio.toml"
TUTOR_EXAMPLE = "tutor-studio.toml"
TUTOR_SLUG = "tutor-studio"
TRAINING_EXAMPLE = "training-centre.toml"
TRAINING_SLUG = "bristol-gas-training"
EXAMPLES = (EXAMPLE, TUTOR_EXAMPLE, TRAINING_EXAMPLE)  # the first is the default studio


def example_path(name: str = EXAMPLE) -> Path:
    return Path(str(resources.files("bookbot") / "examples" / name))


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="create (or refresh) a demo database with the example pottery studio, tutor studio"
        " and training centre; safe to re-run",
    )
    demo.add_argument(
        "--weeks", type=positive_int, default=8, help="weeks of sessions to generate (default 8)"
    )
    demo.set_defaults(run=run_demo)


async def _load_example(db: Database, name: str, weeks: int) -> list[str]:
    """Load one example file and generate its sessions; the summary lines."""
    from bookbot.studio.loader import load_studio
    from bookbot.studio.model import parse_studio_file

    report = await load_studio(
        db,
        parse_studio_file(example_path(name)),
        availability_changed=conflicts.after_reload(SystemClock()),
    )
    lines = [report.summary()]
    for pattern_id in await generation.pattern_ids(db, report.studio_id):
        result = await generation.generate_sessions(
            db,
            SystemClock(),
            report.studio_id,
            pattern_id,
            preview=False,
            horizon=timedelta(weeks=weeks),
        )
        lines.append(
            f"  {result.pattern.key}: {len(result.plan.create)} new sessions, "
            f"{len(result.plan.unchanged)} already there"
        )
    return lines


async def prepare_demo(settings: Settings, weeks: int = 8) -> str:
    """Migrate, load the example studios and generate their sessions; a summary."""
    await upgraded(settings.database_url)
    lines = []
    async with opened(settings) as db:
        for name in EXAMPLES:
            lines += await _load_example(db, name, weeks)
    return "\n".join(lines)


async def run_demo(settings: Settings, args: argparse.Namespace) -> int:
    print(await prepare_demo(settings, args.weeks))
    print(f"demo database ready: {shown_url(settings.database_url)}")
    print(
        "try: bookbot shell   |   bookbot sessions list   |   "
        f"bookbot shell --studio {TUTOR_SLUG} (one-to-one appointments)   |   "
        f"bookbot sessions list --studio {TRAINING_SLUG} (multi-day courses)"
    )
    return 0
