"""`bookbot slots`: a staff member's free slots for a service, by day, in their own zone.

Dates on the command line are local dates in the staff member's zone (theirs, else the
studio's): `--from 2026-12-14 --days 7` is seven local days from that midnight. `--json`
prints the slots for programs: a list of {"start", "end"} in UTC, ISO 8601 with a `Z`.

The option types here (a date, a day count, a local date-time) are shared by
`bookbot availability`.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bookbot.cli.common import add_studio_option, studio_session
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.engine.recurrence import resolve_local, zone
from bookbot.engine.slots import Slot
from bookbot.services import appointments
from bookbot.services.appointment_rows import Provider
from bookbot.services.common import Studio
from bookbot.store.db import Database

MAX_DAYS = 90
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOCAL_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})")


# --- option types: each refuses a bad value with a message argparse shows as is -------


# Years a staff member can mean: the date arithmetic around the calendar's last day (9999)
# overflows, and nothing is booked centuries ahead.
YEARS = range(2000, 3000)


def calendar_date(text: str) -> date:
    """A date written YYYY-MM-DD, in YEARS."""
    try:
        if _DATE.fullmatch(text.strip()) is None:
            raise ValueError(text)
        found = date.fromisoformat(text.strip())
        if found.year not in YEARS:
            raise ValueError(text)
        return found
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write YYYY-MM-DD (years 2000-2999), e.g. 2026-12-14"
        ) from None


def day_count(text: str) -> int:
    """A number of days, 1 to MAX_DAYS."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_DAYS} days, not {days}")
    return days


def local_datetime(text: str) -> datetime:
    """A wall time written YYYY-MM-DDTHH:MM (or with a space), naive: it is read in the staff
    member's zone once we know who they are."""
    found = _LOCAL_DATETIME.fullmatch(text.strip())
    try:
        if found is None or int(found[1][:4]) not in YEARS:
            raise ValueError(text)
        return datetime.combine(date.fromisoformat(found[1]), time.fromisoformat(found[2]))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a local date and time: write YYYY-MM-DDTHH:MM, e.g. 2026-12-14T09:30"
        ) from None


# --- helpers ---------------------------------------------------------------------------


def add_staff_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--staff", required=True, metavar="KEY", help="the staff member's key")


async def provider(db: Database, studio: Studio, key: str) -> Provider:
    """The staff member with `key` in the studio (their zone resolved); NotFound otherwise."""
    async with db.transaction(write=False) as tx:
        return await appointments.provider_by_key(tx, studio.id, key)


def midnight(day: date, zone_name: str) -> datetime:
    """The UTC instant of `day`'s first moment in the zone (a midnight lost to a clock change
    is read as the zone's rules say: shifted forward)."""
    return resolve_local(datetime.combine(day, time(0)), zone_name)[0]


def utc_z(instant: datetime) -> str:
    """'2026-12-14T08:00:00Z'."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- bookbot slots ---------------------------------------------------------------------


def register(commands: Any) -> None:
    slots = commands.add_parser(
        "slots", help="a staff member's free slots for a service, by day, in their zone"
    )
    add_staff_option(slots)
    slots.add_argument("--service", required=True, metavar="KEY", help="the service's key")
    slots.add_argument(
        "--from",
        dest="first_day",
        type=calendar_date,
        metavar="DATE",
        help="first local date, YYYY-MM-DD (default: today in the staff member's zone)",
    )
    slots.add_argument(
        "--days",
        type=day_count,
        default=7,
        help=f"how many local days from --from, 1 to {MAX_DAYS} (default 7)",
    )
    slots.add_argument(
        "--json",
        action="store_true",
        help='print a JSON list of {"start": ..., "end": ...}, UTC in ISO 8601 with the Z '
        'suffix, e.g. "2026-12-14T08:00:00Z"',
    )
    add_studio_option(slots)
    slots.set_defaults(run=run_slots)


async def run_slots(settings: Settings, args: argparse.Namespace) -> int:
    now = SystemClock().now()
    async with studio_session(settings, args.studio) as (db, studio):
        async with db.transaction(write=False) as tx:
            service = await appointments.service_by_key(tx, studio.id, args.service)
            person = await appointments.provider_by_key(tx, studio.id, args.staff)
        zone_name = person.timezone
        first = args.first_day or now.astimezone(zone(zone_name)).date()
        days = [first + timedelta(days=i) for i in range(args.days)]
        found = await appointments.free_slots(
            db,
            studio.id,
            service_id=service.id,
            staff_id=person.id,
            now=now,
            start=midnight(days[0], zone_name),
            end=midnight(days[-1] + timedelta(days=1), zone_name),
        )
    if args.json:
        print(json.dumps([{"start": utc_z(s.start), "end": utc_z(s.end)} for s in found]))
        return 0
    span = f"{days[0]:%a %d %b %Y}"
    span += f" – {days[-1]:%a %d %b %Y}" if len(days) > 1 else ""
    print(f"{service.name} with {person.name}: free slots {span}, times in {zone_name}")
    for day, times in _by_day(found, days, zone_name):
        print(f"  {day:%a %d %b %Y}  {'  '.join(times) if times else '—'}")
    print(f"{len(found)} free slot(s)")
    return 0


def _by_day(found: list[Slot], days: list[date], zone_name: str) -> list[tuple[date, list[str]]]:
    """Each day's start times, 'HH:MM'; on a day whose clock changes, with the zone's
    abbreviation ('01:30 CEST', '01:30 CET')."""
    local: dict[date, list[datetime]] = {day: [] for day in days}
    for slot in found:
        start = slot.start.astimezone(zone(zone_name))
        local.setdefault(start.date(), []).append(start)
    shown = []
    for day, starts in sorted(local.items()):
        changes = len({s.utcoffset() for s in starts}) > 1
        shown.append(
            (day, [f"{s:%H:%M} {s.tzname()}" if changes else f"{s:%H:%M}" for s in starts])
        )
    return shown
