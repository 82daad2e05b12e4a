"""Staff: a session's instructor notes (issue 17), from its roster: "📝 Notes", then the
notes typed ("clear" removes them). Staff only: the dispatcher's gate takes the press, and
`staff_steps` guards the screen and the typing; customers never see notes."""

from __future__ import annotations

from bookbot.conversations.attendee_steps import clean
from bookbot.conversations.matching import fold
from bookbot.conversations.staff_admin_steps import int_value
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.presentation.i18n import render_error
from bookbot.services import attendees, session_notes

_CLEAR = frozenset({"clear", "borrar", "none", "delete"})


def clean_notes(typed: str) -> str:
    """Notes as typed, lines kept: each line's control characters dropped and spaces
    collapsed, empty lines at the ends removed, at most MAX_NOTES characters."""
    lines = [clean(line) for line in typed.splitlines()]
    return "\n".join(lines).strip()[: session_notes.MAX_NOTES]


async def open_notes(ctx: Context, _choice: Choice) -> Transition:
    if int_value(ctx.data.get("staff_session")) is None:
        return Transition(State.STAFF_ROSTER)
    return Transition(State.STAFF_SESSION_NOTES)


async def notes_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    session_id = int_value(ctx.data.get("staff_session"))
    try:
        notes = await session_notes.notes_of(ctx.db, ctx.studio.id, session_id or 0)
    except errors.BookingError as error:
        return Screen(render_error(error, ctx.t, ctx.zone), _back(ctx))
    text = [_("Instructor notes (staff only):"), notes or _("none yet")]
    text.append(_("Send the new notes to replace them, or “clear” to remove them."))
    return Screen("\n".join(text), _back(ctx))


def _back(ctx: Context) -> list[Choice]:
    return [Choice("back", ctx.t._("⬅ Back"), aliases=(ctx.t._("back"), "back", "atras"))]


async def on_notes(ctx: Context, typed: str) -> Transition:
    """The notes typed: saved (or cleared), and back to the roster."""
    _ = ctx.t._
    session_id = int_value(ctx.data.get("staff_session"))
    if session_id is None:
        return Transition(State.STAFF_ROSTER)
    notes = "" if fold(typed) in _CLEAR else clean_notes(typed)
    try:
        await session_notes.set_notes(ctx.db, ctx.studio.id, session_id, notes)
    except errors.BookingError as error:
        return Transition(State.STAFF_SESSION_NOTES, render_error(error, ctx.t, ctx.zone))
    history = ctx.data.get("history", [])
    if history and history[-1] == State.STAFF_ROSTER_SESSION.value:
        history.pop()  # back on the roster, as if ⬅ Back had been pressed
    done = _("Notes saved.") if notes else _("Notes cleared.")
    return Transition(State.STAFF_ROSTER_SESSION, done, back=True)


async def roster_lines(ctx: Context, session_id: int) -> list[str]:
    """What a roster adds for staff: the session's notes, and the attendees' details."""
    _ = ctx.t._
    lines = []
    notes = await session_notes.notes_of(ctx.db, ctx.studio.id, session_id)
    if notes:
        lines.append(_("📝 Notes: {notes}").format(notes=notes))
    parties = await attendees.roster_parties(ctx.db, ctx.studio.id, session_id)
    if parties:
        lines.append(_("Attendee details:"))
    for party in parties:
        booker, others = party.people[0], party.people[1:]
        told = [booker.email, booker.company, booker.job_title]
        lines.append(" · ".join([f"• {booker.name or party.customer}", *filter(None, told)]))
        if booker.requests:
            lines.append("  " + _("Requests: {value}").format(value=booker.requests))
        if others:
            lines.append("  + " + ", ".join(p.name for p in others))
    return lines


def notes_choice(ctx: Context) -> Choice:
    return Choice("staff_notes", ctx.t._("📝 Notes"), aliases=(ctx.t._("notes"), "notes"))


HANDLERS = {"staff_notes": open_notes}
TYPED = {State.STAFF_SESSION_NOTES: on_notes}
SCREENS = {State.STAFF_SESSION_NOTES: notes_screen}
