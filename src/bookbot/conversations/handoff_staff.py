"""The staff chat's side of a handoff, and its end by silence.

A staff member answers a customer by replying (Telegram's reply) to one of the messages
forwarded from them; the answer is queued to the customer on the channel they wrote from.
Replying /done ends the chat. A reply to a message that is not a forward is none of ours:
the bot handles it as it would without handoffs. Each reply is handled once: its effects
and its inbox row's "done" commit together, keyed on the inbox row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine.clock import Clock
from bookbot.presentation.i18n import translator
from bookbot.services import handoff, inbox
from bookbot.services.handoff import Handoff
from bookbot.services.inbox import InboxItem
from bookbot.store.db import Database, Reads, Tx

SWEEP_BATCH = 100
# Characters of a staff answer passed on: with our prefix it stays within Telegram's 4096
# (SMS and WhatsApp split a long text themselves).
LONGEST = 3800


@dataclass(frozen=True)
class StaffMessage:
    """A message in a group chat: its chat, the message it replies to (if any), its text
    and who wrote it."""

    chat_id: int
    replied_to: int | None
    text: str
    sender: str


@dataclass(frozen=True)
class Parties:
    """Who a handoff is between, as its messages name them."""

    studio_name: str
    studio_language: str
    staff_chat: int | None
    customer_name: str
    customer_language: str


async def parties(reads: Reads, open_handoff: Handoff) -> Parties:
    row = await reads.one(
        "SELECT s.name AS studio_name, s.default_language, s.staff_chat_id, c.name, c.phone,"
        " c.language FROM studios s JOIN customers c ON c.studio_id = s.id AND c.id = :customer"
        " WHERE s.id = :studio",
        {"studio": open_handoff.studio_id, "customer": open_handoff.customer_id},
    )
    assert row is not None  # noqa: S101 - the handoff's customer row is kept (cascade)
    chat = row["staff_chat_id"]
    return Parties(
        studio_name=row["studio_name"],
        studio_language=row["default_language"],
        staff_chat=None if chat is None else int(chat),
        customer_name=row["name"] or row["phone"] or "?",
        customer_language=row["language"] or row["default_language"],
    )


def is_done(text: str) -> bool:
    return text.strip().split(" ")[0].split("@")[0].lower() == "/done" if text.strip() else False


async def staff_message(db: Database, clock: Clock, item: InboxItem, message: StaffMessage) -> bool:
    """Handle a group message if it is a staff answer to a handoff (or /done); then the
    inbox row is finished here. False: not ours, the dialogue handles it as before."""
    done = is_done(message.text)
    now = clock.now()
    key = f"handoff-staff:inbox-{item.id}"
    if message.replied_to is None:
        studio = await handoff.chat_studio(db, message.chat_id) if done else None
        if studio is None:
            return False
        hint = translator(studio[1])._("To end a chat, reply /done to a customer's message.")
        async with db.transaction() as tx:
            await handoff.tell_chat(
                tx, now, studio_id=studio[0], chat=message.chat_id, text=hint, key=key
            )
            await inbox.finish(tx, item, now)
        return True
    found = await handoff.by_staff_message(db, message.chat_id, message.replied_to)
    if found is None:
        return False
    async with db.transaction() as tx:
        who = await parties(tx, found)
        if found.ended:
            hint = translator(who.studio_language)._(
                "That chat has ended; {name} is back with the bot."
            )
            await handoff.tell_chat(
                tx,
                now,
                studio_id=found.studio_id,
                chat=message.chat_id,
                text=hint.format(name=who.customer_name),
                key=key,
            )
        elif done:
            await _end(tx, now, found, who, key=key)
        else:
            await _answer(tx, now, found, who, message, key=key)
        await inbox.finish(tx, item, now)
    return True


async def _answer(
    tx: Tx, now: datetime, found: Handoff, who: Parties, message: StaffMessage, *, key: str
) -> None:
    """A staff answer, to the customer, in their language."""
    _ = translator(who.customer_language)._
    text = _("💬 {name} ({studio}): {text}").format(
        name=message.sender, studio=who.studio_name, text=message.text.strip()[:LONGEST]
    )
    await handoff.tell_customer(tx, now, found, text=text, key=key)
    await handoff.touch(tx, now, found)


async def _end(
    tx: Tx,
    now: datetime,
    found: Handoff,
    who: Parties,
    *,
    key: str,
    quiet_before: datetime | None = None,
) -> bool:
    """End the handoff, by staff or (with `quiet_before`) by silence, and tell both sides;
    False, saying nothing, if it had ended or was not quiet after all."""
    by = "staff" if quiet_before is None else "timeout"
    if not await handoff.end(tx, now, found, by, quiet_before=quiet_before):
        return False
    _ = translator(who.customer_language)._
    if quiet_before is None:
        text = _("{studio} ended the chat. You are back with the bot: send MENU for the menu.")
    else:
        text = _(
            "The chat with {studio} went quiet, so I closed it. You are back with the bot: "
            "send MENU for the menu."
        )
    await handoff.tell_customer(tx, now, found, text=text.format(studio=who.studio_name), key=key)
    if who.staff_chat is not None:
        staff = translator(who.studio_language)
        said = (
            staff._("The chat with {name} has ended.")
            if quiet_before is None
            else staff._("The chat with {name} went quiet and was closed.")
        )
        await handoff.tell_chat(
            tx,
            now,
            studio_id=found.studio_id,
            chat=who.staff_chat,
            text=said.format(name=who.customer_name),
            key=f"{key}:staff",
        )
    return True


async def end_quiet(db: Database, clock: Clock) -> int:
    """End the handoffs nobody wrote in for `handoff.QUIET` (a bounded batch, quietest
    first), telling the customer and the staff chat; how many ended. Run twice, or beside
    a message that arrives meanwhile, each ends once or not at all."""
    now = clock.now()
    cutoff = now - handoff.QUIET
    ended = 0
    for found in await handoff.quiet_since(db, cutoff, SWEEP_BATCH):
        async with db.transaction() as tx:
            who = await parties(tx, found)
            key = f"handoff:{found.id}:quiet"
            ended += await _end(tx, now, found, who, key=key, quiet_before=cutoff)
    return ended
