"""`bookbot report sessions --staff KEY --month YYYY-MM`: sessions held per member in a
month, for invoicing (see services.session_report for what counts). A table, or CSV with
--csv (amounts in the currency's major unit, e.g. 40.00)."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision

from bookbot.cli.common import add_studio_option, studio_session
from bookbot.cli.slots import provider
from bookbot.config import Settings
from bookbot.presentation.formatting import money
from bookbot.services.session_report import SessionsReport, sessions_report


def month(text: str) -> date:
    try:
        return date.fromisoformat(f"{text.strip()}-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"a month like 2026-11, not {text!r}") from None


def register(reports: Any) -> None:
    parser = reports.add_parser(
        "sessions", help="sessions held per member in a month, for invoicing"
    )
    parser.add_argument("--staff", required=True, metavar="KEY", help="the staff member's key")
    parser.add_argument(
        "--month",
        type=month,
        required=True,
        metavar="YYYY-MM",
        help="the month, in the staff member's zone",
    )
    parser.add_argument("--csv", action="store_true", help="CSV on stdout instead of a table")
    add_studio_option(parser)
    parser.set_defaults(run=run_sessions)


async def run_sessions(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        staff = await provider(db, studio, args.staff)
        async with db.transaction(write=False) as tx:
            report = await sessions_report(tx, studio.id, staff_id=staff.id, month=args.month)
    if args.csv:
        _write_csv(report)
    else:
        _print_table(report, studio.currency, studio.default_language)
    return 0


def major(minor: int, currency: str) -> str:
    """Minor units in the currency's major unit for CSV: 4000 GBP '40.00', 4000 JPY '4000'
    (its own minor unit; no float touches the amount)."""
    return str(Decimal(minor).scaleb(-get_currency_precision(currency)))


def _write_csv(report: SessionsReport) -> None:
    out = csv.writer(sys.stdout)
    out.writerow(
        [
            "member",
            "phone",
            "held",
            "no_shows",
            "from_series",
            "amount",
            "paid",
            "to_invoice",
            "currency",
        ]
    )
    for m in report.members:
        out.writerow(
            [
                m.customer_name,
                m.phone,
                m.held,
                m.no_shows,
                m.from_series,
                major(m.amount_minor, m.currency),
                major(m.paid_minor, m.currency),
                major(m.to_invoice_minor, m.currency),
                m.currency,
            ]
        )


def _print_table(report: SessionsReport, currency: str, language: str) -> None:
    print(
        f"sessions held with {report.staff.name}, {report.month:%B %Y} ({report.staff.timezone}):"
        f" {report.held} by {len(report.members)} member(s)"
    )
    if not report.members:
        return
    width = max(len(m.customer_name or m.phone) for m in report.members)
    print(f"{'member':<{width}}  held  no-show  series  {'amount':>10}  {'paid':>10}  to invoice")
    for m in report.members:
        print(
            f"{m.customer_name or m.phone:<{width}}  {m.held:>4}  {m.no_shows:>7}"
            f"  {m.from_series:>6}  {money(m.amount_minor, m.currency, language):>10}"
            f"  {money(m.paid_minor, m.currency, language):>10}"
            f"  {money(m.to_invoice_minor, m.currency, language):>10}"
        )
    print(f"to invoice in all: {money(report.to_invoice_minor, currency, language)}")
