"""The dispatcher: one `Inbound` in, `Reply`s out, one update at a time per person.

Each update: take the person's lease, load their dialogue, work out which stored option
they chose (a button token, a number, the option's words), run the step, store the new
state and the options now offered, and reply. Tokens carry the step number they were
offered at, so a stale or replayed button (a double tap) points at nothing and gets a
polite "that option has expired" instead of booking twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bookbot.conversations import account_steps as account
from bookbot.conversations import choosing, store
from bookbot.conversations import funnel_tracking as funnel
from bookbot.conversations import handoff_steps as talk
from bookbot.conversations import privacy_steps as privacy
from bookbot.conversations import request_steps as requests
from bookbot.conversations.dialogue_context import turn_context
from bookbot.conversations.entering import enter
from bookbot.conversations.keywords import command, keyword
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.conversations.outbound import ReplyTo, queue_replies
from bookbot.conversations.states import Context, PaymentSetup, State, TextSender, Transition
from bookbot.engine.clock import Clock
from bookbot.presentation.i18n import translator
from bookbot.services import inbox
from bookbot.store.db import Database

IDLE = timedelta(minutes=30)


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
            ctx = await turn_context(self, inbound, None, lease)
            ctx.data.clear()
            ctx.data["notice"] = template
            replies = await enter(ctx, Transition(State.NOTICE, notice), edit=False)
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

    async def _handle(
        self, inbound: Inbound, slug: str | None, lease: store.Lease
    ) -> tuple[Context, list[Reply], bool]:
        """The replies, and whether the dialogue changed (and must be saved)."""
        ctx = await turn_context(self, inbound, slug, lease)
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
                return ctx, await enter(ctx, relayed.transition, edit=edit), True
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
            done = await choosing.step(ctx, inbound)
            notice = "\n\n".join(filter(None, [account.welcome(ctx), done.notice]))
            transition = Transition(done.state, notice, done.attachment)
        elif conversation.created or slug is not None or command(inbound) == "menu":
            transition = Transition(State.MENU, account.welcome(ctx))
            conversation.data = {}
        elif idle and first_ask is not None and inbound.token is None:
            # A keyword (HERE, MY, HELP…) or a command (/my, /book…) means the same after a
            # pause: reset, then do it.
            conversation.data, conversation.state = {}, State.MENU.value
            transition = await choosing.step(ctx, inbound)
        elif idle:
            conversation.data = {}
            transition = Transition(
                State.MENU,
                ctx.t._(
                    "Our chat went quiet for a while, so I closed it; nothing was booked. "
                    "Here is the menu."
                ),
            )
        elif inbound.token is not None and choosing.resolve(ctx, inbound) is None:
            # A stale, replayed or forged button: a toast (no new message), nothing changed.
            expired = ctx.t._("That option has expired. Please use the latest message.")
            return ctx, [Reply("", notice=expired, toast=True)], False
        else:
            transition = await choosing.step(ctx, inbound)
        replies = await enter(ctx, transition, edit=edit)
        return ctx, replies, True


def _edits_pressed(inbound: Inbound, conversation: store.Conversation) -> bool:
    """Whether the answer to a press replaces the pressed message (Telegram edits it).

    Only a dialogue screen is replaced. A notice the bot sent first (a receipt, a reminder,
    an offer) is a record the customer keeps, so a press on its buttons answers with a new
    message, which then carries the dialogue. A notice is the dialogue's current screen
    until it is answered (state NOTICE): a press on it is that press, and a press on an
    older message is stale and changes nothing (`choosing.resolve` checks the message)."""
    return inbound.token is not None and conversation.state != State.NOTICE.value


def _someone_elses(inbound: Inbound, conversation: store.Conversation) -> bool:
    """A button on a message in a shared chat (a group) that is not the one carrying this
    person's options: it belongs to someone else's dialogue (or to nobody's now)."""
    return inbound.shared_chat and inbound.message_ref != conversation.message_ref
