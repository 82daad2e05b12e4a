"""`bookbot conflicts list|cancel|keep`: booked appointments a change of availability left
outside a staff member's hours or inside a block, and settling them (services.conflicts).

`list` checks each listed staff member's appointments again first, so what it shows is
current. `cancel` is the staff cancel (no cutoff; the member is told, with the reason, and
refunded or credited per policy; refunds of online payments go to Stripe now when it is
configured, else reconciliation sends them). `keep` adds an availability addition (source
'cli') for exactly the appointment's slot. A conflict already handled is left as it is,
and the command says how it was handled.
"""

from __future__ import annotations

import argparse
from typing import Any

from bookbot.cli.appointments import send_refunds
from bookbot.cli.common import CommandError, add_studio_option, positive_int, studio_session
from bookbot.cli.slots import provider
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.presentation.formatting import local_span
from bookbot.services import conflicts
from bookbot.services.conflict_rows import Conflict, Resolved

ACTOR = "cli"
REASONS = {"outside_hours": "outside hours", "blocked": "blocked"}


def register(commands: Any) -> None:
    group = commands.add_parser(
        "conflicts", help="appointments left outside a staff member's hours: cancel or keep"
    )
    actions = group.add_subparsers(
        dest="conflicts_command", required=True, metavar="ACTION", help="what to do"
    )
    listing = actions.add_parser("list", help="open conflicts, soonest first")
    listing.add_argument("--staff", metavar="KEY", help="only this staff member's (default: all)")
    add_studio_option(listing)
    listing.set_defaults(run=run_list)

    cancel = actions.add_parser(
        "cancel", help="cancel the appointment (the member is told, with the reason)"
    )
    cancel.add_argument("conflict", type=positive_int, metavar="ID", help="the conflict's number")
    cancel.add_argument("--reason", required=True, help="why (told to the member)")
    add_studio_option(cancel)
    cancel.set_defaults(run=run_cancel)

    keep = actions.add_parser("keep", help="keep the appointment: open exactly its slot")
    keep.add_argument("conflict", type=positive_int, metavar="ID", help="the conflict's number")
    add_studio_option(keep)
    keep.set_defaults(run=run_keep)


def describe(c: Conflict, language: str = "en") -> str:
    """'  4  Mon 23 Nov 2026 10:00–11:00 GMT  Lesson · Maya → Ben  outside hours  (appt 12)'."""
    span = local_span(c.starts_at, c.ends_at, c.staff_timezone, language)
    return (
        f"{c.id:>5}  {span}  {c.service_name} · {c.staff_name} → {c.customer_name}"
        f"  {REASONS.get(c.reason, c.reason)}  (appointment {c.appointment_id})"
    )


async def run_list(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        staff_id = (await provider(db, studio, args.staff)).id if args.staff else None
        found = await conflicts.open_conflicts(db, SystemClock(), studio.id, staff_id=staff_id)
    print(f"open conflicts ({args.staff or 'all staff'}): {len(found)}")
    for c in found:
        print(describe(c, studio.default_language))
    if found:
        print(
            "settle each: bookbot conflicts cancel ID --reason TEXT, or bookbot conflicts keep ID"
        )
    return 0


def _handled(result: Resolved) -> int:
    c = result.conflict
    how = {
        "kept": "it was kept",
        "cancelled": "its appointment was cancelled",
        "cleared": "its appointment fits the hours again or is no longer booked",
    }
    print(f"conflict {c.id} was already handled ({how.get(c.resolution or '', c.resolution)}):")
    print("nothing changed")
    return 0


async def run_cancel(settings: Settings, args: argparse.Namespace) -> int:
    reason = " ".join(args.reason.split())
    if not reason:
        raise CommandError("--reason: say why (the member is told)")
    async with studio_session(settings, args.studio) as (db, studio):
        result = await conflicts.cancel(
            db, SystemClock(), studio.id, args.conflict, reason=reason, actor=ACTOR
        )
        if not result.done:
            return _handled(result)
        refunds = await send_refunds(settings, db, result.conflict.appointment_id)
    print(describe(result.conflict, studio.default_language))
    print(
        f"appointment {result.conflict.appointment_id} cancelled;"
        f" {result.conflict.customer_name} told, with the reason"
    )
    if refunds:
        print(f"{refunds} refund(s) of its online payment asked of Stripe")
    return 0


async def run_keep(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        result = await conflicts.keep(
            db, SystemClock(), studio.id, args.conflict, source="cli", actor=ACTOR
        )
    if not result.done:
        return _handled(result)
    c = result.conflict
    print(describe(c, studio.default_language))
    span = local_span(c.busy_from, c.busy_until, c.staff_timezone, studio.default_language)
    print(f"kept: {c.staff_name} is now available {span} (an addition for exactly that slot)")
    return 0
