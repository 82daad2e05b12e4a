"""Self check-in in chat: HERE / AQUÍ (or the button under the last reminder) checks the
customer in to whatever is open now, an ordinary booking or a pass reservation alike, by
the same window (2 h either side of the start)."""

from __future__ import annotations

from datetime import datetime

from bookbot.conversations import reserve_steps
from bookbot.conversations.states import Choice, Context, State, Transition
from bookbot.engine import errors
from bookbot.engine import reservations as rules
from bookbot.presentation.i18n import render_error
from bookbot.services import reservations, self_check_in
from bookbot.services.self_check_in import RESERVATION


async def check_in_now(ctx: Context) -> Transition:
    """HERE by text: check in to the soonest booking or reservation open now."""
    _ = ctx.t._
    found = await self_check_in.open_now(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    waiting = [a for a in found if not a.checked_in]
    if not waiting:
        if found:
            return Transition(State.MENU, _("You are already checked in. Enjoy the class!"))
        return Transition(State.MENU, await _not_open(ctx))
    first = waiting[0]
    if first.kind == RESERVATION:
        return await reserve_steps.check_in(ctx, first.id, State.MENU)
    return await check_in_booking(ctx, first.id, State.MENU)


async def check_in_booking(ctx: Context, entry_id: int, then: State) -> Transition:
    _ = ctx.t._
    try:
        await self_check_in.check_in_booking(
            ctx.db, ctx.clock, ctx.studio.id, entry_id, customer_id=ctx.customer.id
        )
    except errors.BookingError as error:
        return Transition(then, render_error(error, ctx.t, ctx.zone))
    return Transition(then, _("You are checked in. Enjoy the class!"))


async def on_booking_check_in(ctx: Context, choice: Choice) -> Transition:
    """The ✅ Check in button on a booking's screen."""
    return await check_in_booking(ctx, int(choice.value), State.BOOKING)


async def _not_open(ctx: Context) -> str:
    """Nothing open: when the next check-in opens, if anything is booked."""
    _ = ctx.t._
    starts: list[datetime] = []
    booked = await self_check_in.next_booked_start(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    if booked is not None:
        starts.append(booked)
    held = await reservations.live_reservations(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    starts += [h.starts_at for h in held if h.starts_at - rules.SELF_CHECK_IN > ctx.now]
    if not starts:
        return _("There is nothing to check in to right now: you have no class booked soon.")
    opens = min(starts) - rules.SELF_CHECK_IN
    return _(
        "There is nothing to check in to right now: check-in opens at {when}, "
        "2 hours before your class."
    ).format(when=ctx.when(opens))


ACTIONS = {"check_in_booking": on_booking_check_in}
PLAIN_ACTIONS = {"here": check_in_now}
