"""Staff lists of sessions (/roster, /assign): a page at a time, from a day staff may type.

The position is kept in the dialogue's data: the day the list starts from ("staff_from",
ISO; today when absent) and the page ("staff_page": 0 is that day on, -1 the page before
it, never before today). "Later ▸" and "◂ Earlier" move a page; a typed date ("12 Jan",
"tomorrow", "saturday", "2026-12-12") starts the list at that day. A list entered afresh (its command
or the staff menu) starts today again.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from bookbot.conversations import answers, paging
from bookbot.conversations.matching import fold
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine.recurrence import resolve_local, zone
from bookbot.services import staff_lists
from bookbot.services.staff_lists import SessionPage
from bookbot.services.staff_views import SessionLine

FROM, PAGE = "staff_from", "staff_page"
_ISO = re.compile(r"^(\d{4}) (\d{1,2}) (\d{1,2})$")  # folded: 2026-12-14 is "2026 12 14"


def reset(ctx: Context) -> None:
    """Start the list today, at its first page."""
    ctx.data.pop(FROM, None)
    ctx.data.pop(PAGE, None)


def today(ctx: Context) -> date:
    return ctx.now.astimezone(zone(ctx.studio.timezone)).date()


def _midnight(ctx: Context, day: date) -> datetime:
    return resolve_local(datetime.combine(day, time(0)), ctx.studio.timezone)[0]


def start_day(ctx: Context) -> date:
    """The day the list starts from (never before today)."""
    raw = ctx.data.get(FROM)
    try:
        asked = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        asked = None
    return max(asked or today(ctx), today(ctx))


def _page(ctx: Context) -> int:
    page = ctx.data.get(PAGE, 0)
    return page if isinstance(page, int) and not isinstance(page, bool) else 0


async def sessions(ctx: Context, size: int) -> SessionPage:
    """The page of sessions the list is at."""
    return await staff_lists.sessions_page(
        ctx.db,
        ctx.studio.id,
        anchor=_midnight(ctx, start_day(ctx)),
        floor=_midnight(ctx, today(ctx)),
        page=_page(ctx),
        size=size,
    )


def page_choices(ctx: Context, page: SessionPage) -> list[Choice]:
    """'◂ Earlier' and 'Later ▸', where there is something that way."""
    _ = ctx.t._
    choices = []
    if page.earlier:
        choices.append(
            Choice("staff_page", _("◂ Earlier"), -1, (_("earlier"), *paging.EARLIER_WORDS))
        )
    if page.later:
        choices.append(Choice("staff_page", _("Later ▸"), 1, (_("later"), *paging.LATER_WORDS)))
    return choices


def line_when(ctx: Context, line: SessionLine) -> str:
    """A session's start; a multi-day course's dates and daily hours."""
    return ctx.session_when(line.starts_at, line.ends_at or line.starts_at, line.days)


async def sessions_screen(
    ctx: Context, *, size: int, action: str, prompt: str, extra: list[Choice]
) -> Screen:
    """A page of sessions to choose from, each an `action` button, under `prompt` (or "no
    sessions from that day on"), with the paging buttons and then `extra`."""
    page = await sessions(ctx, size)
    choices = [Choice(action, f"{line_when(ctx, s)} · {s.class_name}", s.id) for s in page.lines]
    text = prompt
    if not choices:
        day = ctx.t.date(start_day(ctx))
        text = ctx.t._("There are no sessions from {date} on.").format(date=day)
    return Screen(f"{text}\n{hint(ctx)}", choices + page_choices(ctx, page) + extra)


def hint(ctx: Context) -> str:
    return ctx.t._("Or type a date, such as 12 Jan or tomorrow.")


async def choose_page(ctx: Context, choice: Choice) -> Transition:
    """A page earlier or later, on the list being shown."""
    step = choice.value if choice.value in (-1, 1) and not isinstance(choice.value, bool) else 0
    ctx.data[PAGE] = _page(ctx) + step
    return Transition(State(ctx.conversation.state))


async def on_date(ctx: Context, text: str) -> Transition:
    """A typed date: the list from that day (today for a day gone by)."""
    state = State(ctx.conversation.state)
    day = typed_day(text, ctx.t.language, today(ctx))
    if day is None:
        notice = ctx.t._("Sorry, I did not understand that. Type a date such as 12 Jan.")
        return Transition(state, notice)
    ctx.data[FROM] = max(day, today(ctx)).isoformat()
    ctx.data[PAGE] = 0
    return Transition(state)


def chosen_day(ctx: Context) -> date:
    """The day a day's list (/today, /noshows) shows: the one typed or stepped to, else
    today. Days gone by are allowed here."""
    raw = ctx.data.get(FROM)
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else today(ctx)
    except ValueError:
        return today(ctx)


def day_bounds(ctx: Context, last: date, days: int = 1) -> tuple[datetime, datetime]:
    """The UTC bounds of the `days` studio-local days ending with `last`."""
    return _midnight(ctx, last - timedelta(days=days - 1)), _midnight(ctx, last + timedelta(1))


def day_choices(ctx: Context, step: int, *, later: bool) -> list[Choice]:
    """'◂ Earlier' and (when `later`) 'Later ▸': `step` days either way."""
    _ = ctx.t._
    choices = [Choice("staff_day", _("◂ Earlier"), -step, (_("earlier"), *paging.EARLIER_WORDS))]
    if later:
        choices.append(Choice("staff_day", _("Later ▸"), step, (_("later"), *paging.LATER_WORDS)))
    return choices


async def choose_day(ctx: Context, choice: Choice) -> Transition:
    """Days earlier or later, on the day's list being shown."""
    step = (
        choice.value if choice.value in (-7, -1, 1, 7) and not isinstance(choice.value, bool) else 0
    )
    ctx.data[FROM] = (chosen_day(ctx) + timedelta(days=step)).isoformat()
    return Transition(State(ctx.conversation.state))


async def on_any_date(ctx: Context, text: str) -> Transition:
    """A typed date on a day's list (/today): that day, gone by or not."""
    return await _on_day(ctx, text, past=False)


async def on_past_date(ctx: Context, text: str) -> Transition:
    """A typed date on a list of what happened (/noshows): '15 Nov' is the last one."""
    return await _on_day(ctx, text, past=True)


async def _on_day(ctx: Context, text: str, *, past: bool) -> Transition:
    state = State(ctx.conversation.state)
    now = today(ctx)
    day = typed_day(text, ctx.t.language, now)
    if day is None:
        notice = ctx.t._("Sorry, I did not understand that. Type a date such as 12 Jan.")
        return Transition(state, notice)
    if past and day > now and not re.search(r"\d{4}", text):  # no year: the one gone by
        day = _day(day.year - 1, day.month, day.day) or now
    ctx.data[FROM] = min(day, now).isoformat() if past else day.isoformat()
    return Transition(state)


def _day(year: int, month: int, number: int) -> date | None:
    try:
        return date(year, month, number)
    except ValueError:
        return None


def typed_day(text: str, language: str, now: date) -> date | None:
    """A typed day: an ISO date ('2026-12-14'), else what `answers.day` reads ('12 Jan',
    'tomorrow', 'el sábado', '12/1'…)."""
    if found := _ISO.match(fold(text)):
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            return None
    return answers.day(text, language, now)
