"""The day and time pickers of an appointment, shared by booking one (`appointment_steps`)
and moving one (`reschedule_steps`): pages of days and times, a time typed as words, and the
screen for one that could not be drawn."""

from __future__ import annotations

import re
from datetime import date, datetime

from bookbot.conversations import paging
from bookbot.conversations.appointment_text import time_label
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.states import Choice, Context, Screen
from bookbot.conversations.timezone_steps import city
from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import render_error

DAYS_PAGE = 7
TIMES_PAGE = 12


def day_choices(ctx: Context, days: list[date], *, action: str, more: str) -> list[Choice]:
    """One choice a day, then "Later dates" (a full page suggests more) and back to the
    first page when this is a later one."""
    _ = ctx.t._
    choices = [Choice(action, ctx.t.date(d), d.isoformat()) for d in days]
    if len(days) >= DAYS_PAGE:
        later = Choice(
            more, _("➡ Later dates"), days[-1].isoformat(), (_("later"), *paging.LATER_WORDS)
        )
        choices.append(later)
    if ctx.data.get("days_after"):
        choices.append(Choice(more, _("⬅ Earliest dates"), None, (_("earliest"),)))
    return choices


def refused(ctx: Context, error: errors.BookingError) -> Screen:
    """A screen that could not be drawn (what it reads changed meanwhile): why, and back."""
    return Screen(render_error(error, ctx.t, ctx.zone), back_and_cancel(ctx))


def zone_note(ctx: Context) -> str:
    return ctx.t._("Times are in {city} time ({zone}).").format(city=city(ctx.zone), zone=ctx.zone)


def time_choices(
    ctx: Context, slots: list[tuple[datetime, str, str, int]], *, action: str, more: str
) -> list[Choice]:
    """A page of (start, staff zone, staff name, staff id) as choices, then "Later times" /
    "Earlier times"; the staff name only where it varies (the first available)."""
    _ = ctx.t._
    page = int(ctx.data.get("times_page", 0))
    shown = slots[page * TIMES_PAGE : (page + 1) * TIMES_PAGE]
    names = {name for _start, _zone, name, _id in slots}
    choices = []
    for start, staff_zone, name, staff_id in shown:
        label = time_label(ctx, start, staff_zone)
        if len(names) > 1:
            label += f" · {name}"
        choices.append(Choice(action, label, [start.isoformat(), staff_id]))
    if (page + 1) * TIMES_PAGE < len(slots):
        choices.append(
            Choice(more, _("➡ Later times"), page + 1, (_("later"), *paging.LATER_WORDS))
        )
    if page:
        choices.append(
            Choice(more, _("⬅ Earlier times"), page - 1, (_("earlier"), *paging.EARLIER_WORDS))
        )
    return choices


_TYPED_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*$", re.I)


def typed_time(text: str) -> str | None:
    """'10am', '10:30', '3 pm', '15h30' as 'HH:MM', or None."""
    found = _TYPED_TIME.match(text)
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    suffix = (found.group(3) or "").lower().replace(".", "")
    if suffix and not 1 <= hour <= 12:  # a 12-hour clock
        return None
    if suffix:
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if not (found.group(2) or suffix) or hour > 23 or minute > 59:
        return None  # a bare number is an option's number, not a time
    return f"{hour:02d}:{minute:02d}"


def offered_at(ctx: Context, text: str, action: str) -> Choice | None:
    """The offered time choice whose start is the typed wall time, in the customer's zone."""
    wanted = typed_time(text)
    if wanted is None:
        return None
    for raw in ctx.conversation.options:
        choice = Choice.from_stored(raw)
        if choice.action == action:
            start = datetime.fromisoformat(str(choice.value[0]))
            if start.astimezone(zone(ctx.zone)).strftime("%H:%M") == wanted:
                return choice
    return None
