"""`bookbot doctor`: check a live database against the booking invariants.

Read only, on one snapshot: safe beside a running bot. Each violation is one line; the
last line sums up; the exit status is 1 if anything was found (for scripts and cron).

Before them, one line per studio's own bot or number (`[channels]`), flagging a token
variable that is unset here and a token written into the studio file (demos only). Those
do not change the exit status: doctor may run where the bot's secrets are not.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import timedelta
from typing import Any

from bookbot.cli.common import CommandError, non_negative_int, opened, shown_url
from bookbot.config import Settings
from bookbot.engine import errors
from bookbot.engine.clock import SystemClock
from bookbot.services.common import studio_by_slug
from bookbot.services.invariants import find_violations
from bookbot.services.studio_channels import StudioChannel, deployment_channels
from bookbot.store.db import Database


def register(commands: Any) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check the bookings in a live database against the invariants (read only);"
        " exit 1 if any is broken",
    )
    doctor.add_argument(
        "--studio", metavar="SLUG", help="check only this studio (default: every studio)"
    )
    doctor.add_argument(
        "--days",
        type=non_negative_int,
        metavar="N",
        default=1,
        help="also check sessions that ended up to this many days ago (default 1);"
        " sessions not ended yet are always checked",
    )
    doctor.set_defaults(run=run_doctor)


async def _studios(db: Database, slug: str | None) -> dict[int, str]:
    """Studio ids to check, with their slugs."""
    async with db.transaction(write=False) as tx:
        if slug is None:
            rows = await tx.all("SELECT id, slug FROM studios ORDER BY id")
            return {r["id"]: r["slug"] for r in rows}
        try:
            studio = await studio_by_slug(tx, slug)
        except errors.NotFound:
            raise CommandError(f"no studio {slug!r} in this database") from None
        return {studio.id: studio.slug}


def channel_lines(channels: list[StudioChannel]) -> list[str]:
    """What each studio's own bots and numbers are, and what is wrong with them here."""
    lines = []
    for c in channels:
        what = f"{c.slug}: own {c.channel} {'bot' if c.channel == 'telegram' else 'number'}"
        line = f"{what} {c.address}"
        if c.token_env and c.resolved_token() is None:
            line += f": {c.token_env} is unset here (the bot is not served without it)"
        elif c.token_env:
            line += f" (token from {c.token_env})"
        elif c.token:
            line += " (token written in the studio file: for demos only)"
        lines.append(line)
    return lines


async def run_doctor(settings: Settings, args: argparse.Namespace) -> int:
    now = SystemClock().now()
    since = now - timedelta(days=args.days)
    async with opened(settings) as db:
        studios = await _studios(db, args.studio)
        async with db.transaction(write=False) as tx:
            channels = [c for c in await deployment_channels(tx) if c.studio_id in studios]
        for line in channel_lines(channels):
            print(line)
        found = []
        for studio_id in studios:
            found += await find_violations(db, now, studio_id=studio_id, since=since)
    for violation in found:
        print(f"{studios[violation.studio_id]}: {violation}")
    where = f"{len(studios)} studio(s) in {shown_url(settings.database_url)}"
    scope = f"sessions ending after {since:%Y-%m-%d %H:%M} UTC"
    if not found:
        print(f"doctor: no violations ({where}; {scope})")
        return 0
    counts = Counter(str(v.invariant) for v in found)
    summary = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    print(f"doctor: {len(found)} violation(s): {summary} ({where}; {scope})")
    return 1
