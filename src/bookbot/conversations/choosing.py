"""Which option a message or a press chose, and the step it runs: a command or keyword,
a party size, a stored option (by its button, number or words), words a screen asks for,
else whatever the text can still mean (a date, a one-line request, a greeting)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bookbot.conversations import account_steps as account
from bookbot.conversations import answers, policy_text
from bookbot.conversations import appointment_steps as appointment
from bookbot.conversations import attendee_steps as attendee
from bookbot.conversations import booking_steps as booking
from bookbot.conversations import class_dates as dates
from bookbot.conversations import feedback_steps as rating
from bookbot.conversations import linking_steps as link
from bookbot.conversations import payment_steps as paying
from bookbot.conversations import request_steps as requests
from bookbot.conversations import reschedule_steps as moving
from bookbot.conversations import reserve_steps as reserving
from bookbot.conversations import staff_steps as staff
from bookbot.conversations import timezone_steps as zones
from bookbot.conversations.choice_actions import ACTIONS, PLAIN_ACTIONS
from bookbot.conversations.keywords import command, command_word, keyword
from bookbot.conversations.matching import (
    Ambiguous,
    fold,
    numbers,
    option_number,
    pick,
    whole_number,
)
from bookbot.conversations.model import Inbound
from bookbot.conversations.states import Choice, Context, State, Transition
from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import render_error
from bookbot.services import staff_access

# What a person types where a screen asks for words rather than an option.
TYPED: dict[State, Callable[[Context, str], Awaitable[Transition]]] = {
    State.LINK_PHONE: link.on_phone,
    State.LINK_CODE: link.on_code,
    State.COMPANY_NAME: paying.on_company_name,
    State.COMPANY_EMAIL: paying.on_company_email,
    State.COMPANY_PO: paying.on_company_po,
    **appointment.TYPED,
    **reserving.TYPED,  # a date typed at the reservation list
    **moving.TYPED,
    **zones.TYPED,
    **staff.TYPED,
    **rating.TYPED,  # issue 17, feedback
    **attendee.TYPED,
}

# Choices that lead straight to a state, remembering a value on the way.
SIMPLE: dict[str, tuple[State, str | None]] = {
    "browse": (State.CLASSES, None),
    "mine": (State.BOOKINGS, None),
    "series": (State.SERIES, "series_id"),
    "series_pause_dates": (State.SERIES_PAUSE, None),
    "series_end_terms": (State.SERIES_END, None),
    # A page of a past list: the choice's value says which (pages.PageAsk.stored()).
    "past_bookings": (State.PAST_BOOKINGS, "page"),
    "past_passes": (State.PAST_PASSES, "page"),
    # A page of a list of dates: "Later dates ▸", "◂ Earlier" (conversations.paging).
    "dates_page": (State.CLASS, "page"),
    "reserve_page": (State.RESERVE, "page"),
    "passes_page": (State.PASSES, "page"),  # "My passes", PASS_PAGE at a time
    "language": (State.LANGUAGE, None),
    "help": (State.HELP, None),
    "class": (State.CLASS, "class_id"),
    "booking": (State.BOOKING, "registration_id"),
    "cancel_booking": (State.CANCEL_CONFIRM, None),
    "other_dates": (State.CLASS, None),
    "waitlist": (State.WAITLIST, None),
    "waitlist_place": (State.WAITLIST_PLACE, "waitlist_entry"),
    "link_phone": (State.LINK_PHONE, None),
    "passes": (State.PASSES, None),
    "ticket": (State.TICKET, "pass_id"),
    "reserve": (State.RESERVE, None),
    "offer": (State.OFFER, "offer"),
    "appointment": (State.APPOINTMENT, "appointment_id"),
    "appt_cancel": (State.APPOINTMENT_CANCEL, None),
    "class_reschedule": (State.CLASS_RESCHEDULE, None),
    "timezone": (State.TIMEZONE, None),
}


async def step(ctx: Context, inbound: Inbound) -> Transition:
    """The step a message or a press asks for, run: the transition it leads to."""
    state = State(ctx.conversation.state)
    asked = command(inbound)
    if asked:
        return await choose(ctx, Choice(asked, "", command_word(inbound)))
    typed = (inbound.text or "").strip()
    said = keyword(typed) if inbound.token is None else None
    if said is not None:
        return await choose(ctx, said)
    if state is State.GUESTS and inbound.token is None:
        party = _party(ctx, typed)  # a bare option number is that option (same value)
        if party is not None:
            return await booking.choose_guests(ctx, party)
    choice = resolve(ctx, inbound)
    if isinstance(choice, Ambiguous):
        return Transition(state, _did_you_mean(ctx, choice))
    if choice is not None:
        return await requests.go_on(ctx, await choose(ctx, choice))
    if state in TYPED and typed:
        return await TYPED[state](ctx, typed)
    if state is State.CLASS and (picked := numbers(typed, len(ctx.conversation.options))):
        return await _toggle_many(ctx, picked)
    return await _understood_otherwise(ctx, state, typed)


def resolve(ctx: Context, inbound: Inbound) -> Choice | Ambiguous | None:
    """The stored option a token or typed text points at (a yes or no at a screen whose
    options say which is which), an `Ambiguous` for words naming several, or None."""
    stored = [Choice.from_stored(raw) for raw in ctx.conversation.options]
    if inbound.token is not None:
        step, _, index = inbound.token.partition(":")
        position = whole_number(index, len(stored))  # len(stored) itself is past the end
        fresh = step == str(ctx.conversation.step)
        known = ctx.conversation.message_ref
        on_current = inbound.message_ref is None or known is None or inbound.message_ref == known
        if fresh and on_current and position is not None and position < len(stored):
            return stored[position]
        return None
    text = inbound.text or ""
    picked = pick(text, [c.label for c in stored], [c.aliases for c in stored])
    if isinstance(picked, Ambiguous):
        return picked
    if picked is not None:
        return stored[picked]
    return _yes_or_no(stored, answers.yes_no(text, ctx.t.language))


async def _toggle_many(ctx: Context, picked: list[int]) -> Transition:
    stored = [Choice.from_stored(raw) for raw in ctx.conversation.options]
    for index in picked:
        if stored[index].action == "toggle":
            await dates.choose_on_class(ctx, stored[index])
    return Transition(State.CLASS)


async def choose(ctx: Context, choice: Choice) -> Transition:
    data, action = ctx.data, choice.action
    if action.startswith("staff_"):
        return await _staff(ctx, choice)
    if action == "menu":
        data.clear()
        return Transition(State.MENU)
    if action == "back":
        history = data.get("history", [])
        return Transition(State(history.pop()) if history else State.MENU, back=True)
    if action in SIMPLE:
        state, key = SIMPLE[action]
        if key:
            data[key] = choice.value
        if action == "class":
            data.pop("selected", None)
        return Transition(state)
    if action in PLAIN_ACTIONS:
        return await PLAIN_ACTIONS[action](ctx)
    return await ACTIONS[action](ctx, choice)


async def _staff(ctx: Context, choice: Choice) -> Transition:
    """Staff tools: for staff of this studio only; every attempt is recorded."""
    conversation = ctx.conversation
    if ctx.staff_id is None:  # claiming compared phones as stored: also try older spellings
        ctx.staff_id = await staff_access.staff_for(
            ctx.db, ctx.studio.id, conversation.channel, conversation.address
        )
    allowed = ctx.staff_id is not None
    use = staff_access.StaffUse(
        ctx.studio.id, conversation.channel, conversation.address, choice.action, allowed
    )
    await staff_access.audit(ctx.db, ctx.now, use)
    if not allowed:
        return Transition(State.MENU, render_error(errors.NotAllowed(), ctx.t, ctx.zone))
    return await staff.choose(ctx, choice)


async def _understood_otherwise(ctx: Context, state: State, typed: str) -> Transition:
    """Text that names no option: a date at a class's dates (jump to it), a one-line
    request ("book wheel taster for 2 on saturday"), else "did not understand"."""
    today = ctx.now.astimezone(zone(ctx.zone)).date()
    day = answers.day(typed, ctx.t.language, today) if typed else None
    if state is State.CLASS and day is not None:
        return await dates.show_from(ctx, day)
    asked_for = await requests.start(ctx, typed) if typed else None
    if asked_for is not None:
        return await requests.go_on(ctx, asked_for)
    if answers.greeting(typed):  # "hello", "buenos días": greeted, on the same screen
        return Transition(state, account.welcome(ctx))
    if state is State.MENU and fold(typed) in ("back", "atras", "volver"):
        return Transition(State.MENU)  # nothing before the menu: the menu, no apology
    if state is State.BOOKING and (why := policy_text.cancel_refused(ctx, typed)):
        return Transition(state, why)  # "cancel" where no Cancel is offered: say why not
    return Transition(
        state, ctx.t._("Sorry, I did not understand that. Please choose one of these:")
    )


def _party(ctx: Context, typed: str) -> int | None:
    """A party size typed at the party-size step: a bare number that is no option's number
    ("51": too many, said so), or a number with a unit or in words ("8 people", "ocho")."""
    if option_number(typed, len(ctx.conversation.options)) is not None:
        return None  # an option's number: the option (the first ones are the sizes)
    bare = whole_number(typed, booking.MAX_GUESTS)
    return bare if bare is not None else answers.party_size(typed, ctx.t.language)


def _yes_or_no(stored: list[Choice], answer: bool | None) -> Choice | None:
    """A yes or no where one option answers yes (its aliases include "yes": Confirm, "Yes,
    cancel it", Join the waitlist…): yes is that option; no is the one with alias "no",
    else Back."""
    if answer is None:
        return None
    yes = [c for c in stored if "yes" in (fold(a) for a in c.aliases)]
    if len(yes) != 1:
        return None
    if answer:
        return yes[0]
    no = [c for c in stored if "no" in (fold(a) for a in c.aliases)]
    no = no or [c for c in stored if c.action == "back"]
    return no[0] if len(no) == 1 else None


def _did_you_mean(ctx: Context, ambiguous: Ambiguous) -> str:
    """ "Did you mean 1. … or 2. …?", numbered as the options are (they stay the same)."""
    stored = [Choice.from_stored(raw) for raw in ctx.conversation.options]
    named = [f"{i + 1}. {stored[i].label}" for i in ambiguous.indexes]
    listed = ctx.t._("{some} or {last}").format(some=", ".join(named[:-1]), last=named[-1])
    return ctx.t._("Did you mean {options}?").format(options=listed)
