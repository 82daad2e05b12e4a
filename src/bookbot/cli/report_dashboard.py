"""`bookbot report dashboard` and `bookbot report feedback`: per course for a period, the
dashboard's figures (sessions held, bookings, seats filled, completion and pass rates,
revenue and amounts owed in the studio's currency) or the feedback averages (per course and
per instructor).

The period is whole days in the studio's zone: --from and --to (both included), or the
last --days N days up to today (default 30)."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from bookbot.cli.common import add_studio_option, studio_session
from bookbot.cli.report_funnel import _midnight, add_period_options, period
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.engine.recurrence import zone
from bookbot.presentation.dashboard_report import dashboard_table, feedback_table
from bookbot.presentation.i18n import translator
from bookbot.services import dashboard


def register(reports: Any) -> None:
    for name, help_text, run in (
        (
            "dashboard",
            "per course: sessions, bookings, seats filled, completion, pass rate, money",
            run_dashboard,
        ),
        ("feedback", "ratings per course and per instructor: count and average", run_feedback),
    ):
        parser = reports.add_parser(name, help=help_text)
        add_period_options(parser)
        add_studio_option(parser)
        parser.set_defaults(run=run)


async def run_dashboard(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        today = SystemClock().now().astimezone(zone(studio.timezone)).date()
        start, end = period(args, today)
        rows = await dashboard.figures(
            db,
            studio.id,
            studio.currency,
            start=_midnight(start, studio.timezone),
            end=_midnight(end + timedelta(days=1), studio.timezone),
        )
    t = translator(studio.default_language)
    title = t._("Dashboard by course, {start} – {end}").format(start=start, end=end)
    print(dashboard_table(rows, t, title=title, currency=studio.currency))
    return 0


async def run_feedback(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        today = SystemClock().now().astimezone(zone(studio.timezone)).date()
        start, end = period(args, today)
        by_class, by_instructor = await dashboard.averages(
            db,
            studio.id,
            start=_midnight(start, studio.timezone),
            end=_midnight(end + timedelta(days=1), studio.timezone),
        )
    t = translator(studio.default_language)
    title = t._("Feedback, {start} – {end}").format(start=start, end=end)
    print(feedback_table(by_class, by_instructor, t, title=title))
    return 0
