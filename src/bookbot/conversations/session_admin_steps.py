"""/session: staff add a one-off session, or change a session's time or capacity (issue 17).

Add: the class (courses excepted) → the date, typed ("15 Jan", "friday"; "3 days" tapped
first for a course over consecutive days, the same hours each day) → the start, typed
("9am", "09:00") → the end, typed, or a length tapped → the capacity (the class's usual one
tapped, or a number typed) → confirm. Change: an upcoming session from a paged list (a
typed date jumps) → "Change the time" (the date, "Same day" tapped, the start, the end) or
"Change the capacity" → confirm. Both go through `services.session_changes`, so the chat
refuses what the CLI refuses (a time the clocks skip, an end before the start, fewer seats
than are taken) and a new time tells every attendee, as `bookbot sessions edit` does.

What is being built is kept in the dialogue's data under "ss_*"; every id an option carries
is read again for this studio before it is used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time

from bookbot.conversations import session_admin_typed as typed
from bookbot.conversations import staff_lists
from bookbot.conversations.matching import fold
from bookbot.conversations.staff_admin_steps import back_to, int_value, nav
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine.errors import BookingError
from bookbot.presentation.i18n import render_error
from bookbot.services import catalog
from bookbot.services import session_changes as changes

PICK_SESSIONS = 10
LENGTHS = (60, 90, 120, 180)  # minutes offered as the end of a new session
DAYS = (1, 2, 3, 5)  # lengths in days offered for a new session
# What may follow /session: straight to adding one, or to choosing one to change.
ADD_WORDS = frozenset({"add", "new", "anadir", "nueva", "nuevo", "crear"})
CHANGE_WORDS = frozenset({"change", "edit", "cambiar", "editar", "modificar"})


# --- screens ------------------------------------------------------------------------------


async def menu_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    choices = [
        Choice("staff_session_add", _("➕ Add a one-off session")),
        Choice("staff_session_pick", _("✏️ Change a session")),
    ]
    return Screen(_("Sessions: add one, or change one's time or capacity."), choices + nav(ctx))


async def class_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await changes.addable_classes(ctx.db, ctx.studio.id)
    choices = [Choice("staff_session_class", c.name, c.id) for c in found]
    return Screen(_("Which class is the new session of?"), choices + nav(ctx))


async def date_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    if ctx.data.get("ss_mode") == "time":
        text = _("Type the new date, such as 15 Jan or friday, or choose Same day.")
        return Screen(text, [Choice("staff_session_same_day", _("Same day")), *nav(ctx)])
    days = typed.days_of(ctx)
    lengths = [
        Choice("staff_session_days", ctx.t.n_("{n} day", "{n} days", n).format(n=n), n)
        for n in DAYS
        if n != days
    ]
    if days > 1:
        text = ctx.t.n_(
            "A course over {n} day: type its first date, such as 15 Jan or friday.",
            "A course over {n} days: type its first date, such as 15 Jan or friday.",
            days,
        ).format(n=days)
        return Screen(text, lengths + nav(ctx))
    return Screen(_("Type the date, such as 15 Jan or friday."), lengths + nav(ctx))


async def start_screen(ctx: Context) -> Screen:
    return Screen(ctx.t._("Type the start time, such as 9am or 14:30."), nav(ctx))


async def end_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    lengths = [
        Choice("staff_session_length", ctx.t.n_("{n} min", "{n} min", m).format(n=m), m)
        for m in LENGTHS
    ]
    usual = await _usual_minutes(ctx)
    start = typed.time_of(ctx, "ss_start")
    if usual is not None and start is not None and usual not in LENGTHS:
        end = _end_after(start, usual)
        if end is not None:  # the class's usual day, "17:00 (8 h)", first
            label = f"{end:%H:%M} ({_length_label(ctx, usual)})"
            lengths.insert(0, Choice("staff_session_length", label, usual))
    return Screen(_("Type the end time, or choose how long it lasts."), lengths + nav(ctx))


async def _usual_minutes(ctx: Context) -> int | None:
    """The length a day of the class's schedule, when adding a session of it."""
    if ctx.data.get("ss_mode") != "add":
        return None
    found = await typed.class_of(ctx)
    return found.usual_minutes if found is not None else None


def _length_label(ctx: Context, minutes: int) -> str:
    if minutes % 60:
        return ctx.t.n_("{n} min", "{n} min", minutes).format(n=minutes)
    return ctx.t.n_("{n} h", "{n} h", minutes // 60).format(n=minutes // 60)


def _end_after(start: time, minutes: int) -> time | None:
    """The end `minutes` after `start`; None past midnight (one day only, for now)."""
    end = start.hour * 60 + start.minute + minutes
    return time(end // 60, end % 60) if end < 24 * 60 else None


async def capacity_screen(ctx: Context) -> Screen:
    """A number typed, with no options on screen: a bare number would pick an option."""
    _ = ctx.t._
    found = (await typed.class_of(ctx)) if ctx.data.get("ss_mode") == "add" else None
    if found is not None and found.usual_capacity:
        text = _("How many seats? Type a number (usually {usual}).").format(
            usual=found.usual_capacity
        )
    else:
        text = _("How many seats? Type a number.")
    return Screen(f"{text}\n{_('Send MENU to stop.')}", [])


async def confirm_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    lines = []
    mode = ctx.data.get("ss_mode")
    if mode == "add":
        found = await typed.class_of(ctx)
        lines.append(_("New session of {name}:").format(name=found.name if found else "?"))
    else:
        lines.append(await _session_title(ctx))
        if mode == "time":
            lines.append(_("Everyone booked is told of the new time, with a new calendar entry."))
    day, start, end = (
        typed.day_of(ctx),
        typed.time_of(ctx, "ss_start"),
        typed.time_of(ctx, "ss_end"),
    )
    if start and end:
        on = f"{ctx.t.date(day)}, " if day else ""
        lines.append(f"{on}{start:%H:%M}–{end:%H:%M}")
        if mode == "add" and typed.days_of(ctx) > 1:
            lines.append(
                ctx.t.n_(
                    "{n} day, the same hours each day",
                    "{n} days, the same hours each day",
                    typed.days_of(ctx),
                ).format(n=typed.days_of(ctx))
            )
    seats = int_value(ctx.data.get("ss_capacity"))
    if seats:
        lines.append(ctx.t.n_("{n} seat", "{n} seats", seats).format(n=seats))
    choices = [Choice("staff_session_confirm", _("✅ Confirm"), aliases=(_("yes"), "yes"))]
    return Screen("\n".join(lines), choices + nav(ctx))


async def pick_screen(ctx: Context) -> Screen:
    return await staff_lists.sessions_screen(
        ctx,
        size=PICK_SESSIONS,
        action="staff_session_open",
        prompt=ctx.t._("Choose a session to change:"),
        extra=nav(ctx),
    )


async def _session_title(ctx: Context) -> str:
    session_id = int_value(ctx.data.get("ss_session")) or 0
    try:
        view = await catalog.session_availability(ctx.db, ctx.studio.id, session_id, ctx.now)
    except BookingError:
        return ""
    s = view.session
    left = view.availability.seats_left
    seats = ctx.t.n_("{n} seat left", "{n} seats left", left).format(n=left)
    seats = f"{seats} ({s.capacity})"
    return f"{view.class_name} · {ctx.session_when(s.starts_at, s.ends_at, s.days)} · {seats}"


async def session_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    choices = [
        Choice("staff_session_change", _("🕒 Change the time"), "time"),
        Choice("staff_session_change", _("👥 Change the capacity"), "capacity"),
        Choice("staff_session_cancel", _("✖ Cancel this session")),  # session_cancel_steps
    ]
    return Screen(await _session_title(ctx), choices + nav(ctx))


# --- choices ------------------------------------------------------------------------------


async def _open(ctx: Context, choice: Choice) -> Transition:
    """/session, or "/session add" and "/session change" straight to that (the word after
    the command comes as the choice's value, keywords.command_word)."""
    word = fold(choice.value) if isinstance(choice.value, str) else ""
    if word in ADD_WORDS:
        return await _add(ctx, choice)
    if word in CHANGE_WORDS:
        return await _pick(ctx, choice)
    typed.clear(ctx)
    return Transition(State.STAFF_SESSION)


async def _add(ctx: Context, _choice: Choice) -> Transition:
    typed.clear(ctx)
    ctx.data["ss_mode"] = "add"
    return Transition(State.STAFF_SESSION_CLASS)


async def _pick(ctx: Context, _choice: Choice) -> Transition:
    typed.clear(ctx)
    staff_lists.reset(ctx)
    return Transition(State.STAFF_SESSION_PICK)


async def _choose_class(ctx: Context, choice: Choice) -> Transition:
    ctx.data["ss_class"] = int_value(choice.value)
    found = await typed.class_of(ctx)
    if found is None:
        return Transition(State.STAFF_SESSION_CLASS)
    if found.usual_days in DAYS and found.usual_days > 1:  # its course's days, to start with
        ctx.data["ss_days"] = found.usual_days
    return Transition(State.STAFF_SESSION_DATE)


async def _open_session(ctx: Context, choice: Choice) -> Transition:
    ctx.data["ss_session"] = int_value(choice.value)
    return Transition(State.STAFF_SESSION_EDIT)


async def _change(ctx: Context, choice: Choice) -> Transition:
    if choice.value == "capacity":
        ctx.data["ss_mode"] = "capacity"
        return Transition(State.STAFF_SESSION_CAPACITY)
    ctx.data["ss_mode"] = "time"
    return Transition(State.STAFF_SESSION_DATE)


async def _set_days(ctx: Context, choice: Choice) -> Transition:
    days = int_value(choice.value)
    ctx.data["ss_days"] = days if days in DAYS else 1
    return Transition(State.STAFF_SESSION_DATE)


async def _same_day(ctx: Context, _choice: Choice) -> Transition:
    ctx.data.pop("ss_day", None)
    return Transition(State.STAFF_SESSION_START)


async def _length(ctx: Context, choice: Choice) -> Transition:
    start = typed.time_of(ctx, "ss_start")
    minutes = int_value(choice.value)
    if start is None or minutes is None:
        return Transition(State.STAFF_SESSION_END)
    if minutes not in LENGTHS and minutes != await _usual_minutes(ctx):
        return Transition(State.STAFF_SESSION_END)
    end = _end_after(start, minutes)
    if end is None:
        return Transition(State.STAFF_SESSION_END, ctx.t._("A session must end the same day."))
    ctx.data["ss_end"] = end.isoformat()
    return typed.after_end(ctx)


async def _confirm(ctx: Context, _choice: Choice) -> Transition:
    _ = ctx.t._
    mode = ctx.data.get("ss_mode")
    try:
        if mode == "add":
            notice = await _do_add(ctx)
        else:
            notice = await _do_edit(ctx)
    except BookingError as error:
        return Transition(State.STAFF_SESSION_CONFIRM, render_error(error, ctx.t, ctx.zone))
    typed.clear(ctx)
    return back_to(ctx, State.STAFF_SESSION, notice)


async def _do_add(ctx: Context) -> str:
    found, day = await typed.class_of(ctx), typed.day_of(ctx)
    start, end = typed.time_of(ctx, "ss_start"), typed.time_of(ctx, "ss_end")
    if found is None or day is None or start is None or end is None:
        return ctx.t._("Nothing was changed.")
    added = await changes.add_one_off(
        ctx.db,
        ctx.clock,
        ctx.studio.id,
        changes.NewSession(
            found.key,
            day,
            start,
            end,
            capacity=int_value(ctx.data.get("ss_capacity")),
            days=typed.days_of(ctx),
        ),
    )
    made = added.session
    text = ctx.t._("Session {number} added: {name}, {when}.").format(
        number=made.id,
        name=found.name,
        when=ctx.session_when(made.starts_at, made.ends_at, made.days),
    )
    if added.instructor is not None:
        teacher = ctx.t._("Instructor: {name}.").format(name=added.instructor)
    elif added.unstaffed is not None:
        why = render_error(added.unstaffed, ctx.t, ctx.zone)
        teacher = ctx.t._("No instructor assigned: {reason}").format(reason=why)
    else:
        teacher = ctx.t._("No instructor assigned.")
    return f"{text} {teacher}"


async def _do_edit(ctx: Context) -> str:
    session_id = int_value(ctx.data.get("ss_session"))
    if session_id is None:
        return ctx.t._("Nothing was changed.")
    if ctx.data.get("ss_mode") == "capacity":
        change = changes.Change(capacity=int_value(ctx.data.get("ss_capacity")))
    else:
        change = changes.Change(
            day=typed.day_of(ctx),
            start=typed.time_of(ctx, "ss_start"),
            end=typed.time_of(ctx, "ss_end"),
        )
    done = await changes.edit_session(ctx.db, ctx.clock, ctx.studio.id, session_id, change)
    seats = ctx.t.n_("{n} seat", "{n} seats", done.after.capacity)
    text = ctx.t._("Session {number} changed: {when}, {seats}.").format(
        number=session_id,
        when=ctx.session_when(done.after.starts_at, done.after.ends_at, done.after.days),
        seats=seats.format(n=done.after.capacity),
    )
    if done.told:
        told = ctx.t.n_("{n} person was told.", "{n} people were told.", done.told)
        text = f"{text} {told.format(n=done.told)}"
    if done.offers:  # more seats: the waiting list is offered them, as the CLI says
        offered = ctx.t.n_(
            "{n} place was offered to the waiting list.",
            "{n} places were offered to the waiting list.",
            done.offers,
        )
        text = f"{text} {offered.format(n=done.offers)}"
    return text


HANDLERS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "staff_session": _open,
    "staff_session_add": _add,
    "staff_session_pick": _pick,
    "staff_session_class": _choose_class,
    "staff_session_open": _open_session,
    "staff_session_change": _change,
    "staff_session_same_day": _same_day,
    "staff_session_days": _set_days,
    "staff_session_length": _length,
    "staff_session_confirm": _confirm,
}
SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.STAFF_SESSION: menu_screen,
    State.STAFF_SESSION_CLASS: class_screen,
    State.STAFF_SESSION_DATE: date_screen,
    State.STAFF_SESSION_START: start_screen,
    State.STAFF_SESSION_END: end_screen,
    State.STAFF_SESSION_CAPACITY: capacity_screen,
    State.STAFF_SESSION_CONFIRM: confirm_screen,
    State.STAFF_SESSION_PICK: pick_screen,
    State.STAFF_SESSION_EDIT: session_screen,
}
TYPED = typed.TYPED
