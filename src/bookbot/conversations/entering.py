"""Entering a state: let go of what the screen left behind held (seats, a slot, a payment
link), keep the way back, render the state's screen and store the options it offers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bookbot.conversations import account_steps as account
from bookbot.conversations import appointment_steps as appointment
from bookbot.conversations import attendee_steps as attendee
from bookbot.conversations import booking_steps as booking
from bookbot.conversations import class_dates as dates
from bookbot.conversations import feedback_steps as rating
from bookbot.conversations import funnel_tracking as funnel
from bookbot.conversations import handoff_steps as talk
from bookbot.conversations import linking_steps as link
from bookbot.conversations import my_booking_steps as my_booking
from bookbot.conversations import package_steps as package
from bookbot.conversations import pass_steps as passes
from bookbot.conversations import payment_steps as paying
from bookbot.conversations import privacy_steps as privacy
from bookbot.conversations import recurring_steps as series
from bookbot.conversations import reschedule_steps as moving
from bookbot.conversations import reserve_steps as reserving
from bookbot.conversations import staff_steps as staff
from bookbot.conversations import timezone_steps as zones
from bookbot.conversations import waitlist_places_steps as places
from bookbot.conversations import waitlist_steps as waiting
from bookbot.conversations.model import Option, Reply
from bookbot.conversations.states import Context, Screen, State, Transition
from bookbot.services import appointments, holds

# Screens that keep the summary's seats held: leaving them for any other lets the seats go
# (the payment screen lets them go only when its link is called off). The appointment
# summary holds its slot the same way (`appointments.release_holds`).
APPOINTMENT_HOLDING = frozenset({State.APPOINTMENT_CONFIRM})
HOLDING = (
    frozenset({State.CONFIRM, State.COMPANY_NAME, State.COMPANY_EMAIL, State.COMPANY_PO})
    | {State.ATTENDEE_DETAILS}  # issue 17: the details asked before the summary
    | APPOINTMENT_HOLDING
)
# What each state shows.
SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.MENU: account.menu_screen,
    State.CLASSES: dates.classes_screen,
    State.CLASS: dates.class_screen,
    State.GUESTS: booking.guests_screen,
    State.CONFIRM: booking.confirm_screen,
    State.WAITLIST: waiting.waitlist_screen,
    State.WAITLIST_PLACE: places.place_screen,
    State.BOOKINGS: account.bookings_screen,
    State.PAST_BOOKINGS: account.past_bookings_screen,
    State.BOOKING: my_booking.booking_screen,
    State.CANCEL_CONFIRM: my_booking.cancel_confirm_screen,
    State.LANGUAGE: account.language_screen,
    State.HELP: account.help_screen,
    State.LINK_PHONE: link.phone_screen,
    State.LINK_CODE: link.code_screen,
    State.PASSES: passes.passes_screen,
    State.PAST_PASSES: passes.past_passes_screen,
    State.TICKET: passes.ticket_screen,
    State.RESERVE: reserving.reserve_screen,
    State.RESERVE_PART: reserving.part_screen,
    State.OFFER: passes.offer_screen,
    **package.SCREENS,
    State.NOTICE: account.notice_screen,
    State.PAY: paying.pay_screen,
    State.COMPANY_NAME: paying.company_name_screen,
    State.COMPANY_EMAIL: paying.company_email_screen,
    State.COMPANY_PO: paying.company_po_screen,
    **appointment.SCREENS,
    **series.SCREENS,
    **moving.SCREENS,
    **zones.SCREENS,
    **staff.SCREENS,
    **privacy.SCREENS,
    **talk.SCREENS,
    **rating.SCREENS,  # issue 17, feedback
    **attendee.SCREENS,
}


async def enter(ctx: Context, transition: Transition, *, edit: bool) -> list[Reply]:
    """Move to the transition's state and render it, with any notice before it."""
    conversation = ctx.conversation
    previous = conversation.state
    if (
        previous in APPOINTMENT_HOLDING
        and transition.state not in APPOINTMENT_HOLDING
        and not transition.settled
    ):
        # Left the appointment summary: let the held slot go (after Confirm: nothing).
        await appointments.release_holds(ctx.db, ctx.studio.id, ctx.customer.id)
    elif (
        previous in HOLDING
        and transition.state not in HOLDING | {State.PAY}
        and not transition.settled
    ):
        # Left the summary (back, menu, another choice): let the held seats go now.
        await holds.release_customer_holds(ctx.db, ctx.clock, ctx.studio.id, ctx.customer.id)
    if previous == State.PAY.value and transition.state is not State.PAY:
        # Left the payment link: call it off, so nobody pays for seats let go.
        await paying.call_off_links(ctx)
    if transition.state is State.MENU:
        ctx.data.pop("history", None)
    elif previous not in (transition.state.value, State.NOTICE.value) and not transition.back:
        # Not from a notice either: it is no screen to go back to (shown again it would
        # be empty, and its state would mark the dialogue's own message as a notice).
        ctx.data.setdefault("history", []).append(previous)
    funnel.observe(ctx, previous, transition)  # booking-funnel events, saved with the state
    conversation.state = transition.state.value
    screen = await SCREENS[transition.state](ctx)
    conversation.step += 1
    conversation.options = [c.stored() for c in screen.choices]
    options = tuple(Option("", link.label, link.url) for link in screen.links) + tuple(
        Option(f"{conversation.step}:{i}", c.label) for i, c in enumerate(screen.choices)
    )
    text = "\n\n".join(filter(None, [transition.notice, screen.text]))
    replies = []
    if transition.attachment is not None:
        replies.append(Reply(transition.notice or "", attachment=transition.attachment))
        text = screen.text
    replies.append(
        Reply(
            text,
            options,
            edit=edit and transition.attachment is None,
            preformatted=screen.preformatted,
        )
    )
    return replies
