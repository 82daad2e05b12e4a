"""What a confirmation says besides "Booked!": every date booked (with its instructor where
known), the venue and the booking's reference, which finds it again ("MY B-7F3Q")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bookbot.conversations.states import Context
from bookbot.services import attendees, booking_lookup
from bookbot.services.references import booking_reference

MAX_DATES = 8  # a longer list ends "… and N more"


def date_lines(ctx: Context, dates: Sequence[tuple[datetime, str | None]]) -> list[str]:
    """One line per date, "• Thu 4 Dec 2026, 18:00 · with Maya", at most MAX_DATES."""
    _ = ctx.t._
    lines = []
    for starts_at, instructor in dates[:MAX_DATES]:
        line = "• " + ctx.when(starts_at, with_year=True)
        if instructor:
            line += " · " + _("with {name}").format(name=instructor)
        lines.append(line)
    if len(dates) > MAX_DATES:
        lines.append(_("… and {n} more").format(n=len(dates) - MAX_DATES))
    return lines


async def dates_ahead(ctx: Context, registration_id: int, first: datetime, count: int) -> list[str]:
    """A booking's page: its date, or (of `count` dates) a line for each booked date from
    `first` on, as the confirmation lists them."""
    if count < 2:
        return [ctx.when(first, with_year=True)]
    async with ctx.db.transaction(write=False) as tx:
        found = await booking_lookup.class_booking(tx, ctx.studio.id, registration_id)
    booked = found.dates if found is not None else ()
    dates = [(d.starts_at, d.instructor) for d in booked if d.status == "booked"]
    return date_lines(ctx, [d for d in dates if d[0] >= first]) or [ctx.when(first, with_year=True)]


def venue_line(ctx: Context) -> str:
    """Where: the studio's address, or its name when the studio file gives none."""
    return ctx.t._("Where: {venue}").format(venue=ctx.studio.address or ctx.studio.name)


def reference_line(ctx: Context, kind: str, ident: int) -> str:
    return ctx.t._("Reference: {ref}").format(ref=booking_reference(kind, ident))


def details(
    ctx: Context,
    *,
    kind: str,
    ident: int,
    dates: Sequence[tuple[datetime, str | None]],
) -> str:
    """The lines under "Booked!": the dates (all of them when there are several; the one
    date's instructor otherwise), the venue, the reference."""
    _ = ctx.t._
    lines = []
    if len(dates) > 1:
        lines += date_lines(ctx, dates)
    elif dates and dates[0][1]:
        lines.append(_("With {name}.").format(name=dates[0][1]))
    lines.append(venue_line(ctx))
    lines.append(reference_line(ctx, kind, ident))
    return "\n".join(lines)


async def details_lines(ctx: Context, registration_id: int) -> list[str]:
    """A booking's page: the attendee details given when booking, on one line ("Details:
    Dan Morgan · dan@acme.co.uk · Acme Gas Ltd · Engineer"), so the customer can check
    them; the requests on their own. Nothing when the class asked none."""
    _ = ctx.t._
    people = await attendees.of_registration(ctx.db, ctx.studio.id, registration_id)
    if not people:
        return []
    booker = people[0]
    names = ", ".join(p.name for p in people if p.name)
    given = [v for v in (names, booker.email, booker.company, booker.job_title) if v]
    lines = [_("Details: {details}").format(details=" · ".join(given))] if given else []
    if booker.requests:
        lines.append(_("Requests: {value}").format(value=booker.requests))
    return lines
