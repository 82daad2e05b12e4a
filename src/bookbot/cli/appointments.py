"""`bookbot appointments list|cancel`: staff look at appointments and cancel one.

Times are shown in each appointment's staff member's zone. Cancelling is the staff's
cancel: no cutoff applies, the customer is told by the service (with the reason), and
without --yes a person at a terminal is asked first (a script must say --yes).
"""

from __future__ import annotations

import argparse
from typing import Any

from bookbot.cli.common import (
    CommandError,
    add_studio_option,
    ask_at_terminal,
    positive_int,
    studio_session,
)
from bookbot.cli.slots import provider
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.presentation.formatting import local_span, money
from bookbot.serve import stripe_gateway
from bookbot.services import appointment_payments, appointments
from bookbot.services.appointment_rows import Appointment, appointment_by_id
from bookbot.store.db import Database

VIEWS = ("upcoming", "pending", "past", "cancelled")
_SOONEST_FIRST = ("upcoming", "pending")


def register(commands: Any) -> None:
    group = commands.add_parser("appointments", help="list and cancel one-to-one appointments")
    actions = group.add_subparsers(
        dest="appointments_command", required=True, metavar="ACTION", help="what to do"
    )
    listing = actions.add_parser("list", help="appointments of one staff member or everyone")
    listing.add_argument("--staff", metavar="KEY", help="only this staff member's (default: all)")
    listing.add_argument(
        "--view",
        choices=VIEWS,
        default="upcoming",
        help="upcoming (booked, soonest first), pending (held, not yet confirmed), "
        "past or cancelled (newest first); default upcoming",
    )
    listing.add_argument(
        "--limit", type=positive_int, default=30, help="at most this many (default 30)"
    )
    add_studio_option(listing)
    listing.set_defaults(run=run_list)

    cancel = actions.add_parser(
        "cancel", help="cancel an appointment as staff (the customer is told, with the reason)"
    )
    cancel.add_argument("appointment", type=positive_int, metavar="ID", help="its number")
    cancel.add_argument("--reason", required=True, help="why (told to the customer)")
    cancel.add_argument("--yes", action="store_true", help="do it without asking first")
    add_studio_option(cancel)
    cancel.set_defaults(run=run_cancel)


def describe(a: Appointment, language: str = "en") -> str:
    """'31  Mon 14 Dec 2026 10:00–11:00 CET  Spanish lesson · Lucía Martín → Ann  confirmed'."""
    span = local_span(a.starts_at, a.ends_at, a.staff_timezone, language)
    people = f" ({a.guest_count} people)" if a.guest_count > 1 else ""
    price = money(a.price_minor, a.currency, language)
    return (
        f"{a.id:>5}  {span}  {a.service_name} · {a.staff_name} → {a.customer_name}{people}"
        f"  {a.status}  {price}"
    )


async def run_list(settings: Settings, args: argparse.Namespace) -> int:
    now = SystemClock().now()
    found: list[Appointment] = []
    async with studio_session(settings, args.studio) as (db, studio):
        if args.staff:
            staff_ids = [(await provider(db, studio, args.staff)).id]
        else:
            rows = await db.all(
                "SELECT id FROM staff WHERE studio_id = :s ORDER BY id", {"s": studio.id}
            )
            staff_ids = [int(row["id"]) for row in rows]
        async with db.transaction(write=False) as tx:
            for staff_id in staff_ids:
                found += await appointments.staff_list(
                    tx, studio.id, staff_id, view=args.view, now=now, limit=args.limit
                )
    newest_first = args.view not in _SOONEST_FIRST
    found.sort(key=lambda a: (a.starts_at, a.id), reverse=newest_first)
    found = found[: args.limit]
    who = args.staff or "all staff"
    print(f"{args.view} appointments ({who}): {len(found)}")
    for a in found:
        print(describe(a, studio.default_language))
        if a.status.startswith("cancelled") and a.cancel_reason:
            print(f"         reason: {a.cancel_reason}")
    return 0


async def send_refunds(settings: Settings, db: Database, appointment_id: int) -> int:
    """A cancelled appointment paid online: its refunds (written by the cancellation) go to
    Stripe now when it is configured; otherwise `bookbot run`'s reconciliation sends them."""
    gateway = stripe_gateway(settings)
    if gateway is None:
        return 0
    try:
        return await appointment_payments.submit_refunds(db, SystemClock(), gateway, appointment_id)
    finally:
        await gateway.close()


async def run_cancel(settings: Settings, args: argparse.Namespace) -> int:
    reason = " ".join(args.reason.split())
    if not reason:
        raise CommandError("--reason: say why (the customer is told)")
    async with studio_session(settings, args.studio) as (db, studio):
        async with db.transaction(write=False) as tx:
            seen = await appointment_by_id(tx, studio.id, args.appointment)
        print(describe(seen, studio.default_language))
        if not args.yes and not ask_at_terminal(f"Cancel it and tell {seen.customer_name}?"):
            print("nothing cancelled (add --yes to cancel without being asked)")
            return 1
        done = await appointments.cancel_by_staff(
            db,
            SystemClock(),
            studio.id,
            appointment_id=seen.id,
            staff_id=seen.staff_id,
            reason=reason,
        )
        if seen.status == done.status:
            status = done.status.replace("_", " ")
            print(f"appointment {done.id} was {status} already: nothing changed")
            return 0
        refunds = await send_refunds(settings, db, done.id)
    told = "told" if seen.status == "confirmed" else "not told (it was only held)"
    print(f"appointment {done.id} {done.status.replace('_', ' ')}; {done.customer_name} {told}")
    if refunds:
        print(f"{refunds} refund(s) of its online payment asked of Stripe")
    return 0
