"""Paging a customer's list of dates forwards and back, and jumping to a typed date.

A list's position is kept in `ctx.data["page"]` as `{"of": <list>, "start": iso}` (the
page from that start on), `{"of": <list>, "before": iso}` (the page ending just before it)
or `{"of": <list>, "day": iso date}` (a jump: from the start of that day, on the
customer's clock). `of` names the list (`"class:12"`, `"pass:3"`): a position left by
another list is ignored, so nothing needs clearing when the customer moves on. A jump also
sets `ctx.data["from"]` to the day (ISO), for whoever wants to know what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from babel.dates import format_date

from bookbot.conversations.states import Choice, Context
from bookbot.engine.recurrence import zone


@dataclass(frozen=True)
class Position:
    """Where a list starts: from `start` on, or the page just before `before`."""

    start: datetime | None = None
    before: datetime | None = None


def day_start(ctx: Context, day: date) -> datetime:
    """Midnight at the start of `day` on the customer's clock."""
    return datetime.combine(day, time(0), tzinfo=zone(ctx.zone))


def position(ctx: Context, of: str) -> Position:
    """The stored position of list `of` (the start when none is stored for it)."""
    raw: Any = ctx.data.get("page")
    if not isinstance(raw, dict) or raw.get("of") != of:
        return Position()
    try:
        if isinstance(raw.get("start"), str):
            return Position(start=datetime.fromisoformat(raw["start"]))
        if isinstance(raw.get("before"), str):
            return Position(before=datetime.fromisoformat(raw["before"]))
        if isinstance(raw.get("day"), str):
            return Position(start=day_start(ctx, date.fromisoformat(raw["day"])))
    except ValueError:
        pass
    return Position()


def jump(ctx: Context, of: str, day: date) -> None:
    """Make list `of` start at `day`."""
    ctx.data["page"] = {"of": of, "day": day.isoformat()}
    ctx.data["from"] = day.isoformat()


def choices(
    ctx: Context,
    action: str,
    of: str,
    *,
    earlier: datetime | None,
    later: datetime | None,
) -> list[Choice]:
    """ "◂ Earlier" and "Later dates ▸" as the list allows; `action` stores its value in
    `ctx.data["page"]` and shows the list again (see `choosing.SIMPLE`)."""
    _ = ctx.t._
    found = []
    if earlier is not None:
        found.append(
            Choice(
                action,
                _("◂ Earlier"),
                {"of": of, "before": earlier.isoformat()},
                aliases=(_("earlier"), *EARLIER_WORDS),
            )
        )
    if later is not None:
        found.append(
            Choice(
                action,
                _("Later dates ▸"),
                {"of": of, "start": later.isoformat()},
                aliases=(_("later"), *LATER_WORDS),
            )
        )
    return found


# What people type for the next or the previous page, in English and Spanish (folded).
LATER_WORDS = ("later", "more", "more dates", "mas", "mas tarde", "mas fechas", "siguientes")
EARLIER_WORDS = ("earlier", "before", "previous", "antes", "anteriores")


def jump_hint(ctx: Context, later: datetime | None) -> str | None:
    """How to reach a date further on, when there is one: type it."""
    if later is None:
        return None
    example = format_date(later.astimezone(zone(ctx.zone)).date(), "d MMM", locale=ctx.t.language)
    return ctx.t._("Or send a date to jump to it, e.g. “{date}”.").format(date=example)
