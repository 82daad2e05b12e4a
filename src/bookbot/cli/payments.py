"""`bookbot payments list|refund|reconcile`: staff look at payments, refund one, and run the
reconciliation once (what the sweeps do every minute when `bookbot run` has Stripe)."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision

from bookbot.cli.common import (
    CommandError,
    add_studio_option,
    opened,
    positive_int,
    studio_session,
)
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.engine.recurrence import zone
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.presentation.formatting import money
from bookbot.serve import stripe_gateway
from bookbot.services import payments, refunds
from bookbot.services.common import Studio
from bookbot.services.payment_events import read_payment
from bookbot.services.payment_gateway import PaymentGateway
from bookbot.store.db import Database, instant

STATUSES = (
    "scheduled",
    "pending",
    "paid",
    "failed",
    "expired",
    "cancelled",
    "invoiced",
    "refunded",
    "partially_refunded",
)


def register(commands: Any) -> None:
    group = commands.add_parser(
        "payments", help="online payments (Stripe): list, refund, reconcile"
    )
    actions = group.add_subparsers(
        dest="payments_command", required=True, metavar="ACTION", help="what to do"
    )
    listing = actions.add_parser("list", help="payments, newest first")
    listing.add_argument("--status", choices=STATUSES, help="only payments in this status")
    listing.add_argument(
        "--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="made on or after this day"
    )
    listing.add_argument(
        "--limit", type=positive_int, default=50, help="at most this many (default 50)"
    )
    add_studio_option(listing)
    listing.set_defaults(run=run_list)

    refund = actions.add_parser(
        "refund", help="refund a payment, or part of it, through Stripe (again: what is left)"
    )
    refund.add_argument(
        "payment_id", type=positive_int, metavar="PAYMENT_ID", help="the payment (see list)"
    )
    refund.add_argument(
        "--amount", help="how much, e.g. 12.50 (default: all that is not refunded yet)"
    )
    refund.add_argument(
        "--reason",
        required=True,
        help="why (kept with the refund; the same amount and reason again refunds nothing more)",
    )
    add_studio_option(refund)
    refund.set_defaults(run=run_refund)

    reconcile = actions.add_parser(
        "reconcile", help="ask Stripe about lapsed payment links and apply what it says, once"
    )
    reconcile.set_defaults(run=run_reconcile)


def _gateway(settings: Settings) -> StripeGateway:
    gateway = stripe_gateway(settings)
    if gateway is None:
        raise CommandError(
            "payments are not configured: set BOOKBOT_STRIPE_SECRET_KEY, "
            "BOOKBOT_STRIPE_WEBHOOK_SECRET and BOOKBOT_PUBLIC_URL"
        )
    return gateway


_LIST = """SELECT p.id, p.created_at, p.status, p.purpose, p.amount_minor, p.refunded_minor,
    p.currency, COALESCE(k.name, pk.name, sv.name) AS class_name, cu.name AS customer, cu.phone
FROM payments p JOIN customers cu ON cu.id = p.customer_id
LEFT JOIN registrations r ON r.id = p.registration_id LEFT JOIN classes k ON k.id = r.class_id
LEFT JOIN passes ps ON ps.id = p.pass_id LEFT JOIN classes pk ON pk.id = ps.class_id
LEFT JOIN appointments ap ON ap.id = p.appointment_id LEFT JOIN services sv ON sv.id = ap.service_id
WHERE p.studio_id = :s AND p.created_at >= :since"""
_NEWEST = " ORDER BY p.created_at DESC, p.id DESC LIMIT :limit"


async def run_list(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        local = zone(studio.timezone)
        since = datetime.combine(args.since or date(1970, 1, 2), time(), tzinfo=local)
        params: dict[str, Any] = {"s": studio.id, "since": since, "limit": args.limit}
        sql = _LIST + _NEWEST
        if args.status:
            sql = _LIST + " AND p.status = :status" + _NEWEST
            params["status"] = args.status
        rows = await db.all(sql, params)
    if not rows:
        print("no payments")
        return 0
    for r in rows:
        made = instant(r["created_at"]).astimezone(local).strftime("%Y-%m-%d %H:%M")
        amount = money(int(r["amount_minor"]), str(r["currency"]))
        refunded = int(r["refunded_minor"])
        if refunded:
            amount += f" (refunded {money(refunded, str(r['currency']))})"
        who = r["customer"] or r["phone"] or "-"
        what = r["class_name"] or "-"
        print(f"#{r['id']}  {made}  {r['status']:<18} {r['purpose']:<8} {amount}  {what}  {who}")
    return 0


def minor_units(text: str, currency: str) -> int:
    """'12.50' in `currency` as integer minor units (1250); no more decimals than it has."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise CommandError(f"not an amount: {text!r} (e.g. 12.50)") from None
    minor = amount.scaleb(get_currency_precision(currency.upper()))
    if not amount.is_finite() or minor <= 0 or minor != minor.to_integral_value():
        raise CommandError(f"not an amount in {currency.upper()}: {text!r}")
    return int(minor)


async def run_refund(settings: Settings, args: argparse.Namespace) -> int:
    gateway = _gateway(settings)
    try:
        async with studio_session(settings, args.studio) as (db, studio):
            return await _refund(db, studio, gateway, args)
    finally:
        await gateway.close()


async def _refund(db: Database, studio: Studio, gateway: PaymentGateway, args: Any) -> int:
    payment = await read_payment(db, args.payment_id)
    if payment is None or payment.studio_id != studio.id:
        raise CommandError(f"no payment #{args.payment_id} at {studio.slug}")
    # The service decides under the payment's lock, so a repeat of a refund that emptied the
    # payment is recognised as one rather than refused.
    amount = None if args.amount is None else minor_units(args.amount, payment.currency)
    note = refunds.one_line(args.reason)
    if not note:
        raise CommandError("--reason: say why (it is kept with the refund)")
    try:
        made = await refunds.staff_refund(
            db, SystemClock(), gateway, payment.id, amount_minor=amount, note=note
        )
    except refunds.RefundRefused as refused:
        if refused.left_minor <= 0:
            what = f"payment #{payment.id} is {refused.status}: nothing to refund"
            raise CommandError(what) from None
        shown = money(refused.left_minor, refused.currency)
        raise CommandError(f"payment #{payment.id} has only {shown} left to refund") from None
    if made is None:
        raise CommandError(f"no payment #{args.payment_id} at {studio.slug}")
    shown = money(made.amount_minor, made.currency)
    if made.repeated:
        # The same command again (same payment, amount and reason): it was done already.
        print(
            f"refund {made.refund_id} of {shown} for payment #{payment.id} was asked already:"
            f" {made.status} (reason: {note}); nothing new asked. To refund again, give a"
            " different --reason."
        )
        return 0
    print(
        f"refund {made.refund_id} of {shown} for payment #{payment.id}: {made.status} (reason: {note})"
    )
    if made.package_cancelled:
        print(f"lesson package {payment.package_id} cancelled: its money was refunded")
    return 0


async def run_reconcile(settings: Settings, _args: argparse.Namespace) -> int:
    gateway = _gateway(settings)
    try:
        async with opened(settings) as db:
            settled = await payments.reconcile(db, SystemClock(), gateway)
    finally:
        await gateway.close()
    print(f"reconciled: {settled} payment(s) settled (lapsed links asked of Stripe)")
    return 0
