"""Waitlists in chat: joining one date's waitlist, and taking (ACCEPT) or letting go
(DECLINE) a place a waitlist offers."""

from __future__ import annotations

from bookbot.conversations import booking_steps
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.pricing import RegistrationKind
from bookbot.presentation.i18n import render_error
from bookbot.services import browse, waitlist, waitlist_pass
from bookbot.services.waitlist import join_waitlist


async def waitlist_screen(ctx: Context) -> Screen:
    """Joining one date's waitlist (a single class's date, one drop-in date, or a session
    to reserve with a pass), for the party asked for before."""
    _ = ctx.t._
    guests = int(ctx.data.get("guests", 1))
    dates = await browse.dates_by_id(ctx.db, ctx.studio.id, ctx.data["session_ids"][:1], ctx.now, 1)
    if not dates:
        return Screen(_("Those dates are no longer available."), back_and_cancel(ctx))
    first = dates[0].session
    text = _(
        "Join the waitlist for {date}, for {people}? If a place frees up, we will offer it to "
        "you first in line."
    ).format(
        date=ctx.session_when(first.starts_at, first.ends_at, first.days),
        people=ctx.t.n_("{n} person", "{n} people", guests).format(n=guests),
    )
    join = Choice("join", _("Join the waitlist"), aliases=(_("yes"), "yes", "si"))
    return Screen(text, [join, *back_and_cancel(ctx)])


async def join(ctx: Context) -> Transition:
    """Queue for the date. A drop-in goes back to its dates (others may still be picked);
    a pass back to the pass; a single class to the menu."""
    _ = ctx.t._
    guests = ctx.data.get("guests", 1)
    try:
        await join_waitlist(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            ctx.customer.id,
            ctx.data["session_ids"][0],
            guests=guests,
        )
    except errors.BookingError as error:
        refused = render_error(error, ctx.t, ctx.zone)
        if ctx.data.get("waitlist_for") == "pass":
            return _return_to(ctx, State.RESERVE, refused)
        return Transition(State.GUESTS, refused)
    done = _("You are on the waitlist. We will message you if a place frees up.")
    if ctx.data.pop("waitlist_for", None) == "pass":
        return _return_to(ctx, State.TICKET, done)
    if ctx.data.get("kind") == RegistrationKind.DROP_IN.value:
        for key in ("session_ids", "guests", "kind"):
            ctx.data.pop(key, None)
        return _return_to(ctx, State.CLASS, done)
    ctx.data.clear()
    return Transition(State.MENU, done)


def _return_to(ctx: Context, state: State, notice: str) -> Transition:
    """Back to an earlier screen of this dialogue, as if Back had been pressed to it."""
    history = ctx.data.get("history", [])
    while history and history.pop() != state.value:
        pass
    return Transition(state, notice, back=True)


async def accept_offer(ctx: Context) -> Transition:
    """ACCEPT: book the seats and equipment a waitlist offer holds for this customer.

    The offer is checked again as it is taken (`waitlist.accept_offer`): if it lapsed or
    was declined since it was read here, the customer is told so, never "booked"."""
    _ = ctx.t._
    offer = await waitlist.live_offer(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    if offer is None:
        return Transition(State.MENU, _("There is no waitlist offer waiting for you right now."))
    try:
        # A pass holder's place is reserved on their pass (services.waitlist_pass).
        args = (ctx.db, ctx.clock, ctx.studio.id, ctx.customer.id, offer.id)
        reserved = await waitlist_pass.accept_with_pass(*args)
        if reserved is not None:
            ctx.data.clear()
            ctx.data["pass_id"] = reserved.pass_id
            text = _("🎉 Reserved with your pass: {name}, {date}.").format(
                name=reserved.class_name, date=ctx.when(reserved.starts_at)
            )
            return Transition(State.TICKET, text)
        reg = await waitlist.accept_offer(*args)
    except errors.BookingError as error:
        return Transition(State.MENU, render_error(error, ctx.t, ctx.zone))
    return await booking_steps.booked_message(ctx, reg.id)


async def decline_offer(ctx: Context) -> Transition:
    _ = ctx.t._
    offer = await waitlist.live_offer(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    if offer is not None:
        await waitlist.decline(ctx.db, ctx.clock, ctx.studio.id, ctx.customer.id, offer.id)
    return Transition(State.MENU, _("Understood: the place goes to the next person waiting."))
