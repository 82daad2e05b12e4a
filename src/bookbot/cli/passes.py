"""`bookbot passes issue`: staff issue a pass to a customer (paid at the desk)."""

from __future__ import annotations

import argparse
from typing import Any

from bookbot.cli.common import (
    add_studio_option,
    non_negative_int,
    phone,
    positive_int,
    studio_session,
)
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.engine.errors import NotFound
from bookbot.engine.recurrence import zone
from bookbot.engine.reservations import PassKind
from bookbot.services import customers, passes


def register(commands: Any) -> None:
    group = commands.add_parser("passes", help="issue passes to customers")
    actions = group.add_subparsers(
        dest="passes_command", required=True, metavar="ACTION", help="what to do"
    )
    issue = actions.add_parser("issue", help="issue a pass (staff; counts as paid at the studio)")
    issue.add_argument(
        "--phone", type=phone, required=True, help="the customer's phone, e.g. +447700900123"
    )
    issue.add_argument("--name", default="", help="the customer's name (new customers)")
    issue.add_argument("--class", dest="class_key", required=True, metavar="KEY", help="class key")
    issue.add_argument(
        "--kind",
        choices=[k.value for k in PassKind],
        default="punch",
        help="punch: a number of sessions; unlimited: any session while valid; "
        "full_course: every part of a course (default punch)",
    )
    issue.add_argument("--sessions", type=positive_int, help="sessions on a punch pass, e.g. 8")
    issue.add_argument("--days", type=positive_int, help="valid for this many days from today")
    issue.add_argument(
        "--max-advance",
        type=positive_int,
        default=passes.DEFAULT_MAX_ADVANCE,
        help=f"sessions booked ahead at once on the pass (default {passes.DEFAULT_MAX_ADVANCE})",
    )
    issue.add_argument("--sequential", action="store_true", help="parts must be attended in order")
    issue.add_argument(
        "--grace-hours",
        type=non_negative_int,
        default=0,
        help="hours after a missed session during which it is not counted as a no-show (default 0)",
    )
    add_studio_option(issue)
    issue.set_defaults(run=run_issue)


async def run_issue(settings: Settings, args: argparse.Namespace) -> int:
    clock = SystemClock()
    now = clock.now()
    async with studio_session(settings, args.studio) as (db, studio):
        who = await customers.customer_for(
            db, clock, studio.id, "sms", args.phone, name=args.name, phone=args.phone
        )
        async with db.transaction(write=False) as tx:
            class_id = await tx.scalar(
                "SELECT id FROM classes WHERE studio_id = :s AND key = :key",
                {"s": studio.id, "key": args.class_key},
            )
        if class_id is None:
            raise NotFound(what="class", ident=args.class_key)
        terms = passes.PassTerms(
            PassKind(args.kind),
            args.sessions,
            args.days,
            args.max_advance,
            args.sequential,
            args.grace_hours,
        )
        pass_id = await passes.issue_pass(
            db,
            now,
            studio.id,
            who.id,
            int(class_id),
            terms=terms,
            payment="staff_issued",
            valid_from=now.astimezone(zone(studio.timezone)).date(),
        )
    print(f"pass {pass_id} issued to {who.name or who.phone}: {args.kind} for {args.class_key}")
    return 0
