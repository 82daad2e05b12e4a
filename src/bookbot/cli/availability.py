"""`bookbot availability ...`: a staff member's week, blocks, one-off windows, weekly hours,
time zone, and the address of their calendar feed.

Every date and time typed here is local to the staff member's zone (theirs, else the
studio's): `--from 2026-12-14T09:00` is 09:00 on their wall clock. A wall time that does not
exist (the hour skipped in spring) is shifted forward by the gap, one that happens twice
(autumn) is the first of the two, as everywhere else in bookbot. Rows written here carry
source 'cli', so reloading the studio file leaves them alone.
"""

from __future__ import annotations

import argparse
import re
import secrets
from datetime import datetime, time, timedelta
from typing import Any

from bookbot.cli.common import CommandError, add_studio_option, studio_session
from bookbot.cli.slots import (
    MAX_DAYS,
    add_staff_option,
    calendar_date,
    day_count,
    local_datetime,
    midnight,
    provider,
)
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.engine.recurrence import resolve_local, zone
from bookbot.engine.slots import Interval
from bookbot.services import availability
from bookbot.services.availability import DayView

SOURCE = "cli"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FEED_PATH = "/calendar/{token}.ics"
_WINDOW = re.compile(r"(\d{2}:\d{2})-(\d{2}:\d{2})")


def hours_list(text: str) -> list[tuple[time, time]]:
    """Windows 'HH:MM-HH:MM' separated by commas; 24:00 (end of day) is kept as 23:59."""
    windows = []
    for part in (p.strip() for p in text.split(",")):
        found = _WINDOW.fullmatch(part)
        try:
            if found is None:
                raise ValueError(part)
            start, end = _clock(found[1]), _clock(found[2])
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not a window: write HH:MM-HH:MM, e.g. 09:00-12:00,15:00-18:00"
            ) from None
        if end <= start:
            raise argparse.ArgumentTypeError(f"{part!r} must end after it starts")
        windows.append((start, end))
    return windows


def _clock(text: str) -> time:
    return time(23, 59) if text == "24:00" else time.fromisoformat(text)


def register(commands: Any) -> None:
    group = commands.add_parser(
        "availability", help="a staff member's hours, blocks, time zone and calendar feed"
    )
    actions = group.add_subparsers(
        dest="availability_command", required=True, metavar="ACTION", help="what to do"
    )
    show = actions.add_parser("show", help="the week ahead: open hours, blocks, classes, bookings")
    show.add_argument(
        "--days", type=day_count, default=7, help=f"days from today, 1 to {MAX_DAYS} (default 7)"
    )
    _common(show, run_show)

    block = actions.add_parser("block", help="make a day or a period unavailable")
    when = block.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--date", type=calendar_date, metavar="DATE", help="a whole local day, YYYY-MM-DD"
    )
    when.add_argument(
        "--from",
        dest="start",
        type=local_datetime,
        metavar="DATETIME",
        help="start of a period, local YYYY-MM-DDTHH:MM (with --to)",
    )
    block.add_argument(
        "--to", dest="end", type=local_datetime, metavar="DATETIME", help="end of the period"
    )
    block.add_argument("--reason", required=True, help="why, e.g. Holiday (shown to staff)")
    _common(block, run_block)

    add = actions.add_parser("add", help="open a one-off extra window")
    add.add_argument(
        "--from",
        dest="start",
        type=local_datetime,
        required=True,
        metavar="DATETIME",
        help="local YYYY-MM-DDTHH:MM",
    )
    add.add_argument(
        "--to", dest="end", type=local_datetime, required=True, metavar="DATETIME", help="end"
    )
    add.add_argument("--reason", default="", help="a note, e.g. Extra Saturday")
    _common(add, run_add)

    hours = actions.add_parser("hours", help="set one weekday's regular hours, or a day off")
    hours.add_argument("--day", required=True, choices=WEEKDAYS, help="the weekday")
    what = hours.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--set",
        dest="windows",
        type=hours_list,
        metavar="HH:MM-HH:MM,...",
        help="the day's windows, e.g. 09:00-12:00,15:00-18:00 (replace the old ones)",
    )
    what.add_argument("--off", action="store_true", help="no hours that weekday")
    _common(hours, run_hours)

    timezone = actions.add_parser("timezone", help="set the staff member's time zone")
    timezone.add_argument("zone", metavar="ZONE", help="an IANA zone, e.g. America/New_York")
    _common(timezone, run_timezone)

    feed = actions.add_parser("feed", help="the address of the staff member's calendar feed")
    feed.add_argument(
        "--new", action="store_true", help="make a new address (the old one stops working)"
    )
    _common(feed, run_feed)


def _common(parser: argparse.ArgumentParser, run: Any) -> None:
    add_staff_option(parser)
    add_studio_option(parser)
    parser.set_defaults(run=run)


def _hm(instant: datetime, zone_name: str) -> str:
    return f"{instant.astimezone(zone(zone_name)):%H:%M}"


def _span(interval: Interval, day_start: datetime, day_end: datetime, zone_name: str) -> str:
    """'09:00–12:00' within the day: midnight at the end is 24:00, and '…' marks an interval
    that began the day before or runs on into the next."""
    start = "…" if interval.start < day_start else _hm(interval.start, zone_name)
    if interval.end > day_end:
        end = "…"
    else:
        end = "24:00" if interval.end == day_end else _hm(interval.end, zone_name)
    return f"{start}–{end}"


def _print_day(view: DayView, zone_name: str) -> None:
    lo = midnight(view.day, zone_name)
    hi = midnight(view.day + timedelta(days=1), zone_name)
    opened = ", ".join(_span(w, lo, hi, zone_name) for w in view.windows)
    print(f"  {view.day:%a %d %b %Y}  {'open ' + opened if opened else 'closed'}")
    for block in view.blocks:
        print(f"      blocked  {_span(block, lo, hi, zone_name)}  {block.reason}".rstrip())
    for session in view.sessions:
        print(f"      class    {_span(session, lo, hi, zone_name)}  {session.reason}")
    for a in view.appointments:
        state = "held" if a.status == "held" else f"#{a.id}"
        people = f" ({a.guest_count} people)" if a.guest_count > 1 else ""
        print(
            f"      booked   {_hm(a.starts_at, zone_name)}–{_hm(a.ends_at, zone_name)}  "
            f"{a.service_name} · {a.customer_name}{people}  {state}"
        )


async def run_show(settings: Settings, args: argparse.Namespace) -> int:
    now = SystemClock().now()
    async with studio_session(settings, args.studio) as (db, studio):
        person = await provider(db, studio, args.staff)
        week = await availability.week_view(db, studio.id, person.id, now=now, days=args.days)
    print(f"{person.name}: the next {args.days} day(s), times in {person.timezone}")
    for view in week:
        _print_day(view, person.timezone)
    return 0


def _period(start: datetime, end: datetime) -> str:
    """'Thu 10 Dec 2026 09:00–10:30', or with both dates when it spans several."""
    if start.date() == end.date():
        return f"{start:%a %d %b %Y %H:%M}–{end:%H:%M}"
    return f"{start:%a %d %b %Y %H:%M} – {end:%a %d %b %Y %H:%M}"


def _instant(local: datetime, zone_name: str) -> datetime:
    return resolve_local(local, zone_name)[0]


async def run_block(settings: Settings, args: argparse.Namespace) -> int:
    reason = " ".join(args.reason.split())
    if not reason:
        raise CommandError("--reason: say why (staff see it in the week)")
    if args.date is None and args.end is None:
        raise CommandError("--from needs --to: the end of the period")
    if args.date is not None and args.end is not None:
        raise CommandError("--to goes with --from, not with --date")
    clock = SystemClock()
    async with studio_session(settings, args.studio) as (db, studio):
        person = await provider(db, studio, args.staff)
        if args.date is not None:
            await availability.block_day(
                db, clock, studio.id, person.id, day=args.date, reason=reason, source=SOURCE
            )
            what = f"{args.date:%a %d %b %Y}"
        else:
            start = _instant(args.start, person.timezone)
            end = _instant(args.end, person.timezone)
            await availability.block_period(
                db, clock, studio.id, person.id, start=start, end=end, reason=reason, source=SOURCE
            )
            what = _period(args.start, args.end)
    print(f"{person.name} blocked {what} ({person.timezone}): {reason}")
    print("appointments already booked then stay booked: cancel any you cannot keep")
    return 0


async def run_add(settings: Settings, args: argparse.Namespace) -> int:
    clock = SystemClock()
    reason = " ".join(args.reason.split())
    async with studio_session(settings, args.studio) as (db, studio):
        person = await provider(db, studio, args.staff)
        await availability.add_window(
            db,
            clock,
            studio.id,
            person.id,
            start=_instant(args.start, person.timezone),
            end=_instant(args.end, person.timezone),
            reason=reason,
            source=SOURCE,
        )
    print(
        f"{person.name} is open {_period(args.start, args.end)}"
        f" ({person.timezone}){': ' + reason if reason else ''}"
    )
    return 0


async def run_hours(settings: Settings, args: argparse.Namespace) -> int:
    windows: list[tuple[time, time]] = [] if args.off else args.windows
    async with studio_session(settings, args.studio) as (db, studio):
        person = await provider(db, studio, args.staff)
        await availability.set_weekday_hours(
            db,
            SystemClock(),
            studio.id,
            person.id,
            weekday=WEEKDAYS.index(args.day),
            windows=windows,
            source=SOURCE,
        )
    shown = ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in sorted(windows)) or "day off"
    print(f"{person.name}, every {args.day}: {shown} ({person.timezone})")
    return 0


async def run_timezone(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        person = await provider(db, studio, args.staff)
        await availability.set_staff_timezone(
            db, studio.id, person.id, args.zone.strip(), clock=SystemClock()
        )
    print(
        f"{person.name}'s time zone is now {args.zone.strip()} (was {person.timezone}); "
        "weekly hours keep their wall times"
    )
    return 0


async def run_feed(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        person = await provider(db, studio, args.staff)
        async with db.transaction() as tx:
            token = await tx.scalar(
                "SELECT calendar_token FROM staff WHERE studio_id = :s AND id = :id",
                {"s": studio.id, "id": person.id},
            )
            if token is None or args.new:
                token = secrets.token_urlsafe(24)
                await tx.execute(
                    "UPDATE staff SET calendar_token = :t WHERE studio_id = :s AND id = :id",
                    {"t": token, "s": studio.id, "id": person.id},
                )
    path = FEED_PATH.format(token=token)
    if settings.public_url:
        print(f"{settings.public_url}{path}")
    else:
        print(
            f"{path}  (BOOKBOT_PUBLIC_URL is not set: put the bot's public address in front; "
            "`bookbot run` serves the feed only when it is set)"
        )
    if args.new:
        print(f"new address for {person.name}: the old one no longer works")
    return 0
