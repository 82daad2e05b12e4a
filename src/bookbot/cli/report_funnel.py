"""`bookbot report funnel`: booking conversion per step and channel for a period, as a
table (per item too with --by-item), and optionally a chart (--chart FILE.png).

The period is whole days in the studio's zone: --from and --to (both included), or the
last --days N days up to today (default 30)."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bookbot.cli.common import CommandError, add_studio_option, positive_int, studio_session
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.engine.recurrence import zone
from bookbot.presentation.funnel_report import funnel_chart, funnel_table
from bookbot.presentation.i18n import translator
from bookbot.services import funnel

DEFAULT_DAYS = 30


def register(reports: Any) -> None:
    parser = reports.add_parser(
        "funnel", help="booking conversion: views, starts, bookings, per channel"
    )
    add_period_options(parser)
    parser.add_argument("--channel", help="one channel only: telegram, sms, whatsapp, console")
    parser.add_argument("--by-item", action="store_true", help="a row per class and service")
    parser.add_argument("--chart", type=Path, metavar="FILE.png", help="also write a PNG chart")
    add_studio_option(parser)
    parser.set_defaults(run=run_funnel)


def add_period_options(parser: argparse.ArgumentParser) -> None:
    """--from/--to or --days: the period a report covers (read back with `period`)."""
    parser.add_argument(
        "--from",
        dest="start",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the first day of the period, in the studio's zone (with --to)",
    )
    parser.add_argument(
        "--to",
        dest="end",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the last day of the period, included (with --from)",
    )
    parser.add_argument(
        "--days",
        type=positive_int,
        help=f"the last N days up to today (default {DEFAULT_DAYS}; not with --from/--to)",
    )


def period(args: argparse.Namespace, today: date) -> tuple[date, date]:
    """The first and last day asked for (both included)."""
    if args.days is not None and (args.start or args.end):
        raise CommandError("give --days or --from/--to, not both")
    if args.start or args.end:
        start, end = args.start or args.end, args.end or today
        if start > end:
            raise CommandError(f"--from {start} is after --to {end}")
        return start, end
    return today - timedelta(days=(args.days or DEFAULT_DAYS) - 1), today


def _midnight(day: date, zone_name: str) -> datetime:
    """The instant a local day starts (midnight exists in every zone bookbot serves; where a
    DST change skips it, zoneinfo's fold=0 gives the instant just after)."""
    return datetime.combine(day, time(0), tzinfo=zone(zone_name))


async def run_funnel(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        today = SystemClock().now().astimezone(zone(studio.timezone)).date()
        start, end = period(args, today)
        found = await funnel.report(
            db,
            studio.id,
            since=_midnight(start, studio.timezone),
            until=_midnight(end + timedelta(days=1), studio.timezone),
            channel=args.channel,
        )
    t = translator(studio.default_language)
    title = t._("Booking funnel, {start} – {end}").format(start=start, end=end)
    print(funnel_table(found, t, title=title, by_item=args.by_item))
    if args.chart is not None:
        args.chart.write_bytes(funnel_chart(found, t, title=title, by_item=args.by_item))
        print(f"chart: {args.chart}")
    return 0
