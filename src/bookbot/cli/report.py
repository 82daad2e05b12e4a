"""`bookbot report ...`: figures for staff, one subcommand per report.

Each report lives in its own module and adds its subcommand here: `report_sessions`
(sessions held per member, for invoicing) and `report_funnel` (booking conversion)."""

from __future__ import annotations

from typing import Any

from bookbot.cli import report_dashboard, report_funnel, report_sessions


def register(commands: Any) -> None:
    group = commands.add_parser(
        "report", help="figures for staff: sessions held, booking funnel, dashboard, feedback"
    )
    reports = group.add_subparsers(
        dest="report_command", required=True, metavar="REPORT", help="which report"
    )
    # Each report module adds itself here: `report_sessions.register(reports)`, ...
    report_sessions.register(reports)
    report_funnel.register(reports)
    report_dashboard.register(reports)  # issue 17: dashboard, feedback
