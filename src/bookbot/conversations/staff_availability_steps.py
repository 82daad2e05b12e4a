"""/availability: a staff member's own week, and the changes they can make to it in chat.

"My week" shows seven local days on the staff member's clock (their zone, else the
studio's): open windows, blocks, classes they teach and appointments. From it: block one
of the next 14 days, block a period, add a one-off window, change a weekday's hours.

Everything typed is untrusted. It is parsed whole and strictly before anything is written
(`staff_availability_input`; then one service call, one transaction), and a bad input
gets a polite example of what works, with nothing changed. Dates and times are the staff
member's local ones; times that a DST change skips or repeats follow
`engine.recurrence.resolve_local`. Every change is the staff
member's own (`ctx.staff_id`) and recorded with source "chat".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta

from bookbot.conversations.staff_admin_steps import nav
from bookbot.conversations.staff_availability_input import (
    Unreadable,
    parse_hours,
    parse_period,
    parse_window,
)
from bookbot.conversations.staff_week import (
    full_date,
    hhmm,
    staff_zone,
    week_screen,
    weekday_name,
)
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.recurrence import resolve_local, zone
from bookbot.presentation.i18n import render_error
from bookbot.services import appointments, availability

SOURCE = "chat"
BLOCK_DAYS = 14  # "block a day" offers today and the 13 days after it

Step = Callable[[Context], Awaitable[Screen]]
Handler = Callable[[Context, Choice], Awaitable[Transition]]
Typed = Callable[[Context, str], Awaitable[Transition]]

# --- block a day -----------------------------------------------------------------------


async def _next_days(ctx: Context, staff_id: int) -> list[date]:
    today = ctx.now.astimezone(zone(await staff_zone(ctx, staff_id))).date()
    return [today + timedelta(days=n) for n in range(BLOCK_DAYS)]


async def block_day_screen(ctx: Context, staff_id: int) -> Screen:
    days = await _next_days(ctx, staff_id)
    choices = [Choice("staff_block_day_pick", ctx.t.date(d), d.isoformat()) for d in days]
    text = ctx.t._("Which day do you want to block?")
    return Screen(text, choices + nav(ctx))


async def block_day(ctx: Context, staff_id: int, value: object) -> Transition:
    days = await _next_days(ctx, staff_id)
    day = next((d for d in days if d.isoformat() == value), None)
    if day is None:
        return Transition(State.STAFF_BLOCK_DAY, ctx.t._("That day is not one of these."))
    try:
        await availability.block_day(
            ctx.db, ctx.clock, ctx.studio.id, staff_id, day=day, reason="", source=SOURCE
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_BLOCK_DAY, render_error(error, ctx.t, ctx.zone))
    notice = ctx.t._("{date} is blocked: nobody can book you that day.")
    notice = notice.format(date=ctx.t.date(day))
    start, end = _local_days(day, day, await staff_zone(ctx, staff_id))
    return Transition(
        State.STAFF_AVAILABILITY, notice + await _still_booked(ctx, staff_id, start, end)
    )


def _local_days(first: date, last: date, zone_name: str) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last` on the staff member's clock."""
    start = resolve_local(datetime.combine(first, time()), zone_name)[0]
    return start, resolve_local(datetime.combine(last + timedelta(days=1), time()), zone_name)[0]


async def _still_booked(ctx: Context, staff_id: int, start: datetime, end: datetime) -> str:
    """A block stops new bookings only: say so when booked appointments fall inside it."""
    count = await appointments.staff_booked_between(
        ctx.db, ctx.studio.id, staff_id, start=start, end=end, now=ctx.now
    )
    if not count:
        return ""
    text = ctx.t.n_(
        "You still have {n} appointment then: keep or cancel it under /conflicts.",
        "You still have {n} appointments then: keep or cancel them under /conflicts.",
        count,
    )
    return " " + text.format(n=count)


# --- typed changes ---------------------------------------------------------------------


def block_period_screen(ctx: Context) -> Screen:
    text = ctx.t._(
        "Type the first and last day to block, e.g. “15 Dec - 20 Dec” or "
        "“2026-12-15 to 2026-12-20”. Add a reason after a comma if you like: "
        "“15 Dec - 20 Dec, holiday”."
    )
    return Screen(text, nav(ctx))


def _period_help(ctx: Context) -> str:
    return ctx.t._(
        "Sorry, I could not read that as a period from today on. Please type it like "
        "“15 Dec - 20 Dec” or “2026-12-15 to 2026-12-20” (at most a year). Nothing was changed."
    )


async def on_period(ctx: Context, staff_id: int, typed: str) -> Transition:
    zone_name = await staff_zone(ctx, staff_id)
    today = ctx.now.astimezone(zone(zone_name)).date()
    try:
        first, last, reason = parse_period(typed, today=today)
    except Unreadable:
        return Transition(State.STAFF_BLOCK_PERIOD, _period_help(ctx))
    start, end = _local_days(first, last, zone_name)
    try:
        await availability.block_period(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            staff_id,
            start=start,
            end=end,
            reason=reason,
            source=SOURCE,
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_BLOCK_PERIOD, render_error(error, ctx.t, ctx.zone))
    notice = ctx.t._("Blocked from {first} to {last}, both included.")
    notice = notice.format(first=full_date(ctx, first), last=full_date(ctx, last))
    return Transition(
        State.STAFF_AVAILABILITY, notice + await _still_booked(ctx, staff_id, start, end)
    )


def add_window_screen(ctx: Context) -> Screen:
    text = ctx.t._(
        "Type the day and the hours you can take bookings, e.g. “Sat 12 Dec 10:00-13:00” "
        "or “2026-12-12 10:00-13:00”."
    )
    return Screen(text, nav(ctx))


async def on_window(ctx: Context, staff_id: int, typed: str) -> Transition:
    _ = ctx.t._
    zone_name = await staff_zone(ctx, staff_id)
    today = ctx.now.astimezone(zone(zone_name)).date()
    try:
        day, start, end, reason = parse_window(typed, today=today)
    except Unreadable:
        refusal = _(
            "Sorry, I could not read that. Please type a day and hours like "
            "“Sat 12 Dec 10:00-13:00” or “2026-12-12 10:00-13:00”. Nothing was changed."
        )
        return Transition(State.STAFF_ADD_WINDOW, refusal)
    starts_at = resolve_local(datetime.combine(day, start), zone_name)[0]
    ends_at = resolve_local(datetime.combine(day, end), zone_name)[0]
    if starts_at <= ctx.now:
        refusal = _("That time has already begun. Please type a later one. Nothing was changed.")
        return Transition(State.STAFF_ADD_WINDOW, refusal)
    try:
        await availability.add_window(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            staff_id,
            start=starts_at,
            end=ends_at,
            reason=reason,
            source=SOURCE,
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_ADD_WINDOW, render_error(error, ctx.t, ctx.zone))
    notice = _("Added: {date}, {start}–{end}. Customers can book you then.")
    return Transition(
        State.STAFF_AVAILABILITY,
        notice.format(date=full_date(ctx, day), start=hhmm(start), end=hhmm(end)),
    )


async def weekday_hours_screen(ctx: Context, staff_id: int) -> Screen:
    _ = ctx.t._
    held = await availability.availability_of(
        ctx.db, ctx.studio.id, staff_id, start=ctx.now, end=ctx.now
    )

    def hours(weekday: int) -> str:
        spans = [f"{hhmm(w.start)}–{hhmm(w.end)}" for w in held.weekly if w.weekday == weekday]
        return ", ".join(sorted(spans)) or _("off")

    weekday = ctx.data.get("hours_weekday")
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        choices = [
            Choice("staff_hours_day", f"{weekday_name(ctx, n)}: {hours(n)}", n) for n in range(7)
        ]
        return Screen(_("Which day's weekly hours?"), choices + nav(ctx))
    text = _(
        "{day}: {hours} now. Type the new hours, e.g. “09:00-12:00, 15:00-18:00”, or “off”. "
        "Days you blocked or added one by one stay as they are."
    )
    return Screen(text.format(day=weekday_name(ctx, weekday), hours=hours(weekday)), nav(ctx))


def choose_weekday(ctx: Context, value: object) -> Transition:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        ctx.data["hours_weekday"] = value
    return Transition(State.STAFF_WEEKDAY_HOURS)


async def on_hours(ctx: Context, staff_id: int, typed: str) -> Transition:
    _ = ctx.t._
    weekday = ctx.data.get("hours_weekday")
    if not isinstance(weekday, int):
        return Transition(State.STAFF_WEEKDAY_HOURS, _("Please choose a day first."))
    try:
        windows = parse_hours(typed)
    except Unreadable:
        refusal = _(
            "Sorry, I could not read those hours. Please type them like "
            "“09:00-12:00, 15:00-18:00” (not overlapping), or “off”. Nothing was changed."
        )
        return Transition(State.STAFF_WEEKDAY_HOURS, refusal)
    try:
        await availability.set_weekday_hours(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            staff_id,
            weekday=weekday,
            windows=windows,
            source=SOURCE,
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_WEEKDAY_HOURS, render_error(error, ctx.t, ctx.zone))
    ctx.data.pop("hours_weekday", None)
    spans = ", ".join(f"{hhmm(s)}–{hhmm(e)}" for s, e in windows) or _("off")
    notice = _("Weekly hours on {day} from now on: {hours}.")
    notice = notice.format(day=weekday_name(ctx, weekday), hours=spans)
    return Transition(State.STAFF_AVAILABILITY, notice)


# --- wiring (staff_steps takes these in) -----------------------------------------------


def own_id(ctx: Context) -> int:
    """The staff member's own id: what they see and change is always theirs."""
    if ctx.staff_id is None:
        raise errors.NotAllowed
    return ctx.staff_id


def own(step: Callable[[Context, int], Awaitable[Screen]]) -> Step:
    async def screen(ctx: Context) -> Screen:
        return await step(ctx, own_id(ctx))

    return screen


def asking(step: Callable[[Context], Screen]) -> Step:
    """A screen that only asks for words to type."""

    async def screen(ctx: Context) -> Screen:
        return step(ctx)

    return screen


def own_typed(handler: Callable[[Context, int, str], Awaitable[Transition]]) -> Typed:
    async def typed(ctx: Context, text: str) -> Transition:
        return await handler(ctx, own_id(ctx), text)

    return typed


_OPENS = {
    "staff_availability": State.STAFF_AVAILABILITY,
    "staff_block_day": State.STAFF_BLOCK_DAY,
    "staff_block_period": State.STAFF_BLOCK_PERIOD,
    "staff_add_window": State.STAFF_ADD_WINDOW,
    "staff_weekday_hours": State.STAFF_WEEKDAY_HOURS,
}


async def _open(ctx: Context, choice: Choice) -> Transition:
    ctx.data.pop("hours_weekday", None)  # a weekday chosen on an earlier visit is not this one's
    return Transition(_OPENS[choice.action])


async def _block_day(ctx: Context, choice: Choice) -> Transition:
    return await block_day(ctx, own_id(ctx), choice.value)


async def _weekday(ctx: Context, choice: Choice) -> Transition:
    return choose_weekday(ctx, choice.value)


HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(_OPENS, _open),
    "staff_block_day_pick": _block_day,
    "staff_hours_day": _weekday,
}
SCREENS: dict[State, Step] = {
    State.STAFF_AVAILABILITY: own(week_screen),
    State.STAFF_BLOCK_DAY: own(block_day_screen),
    State.STAFF_BLOCK_PERIOD: asking(block_period_screen),
    State.STAFF_ADD_WINDOW: asking(add_window_screen),
    State.STAFF_WEEKDAY_HOURS: own(weekday_hours_screen),
}
TYPED: dict[State, Typed] = {
    State.STAFF_BLOCK_PERIOD: own_typed(on_period),
    State.STAFF_ADD_WINDOW: own_typed(on_window),
    State.STAFF_WEEKDAY_HOURS: own_typed(on_hours),
}
