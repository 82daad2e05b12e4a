"""Staff: today's sessions, the roster list (paged, from a typed day) and one session's
roster, with tap-to-check-in and "all present".

The list (STAFF_ROSTER) and a session's roster (STAFF_ROSTER_SESSION) are two states, so
⬅ Back from a roster returns to the list it was opened from (or to /today), at the page it
was on. A roster shows each party's full name, size and payment as a table (Telegram sends
it in `<pre>`); by SMS and WhatsApp the numbered options say the same, once.
"""

from __future__ import annotations

from dataclasses import replace

from bookbot.conversations import session_notes_steps, staff_lists
from bookbot.conversations.payment_status import status_text
from bookbot.conversations.staff_admin_steps import int_value, nav
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import render_error
from bookbot.services import staff_views

ROSTER_SESSIONS = 10  # sessions a page of /roster lists


def staff_id(ctx: Context) -> int:
    if ctx.staff_id is None:
        raise errors.NotAllowed()
    return ctx.staff_id


def _counts(ctx: Context, line: staff_views.SessionLine) -> str:
    return ctx.t._("{booked}/{capacity} booked · {checked_in} checked in").format(
        booked=line.booked, capacity=line.capacity, checked_in=line.checked_in
    )


async def today_screen(ctx: Context) -> Screen:
    """The sessions of a day (today, unless another was typed or stepped to)."""
    _ = ctx.t._
    day = staff_lists.chosen_day(ctx)
    since, until = staff_lists.day_bounds(ctx, day)
    lines = await staff_views.sessions_between(ctx.db, ctx.studio.id, since, until, running=True)
    shown = ctx.t.date(day)
    days = staff_lists.day_choices(ctx, 1, later=True) + nav(ctx)
    is_today = day == staff_lists.today(ctx)
    if not lines:
        empty = _("No sessions today ({date}).") if is_today else _("No sessions on {date}.")
        return Screen(f"{empty.format(date=shown)}\n{staff_lists.hint(ctx)}", days)
    title = _("Today, {date}:") if is_today else _("Sessions on {date}:")
    text = [title.format(date=shown)]
    choices = [
        Choice("staff_roster", f"{ctx.t.time(s.starts_at, ctx.zone)} {s.class_name}", s.id)
        for s in lines
    ]
    if ctx.texting:  # a line each, as short as it goes
        text += [f"• {c.label} · {_counts(ctx, s)}" for c, s in zip(choices, lines, strict=True)]
    else:  # a table (Telegram: <pre>)
        text += ["", _day_table(ctx, lines), ""]
    text.append(_("Choose a session to see who is booked and check people in."))
    text.append(staff_lists.hint(ctx))
    return Screen("\n".join(text), choices + days, preformatted=not ctx.texting)


def _day_table(ctx: Context, lines: list[staff_views.SessionLine]) -> str:
    """Time, class, booked of capacity, and checked in, aligned."""
    _ = ctx.t._
    rows = [
        [
            ctx.t.time(s.starts_at, ctx.zone),
            s.class_name,
            f"{s.booked}/{s.capacity}",
            str(s.checked_in),
        ]
        for s in lines
    ]
    return aligned([[_("Time"), _("Class"), _("Booked"), _("Checked in")], *rows], right={2, 3})


def aligned(table: list[list[str]], right: set[int]) -> str:
    """Rows of cells as text columns two spaces apart; columns in `right` to the right."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for row in table:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


async def open_today(ctx: Context, _choice: Choice) -> Transition:
    """/today afresh: today's sessions."""
    staff_lists.reset(ctx)
    return Transition(State.STAFF_TODAY)


def _payment(ctx: Context, entry: staff_views.RosterEntry) -> str | None:
    """The entry's payment in words, where there is one to tell."""
    if entry.kind == staff_views.RESERVATION:
        return None
    if entry.payment is None and ctx.payments is None:
        return None
    return status_text(ctx.t, entry.payment, None, ctx.zone)


def _entry_label(ctx: Context, entry: staff_views.RosterEntry) -> str:
    _ = ctx.t._
    people = ctx.t.n_("{n} person", "{n} people", entry.guests).format(n=entry.guests)
    marks = {
        "checked_in": _("✅ {name} · checked in"),
        "attended": _("✅ {name} · attended"),
        "no_show": _("✖ {name} · no-show"),
    }
    label = marks.get(entry.status, "{name}").format(name=entry.name)
    label = f"{label} · {people}" if entry.guests > 1 else label
    if entry.day_marks:
        label = f"{label} · {_days(entry)}"
    paid = _payment(ctx, entry)
    return f"{label} · {paid}" if paid else label


def _status(ctx: Context, entry: staff_views.RosterEntry) -> str:
    _ = ctx.t._
    words = {"checked_in": _("checked in"), "attended": _("attended"), "no_show": _("no-show")}
    return words.get(entry.status, "")


_DAY_MARKS = {"attended": "✓", "absent": "✗"}  # a day not marked (yet): "○"


def _days(entry: staff_views.RosterEntry) -> str:
    """A multi-day booking's marks, day 1 first: '✓ ✗ ○'."""
    return " ".join(_DAY_MARKS.get(m, "○") for m in entry.day_marks)


def _day_heading(ctx: Context, line: staff_views.SessionLine) -> list[str]:
    """'Day 2 of 3' on a day of a multi-day session (check-in marks that day)."""
    if line.days <= 1 or line.ends_at is None:
        return []
    first = line.starts_at.astimezone(zone(ctx.studio.timezone)).date()
    number = (ctx.now.astimezone(zone(ctx.studio.timezone)).date() - first).days + 1
    if not 1 <= number <= line.days:
        return []
    return [ctx.t._("Day {day} of {days}").format(day=number, days=line.days)]


def roster_table(ctx: Context, entries: list[staff_views.RosterEntry]) -> str:
    """Name, party size, payment (a pass for reservations) and attendance, aligned."""
    _ = ctx.t._
    rows = [
        [
            e.name,
            str(e.guests),
            _payment(ctx, e) or (_("pass") if e.kind == staff_views.RESERVATION else ""),
            _status(ctx, e),
            _days(e),
        ]
        for e in entries
    ]
    head = [_("Name"), _("People"), _("Payment"), _("Status"), _("Days")]
    keep = [i for i in range(5) if i < 2 or any(r[i] for r in rows)]  # no empty columns
    table = [[row[i] for i in keep] for row in [head, *rows]]
    return aligned(table, right={1})  # the party size; "People" is always kept


async def roster_screen(ctx: Context) -> Screen:
    """The roster list: a page of sessions from the day asked for."""
    return await staff_lists.sessions_screen(
        ctx,
        size=ROSTER_SESSIONS,
        action="staff_roster",
        prompt=ctx.t._("Choose a session to see its roster:"),
        extra=nav(ctx),
    )


async def session_screen(ctx: Context) -> Screen:
    """One session's roster: tap a name to check them in."""
    _ = ctx.t._
    session_id = int_value(ctx.data.get("staff_session"))
    line = await staff_views.session_line(ctx.db, ctx.studio.id, session_id) if session_id else None
    if line is None:
        return await roster_screen(ctx)
    entries = await staff_views.roster(ctx.db, ctx.studio.id, line.id, ctx.now)
    if line.days > 1:  # today's check-ins, as the entries are (not any day's)
        present = sum(e.guests for e in entries if e.status in ("checked_in", "attended"))
        line = replace(line, checked_in=present)
    text = [f"{line.class_name} · {staff_lists.line_when(ctx, line)}", _counts(ctx, line)]
    text += _day_heading(ctx, line)
    if entries and not ctx.texting:
        text += ["", roster_table(ctx, entries), ""]
    text += await session_notes_steps.roster_lines(ctx, line.id)  # issue 17: staff only
    if not entries:
        text.append(_("Nobody is booked yet."))
    elif ctx.conversation.channel == "telegram":  # buttons; elsewhere numbered lines
        text.append(_("Tap a name to check them in."))
    else:
        text.append(_("Choose a name to check them in."))
    choices = [Choice("staff_check_in", _entry_label(ctx, e), e.pointer) for e in entries]
    if any(e.expected for e in entries):
        choices.append(
            Choice("staff_all_present", _("✅ All present"), aliases=(_("all present"),))
        )
    choices.append(session_notes_steps.notes_choice(ctx))
    return Screen("\n".join(text), choices + nav(ctx), preformatted=not ctx.texting)


async def open_roster(ctx: Context, choice: Choice) -> Transition:
    """/roster (the list, from today) or a session picked from a list (its roster)."""
    wanted = int_value(choice.value)
    if wanted is None:
        staff_lists.reset(ctx)
        ctx.data.pop("staff_session", None)
        return Transition(State.STAFF_ROSTER)
    line = await staff_views.session_line(ctx.db, ctx.studio.id, wanted)
    if line is None:
        ctx.data.pop("staff_session", None)
        return Transition(State.STAFF_ROSTER, ctx.t._("That session was not found."))
    ctx.data["staff_session"] = line.id
    return Transition(State.STAFF_ROSTER_SESSION)


async def _shown_entry(ctx: Context, value: object) -> staff_views.RosterEntry | None:
    """The roster entry an option points at, if it is on the roster being shown."""
    session_id = int_value(ctx.data.get("staff_session"))
    entries = await staff_views.roster(ctx.db, ctx.studio.id, session_id) if session_id else []
    return next((e for e in entries if e.pointer == value), None)


async def check_in(ctx: Context, choice: Choice) -> Transition:
    _ = ctx.t._
    entry = await _shown_entry(ctx, choice.value)
    if entry is None:
        return Transition(State.STAFF_ROSTER_SESSION, _("That person is not on this roster."))
    try:
        await staff_views.check_in_entry(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            staff_id=staff_id(ctx),
            kind=entry.kind,
            entry_id=entry.id,
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_ROSTER_SESSION, render_error(error, ctx.t, ctx.zone))
    done = _("{name} is checked in.").format(name=entry.name)
    return Transition(State.STAFF_ROSTER_SESSION, done)


async def all_present(ctx: Context, _choice: Choice) -> Transition:
    session_id = int_value(ctx.data.get("staff_session"))
    if not session_id:
        return Transition(State.STAFF_ROSTER)
    try:
        count = await staff_views.all_present(
            ctx.db, ctx.clock, ctx.studio.id, staff_id(ctx), session_id
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_ROSTER_SESSION, render_error(error, ctx.t, ctx.zone))
    text = ctx.t.n_("All present: {n} more checked in.", "All present: {n} more checked in.", count)
    return Transition(State.STAFF_ROSTER_SESSION, text.format(n=count))
