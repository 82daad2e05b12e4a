"""/session: what is being built (kept in the dialogue's data under "ss_*") and what staff
type at its steps: the date, the start (or the start and the end at once, "09:00-17:00"),
the end, the capacity. The screens and the options are in session_admin_steps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, time

from bookbot.conversations import answers, staff_lists
from bookbot.conversations.staff_admin_steps import int_value
from bookbot.conversations.states import Context, State, Transition
from bookbot.services import session_changes as changes

KEYS = (
    "ss_mode",
    "ss_class",
    "ss_session",
    "ss_day",
    "ss_start",
    "ss_end",
    "ss_capacity",
    "ss_days",
)


def clear(ctx: Context) -> None:
    for key in KEYS:
        ctx.data.pop(key, None)


def day_of(ctx: Context) -> date | None:
    raw = ctx.data.get("ss_day")
    return date.fromisoformat(raw) if isinstance(raw, str) else None


def time_of(ctx: Context, key: str) -> time | None:
    raw = ctx.data.get(key)
    return time.fromisoformat(raw) if isinstance(raw, str) else None


def days_of(ctx: Context) -> int:
    return int_value(ctx.data.get("ss_days")) or 1


async def class_of(ctx: Context) -> changes.ClassChoice | None:
    wanted = int_value(ctx.data.get("ss_class"))
    found = await changes.addable_classes(ctx.db, ctx.studio.id)
    return next((c for c in found if c.id == wanted), None)


def after_end(ctx: Context) -> Transition:
    if ctx.data.get("ss_mode") == "add":
        return Transition(State.STAFF_SESSION_CAPACITY)
    return Transition(State.STAFF_SESSION_CONFIRM)


def _not_understood(ctx: Context, state: State, example: str) -> Transition:
    text = ctx.t._("Sorry, I did not understand that. Type something like {example}.")
    return Transition(state, text.format(example=example))


async def _typed_date(ctx: Context, text: str) -> Transition:
    day = answers.day(text, ctx.t.language, staff_lists.today(ctx))
    if day is None:
        return _not_understood(ctx, State.STAFF_SESSION_DATE, "15 Jan")
    ctx.data["ss_day"] = day.isoformat()
    return Transition(State.STAFF_SESSION_START)


async def _typed_start(ctx: Context, text: str) -> Transition:
    both = answers.time_range(text, ctx.t.language)
    if both is not None:  # "09:00-17:00": the end question is already answered
        ctx.data["ss_start"], ctx.data["ss_end"] = both[0].isoformat(), both[1].isoformat()
        return after_end(ctx)
    at = answers.time_of_day(text, ctx.t.language)
    if at is None:
        return _not_understood(ctx, State.STAFF_SESSION_START, "9am")
    ctx.data["ss_start"] = at.isoformat()
    return Transition(State.STAFF_SESSION_END)


async def _typed_end(ctx: Context, text: str) -> Transition:
    both = answers.time_range(text, ctx.t.language)
    at = both[1] if both is not None else answers.time_of_day(text, ctx.t.language)
    if at is None:
        return _not_understood(ctx, State.STAFF_SESSION_END, "5pm")
    if both is not None:  # the start typed again with the end: the later one counts
        ctx.data["ss_start"] = both[0].isoformat()
    ctx.data["ss_end"] = at.isoformat()
    return after_end(ctx)


async def _typed_capacity(ctx: Context, text: str) -> Transition:
    words = text.strip()
    if not words.isdigit() or not 1 <= int(words) <= 10_000:
        return _not_understood(ctx, State.STAFF_SESSION_CAPACITY, "12")
    ctx.data["ss_capacity"] = int(words)
    return Transition(State.STAFF_SESSION_CONFIRM)


TYPED: dict[State, Callable[[Context, str], Awaitable[Transition]]] = {
    State.STAFF_SESSION_DATE: _typed_date,
    State.STAFF_SESSION_START: _typed_start,
    State.STAFF_SESSION_END: _typed_end,
    State.STAFF_SESSION_CAPACITY: _typed_capacity,
    State.STAFF_SESSION_PICK: staff_lists.on_date,
}
