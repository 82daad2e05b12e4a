"""A staff member's week as they see it (/availability): each of the next days with its
open windows, blocks, classes they teach and appointments, on their own clock, and the
changes they can make from it (`staff_availability_steps`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from babel.dates import format_date

from bookbot.conversations.staff_admin_steps import nav
from bookbot.conversations.states import Choice, Context, Screen
from bookbot.conversations.timezone_steps import city
from bookbot.engine.recurrence import resolve_local, zone
from bookbot.engine.slots import Interval
from bookbot.services import availability

MONDAY = date(2024, 1, 1)  # any Monday: weekday names come from it


async def staff_zone(ctx: Context, staff_id: int) -> str:
    """The staff member's IANA zone (theirs, else the studio's), read once per update."""
    if "staff_zone" not in ctx.turn:
        ctx.turn["staff_zone"] = await availability.staff_zone(ctx.db, ctx.studio.id, staff_id)
    return str(ctx.turn["staff_zone"])


def weekday_name(ctx: Context, weekday: int) -> str:
    return format_date(MONDAY + timedelta(days=weekday), "EEEE", locale=ctx.t.language)


def full_date(ctx: Context, day: date) -> str:
    """'Tue 15 Dec 2026': a typed date is confirmed with its year (it may be next year's)."""
    return format_date(day, "EEE d MMM y", locale=ctx.t.language)


def hhmm(moment: time) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


def _span_on(ctx: Context, day: date, interval: Interval, zone_name: str) -> str:
    """'10:00–12:00' of an interval within the local `day`; 'all day' if it covers it."""
    local = zone(zone_name)
    start = max(interval.start, resolve_local(datetime.combine(day, time()), zone_name)[0])
    next_day = datetime.combine(day + timedelta(days=1), time())
    end = min(interval.end, resolve_local(next_day, zone_name)[0])
    if start.astimezone(local).time() == time() and end.astimezone(local).date() > day:
        return ctx.t._("all day")
    until = end.astimezone(local)
    finish = "24:00" if until.date() > day else hhmm(until.time())
    return f"{hhmm(start.astimezone(local).time())}–{finish}"


def _day_lines(ctx: Context, view: availability.DayView, zone_name: str) -> list[str]:
    """The date and its open hours, then its blocks (⛔), classes taught (🏺) and
    appointments (•) in the order they happen."""
    hours = ", ".join(_span_on(ctx, view.day, w, zone_name) for w in view.windows)
    closed = ctx.t._("no open hours")
    head = f"{ctx.t.date(view.day)}: {hours or closed}"
    events = [
        (b.start, f"⛔ {_span_on(ctx, view.day, b, zone_name)} {b.reason}") for b in view.blocks
    ]
    events += [
        (s.start, f"🏺 {_span_on(ctx, view.day, s, zone_name)} {s.reason}") for s in view.sessions
    ]
    events += [
        (
            a.starts_at,
            f"• {ctx.t.time(a.starts_at, zone_name)} {a.service_name} · {a.customer_name}",
        )
        for a in view.appointments
    ]
    events.sort(key=lambda event: event[0])
    return [head, *(f"   {text}".rstrip() for _, text in events)]


def _actions(ctx: Context) -> list[Choice]:
    _ = ctx.t._
    return [
        Choice("staff_block_day", _("⛔ Block a day"), aliases=(_("block a day"),)),
        Choice("staff_block_period", _("🏖 Block a period"), aliases=(_("block a period"),)),
        Choice("staff_add_window", _("➕ Add a one-off window"), aliases=(_("add a window"),)),
        Choice("staff_weekday_hours", _("🕘 Change a weekday's hours"), aliases=(_("hours"),)),
    ]


async def week_screen(ctx: Context, staff_id: int) -> Screen:
    _ = ctx.t._
    zone_name = await staff_zone(ctx, staff_id)
    days = await availability.week_view(ctx.db, ctx.studio.id, staff_id, now=ctx.now)
    text = [_("Your week (times in {city}):").format(city=city(zone_name))]
    for view in days:
        text += _day_lines(ctx, view, zone_name)
    return Screen("\n".join(text), _actions(ctx) + nav(ctx))
