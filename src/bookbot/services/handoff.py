"""Human handoff: a customer talking to a person at the studio instead of the bot.

One open handoff per customer (`uq_handoffs_open`). While it is open, what the customer
writes is forwarded to the studio's staff chat (Telegram), one outbox row per message,
each recorded in `handoff_messages`; once the delivery learns the chat message's id
(`note_sent`), a staff reply to that message finds its way back (`by_staff_message`). It
ends when the customer asks for the bot again, staff end it, or nothing was said either
way for `QUIET` (`quiet_since`, read through `ix_handoffs_open_activity`).

Everything here runs in the caller's transaction; texts are decided by the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bookbot.services import outbox
from bookbot.store.db import Database, Reads, Row, Tx, instant

QUIET = timedelta(minutes=30)
FORWARD = "reply"  # forwards and staff answers are decided texts: sent as dialogue replies

_COLUMNS = "id, studio_id, customer_id, channel, address, started_at, last_activity_at"
_H_COLUMNS = ", ".join(f"h.{name.strip()}" for name in _COLUMNS.split(","))

# Each read here runs per message or per tick, through its index (tests/store): the
# customer's open handoff (uq_handoffs_open), the forward a staff reply answers (the unique
# (staff_chat_id, staff_message_id)), the forward just sent (ix_handoff_messages_outbox),
# the quiet ones (ix_handoffs_open_activity, in its order).
OPEN_SQL = f"""SELECT {_COLUMNS}, ended_at FROM handoffs
WHERE studio_id = :studio_id AND customer_id = :customer_id AND ended_at IS NULL"""  # noqa: S608
BY_MESSAGE_SQL = f"""SELECT {_H_COLUMNS}, h.ended_at FROM handoff_messages m
JOIN handoffs h ON h.studio_id = m.studio_id AND h.id = m.handoff_id
WHERE m.staff_chat_id = :chat AND m.staff_message_id = :message_id"""  # noqa: S608
NOTE_SENT_SQL = """UPDATE handoff_messages SET staff_message_id = :message_id
WHERE studio_id = :studio_id AND outbox_id = :outbox_id AND staff_chat_id = :chat"""
QUIET_SQL = f"""SELECT {_COLUMNS}, ended_at FROM handoffs
WHERE ended_at IS NULL AND last_activity_at < :cutoff
ORDER BY last_activity_at LIMIT :limit"""  # noqa: S608
# Only the inbox's open rows are indexed by chat: the latest rows are walked by id instead.
RECENT_SQL = "SELECT payload FROM inbox WHERE chat = :chat ORDER BY id DESC LIMIT :limit"


@dataclass(frozen=True)
class Handoff:
    """An open (or, from `by_staff_message`, possibly ended) handoff."""

    id: int
    studio_id: int
    customer_id: int
    channel: str
    address: str
    started_at: datetime
    last_activity_at: datetime
    ended: bool = False


def _handoff(row: Row) -> Handoff:
    return Handoff(
        id=row["id"],
        studio_id=row["studio_id"],
        customer_id=row["customer_id"],
        channel=row["channel"],
        address=row["address"],
        started_at=instant(row["started_at"]),
        last_activity_at=instant(row["last_activity_at"]),
        ended=row["ended_at"] is not None,
    )


async def open_for(reads: Reads, studio_id: int, customer_id: int) -> Handoff | None:
    """The customer's open handoff, if any (the unique partial index finds it)."""
    row = await reads.one(OPEN_SQL, {"studio_id": studio_id, "customer_id": customer_id})
    return None if row is None else _handoff(row)


async def staff_chat_of(reads: Reads, studio_id: int) -> int | None:
    """The studio's staff chat (a Telegram group), where handoffs go; None: it has none."""
    chat = await reads.scalar(
        "SELECT staff_chat_id FROM studios WHERE id = :studio_id", {"studio_id": studio_id}
    )
    return None if chat is None else int(chat)


async def chat_studio(reads: Reads, chat_id: int) -> tuple[int, str] | None:
    """The studio whose staff chat `chat_id` is, and its language; None: no studio's
    (studios are few: a short read, and only for a /done that replies to nothing)."""
    row = await reads.one(
        "SELECT id, default_language FROM studios WHERE staff_chat_id = :chat ORDER BY id",
        {"chat": chat_id},
    )
    return None if row is None else (int(row["id"]), str(row["default_language"]))


@dataclass(frozen=True)
class Who:
    """Whose handoff: the customer, and the chat they write from."""

    studio_id: int
    customer_id: int
    channel: str
    address: str


async def start(tx: Tx, now: datetime, who: Who) -> tuple[Handoff, bool]:
    """Open a handoff for the customer; with one open already, that one. True: opened now."""
    found = await open_for(tx, who.studio_id, who.customer_id)
    if found is not None:
        return found, False
    row = await tx.one(
        "INSERT INTO handoffs (studio_id, customer_id, channel, address, started_at,"  # noqa: S608
        " last_activity_at) VALUES (:studio_id, :customer_id, :channel, :address, :now, :now)"
        f" RETURNING {_COLUMNS}, ended_at",
        {
            "studio_id": who.studio_id,
            "customer_id": who.customer_id,
            "channel": who.channel,
            "address": who.address,
            "now": now,
        },
    )
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns its row
    return _handoff(row), True


async def touch(tx: Tx, now: datetime, handoff: Handoff) -> None:
    """A message went one way or the other: the handoff is not quiet."""
    await tx.execute(
        "UPDATE handoffs SET last_activity_at = :now WHERE studio_id = :studio_id"
        " AND id = :id AND ended_at IS NULL",
        {"now": now, "studio_id": handoff.studio_id, "id": handoff.id},
    )


async def end(
    tx: Tx, now: datetime, handoff: Handoff, by: str, *, quiet_before: datetime | None = None
) -> bool:
    """End it (`by`: customer, staff or timeout; with `quiet_before`, only if nothing was
    said since). False: it had already ended, or was not quiet after all: the caller then
    says nothing."""
    quiet = "" if quiet_before is None else " AND last_activity_at < :quiet"
    changed = await tx.execute(
        "UPDATE handoffs SET ended_at = :now, ended_by = :by WHERE studio_id = :studio_id"  # noqa: S608
        f" AND id = :id AND ended_at IS NULL{quiet}",
        {
            "now": now,
            "by": by,
            "studio_id": handoff.studio_id,
            "id": handoff.id,
            "quiet": quiet_before,
        },
    )
    return changed == 1


def _reply_params(text: str, dialogue: str | None) -> dict[str, Any]:
    """An outbox `reply` row's params for a plain text (no options, nothing to edit)."""
    return {"text": text, "notice": None, "options": [], "edit": None, "dialogue": dialogue}


async def forward(
    tx: Tx, now: datetime, handoff: Handoff, *, staff_chat: int, text: str, key: str
) -> bool:
    """Queue `text` for the staff chat and record it as this handoff's message (a staff
    reply to it goes back to the customer). `key` makes it idempotent: False if queued
    before."""
    queued = await outbox.enqueue(
        tx,
        now=now,
        studio_id=handoff.studio_id,
        customer_id=None,
        template=FORWARD,
        params={**_reply_params(text, None), "handoff": handoff.id},
        due_at=now,
        dedupe_key=key,
        channel="telegram",
        address=str(staff_chat),
    )
    if queued:
        await tx.execute(
            "INSERT INTO handoff_messages (studio_id, handoff_id, outbox_id, staff_chat_id,"
            " created_at) SELECT :studio_id, :handoff_id, id, :chat, :now FROM outbox"
            " WHERE dedupe_key = :key",
            {
                "studio_id": handoff.studio_id,
                "handoff_id": handoff.id,
                "chat": staff_chat,
                "now": now,
                "key": key,
            },
        )
    return queued


async def tell_chat(
    tx: Tx, now: datetime, *, studio_id: int, chat: int, text: str, key: str
) -> None:
    """A plain line to the staff chat that is no customer's message (an acknowledgement)."""
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=studio_id,
        customer_id=None,
        template=FORWARD,
        params=_reply_params(text, None),
        due_at=now,
        dedupe_key=key,
        channel="telegram",
        address=str(chat),
    )


async def tell_customer(tx: Tx, now: datetime, handoff: Handoff, *, text: str, key: str) -> None:
    """A text to the customer on the channel they wrote from (a staff answer, the end)."""
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=handoff.studio_id,
        customer_id=handoff.customer_id,
        template=FORWARD,
        params=_reply_params(text, handoff.address),
        due_at=now,
        dedupe_key=key,
        channel=handoff.channel,
        address=handoff.address,
    )


async def note_sent(
    db: Database, *, studio_id: int, outbox_id: int, chat_id: int, message_id: int
) -> None:
    """The delivery sent a forwarded message: remember its id in the staff chat, so a reply
    to it can be routed (read through `ix_handoff_messages_outbox`)."""
    await db.execute(
        NOTE_SENT_SQL,
        {
            "message_id": message_id,
            "studio_id": studio_id,
            "outbox_id": outbox_id,
            "chat": chat_id,
        },
    )


async def by_staff_message(reads: Reads, chat_id: int, message_id: int) -> Handoff | None:
    """The handoff a staff chat message was forwarded for (open or ended), if any; through
    the unique (staff_chat_id, staff_message_id)."""
    row = await reads.one(BY_MESSAGE_SQL, {"chat": chat_id, "message_id": message_id})
    return None if row is None else _handoff(row)


async def quiet_since(reads: Reads, cutoff: datetime, limit: int) -> list[Handoff]:
    """Open handoffs with no message since `cutoff`, quietest first, at most `limit`
    (`ix_handoffs_open_activity` holds only open ones, in that order)."""
    rows = await reads.all(QUIET_SQL, {"cutoff": cutoff, "limit": limit})
    return [_handoff(r) for r in rows]


async def recent_texts(reads: Reads, chat: str, limit: int) -> list[str]:
    """The last `limit` texts the person sent on `chat` (e.g. "sms:+44…"), oldest first,
    read newest first through `ix_inbox_chat`."""
    rows = await reads.all(RECENT_SQL, {"chat": chat, "limit": limit})
    texts = [t for t in (_text_of(json.loads(r["payload"])) for r in rows) if t]
    return list(reversed(texts))


def _text_of(payload: dict[str, Any]) -> str | None:
    """The typed text in a stored Telegram update or Twilio message (None: a button)."""
    message = payload.get("message")
    if isinstance(message, dict):
        text = message.get("text")
        return text if isinstance(text, str) else None
    form = payload.get("form")
    if isinstance(form, dict):
        body = form.get("Body")
        return body if isinstance(body, str) else None
    return None


async def take_waiting(db: Database, now: datetime, *, channel: str, address: str) -> list[str]:
    """Texts queued for a chat no delivery worker can reach (the terminal shell, which shows
    them itself): taken, marked sent, oldest first. Only staff answers go there."""
    rows = await db.all(
        "UPDATE outbox SET status = 'sent', sent_at = :now, lease_until = NULL"
        " WHERE status = 'pending' AND template = :template AND channel = :channel"
        " AND address = :address RETURNING id, params",
        {"now": now, "template": FORWARD, "channel": channel, "address": address},
    )
    ordered = sorted(rows, key=lambda r: int(r["id"]))
    return [str(json.loads(r["params"]).get("text") or "") for r in ordered]
