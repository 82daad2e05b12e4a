"""/session → a session → "✖ Cancel this session": staff cancel a class or a course in chat
(issue 17), as `bookbot sessions cancel --reason` does: the reason, typed → what it touches
(bookings, those paid online refunded in full, pass reservations, the waiting list) → "Yes,
cancel it". Everyone in it is told on their own channel, with the reason
(`services.cancellation.cancel_session`); refunds go to Stripe when payments are on here.

The session is the one /session opened ("ss_session"), read again for this studio at each
step; the reason waits in "ss_reason" until confirmed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bookbot.conversations.staff_admin_steps import (
    back_to,
    int_value,
    nav,
    reason_refusal,
    typed_reason,
)
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine.errors import BookingError
from bookbot.presentation.i18n import render_error
from bookbot.services import cancellation, catalog

REASON = "ss_reason"


async def _title(ctx: Context, session_id: int) -> str | None:
    """'Gas Safe ACS Core · Wed 2 – Fri 4 Dec, 09:00–17:00 daily'; None if it is gone."""
    try:
        view = await catalog.session_availability(ctx.db, ctx.studio.id, session_id, ctx.now)
    except BookingError:
        return None
    s = view.session
    return f"{view.class_name} · {ctx.session_when(s.starts_at, s.ends_at, s.days)}"


def _session(ctx: Context) -> int | None:
    return int_value(ctx.data.get("ss_session"))


async def reason_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    session_id = _session(ctx)
    title = await _title(ctx, session_id) if session_id is not None else None
    if title is None:
        return Screen(_("That session was not found."), nav(ctx))
    ask = _("Why is it cancelled? Type the reason: we pass it on to everyone booked.")
    return Screen(f"{title}\n{ask}", nav(ctx))


async def confirm_screen(ctx: Context) -> Screen:
    _, n_ = ctx.t._, ctx.t.n_
    session_id, reason = _session(ctx), ctx.data.get(REASON)
    title = await _title(ctx, session_id) if session_id is not None else None
    if session_id is None or title is None or not isinstance(reason, str):
        return Screen(_("That session was not found."), nav(ctx))
    seen = await cancellation.preview_session(ctx.db, ctx.studio.id, session_id)
    lines = [_("Cancel {session}?").format(session=title)]
    lines.append(
        n_("{n} booking is cancelled.", "{n} bookings are cancelled.", seen.bookings).format(
            n=seen.bookings
        )
    )
    if seen.paid_online:
        paid = n_(
            "{n} booking paid online is refunded in full.",
            "{n} bookings paid online are refunded in full.",
            seen.paid_online,
        )
        lines.append(paid.format(n=seen.paid_online))
    if seen.reservations:
        kept = n_(
            "{n} pass reservation is cancelled; the pass keeps the session.",
            "{n} pass reservations are cancelled; the passes keep the session.",
            seen.reservations,
        )
        lines.append(kept.format(n=seen.reservations))
    if seen.waitlist:
        waiting = n_(
            "{n} person on the waiting list is told.",
            "{n} people on the waiting list are told.",
            seen.waitlist,
        )
        lines.append(waiting.format(n=seen.waitlist))
    lines.append(_("Reason: {reason}").format(reason=reason))
    choices = [Choice("staff_session_cancel_confirm", _("✖ Yes, cancel it"), aliases=(_("yes"),))]
    return Screen("\n".join(lines), choices + nav(ctx))


async def _start(ctx: Context, _choice: Choice) -> Transition:
    ctx.data.pop(REASON, None)
    if _session(ctx) is None:
        return Transition(State.STAFF_SESSION)
    return Transition(State.STAFF_SESSION_CANCEL_REASON)


async def _typed(ctx: Context, text: str) -> Transition:
    reason = typed_reason(text)
    if reason is None:
        return Transition(State.STAFF_SESSION_CANCEL_REASON, reason_refusal(ctx))
    ctx.data[REASON] = reason
    return Transition(State.STAFF_SESSION_CANCEL_CONFIRM)


async def _confirm(ctx: Context, _choice: Choice) -> Transition:
    session_id, reason = _session(ctx), ctx.data.get(REASON)
    if session_id is None or not isinstance(reason, str):
        return Transition(State.STAFF_SESSION)
    title = await _title(ctx, session_id) or ""
    try:
        done = await cancellation.cancel_session(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            session_id,
            reason=reason,
            gateway=ctx.payments.gateway if ctx.payments is not None else None,
        )
    except BookingError as error:
        return Transition(State.STAFF_SESSION_CANCEL_CONFIRM, render_error(error, ctx.t, ctx.zone))
    ctx.data.pop(REASON, None)
    ctx.data.pop("ss_session", None)
    told = len(done.bookings) + done.reservations + done.waitlist
    text = ctx.t._("Cancelled: {session}.").format(session=title)
    count = ctx.t.n_("{n} person was told.", "{n} people were told.", told)
    return back_to(ctx, State.STAFF_SESSION, f"{text} {count.format(n=told)}")


HANDLERS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "staff_session_cancel": _start,
    "staff_session_cancel_confirm": _confirm,
}
SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.STAFF_SESSION_CANCEL_REASON: reason_screen,
    State.STAFF_SESSION_CANCEL_CONFIRM: confirm_screen,
}
TYPED: dict[State, Callable[[Context, str], Awaitable[Transition]]] = {
    State.STAFF_SESSION_CANCEL_REASON: _typed,
}
