"""`bookbot recurring add|list|end`: staff make, list and end members' recurring bookings.

`add` places the next 6 weeks at once and prints what was booked and what was skipped (and
why); the member and the staff member are told. The weekday and time are the staff member's
wall time (their zone, else the studio's), kept across DST. `end` cancels the future
occurrences the member could still cancel (before the cutoff) and keeps the rest.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from bookbot.cli.common import add_studio_option, phone, positive_int, studio_session
from bookbot.cli.slots import provider
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.engine.series import SeriesRule, starts_at
from bookbot.presentation.formatting import local_when
from bookbot.services import appointments, customers, recurring
from bookbot.services.recurring import NewSeries, RecurringBooking

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekday(text: str) -> int:
    """'tue', 'Tuesday' or 1 (0 = Monday) as 0..6."""
    word = text.strip().lower()
    if word.isdigit() and int(word) < 7:
        return int(word)
    if len(word) >= 3 and word[:3] in WEEKDAYS:
        return WEEKDAYS.index(word[:3])
    raise argparse.ArgumentTypeError(f"a weekday like tue or tuesday, not {text!r}")


def register(commands: Any) -> None:
    group = commands.add_parser("recurring", help="members' recurring bookings (weekly series)")
    actions = group.add_subparsers(
        dest="recurring_command", required=True, metavar="ACTION", help="what to do"
    )
    add = actions.add_parser("add", help="book a member every week or every 2 weeks")
    add.add_argument("--phone", type=phone, required=True, help="the member's phone")
    add.add_argument("--name", default="", help="their name, if they are new")
    add.add_argument("--service", required=True, metavar="KEY", help="the service's key")
    add.add_argument("--staff", required=True, metavar="KEY", help="the staff member's key")
    add.add_argument("--weekday", type=weekday, required=True, help="mon .. sun")
    add.add_argument("--time", required=True, metavar="HH:MM", help="their local start time")
    add.add_argument("--every", type=int, choices=(1, 2), default=1, help="weeks (1 or 2)")
    add.add_argument(
        "--from",
        dest="start",
        type=date.fromisoformat,
        required=True,
        metavar="YYYY-MM-DD",
        help="the first date (the first such weekday on or after it)",
    )
    add.add_argument(
        "--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="last date (default: none)"
    )
    add.add_argument("--guests", type=positive_int, default=1, help="people (default 1)")
    add_studio_option(add)
    add.set_defaults(run=run_add)

    listing = actions.add_parser("list", help="active series (with --all, ended ones too)")
    listing.add_argument("--staff", metavar="KEY", help="only this staff member's")
    listing.add_argument("--all", action="store_true", help="ended series too")
    add_studio_option(listing)
    listing.set_defaults(run=run_list)

    end = actions.add_parser("end", help="end a series (future occurrences cancelled per policy)")
    end.add_argument("series", type=positive_int, metavar="ID", help="its number")
    end.add_argument("--reason", default="", help="why (told to the member)")
    add_studio_option(end)
    end.set_defaults(run=run_end)


def describe(s: RecurringBooking) -> str:
    """'  7  every 2 weeks Tue 10:00 (Europe/London)  Wheel lesson · Maya → Ana  from ...'."""
    every = "every week" if s.interval_weeks == 1 else "every 2 weeks"
    until = f" until {s.ends_on}" if s.ends_on else ""
    people = f" ({s.guest_count} people)" if s.guest_count > 1 else ""
    ended = f"  ended: {s.end_reason or 'no reason given'}" if s.status == "ended" else ""
    return (
        f"{s.id:>5}  {every} {WEEKDAYS[s.weekday].title()} {s.start_time} ({s.timezone})"
        f"  {s.service_name} · {s.staff_name} → {s.customer_name}{people}"
        f"  from {s.starts_on}{until}{ended}"
    )


async def run_add(settings: Settings, args: argparse.Namespace) -> int:
    clock = SystemClock()
    async with studio_session(settings, args.studio) as (db, studio):
        member = await customers.customer_for(
            db, clock, studio.id, "sms", args.phone, name=args.name, phone=args.phone
        )
        staff = await provider(db, studio, args.staff)
        service = await appointments.service_by_key(db, studio.id, args.service)
        spec = NewSeries(
            customer_id=member.id,
            service_id=service.id,
            staff_id=staff.id,
            weekday=args.weekday,
            start_time=args.time,
            interval_weeks=args.every,
            starts_on=args.start,
            ends_on=args.until,
            guests=args.guests,
        )
        made = await recurring.create(db, clock, studio.id, spec, source="cli")
    print(f"recurring booking {made.series.id}: {describe(made.series).strip()}")
    rule = made.series.rule()
    for day in made.placement.placed:
        print(f"  booked  {_when(made.series, rule, day, studio.default_language)}")
    for day, why in made.placement.skipped:
        print(f"  skipped {_when(made.series, rule, day, studio.default_language)}: {why}")
    if not made.placement.placed and not made.placement.skipped:
        print("  nothing in the next 6 weeks yet: the daily job places it when it comes near")
    return 0


def _when(s: RecurringBooking, rule: SeriesRule, day: date, language: str) -> str:
    return local_when(starts_at(rule, day)[0], s.timezone, locale=language)


async def run_list(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        staff_id = (await provider(db, studio, args.staff)).id if args.staff else None
        async with db.transaction(write=False) as tx:
            found = await recurring.series_list(
                tx, studio.id, staff_id=staff_id, active_only=not args.all
            )
    kind = "recurring bookings" if args.all else "active recurring bookings"
    print(f"{kind} ({args.staff or 'all staff'}): {len(found)}")
    for s in found:
        print(describe(s))
    return 0


async def run_end(settings: Settings, args: argparse.Namespace) -> int:
    reason = " ".join(args.reason.split())
    clock = SystemClock()
    async with studio_session(settings, args.studio) as (db, studio):
        seen = await recurring.series_by_id(db, studio.id, args.series)
        if seen.status == "ended":
            print(f"recurring booking {seen.id} had ended already: nothing changed")
            return 0
        done = await recurring.end(db, clock, studio.id, series_id=seen.id, reason=reason)
    language = studio.default_language
    print(f"recurring booking {done.series.id} ended; {done.series.customer_name} told")
    for a in done.cancelled:
        print(f"  cancelled {local_when(a.starts_at, a.staff_timezone, locale=language)}")
    for a in done.kept:
        when = local_when(a.starts_at, a.staff_timezone, locale=language)
        print(f"  kept      {when}: inside the cancellation cutoff, it still takes place")
    return 0
