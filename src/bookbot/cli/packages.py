"""`bookbot packages issue|list|adjust`: staff give a customer a lesson package, see the
packages and their balances, and correct a balance by hand (audited, never below zero)."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from bookbot.cli.common import add_studio_option, phone, positive_int, studio_session
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.engine.errors import InvalidRequest, NotFound
from bookbot.services import customers, packages
from bookbot.services.packages import Adjustment, Package, PackageTerms
from bookbot.store.db import Database


def _signed(text: str) -> int:
    """'+2', '-1', '3': a non-zero whole number."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number like +2 or -1") from None
    if value == 0:
        raise argparse.ArgumentTypeError("an adjustment of 0 changes nothing")
    return value


def register(commands: Any) -> None:
    group = commands.add_parser("packages", help="lesson packages: issue, list, adjust")
    actions = group.add_subparsers(
        dest="packages_command", required=True, metavar="ACTION", help="what to do"
    )
    issue = actions.add_parser(
        "issue", help="give a customer a package (staff-issued: nothing to pay in the bot)"
    )
    issue.add_argument("--phone", type=phone, required=True, help="the customer's phone")
    issue.add_argument("--name", default="", help="the customer's name (new customers)")
    issue.add_argument("--offer", metavar="KEY", help="a [[packages]] offer of the studio file")
    issue.add_argument("--service", metavar="KEY", help="or a service key, with the balance:")
    kind = issue.add_mutually_exclusive_group()
    kind.add_argument("--sessions", type=positive_int, help="sessions in the package, e.g. 5")
    kind.add_argument("--minutes", type=positive_int, help="minutes in the package, e.g. 300")
    issue.add_argument("--days", type=positive_int, help="valid for this many days from today")
    add_studio_option(issue)
    issue.set_defaults(run=run_issue)

    listing = actions.add_parser("list", help="packages with their balance and expiry")
    listing.add_argument("--phone", type=phone, help="only this customer's")
    add_studio_option(listing)
    listing.set_defaults(run=run_list)

    adjust = actions.add_parser("adjust", help="change a balance by hand, with a reason")
    adjust.add_argument("package_id", type=positive_int, metavar="ID", help="the package's id")
    delta = adjust.add_mutually_exclusive_group(required=True)
    delta.add_argument("--sessions", type=_signed, metavar="+/-N", help="e.g. +1 or -2")
    delta.add_argument("--minutes", type=_signed, metavar="+/-M", help="e.g. +30 or -60")
    adjust.add_argument("--reason", required=True, help="why (kept with the change)")
    adjust.add_argument("--by", default="", help="who (default: your login name)")
    add_studio_option(adjust)
    adjust.set_defaults(run=run_adjust)


async def _terms(db: Database, studio_id: int, args: argparse.Namespace) -> PackageTerms:
    if args.offer:
        if args.service or args.sessions or args.minutes or args.days:
            raise InvalidRequest(reason="give --offer alone, or --service with its balance")
        return packages.terms_of(await packages.offer_by_key(db, studio_id, args.offer))
    if not (args.service and (args.sessions or args.minutes) and args.days):
        raise InvalidRequest(
            reason="give --offer KEY, or --service KEY with --sessions N or --minutes M and --days D"
        )
    service = await db.one(
        "SELECT id, name FROM services WHERE studio_id = :s AND key = :key",
        {"s": studio_id, "key": args.service},
    )
    if service is None:
        raise NotFound(what="service", ident=args.service)
    amount = f"{args.sessions} sessions" if args.sessions else f"{args.minutes} minutes"
    return PackageTerms(
        name=f"{service['name']}: {amount}",
        service_id=int(service["id"]),
        sessions=args.sessions,
        minutes=args.minutes,
        valid_days=args.days,
    )


def balance(p: Package) -> str:
    unit = "minutes" if p.in_minutes else "sessions"
    return f"{p.remaining} of {p.total} {unit} left"


async def run_issue(settings: Settings, args: argparse.Namespace) -> int:
    clock = SystemClock()
    async with studio_session(settings, args.studio) as (db, studio):
        terms = await _terms(db, studio.id, args)
        who = await customers.customer_for(
            db, clock, studio.id, "sms", args.phone, name=args.name, phone=args.phone
        )
        made = await packages.issue(
            db, clock.now(), studio.id, customer_id=who.id, terms=terms, payment="staff_issued"
        )
    print(
        f"package {made.id} issued to {who.name or who.phone}: {made.name},"
        f" {balance(made)}, valid until {made.expires_on}"
    )
    return 0


async def run_list(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        customer_id = None
        if args.phone:
            customer_id = await db.scalar(
                "SELECT id FROM customers WHERE studio_id = :s AND phone = :phone",
                {"s": studio.id, "phone": args.phone},
            )
            if customer_id is None:
                raise NotFound(what="customer", ident=args.phone)
        found = await packages.list_packages(db, studio.id, customer_id=customer_id)
    if not found:
        print("no packages")
    for p in found:
        who = p.customer_name or p.customer_phone or f"customer {p.customer_id}"
        print(
            f"#{p.id}  {who}  {p.name} ({p.service_name})  {balance(p)}"
            f"  until {p.expires_on}  {p.status}  {p.payment}"
        )
    return 0


async def run_adjust(settings: Settings, args: argparse.Namespace) -> int:
    clock = SystemClock()
    actor = args.by or _login()
    change = Adjustment(args.sessions or 0, args.minutes or 0, args.reason, f"cli:{actor}")
    async with studio_session(settings, args.studio) as (db, studio):
        after = await packages.adjust(db, clock.now(), studio.id, args.package_id, change)
    print(f"package {after.id}: {balance(after)} (reason recorded: {args.reason.strip()})")
    return 0


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a container
        return "staff"
