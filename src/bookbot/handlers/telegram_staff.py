"""The staff chat on Telegram: a staff member's reply to a customer's forwarded message
(human handoff) goes to that customer; /done ends the chat. Everything else in a group
is left to the dialogue, as before."""

from __future__ import annotations

from telegram import Update

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.handoff_staff import StaffMessage, staff_message
from bookbot.services.inbox import InboxItem

GROUPS = ("group", "supergroup")


def _staff_message(update: Update) -> StaffMessage | None:
    """A text in a group chat, with the message it replies to; None for anything else."""
    message = update.message
    if message is None or message.text is None or message.chat.type not in GROUPS:
        return None
    replied = message.reply_to_message
    sender = message.from_user.first_name if message.from_user is not None else ""
    return StaffMessage(
        chat_id=message.chat.id,
        replied_to=replied.message_id if replied is not None else None,
        text=message.text,
        sender=sender,
    )


async def handled(dialogues: Dialogues, item: InboxItem, update: Update) -> bool:
    """Whether `update` was a staff answer in a handoff (then its inbox row is done)."""
    found = _staff_message(update)
    if found is None:
        return False
    return await staff_message(dialogues.db, dialogues.clock, item, found)
