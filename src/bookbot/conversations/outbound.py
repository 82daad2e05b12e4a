"""A dialogue's replies as outbox rows.

A reply to something stored in the inbox is not sent by the code that decided it: it is
queued in the transaction that saves the dialogue's new state and marks the inbox row
done, under a dedupe key derived from that row, and the delivery worker sends it (with
retries, in order per chat). A crash or a provider outage delays a reply; it never loses
it, and processing the row again cannot queue it twice.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bookbot.conversations.model import Attachment, Channel, Option, Reply
from bookbot.services import outbox
from bookbot.services.inbox import InboxItem
from bookbot.store.db import Tx

REPLY = "reply"  # the outbox template of a dialogue's reply


@dataclass(frozen=True)
class ReplyTo:
    """Which inbox row a dialogue turn answers, and where its replies go."""

    item: InboxItem
    channel: Channel
    address: str  # Telegram: the chat id (in a group it is not the person's own id)
    endpoint: str = ""  # the bot or number it came to: the replies go back through it


def reply_params(reply: Reply, *, edit_ref: str | None, dialogue: str) -> dict[str, Any]:
    """What a reply row carries: the reply, the message it replaces (Telegram edits the
    pressed one), and whose dialogue to tell which message now carries the options."""
    attachment = reply.attachment
    return {
        "text": reply.text,
        "notice": reply.notice,
        # A link carries its address as a third item; older rows have two.
        "options": [
            [o.token, o.label, o.url] if o.url else [o.token, o.label] for o in reply.options
        ],
        "edit": edit_ref if reply.edit else None,
        "dialogue": dialogue,
        "preformatted": reply.preformatted,
        "attachment": None
        if attachment is None
        else {
            "filename": attachment.filename,
            "mime_type": attachment.mime_type,
            "content": base64.b64encode(attachment.content).decode("ascii"),
        },
    }


def reply_from_params(params: dict[str, Any]) -> Reply:
    raw = params.get("attachment")
    attachment = (
        None
        if raw is None
        else Attachment(raw["filename"], raw["mime_type"], base64.b64decode(raw["content"]))
    )
    return Reply(
        params.get("text") or "",
        tuple(Option(*option[:3]) for option in params.get("options", [])),
        attachment=attachment,
        edit=params.get("edit") is not None,
        notice=params.get("notice"),
        preformatted=bool(params.get("preformatted")),
    )


async def queue_replies(
    tx: Tx,
    now: datetime,
    *,
    studio_id: int,
    customer_id: int | None,
    reply_to: ReplyTo,
    replies: list[Reply],
    edit_ref: str | None,
    dialogue: str,
) -> None:
    """Queue `replies` in order (ids ascend), keyed on the inbox row they answer."""
    for index, reply in enumerate(replies):
        await outbox.enqueue(
            tx,
            now=now,
            studio_id=studio_id,
            customer_id=customer_id,
            template=REPLY,
            params={
                **reply_params(reply, edit_ref=edit_ref, dialogue=dialogue),
                "endpoint": reply_to.endpoint,
            },
            due_at=now,
            dedupe_key=f"reply:inbox-{reply_to.item.id}:{index}",
            channel=reply_to.channel.value,
            address=reply_to.address,
        )
