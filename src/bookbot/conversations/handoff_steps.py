"""Talking to a person (/human, HUMAN, AGENTE): the customer's side of a handoff.

/human opens a handoff and tells the studio's staff chat who is asking, on which channel,
what they were doing and what they last wrote. From then on the dialogue is in
State.HANDOFF, and what the customer writes is forwarded there instead of run through the
bot (the check costs nothing for everyone else: it is the state the lease already read).
/bot (BOT, "volver al bot", the button) ends it; so do staff (/done, see handoff_staff) and
silence (`end_quiet`), which tell the customer themselves and leave the state to be put
right at the customer's next message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bookbot.conversations.keywords import command, keyword
from bookbot.conversations.matching import fold
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.presentation.i18n import Translator, translator
from bookbot.services import handoff, staff_activity
from bookbot.services.handoff import Handoff
from bookbot.services.studio_channels import inbox_chat

RECENT = 5  # the customer's last messages shown to staff when the handoff opens
LONGEST = 3500  # characters of a message forwarded (Telegram takes 4096 with our prefix)
# What asks for the bot back while a person is on the line ("/bot" is the command).
BOT_WORDS = frozenset({"bot", "volver al bot", "back to bot", "back to the bot", "el bot"})
# Commands that end it too: any other command is answered with how to get back to the bot.
ENDING_COMMANDS = frozenset({"/bot", "/start", "/menu"})
CHANNEL_NAMES = {"telegram": "Telegram", "sms": "SMS", "whatsapp": "WhatsApp"}


@dataclass(frozen=True)
class Relayed:
    """What a message during a handoff came to: a transition to show (back to the bot), or
    replies as they are (none: forwarded; a toast: a stale button), and whether the
    dialogue changed."""

    transition: Transition | None = None
    replies: list[Reply] = field(default_factory=list)
    changed: bool = True


async def open_for_dialogue(ctx: Context) -> Handoff | None:
    """The customer's open handoff when their dialogue is in one; else None, without a query.
    A dialogue still in State.HANDOFF whose handoff ended meanwhile (staff, silence) is put
    back at the menu, and the message goes to the bot."""
    conversation = ctx.conversation
    if conversation.state != State.HANDOFF.value:
        return None
    found = await handoff.open_for(ctx.db, ctx.studio.id, ctx.customer.id)
    if found is None:
        conversation.state, conversation.data = State.MENU.value, {}
    return found


def _command(text: str) -> str | None:
    """ "/bot" for "/bot", "/bot@our_bot" or "/BOT now"; None: not a command."""
    return text.split()[0].split("@")[0].lower() if text.startswith("/") else None


def wants_bot(inbound: Inbound) -> bool:
    """/bot (or /start, /menu: commands are for the bot), BOT, "volver al bot"…"""
    text = (inbound.text or "").strip()
    if (asked := _command(text)) is not None:
        return asked in ENDING_COMMANDS
    return fold(text) in BOT_WORDS


async def relay(ctx: Context, open_handoff: Handoff, inbound: Inbound) -> Relayed:
    """A message while a person is on the line: /bot ends it, anything else is forwarded."""
    _ = ctx.t._
    if inbound.token is not None:
        if _pressed_back(ctx, inbound.token):
            return Relayed(await _back(ctx, open_handoff))
        notice = _("You are talking to a person. Send /bot to go back to the bot.")
        return Relayed(replies=[Reply("", notice=notice, toast=True)], changed=False)
    if wants_bot(inbound):
        return Relayed(await _back(ctx, open_handoff))
    text = (inbound.text or "").strip()
    if not text:
        return Relayed(changed=False)
    if _command(text) is not None:  # /book, /human…: for the bot, not for staff
        hint = _("You are talking to a person now. Send /bot to go back to the bot first.")
        return Relayed(replies=[Reply(hint)], changed=False)
    # A count kept with the dialogue keys each forward: a turn run again (after a crash, a
    # lost lease) forwards its message once.
    said = int(ctx.data.get("handoff_said", 0)) + 1
    ctx.data["handoff_said"] = said
    chat = await handoff.staff_chat_of(ctx.db, ctx.studio.id)
    staff = translator(ctx.studio.default_language)
    line = staff._("💬 {name}: {text}").format(name=_name(ctx, staff), text=text[:LONGEST])
    async with ctx.db.transaction() as tx:
        if chat is not None:
            key = f"handoff:{open_handoff.id}:in:{said}"
            await handoff.forward(tx, ctx.now, open_handoff, staff_chat=chat, text=line, key=key)
        await handoff.touch(tx, ctx.now, open_handoff)
    return Relayed()


def _pressed_back(ctx: Context, token: str) -> bool:
    """A fresh press of the handoff screen's "Back to the bot" button."""
    step, _, index = token.partition(":")
    options = ctx.conversation.options
    if step != str(ctx.conversation.step) or not index.isdigit() or int(index) >= len(options):
        return False
    return bool(Choice.from_stored(options[int(index)]).action == "end_handoff")


async def _back(ctx: Context, open_handoff: Handoff) -> Transition:
    """The customer asked for the bot again: end the handoff, tell the staff chat."""
    chat = await handoff.staff_chat_of(ctx.db, ctx.studio.id)
    staff = translator(ctx.studio.default_language)
    async with ctx.db.transaction() as tx:
        if await handoff.end(tx, ctx.now, open_handoff, "customer") and chat is not None:
            text = staff._("{name} went back to the bot; the chat has ended.").format(
                name=_name(ctx, staff)
            )
            key = f"handoff:{open_handoff.id}:end"
            await handoff.tell_chat(
                tx, ctx.now, studio_id=ctx.studio.id, chat=chat, text=text, key=key
            )
    ctx.data.clear()
    return Transition(State.MENU, ctx.t._("You are back with the bot."))


async def start(ctx: Context) -> Transition:
    """/human: open a handoff and tell the staff chat; or, with no staff chat, say how else."""
    _ = ctx.t._
    chat = await handoff.staff_chat_of(ctx.db, ctx.studio.id)
    if chat is None:
        text = _("Sorry, {studio} cannot chat with you here. Please contact them directly.")
        if ctx.studio.address:
            text += "\n" + _("You can find them at {address}.").format(address=ctx.studio.address)
        return Transition(State.MENU, text.format(studio=ctx.studio.name))
    was = await _doing(ctx)
    c = ctx.conversation
    recent = await handoff.recent_texts(
        ctx.db, inbox_chat(c.channel, c.endpoint, c.address), RECENT
    )
    who = handoff.Who(
        ctx.studio.id, ctx.customer.id, ctx.conversation.channel, ctx.conversation.address
    )
    async with ctx.db.transaction() as tx:
        opened, new = await handoff.start(tx, ctx.now, who)
        if new:
            text = _intro(ctx, was, recent)
            key = f"handoff:{opened.id}:open"
            await handoff.forward(tx, ctx.now, opened, staff_chat=chat, text=text, key=key)
            await staff_activity.record(
                tx,
                ctx.now,
                studio_id=ctx.studio.id,
                kind="handoff",
                params={"customer_id": ctx.customer.id, "channel": ctx.conversation.channel},
            )
    ctx.data.clear()
    return Transition(State.HANDOFF)


def _name(ctx: Context, staff: Translator) -> str:
    return ctx.customer.name or ctx.customer.phone or staff._("A customer")


async def _doing(ctx: Context) -> str:
    """What the customer was doing: the step ("guests"), and the class it was about."""
    step = ctx.conversation.state.replace("_", " ")
    class_id = ctx.data.get("class_id")
    if not isinstance(class_id, int):
        return step
    name = await ctx.db.scalar(
        "SELECT name FROM classes WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": ctx.studio.id, "id": class_id},
    )
    return step if name is None else f"{step} ({name})"


def _intro(ctx: Context, was: str, recent: list[str]) -> str:
    """What staff are told when the handoff opens, in the studio's language."""
    staff = translator(ctx.studio.default_language)
    _ = staff._
    channel = CHANNEL_NAMES.get(ctx.conversation.channel, _("the terminal"))
    phone = ctx.customer.phone or (ctx.conversation.address if ctx.texting else None)
    if phone:
        channel = f"{channel}, {phone}"
    lines = [
        _("🙋 {name} asks to talk to a person ({channel}).").format(
            name=_name(ctx, staff), channel=channel
        ),
        _("They were at: {step}").format(step=was),
    ]
    earlier = [t for t in recent if not wants_human(t)]
    if earlier:
        lines.append(_("Their last messages:"))
        lines.extend(f"› {text[:300]}" for text in earlier)
    lines.append(_("Reply to their messages here to answer them; reply /done to end the chat."))
    return "\n".join(lines)


def wants_human(text: str) -> bool:
    """The ask itself (/human, HUMAN…), left out of the context shown to staff."""
    said = keyword(text)
    return (said is not None and said.action == "human") or command(
        Inbound(Channel.CONSOLE, "", text=text)
    ) == "human"


async def handoff_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    studio = ctx.studio.name
    if ctx.conversation.channel == "telegram":
        text = _(
            "You are talking to a person at {studio} now: write here and they will answer "
            "here. To go back to the bot, send /bot."
        )
        back = [Choice("end_handoff", _("🤖 Back to the bot"))]
    else:
        text = _(
            "You are talking to a person at {studio} now: write here and they will answer "
            "here. To go back to the bot, send BOT."
        )
        back = []
    return Screen(text.format(studio=studio), back)


async def end_pressed(_ctx: Context) -> Transition:
    """The "Back to the bot" button after the handoff already ended: just the menu."""
    return Transition(State.MENU)


PLAIN_ACTIONS: dict[str, Callable[[Context], Awaitable[Transition]]] = {
    "human": start,
    "end_handoff": end_pressed,
}
SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {State.HANDOFF: handoff_screen}
