"""The dispatcher: one `Inbound` in, `Reply`s out, one update at a time per person.

Each update: take the person's lease, load their dialogue, work out which stored option
they chose (a button token, a number, the option's words), run the step, store the new
state and the options now offered, and reply. Tokens carry the step number they were
offered at, so a stale or replayed button (a double tap) points at nothing and gets a
polite "that option has expired" instead of booking twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bookbot.conversations import account_steps as account
from bookbot.conversations import answers, policy_text, store
from bookbot.conversations import appointment_steps as appointment
from bookbot.conversations import attendee_steps as attendee
from bookbot.conversations import booking_steps as booking
from bookbot.conversations import check_in_steps as check_in
from bookbot.conversations import class_dates as dates
from bookbot.conversations import feedback_steps as rating
from bookbot.conversations import funnel_tracking as funnel
from bookbot.conversations import handoff_steps as talk
from bookbot.conversations import linking_steps as link
from bookbot.conversations import package_steps as package
from bookbot.conversations import pass_steps as passes
from bookbot.conversations import payment_steps as paying
from bookbot.conversations import privacy_steps as privacy
from bookbot.conversations import recurring_steps as series
from bookbot.conversations import request_steps as requests
from bookbot.conversations import reschedule_steps as moving
from bookbot.conversations import reserve_steps as reserving
from bookbot.conversations import staff_steps as staff
from bookbot.conversations import timezone_steps as zones
from bookbot.conversations import waitlist_places_steps as places
from bookbot.conversations import waitlist_steps as waiting
from bookbot.conversations.keywords import command, keyword
from bookbot.conversations.matching import (
    Ambiguous,
    clean_name,
    fold,
    numbers,
    option_number,
    pick,
    whole_number,
)
from bookbot.conversations.model import TEXTING, Channel, Inbound, Option, Reply
from bookbot.conversations.outbound import ReplyTo, queue_replies
from bookbot.conversations.states import (
    Choice,
    Context,
    PaymentSetup,
    Screen,
    State,
    TextSender,
    Transition,
)
from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import negotiate, render_error, translator
from bookbot.services import appointments, holds, inbox, staff_access
from bookbot.services import studio_channels as endpoints
from bookbot.services.common import Studio, default_studio, studio_by_slug
from bookbot.services.customers import customer_for, set_preferred_channel
from bookbot.store.db import Database

IDLE = timedelta(minutes=30)
# Screens that keep the summary's seats held: leaving them for any other lets the seats go
# (the payment screen lets them go only when its link is called off). The appointment
# summary holds its slot the same way (`appointments.release_holds`).
APPOINTMENT_HOLDING = frozenset({State.APPOINTMENT_CONFIRM})
HOLDING = (
    frozenset({State.CONFIRM, State.COMPANY_NAME, State.COMPANY_EMAIL, State.COMPANY_PO})
    | {State.ATTENDEE_DETAILS}  # issue 17: the details asked before the summary
    | APPOINTMENT_HOLDING
)
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
    State.BOOKING: account.booking_screen,
    State.CANCEL_CONFIRM: account.cancel_confirm_screen,
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


@dataclass
class Dialogues:
    """The entry point every channel calls."""

    db: Database
    clock: Clock
    default_studio: str | None = None
    sms: TextSender | None = None  # texts one-time codes; phone linking is offered only with it
    payments: PaymentSetup | None = None  # online payment; without it all is paid at the studio

    def __post_init__(self) -> None:
        self._serializer = store.Serializer(self.db, self.clock)

    async def handle(
        self,
        inbound: Inbound,
        *,
        studio_slug: str | None = None,
        reply_to: ReplyTo | None = None,
    ) -> list[Reply]:
        """Run one update; `studio_slug` (a deep-link parameter) picks or switches studio.

        With `reply_to` (an inbox row), the replies are queued in the outbox and the row is
        marked done in the transaction that saves the dialogue's new state: all or nothing.
        Raises `store.LeaseLost`, having saved nothing, if this turn outlived its lease and
        another worker took the dialogue over.
        """
        held = self._serializer.hold(inbound.channel.value, inbound.address, inbound.endpoint)
        async with held as lease:
            ctx, replies, changed = await self._handle(inbound, studio_slug, lease)
            if reply_to is None:
                if changed:
                    await store.save(self.db, lease, ctx.conversation, ctx.now)
                return replies  # unchanged (a stale button in the shell): the hold releases
            async with self.db.transaction() as tx:
                if changed:
                    await store.save_in(tx, lease, ctx.conversation, ctx.now)
                else:
                    await store.release_in(tx, lease)
                await queue_replies(
                    tx,
                    ctx.now,
                    studio_id=ctx.studio.id,
                    customer_id=ctx.customer.id,
                    reply_to=reply_to,
                    replies=[r for r in replies if not r.toast],
                    edit_ref=inbound.message_ref,
                    dialogue=inbound.address,
                )
                await inbox.finish(tx, reply_to.item, ctx.now)
                if ctx.turn.get(privacy.FORGOTTEN):  # nothing kept of their messages
                    await inbox.erase(tx, reply_to.item)
            lease.held = False  # the commit saved the dialogue and let the lease go
            return replies

    async def push(
        self, channel: Channel, address: str, template: str, notice: str, *, endpoint: str = ""
    ) -> list[Reply]:
        """The bot speaks first (a reminder, an offer): the notice, with one-tap actions
        stored as the person's current options, so the buttons work like any others.
        `endpoint`: which of our bots speaks (the studio's own, else the default)."""
        inbound = Inbound(channel, address, endpoint=endpoint)
        async with self._serializer.hold(channel.value, address, endpoint) as lease:
            ctx = await self._context(inbound, None, lease)
            ctx.data.clear()
            ctx.data["notice"] = template
            replies = await self._enter(ctx, Transition(State.NOTICE, notice), edit=False)
            await store.save(self.db, lease, ctx.conversation, ctx.now)
        return replies

    async def apologise(self, reply_to: ReplyTo, dialogue_address: str) -> None:
        """A message we gave up on (it kept failing): say so, in the person's language,
        rather than stay silent. Nothing is said to someone we never talked to."""
        conversation = await store.find(
            self.db, reply_to.channel.value, dialogue_address, reply_to.endpoint
        )
        if conversation is None or conversation.customer_id is None:
            return
        text = translator(conversation.language)._("Sorry, something went wrong. Please try again.")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await queue_replies(
                tx,
                now,
                studio_id=conversation.studio_id,
                customer_id=conversation.customer_id,
                reply_to=reply_to,
                replies=[Reply(text)],
                edit_ref=None,
                dialogue=dialogue_address,
            )

    async def note_message(self, inbound: Inbound, message_ref: str) -> None:
        """Remember the message now carrying the person's options (Telegram edits it)."""
        await store.note_message(
            self.db, inbound.channel.value, inbound.address, message_ref, inbound.endpoint
        )

    async def _studio(self, inbound: Inbound, slug: str | None, current: Studio | None) -> Studio:
        """The studio a deep link names, else this deployment's default (configured, else
        its only studio, else the first loaded: `services.common.default_studio`). On a
        studio's own bot or number it is always that studio (a link elsewhere is ignored);
        the default one reaches only studios without their own (`services.studio_channels`)."""
        channel = inbound.channel.value
        if inbound.endpoint:
            if current is not None:
                return current
            return await endpoints.studio_of(self.db, channel, inbound.endpoint)
        own = await endpoints.studios_with_own(self.db, channel)
        if slug:
            linked = await studio_by_slug(self.db, slug)
            if linked.id not in own:
                return linked
            if current is not None:  # that studio answers on its own bot: stay here
                return current
        chosen = (await default_studio(self.db, self.default_studio)).studio
        if chosen.id in own:
            return await endpoints.first_without_own(self.db, channel) or chosen
        return chosen

    async def _context(self, inbound: Inbound, slug: str | None, lease: store.Lease) -> Context:
        """The turn's context from what claiming the lease read; more reads only for a first
        contact, a deep link into another studio, or a customer new to the studio."""
        now = self.clock.now()
        channel = inbound.channel.value
        conversation, studio = lease.conversation, lease.studio
        if conversation is None or studio is None or slug:
            studio = await self._studio(inbound, slug, studio)
        if conversation is None:
            hint = inbound.language_hint
            conversation = await store.create(
                self.db,
                lease,
                now,
                store.NewDialogue(
                    channel,
                    inbound.address,
                    studio=studio,
                    language=negotiate(hint) if hint else studio.default_language,
                    state=State.MENU.value,
                    endpoint=inbound.endpoint,
                ),
            )
            if not conversation.created and not slug and lease.studio is not None:
                studio = lease.studio  # another worker's first contact, claimed from them
        customer, staff_id = lease.customer, lease.staff_id
        if lease.studio is None or lease.studio.id != studio.id:
            # A deep link into another studio: who they are here is still to find.
            customer = None
            staff_id = await staff_access.staff_for(self.db, studio.id, channel, inbound.address)
        if conversation.studio_id != studio.id:  # a deep link into another studio
            conversation.studio_id, conversation.customer_id = studio.id, None
            conversation.state, conversation.data = State.MENU.value, {}
        if customer is None:  # first contact, or new to this studio
            customer = await customer_for(
                self.db,
                self.clock,
                studio.id,
                channel,
                inbound.address,
                name=clean_name(inbound.display_name),
                # By SMS and WhatsApp the address is the phone number.
                phone=inbound.phone or (inbound.address if channel in TEXTING else None),
                language=conversation.language,
            )
        conversation.customer_id = customer.id
        if customer.preferred_channel != channel:
            await set_preferred_channel(self.db, studio.id, customer.id, channel)
        if staff_id is None and conversation.state.startswith("staff_"):
            # A staff screen: make sure with the lookup that also reads older phone spellings.
            staff_id = await staff_access.staff_for(self.db, studio.id, channel, inbound.address)
        language = customer.language or conversation.language
        conversation.language = language
        return Context(
            self.db,
            self.clock,
            now,
            translator(language),
            studio,
            customer,
            conversation,
            self.sms,
            staff_id,
            self.payments,
        )

    async def _handle(
        self, inbound: Inbound, slug: str | None, lease: store.Lease
    ) -> tuple[Context, list[Reply], bool]:
        """The replies, and whether the dialogue changed (and must be saved)."""
        ctx = await self._context(inbound, slug, lease)
        funnel.remember(ctx)  # what the dialogue is about, before the step may clear it
        conversation = ctx.conversation
        edit = _edits_pressed(inbound, conversation)  # before the step moves the state on
        if inbound.token is not None and _someone_elses(inbound, conversation):
            # A press on another person's message in a shared chat: not theirs to touch.
            return (
                ctx,
                [Reply("", notice=ctx.t._("That button is not for you."), toast=True)],
                False,
            )
        if (handoff := await talk.open_for_dialogue(ctx)) is not None:
            # Talking to a person (/human): what they write goes to the staff chat, not here.
            relayed = await talk.relay(ctx, handoff, inbound)
            if relayed.transition is not None:
                return ctx, await self._enter(ctx, relayed.transition, edit=edit), True
            return ctx, relayed.replies, relayed.changed
        # A notice's one-tap actions (check in, accept an offer held for hours) stay good
        # however long it waited: they expire by their own rules, not by the chat's silence.
        idle = ctx.now - conversation.updated_at > IDLE and conversation.state not in (
            State.MENU,
            State.NOTICE,
        )
        first_ask = command(inbound) or keyword(inbound.text or "")
        if first_ask is None and (conversation.created or idle) and inbound.token is None:
            # A first message, or one after a pause, that asks to book ("book wheel taster
            # for 2 on saturday"): greet or reset, then do it (request_steps).
            asked = await requests.asks_to_book(ctx, inbound.text or "")
            first_ask = "request" if asked else None
        if conversation.created and first_ask not in (None, "menu") and inbound.token is None:
            # A first message that asks for something (/today, HELP…): greet, then do it.
            done = await self._step(ctx, inbound)
            notice = "\n\n".join(filter(None, [account.welcome(ctx), done.notice]))
            transition = Transition(done.state, notice, done.attachment)
        elif conversation.created or slug is not None or command(inbound) == "menu":
            transition = Transition(State.MENU, account.welcome(ctx))
            conversation.data = {}
        elif idle and first_ask is not None and inbound.token is None:
            # A keyword (HERE, MY, HELP…) or a command (/my, /book…) means the same after a
            # pause: reset, then do it.
            conversation.data, conversation.state = {}, State.MENU.value
            transition = await self._step(ctx, inbound)
        elif idle:
            conversation.data = {}
            transition = Transition(
                State.MENU,
                ctx.t._(
                    "Our chat went quiet for a while, so I closed it; nothing was booked. "
                    "Here is the menu."
                ),
            )
        elif inbound.token is not None and self._resolve(ctx, inbound) is None:
            # A stale, replayed or forged button: a toast (no new message), nothing changed.
            expired = ctx.t._("That option has expired. Please use the latest message.")
            return ctx, [Reply("", notice=expired, toast=True)], False
        else:
            transition = await self._step(ctx, inbound)
        replies = await self._enter(ctx, transition, edit=edit)
        return ctx, replies, True

    async def _step(self, ctx: Context, inbound: Inbound) -> Transition:
        state = State(ctx.conversation.state)
        asked = command(inbound)
        if asked:
            return await self._choose(ctx, Choice(asked, ""))
        typed = (inbound.text or "").strip()
        said = keyword(typed) if inbound.token is None else None
        if said is not None:
            return await self._choose(ctx, said)
        if state is State.GUESTS and inbound.token is None:
            party = _party(ctx, typed)  # a bare option number is that option (same value)
            if party is not None:
                return await booking.choose_guests(ctx, party)
        choice = self._resolve(ctx, inbound)
        if isinstance(choice, Ambiguous):
            return Transition(state, _did_you_mean(ctx, choice))
        if choice is not None:
            return await requests.go_on(ctx, await self._choose(ctx, choice))
        if state in TYPED and typed:
            return await TYPED[state](ctx, typed)
        if state is State.CLASS and (picked := numbers(typed, len(ctx.conversation.options))):
            return await self._toggle_many(ctx, picked)
        return await _understood_otherwise(ctx, state, typed)

    def _resolve(self, ctx: Context, inbound: Inbound) -> Choice | Ambiguous | None:
        """The stored option a token or typed text points at (a yes or no at a screen whose
        options say which is which), an `Ambiguous` for words naming several, or None."""
        stored = [Choice.from_stored(raw) for raw in ctx.conversation.options]
        if inbound.token is not None:
            step, _, index = inbound.token.partition(":")
            position = whole_number(index, len(stored))  # len(stored) itself is past the end
            fresh = step == str(ctx.conversation.step)
            known = ctx.conversation.message_ref
            on_current = (
                inbound.message_ref is None or known is None or inbound.message_ref == known
            )
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

    async def _toggle_many(self, ctx: Context, picked: list[int]) -> Transition:
        stored = [Choice.from_stored(raw) for raw in ctx.conversation.options]
        for index in picked:
            if stored[index].action == "toggle":
                await dates.choose_on_class(ctx, stored[index])
        return Transition(State.CLASS)

    async def _choose(self, ctx: Context, choice: Choice) -> Transition:
        data, action = ctx.data, choice.action
        if action.startswith("staff_"):
            return await self._staff(ctx, choice)
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
        if action in _PLAIN_ACTIONS:
            return await _PLAIN_ACTIONS[action](ctx)
        return await _ACTIONS[action](ctx, choice)

    async def _staff(self, ctx: Context, choice: Choice) -> Transition:
        """Staff tools: for staff of this studio only; every attempt is recorded."""
        conversation = ctx.conversation
        if ctx.staff_id is None:  # claiming compared phones as stored: also try older spellings
            ctx.staff_id = await staff_access.staff_for(
                self.db, ctx.studio.id, conversation.channel, conversation.address
            )
        allowed = ctx.staff_id is not None
        use = staff_access.StaffUse(
            ctx.studio.id, conversation.channel, conversation.address, choice.action, allowed
        )
        await staff_access.audit(self.db, ctx.now, use)
        if not allowed:
            return Transition(State.MENU, render_error(errors.NotAllowed(), ctx.t, ctx.zone))
        return await staff.choose(ctx, choice)

    async def _enter(self, ctx: Context, transition: Transition, *, edit: bool) -> list[Reply]:
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


def _edits_pressed(inbound: Inbound, conversation: store.Conversation) -> bool:
    """Whether the answer to a press replaces the pressed message (Telegram edits it).

    Only a dialogue screen is replaced. A notice the bot sent first (a receipt, a reminder,
    an offer) is a record the customer keeps, so a press on its buttons answers with a new
    message, which then carries the dialogue. A notice is the dialogue's current screen
    until it is answered (state NOTICE): a press on it is that press, and a press on an
    older message is stale and changes nothing (`_resolve` checks the message)."""
    return inbound.token is not None and conversation.state != State.NOTICE.value


def _someone_elses(inbound: Inbound, conversation: store.Conversation) -> bool:
    """A button on a message in a shared chat (a group) that is not the one carrying this
    person's options: it belongs to someone else's dialogue (or to nobody's now)."""
    return inbound.shared_chat and inbound.message_ref != conversation.message_ref


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
_ACTIONS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "reserve_session": _reserve_session,
    "reserve_part": _reserve_part,
    "check_in": _check_in,
    "check_in_booking": check_in.on_booking_check_in,
    "by_reference": account.open_reference,
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
_PLAIN_ACTIONS: dict[str, Callable[[Context], Awaitable[Transition]]] = {
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
    "cancel_yes": account.cancel_booking,
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
