"""What each option's action does: the steps a chosen option runs (`choosing.choose`
looks its action up here, after the staff tools and the plain moves in `choosing.SIMPLE`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bookbot.conversations import account_steps as account
from bookbot.conversations import appointment_steps as appointment
from bookbot.conversations import attendee_steps as attendee
from bookbot.conversations import booking_steps as booking
from bookbot.conversations import check_in_steps as check_in
from bookbot.conversations import class_dates as dates
from bookbot.conversations import feedback_steps as rating
from bookbot.conversations import handoff_steps as talk
from bookbot.conversations import my_booking_steps as my_booking
from bookbot.conversations import package_steps as package
from bookbot.conversations import pass_steps as passes
from bookbot.conversations import payment_steps as paying
from bookbot.conversations import privacy_steps as privacy
from bookbot.conversations import recurring_steps as series
from bookbot.conversations import reschedule_steps as moving
from bookbot.conversations import reserve_steps as reserving
from bookbot.conversations import timezone_steps as zones
from bookbot.conversations import waitlist_places_steps as places
from bookbot.conversations import waitlist_steps as waiting
from bookbot.conversations.states import Choice, Context, State, Transition


async def _set_language(ctx: Context, choice: Choice) -> Transition:
    return await account.set_language(ctx, str(choice.value))


async def _guests(ctx: Context, choice: Choice) -> Transition:
    return await booking.choose_guests(ctx, int(choice.value))


async def _reserve_session(ctx: Context, choice: Choice) -> Transition:
    session_id, makeup = choice.value
    if makeup:  # a makeup session stands for any part: ask which
        ctx.data["reserve_session"] = session_id
        return Transition(State.RESERVE_PART)
    return await reserving.reserve_session(ctx, int(session_id), None)


async def _reserve_part(ctx: Context, choice: Choice) -> Transition:
    return await reserving.reserve_session(ctx, int(ctx.data["reserve_session"]), int(choice.value))


async def _check_in(ctx: Context, choice: Choice) -> Transition:
    return await reserving.check_in(ctx, int(choice.value))


async def _cancel_reservation(ctx: Context, choice: Choice) -> Transition:
    return await reserving.cancel_reservation(ctx, int(choice.value))


async def _company_po(ctx: Context, _choice: Choice) -> Transition:
    return await paying.on_company_po(ctx, None)


async def _stay(ctx: Context) -> Transition:
    return Transition(State(ctx.conversation.state))


async def _stop(ctx: Context) -> Transition:
    """/cancel: stop what I am doing and go to the menu (it never cancels a booking)."""
    ctx.data.clear()
    return Transition(State.MENU, ctx.t._("Stopped. Here is the menu."))


# Actions that act on the chosen option's value, and actions that need only the context.
ACTIONS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "reserve_session": _reserve_session,
    "reserve_part": _reserve_part,
    "check_in": _check_in,
    "check_in_booking": check_in.on_booking_check_in,
    "by_reference": my_booking.open_reference,
    "cancel_reservation": _cancel_reservation,
    "session": dates.choose_on_class,
    "run": dates.choose_on_class,
    "toggle": dates.choose_on_class,
    "continue": dates.choose_on_class,
    "waitlist_date": dates.choose_on_class,  # a full drop-in date: its waitlist
    "reserve_waitlist": reserving.reserve_waitlist,  # a full session to reserve: its waitlist
    "guests": _guests,
    "set_language": _set_language,
    "pay": paying.pay,
    "company_po": _company_po,
    **appointment.ACTIONS,
    **series.ACTIONS,
    **package.ACTIONS,
    **moving.ACTIONS,
    **zones.ACTIONS,
    **rating.ACTIONS,  # issue 17, feedback
}
PLAIN_ACTIONS: dict[str, Callable[[Context], Awaitable[Transition]]] = {
    "get_pass": passes.get_pass,
    "get_another_pass": passes.get_another_pass,
    "here": check_in.check_in_now,  # a booking or a pass reservation, whichever is open
    "noop": _stay,
    "stop": _stop,
    **privacy.PLAIN_ACTIONS,
    "accept_offer": waiting.accept_offer,
    "decline_offer": waiting.decline_offer,
    "leave_waitlist": places.leave,
    "confirm": booking.confirm,
    "join": waiting.join,
    "cancel_yes": my_booking.cancel_booking,
    "company": paying.company,
    "pay_back": paying.pay_back,
    "pay_pass": passes.pay_for_pass,
    **appointment.PLAIN_ACTIONS,
    **series.PLAIN_ACTIONS,
    **package.PLAIN_ACTIONS,
    **moving.PLAIN_ACTIONS,
    **zones.PLAIN_ACTIONS,
    **talk.PLAIN_ACTIONS,
    **rating.PLAIN_ACTIONS,  # issue 17, feedback
    **attendee.PLAIN_ACTIONS,
}
