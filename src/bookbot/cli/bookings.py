"""`bookbot book` and `bookbot cancel`: bookings made by staff on a customer's behalf;
`bookbot bookings show REF`: a booking found by the reference its confirmation gave;
`bookbot bookings export --session N`: a session's attendees as CSV."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from pathlib import Path
from typing import Any

from bookbot.cli.common import (
    CommandError,
    add_studio_option,
    id_list,
    phone,
    positive_int,
    studio_session,
)
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.presentation.formatting import local_when, money
from bookbot.services import attendees, booking, booking_lookup, customers
from bookbot.services.cancellation import cancel_registration
from bookbot.services.references import booking_reference, parse_reference


def register(commands: Any) -> None:
    book = commands.add_parser(
        "book", help="book a customer in (single session, course or drop-in)"
    )
    what = book.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--session", type=positive_int, metavar="ID", help="one session of a single class"
    )
    what.add_argument(
        "--course", metavar="PATTERN_ID", type=positive_int, help="every session of a course run"
    )
    what.add_argument(
        "--dates", type=id_list, metavar="ID,ID,...", help="chosen sessions of a drop-in series"
    )
    book.add_argument(
        "--phone",
        type=phone,
        required=True,
        help="the customer's phone, international form, e.g. +447700900123",
    )
    book.add_argument("--name", default="Customer", help="the customer's name (new customers)")
    book.add_argument("--guests", type=positive_int, default=1, help="people coming (default 1)")
    add_studio_option(book)
    book.set_defaults(run=run_book)

    cancel = commands.add_parser("cancel", help="cancel a booking (as staff: no cutoff)")
    cancel.add_argument(
        "booking", type=positive_int, metavar="BOOKING_ID", help="the booking's number"
    )
    add_studio_option(cancel)
    cancel.set_defaults(run=run_cancel)

    group = commands.add_parser("bookings", help="find a booking by its reference")
    actions = group.add_subparsers(
        dest="bookings_command", required=True, metavar="ACTION", help="what to do"
    )
    show = actions.add_parser(
        "show", help="a booking by the reference its confirmation gave (e.g. B-7F3Q)"
    )
    show.add_argument("reference", metavar="REF", help="the booking's reference, e.g. B-7F3Q")
    add_studio_option(show)
    show.set_defaults(run=run_show)

    export = actions.add_parser(
        "export", help="a session's attendees as CSV, a row per person (details included)"
    )
    export.add_argument(
        "--session", type=positive_int, required=True, metavar="ID", help="the session's id"
    )
    export.add_argument("--out", metavar="FILE", help="write the CSV to FILE (default: stdout)")
    add_studio_option(export)
    export.set_defaults(run=run_export)


async def run_book(settings: Settings, args: argparse.Namespace) -> int:
    clock = SystemClock()
    async with studio_session(settings, args.studio) as (db, studio):
        who = await customers.customer_for(
            db, clock, studio.id, "sms", args.phone, name=args.name, phone=args.phone
        )
        if args.session is not None:
            reg = await booking.book_session(
                db, clock, studio.id, who.id, args.session, guests=args.guests
            )
        elif args.course is not None:
            reg = await booking.book_course(
                db, clock, studio.id, who.id, args.course, guests=args.guests
            )
        else:
            reg = await booking.book_drop_in(
                db, clock, studio.id, who.id, args.dates, guests=args.guests
            )
    price = money(reg.price_minor, reg.currency, studio.default_language)
    print(
        f"booking {reg.id} confirmed for {who.name}: {reg.guest_count} guest(s), "
        f"{len(reg.session_ids)} session(s), {price}; reference {booking_reference('class', reg.id)}"
    )
    return 0


async def run_cancel(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        result = await cancel_registration(
            db, SystemClock(), studio.id, args.booking, by_staff=True
        )
    print(
        f"booking {result.registration_id} cancelled; {len(result.offers)} waitlist offer(s) made"
    )
    return 0


async def run_show(settings: Settings, args: argparse.Namespace) -> int:
    parsed = parse_reference(args.reference)
    if parsed is None:
        raise CommandError(f"{args.reference!r} is not a booking reference (e.g. B-7F3Q)")
    kind, ident = parsed
    async with studio_session(settings, args.studio) as (db, studio):
        if kind == "class":
            found = await booking_lookup.class_booking(db, studio.id, ident)
        else:
            found = await booking_lookup.appointment(db, studio.id, ident)
    ref = booking_reference(kind, ident)
    if found is None:
        raise CommandError(f"no booking {ref} in {studio.slug}")
    label = "booking" if kind == "class" else "appointment"
    price = money(found.price_minor, found.currency, studio.default_language)
    who = found.customer + (f" ({found.phone})" if found.phone else "")
    print(f"{ref}: {label} {found.ident}, {found.status}")
    print(f"  {found.what} for {who}: {found.guests} guest(s), {price}")
    for d in found.dates:
        line = f"  - {local_when(d.starts_at, studio.timezone)}"
        if d.instructor:
            line += f" with {d.instructor}"
        if d.status not in ("booked", found.status):
            line += f" ({d.status})"
        print(line)
    return 0


EXPORT_HEADER = (
    "reference",
    "customer",
    "phone",
    "attendee name",
    "email",
    "company",
    "job title",
    "requests",
    "party size",
    "booking status",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run: text starting like a formula gets a quote first
    (a typed company "=HYPERLINK(...)" stays text)."""
    return "'" + value if value.startswith(_FORMULA) else value


def export_csv(lines: list[attendees.ExportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    for line in lines:
        person = line.attendee
        cells = (
            booking_reference("class", line.registration_id),
            line.customer,
            line.phone,
            person.name,
            person.email or "",
            person.company or "",
            person.job_title or "",
            person.requests or "",
            str(line.guests),
            line.status,
        )
        writer.writerow([safe_cell(c) for c in cells])
    return out.getvalue()


async def run_export(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        lines = await attendees.export_rows(db, studio.id, args.session)
    text = export_csv(lines)
    if args.out:
        try:
            await asyncio.to_thread(Path(args.out).write_text, text, "utf-8", None, "")
        except OSError as error:
            raise CommandError(f"cannot write {args.out}: {error.strerror}") from None
        print(f"{len(lines)} attendee row(s) written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
