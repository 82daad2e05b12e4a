"""/complete: staff complete a session and issue certificates to those who passed (issue 17).

First the sessions of classes that issue certificates started in the last two weeks (ended,
or under way today), newest first; then that session's people, a line per seat of each
booking (the attendee's name when the booking gave one, else the customer's): a tap marks
one as passed (✅) or not; those checked in (on any day of a course over several days)
start ticked. "Issue certificates" completes the session
(services.certificates.issue closes it first, as the attendance sweep would at its end) and
issues one certificate per person marked; each goes to its customer as a notice. The
confirmation counts those issued one with no attendance recorded. Those
already holding one show 🎓 and are not issued twice. A session or person an option points
at is looked up again in this studio."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bookbot.conversations.staff_admin_steps import int_value, nav
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.presentation.i18n import render_error
from bookbot.services import certificates
from bookbot.services.certificates import Person

RECENT = timedelta(days=14)
SESSION = "complete_session"
PASSED = "complete_passed"


def _key(p: Person) -> str:
    return f"{p.registration_id}:{p.position}"


def _window(ctx: Context) -> tuple[datetime, datetime]:
    """Sessions started in the last two weeks, up to now: ended ones and today's under way
    (one not started yet has nothing to complete)."""
    return ctx.now - RECENT, ctx.now + timedelta(seconds=1)


async def sessions_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    since, until = _window(ctx)
    found = await certificates.completable(ctx.db, ctx.studio.id, since=since, until=until)
    if not found:
        return Screen(_("No recent sessions of a course with certificates."), nav(ctx))
    choices = [
        Choice(
            "staff_complete_session",
            f"{_when(ctx, s)} · {s.class_name}{' ✔' if s.closed else ''}",
            s.session_id,
        )
        for s in found
    ]
    return Screen(_("Which session is complete?"), choices + nav(ctx))


def _when(ctx: Context, s: certificates.Completable) -> str:
    if s.ends_at is None:
        return ctx.when(s.starts_at)
    return ctx.session_when(s.starts_at, s.ends_at, s.days)


def _name(ctx: Context, p: Person) -> str:
    name = p.name or ctx.t._("(no name)")
    if p.position > 1 and not p.named:
        return ctx.t._("{name}, guest {n}").format(name=name, n=p.position)
    return name


async def mark_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    session_id = int_value(ctx.data.get(SESSION))
    people = (
        await certificates.people(ctx.db, ctx.studio.id, session_id)
        if session_id is not None
        else []
    )
    if not people:
        return Screen(_("Nobody is booked on that session."), nav(ctx))
    passed = set(ctx.data.get(PASSED, []))
    choices = []
    for p in people:
        mark = "🎓" if p.issued else ("✅" if _key(p) in passed else "☐")
        choices.append(Choice("staff_complete_toggle", f"{mark} {_name(ctx, p)}", _key(p)))
    chosen = sum(1 for p in people if _key(p) in passed and not p.issued)
    if chosen:
        label = ctx.t.n_("🎓 Issue {n} certificate", "🎓 Issue {n} certificates", chosen).format(
            n=chosen
        )
        choices.append(Choice("staff_complete_issue", label, aliases=(_("issue"), "issue")))
    text = _("Tap the names of those who passed, then issue their certificates.")
    return Screen(text, choices + nav(ctx))


async def _open(ctx: Context, _choice: Choice) -> Transition:
    ctx.data.pop(SESSION, None)
    ctx.data.pop(PASSED, None)
    return Transition(State.STAFF_COMPLETE)


async def _pick(ctx: Context, choice: Choice) -> Transition:
    session_id = int_value(choice.value)
    since, until = _window(ctx)
    found = await certificates.completable(ctx.db, ctx.studio.id, since=since, until=until)
    if session_id is None or session_id not in {s.session_id for s in found}:
        return Transition(State.STAFF_COMPLETE)
    ctx.data[SESSION] = session_id
    # Those who came are ticked to start with: staff untick who failed.
    people = await certificates.people(ctx.db, ctx.studio.id, session_id)
    ctx.data[PASSED] = [_key(p) for p in people if p.attended and not p.issued]
    return Transition(State.STAFF_COMPLETE_MARK)


async def _toggle(ctx: Context, choice: Choice) -> Transition:
    session_id = int_value(ctx.data.get(SESSION))
    if session_id is None:
        return Transition(State.STAFF_COMPLETE)
    keys = {_key(p) for p in await certificates.people(ctx.db, ctx.studio.id, session_id)}
    passed = list(ctx.data.get(PASSED, []))
    if choice.value in keys:
        if choice.value in passed:
            passed.remove(choice.value)
        else:
            passed.append(choice.value)
    ctx.data[PASSED] = passed
    return Transition(State.STAFF_COMPLETE_MARK)


async def _issue(ctx: Context, _choice: Choice) -> Transition:
    session_id = int_value(ctx.data.get(SESSION))
    if session_id is None:
        return Transition(State.STAFF_COMPLETE)
    passed = []
    keys = set(ctx.data.get(PASSED, []))
    absent = sum(
        1
        for p in await certificates.people(ctx.db, ctx.studio.id, session_id)
        if _key(p) in keys and not p.issued and not p.attended
    )
    for key in ctx.data.get(PASSED, []):
        registration, _sep, position = str(key).partition(":")
        if registration.isdigit() and position.isdigit():
            passed.append((int(registration), int(position)))
    try:
        issued = await certificates.issue(
            ctx.db, ctx.clock, studio_id=ctx.studio.id, session_id=session_id, passed=passed
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_COMPLETE_MARK, render_error(error, ctx.t, ctx.zone))
    ctx.data[PASSED] = []
    text = ctx.t.n_(
        "Session completed: {n} certificate issued; each is sent to its customer.",
        "Session completed: {n} certificates issued; each is sent to its customer.",
        issued.new,
    ).format(n=issued.new)
    if absent:  # issued all the same (staff may know better), but not unnoticed
        warning = ctx.t.n_(
            "{n} of them has no attendance recorded.",
            "{n} of them have no attendance recorded.",
            absent,
        ).format(n=absent)
        text = f"{text} {warning}"
    return Transition(State.STAFF_COMPLETE_MARK, text)


HANDLERS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "staff_complete": _open,
    "staff_complete_session": _pick,
    "staff_complete_toggle": _toggle,
    "staff_complete_issue": _issue,
}
SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.STAFF_COMPLETE: sessions_screen,
    State.STAFF_COMPLETE_MARK: mark_screen,
}
