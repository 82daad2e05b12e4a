"""`bookbot sessions ...` and `bookbot staff ...`: generation, listing, availability, staffing."""

from __future__ import annotations

import argparse
from datetime import date, time, timedelta
from typing import Any

from bookbot.cli.common import (
    CommandError,
    add_studio_option,
    ask_at_terminal,
    positive_int,
    studio_session,
)
from bookbot.config import Settings
from bookbot.conversations.time_answers import time_of_day
from bookbot.engine.clock import SystemClock
from bookbot.engine.multi_day import days_problem
from bookbot.presentation.i18n import translator
from bookbot.serve import stripe_gateway
from bookbot.services import cancellation, catalog, facts, generation, staffing
from bookbot.services.common import Studio
from bookbot.services.session_changes import Change, NewSession, add_one_off, edit_session


def register(commands: Any) -> None:
    sessions = commands.add_parser("sessions", help="generate and list class sessions")
    actions = sessions.add_subparsers(
        dest="sessions_command", required=True, metavar="ACTION", help="what to do"
    )
    generate = actions.add_parser(
        "generate",
        help="create sessions from a schedule pattern (re-running creates no duplicates)",
    )
    generate.add_argument("--pattern", required=True, metavar="ID", help="pattern id or key")
    generate.add_argument("--preview", action="store_true", help="print the dates; create nothing")
    generate.add_argument(
        "--weeks",
        type=positive_int,
        default=8,
        help="horizon for open-ended patterns (default 8)",
    )
    add_studio_option(generate)
    generate.set_defaults(run=run_generate)

    listing = actions.add_parser("list", help="upcoming sessions with seats left")
    listing.add_argument(
        "--limit", type=positive_int, default=30, help="at most this many sessions (default 30)"
    )
    add_studio_option(listing)
    listing.set_defaults(run=run_list)

    show = actions.add_parser("show", help="one session's seats and resources")
    show.add_argument(
        "session", type=positive_int, metavar="SESSION_ID", help="the session's number"
    )
    show.add_argument(
        "--guests", type=positive_int, default=1, help="party size to check (default 1)"
    )
    add_studio_option(show)
    show.set_defaults(run=run_show)

    _register_changes(actions)

    cancel = actions.add_parser(
        "cancel",
        help="cancel a class: everyone in it let go and told, online payments refunded in full",
    )
    cancel.add_argument(
        "session", type=positive_int, metavar="SESSION_ID", help="the session's number"
    )
    cancel.add_argument(
        "--reason", required=True, help="why (told to everyone booked, reserved or waiting)"
    )
    cancel.add_argument("--yes", action="store_true", help="do it without asking first")
    add_studio_option(cancel)
    cancel.set_defaults(run=run_cancel)

    staff = commands.add_parser("staff", help="assign instructors and assistants to sessions")
    staff_actions = staff.add_subparsers(
        dest="staff_command", required=True, metavar="ACTION", help="what to do"
    )
    for name, helptext in (
        ("assign", "assign a qualified, free staff member"),
        ("unassign", "remove a staff member from a session"),
    ):
        action = staff_actions.add_parser(name, help=helptext)
        action.add_argument(
            "--session", type=positive_int, required=True, metavar="ID", help="the session"
        )
        action.add_argument("--staff", required=True, metavar="KEY", help="staff key or id")
        if name == "assign":
            action.add_argument(
                "--assistant", action="store_true", help="as assistant, not instructor"
            )
        add_studio_option(action)
        action.set_defaults(run=run_staff)


def _when(studio: Studio, s: facts.SessionRow, days: int | None = None) -> str:
    """A session's span; a multi-day one as 'Wed 13 – Fri 15 Jan 2027, 09:00–17:00 daily GMT'."""
    t = translator(studio.default_language)
    days = s.days if days is None else days
    # A one-day span reads as a course's: the date, a comma, the hours.
    return t.span(s.starts_at, s.ends_at, studio.timezone, days, separator=", ")


_MARKS = {"create": "new", "update": "changed", "unchanged": "exists", "delete": "removed"}


def _print_plan(studio: Studio, report: generation.GenerationReport) -> None:
    plan = report.plan
    status = {t.occurrence.local_date: "new" for t in plan.create}
    status |= {s.occurrence_date: "changed" for s, _ in plan.update}
    status |= {s.occurrence_date: "exists" for s in plan.unchanged}
    status |= {c.session.occurrence_date: f"CONFLICT ({c.reason.value})" for c in plan.conflicts}
    for target in report.targets:
        o = target.occurrence
        note = "" if o.adjustment == "none" else f"  [{o.adjustment.value}]"
        t = translator(studio.default_language)
        span = t.span(o.starts_at, o.ends_at, studio.timezone, report.pattern.days)
        print(f"  {span}  {status.get(o.local_date, '')}{note}")
    for session in plan.delete:
        print(f"  {session.occurrence_date}  removed (no bookings)")
    for conflict in plan.conflicts:
        s = conflict.session
        print(
            f"  conflict: session {s.session_id} on {s.occurrence_date} has {s.booked_seats} "
            f"booked seat(s) and the pattern {conflict.reason.value.replace('_', ' ')} it; left as is"
        )


async def run_generate(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        report = await generation.generate_sessions(
            db,
            SystemClock(),
            studio.id,
            args.pattern,
            preview=args.preview,
            horizon=timedelta(weeks=args.weeks),
        )
    p = report.pattern
    verb = "would create" if args.preview else "created"
    print(
        f"pattern {p.id} '{p.key}' ({p.rule.rrule}, {p.rule.start_time:%H:%M} {p.rule.timezone}):"
    )
    _print_plan(studio, report)
    plan = report.plan
    print(
        f"{verb} {len(plan.create)}, updated {len(plan.update)}, removed {len(plan.delete)}, "
        f"unchanged {len(plan.unchanged)}, conflicts {len(plan.conflicts)}"
        + (" (preview: nothing written)" if args.preview else "")
    )
    for problem in report.staffing_problems:
        print(f"  staff not assigned: {problem}")
    return 3 if plan.conflicts else 0


async def run_list(settings: Settings, args: argparse.Namespace) -> int:
    clock = SystemClock()
    async with studio_session(settings, args.studio) as (db, studio):
        for session in await catalog.upcoming_sessions(
            db, studio.id, clock.now(), limit=args.limit
        ):
            view = await catalog.session_availability(db, studio.id, session.id, clock.now())
            span = _when(studio, session)
            print(
                f"{session.id:>5}  {span}  {view.class_name}  "
                f"{view.availability.seats_left}/{session.capacity} seats left"
            )
    return 0


async def run_show(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        view = await catalog.session_availability(
            db, studio.id, args.session, SystemClock().now(), args.guests
        )
    s = view.session
    print(f"{view.class_name}: {_when(studio, s)} ({s.status})")
    print(f"  seats left: {view.availability.seats_left} of {s.capacity}")
    for r in view.availability.resources:
        mark = "ok" if r.ok else "NOT ENOUGH"
        print(
            f"  {r.resource_name}: {r.needed} needed for {args.guests}, {r.available} free  {mark}"
        )
    return 0


async def run_staff(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        staff_id = await staffing.staff_id_by_key(db, studio.id, args.staff)
        if args.staff_command == "assign":
            await staffing.assign(
                db, studio.id, args.session, staff_id, as_instructor=not args.assistant
            )
            role = "assistant" if args.assistant else "instructor"
            print(f"{args.staff} is now {role} of session {args.session}")
        else:
            await staffing.unassign(db, studio.id, args.session, staff_id)
            print(f"{args.staff} removed from session {args.session}")
    return 0


async def run_cancel(settings: Settings, args: argparse.Namespace) -> int:
    reason = " ".join(args.reason.split())
    if not reason:
        raise CommandError("--reason: say why (the customers are told)")
    gateway = stripe_gateway(settings)
    try:
        async with studio_session(settings, args.studio) as (db, studio):
            seen = await cancellation.preview_session(db, studio.id, args.session)
            span = translator(studio.default_language).span(
                seen.starts_at, seen.ends_at, studio.timezone, seen.days
            )
            if seen.status == "open":
                print(
                    f"session {seen.session_id}: {seen.class_name}, {span}: {seen.bookings}"
                    f" booking(s) ({seen.paid_online} paid online), {seen.reservations} pass"
                    f" reservation(s), {seen.waitlist} waiting"
                )
                if not args.yes and not ask_at_terminal("Cancel it, refund and tell everyone?"):
                    print("nothing cancelled (add --yes to cancel without being asked)")
                    return 1
            if seen.paid_online and gateway is None:
                print("Stripe is not configured: refunds are written and sent by reconciliation")
            done = await cancellation.cancel_session(
                db, SystemClock(), studio.id, args.session, reason=reason, gateway=gateway
            )
    finally:
        if gateway is not None:
            await gateway.close()
    what = "cancelled" if done.marked else "was cancelled already; finished"
    print(
        f"session {done.session_id} {what}: {len(done.bookings)} booking(s),"
        f" {done.reservations} reservation(s), {done.waitlist} waiting-list place(s) cancelled;"
        f" {done.refunds} refund(s) requested"
    )
    return 0


# --- one-off sessions and edits (issue 17: services.session_changes) --------------------


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _time(text: str) -> time:
    # The chat's reading ('9am', '09:00', '5:30 pm'), so the CLI takes what /session takes.
    found = time_of_day(text, "en")
    if found is None:
        raise argparse.ArgumentTypeError(f"not a time (HH:MM, or 9am): {text!r}")
    return found


def _days(text: str) -> int:
    if not text.isdigit() or days_problem(int(text)) is not None:
        raise argparse.ArgumentTypeError(f"days must be a whole number from 1 to 31: {text!r}")
    return int(text)


def _register_changes(actions: Any) -> None:
    add = actions.add_parser(
        "add",
        help="create a one-off session (no schedule pattern); times are the studio's clock",
    )
    add.add_argument("--class", dest="class_key", required=True, metavar="KEY", help="class key")
    add.add_argument("--date", type=_day, required=True, help="local date, YYYY-MM-DD")
    add.add_argument("--start", type=_time, required=True, help="local start, HH:MM or 9am")
    add.add_argument("--end", type=_time, required=True, help="local end, HH:MM or 5pm")
    add.add_argument(
        "--days",
        type=_days,
        default=1,
        help="a course over N consecutive days from --date, --start to --end each day (1-31)",
    )
    add.add_argument(
        "--capacity", type=positive_int, help="seats (default: the class's schedule's)"
    )
    add.add_argument("--instructor", metavar="STAFFKEY", help="a qualified, free staff member")
    add.add_argument("--location", help="where (default: the class's schedule's place)")
    add_studio_option(add)
    add.set_defaults(run=run_add)

    edit = actions.add_parser(
        "edit",
        help="change a session's time, place, capacity or notes; attendees are told of a"
        " new time or place",
    )
    edit.add_argument(
        "session", type=positive_int, metavar="SESSION_ID", help="the session's number"
    )
    edit.add_argument("--date", type=_day, help="new local date, YYYY-MM-DD")
    edit.add_argument("--start", type=_time, help="new local start, HH:MM or 9am")
    edit.add_argument("--end", type=_time, help="new local end, HH:MM or 5pm")
    edit.add_argument("--capacity", type=positive_int, help="seats (not below those taken)")
    edit.add_argument("--location", help="new place")
    edit.add_argument("--notes", help="instructor notes (staff only; tells nobody)")
    add_studio_option(edit)
    edit.set_defaults(run=run_edit)


def _seats(n: int) -> str:
    return "1 seat" if n == 1 else f"{n} seats"


async def run_add(settings: Settings, args: argparse.Namespace) -> int:
    new = NewSession(
        args.class_key,
        args.date,
        args.start,
        args.end,
        capacity=args.capacity,
        instructor_key=args.instructor,
        location=args.location,
        days=args.days,
    )
    async with studio_session(settings, args.studio) as (db, studio):
        added = await add_one_off(db, SystemClock(), studio.id, new)
    made = added.session
    span = _when(studio, made)
    where = f" at {made.location}" if made.location else ""
    print(f"session {made.id} added: {args.class_key}, {span}{where}, {_seats(made.capacity)}")
    if added.instructor is not None:
        print(f"  instructor: {added.instructor}")
    elif added.unstaffed is not None:
        print(f"  no instructor: the schedule's was not assigned ({added.unstaffed})")
    else:
        print("  no instructor (the class's schedule names none): bookbot staff assign")
    return 0


async def run_edit(settings: Settings, args: argparse.Namespace) -> int:
    change = Change(
        day=args.date,
        start=args.start,
        end=args.end,
        capacity=args.capacity,
        location=args.location,
        notes=args.notes,
    )
    if change == Change():
        raise CommandError(
            "nothing to change: give --date, --start, --end, --capacity, --location or --notes"
        )
    async with studio_session(settings, args.studio) as (db, studio):
        done = await edit_session(db, SystemClock(), studio.id, args.session, change)
    after = done.after
    span = _when(studio, after)
    where = f" at {after.location}" if after.location else ""
    print(f"session {after.id}: {span}{where}, {_seats(after.capacity)}")
    if done.told:
        print(f"  {done.told} attendee(s) told of the change")
    if done.offers:
        print(f"  {done.offers} waiting-list offer(s) made")
    return 0
