"""A dialogue's row: what is stored of it (`Conversation`), reading it without holding it,
and writing it back under the lease that holds it (`save`: only while the row carries the
lease's token, else `LeaseLost`). Taking and renewing the lease is `store`'s."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bookbot.services.common import Studio
from bookbot.services.customers import Customer
from bookbot.services.funnel import Event, Who, statement
from bookbot.store.db import Database, Row, Tx


class ConversationBusy(Exception):
    """Another worker held this dialogue for longer than we were willing to wait."""


class LeaseLost(ConversationBusy):
    """Our lease on the dialogue ran out and another worker claimed it: nothing of this turn
    was saved (its save changed no row), and the turn may be run again on the new state."""


@dataclass
class Conversation:
    id: int
    channel: str
    address: str
    studio_id: int
    customer_id: int | None
    language: str
    state: str
    data: dict[str, Any]
    options: list[dict[str, Any]]
    step: int
    message_ref: str | None
    updated_at: datetime
    # Which of our bots or numbers the person writes to ('' the default one): an own one
    # fixes the dialogue's studio (`services.studio_channels`).
    endpoint: str = ""
    created: bool = field(default=False, compare=False)
    # This turn's booking-funnel events, written by the save (never stored with the state).
    funnel: list[Event] = field(default_factory=list, compare=False)


FIELDS = (
    "id",
    "channel",
    "address",
    "studio_id",
    "customer_id",
    "language",
    "state",
    "data",
    "options",
    "step",
    "message_ref",
    "updated_at",
    "endpoint",
)
COLUMNS = ", ".join(FIELDS)


def conversation_of(row: Row, *, created: bool = False) -> Conversation:
    return Conversation(
        id=row["id"],
        channel=row["channel"],
        address=row["address"],
        studio_id=row["studio_id"],
        customer_id=row["customer_id"],
        language=row["language"],
        state=row["state"],
        data=json.loads(row["data"]),
        options=json.loads(row["options"]),
        step=row["step"],
        message_ref=row["message_ref"],
        updated_at=row["updated_at"],
        endpoint=row["endpoint"],
        created=created,
    )


@dataclass
class Lease:
    """One hold of a person's dialogue, and what claiming it read.

    `token` is written with the lease; only a save or a release that presents it changes
    the row. `held` is whether the row may still carry it (saving or releasing clears it).
    """

    token: str
    conversation: Conversation | None = None  # None: no dialogue yet (`create` makes it)
    studio: Studio | None = None  # the dialogue's studio
    customer: Customer | None = None  # the dialogue's customer, if it has one there
    staff_id: int | None = None  # the person's staff id in that studio, if staff
    # The studio that owns the dialogue's own bot or number now (None: the default one, or
    # nobody's): a bot moved to another studio takes its dialogues along.
    endpoint_owner: int | None = None
    held: bool = True


THIS = "channel = :channel AND endpoint = :endpoint AND address = :address"


async def find(db: Database, channel: str, address: str, endpoint: str = "") -> Conversation | None:
    """The dialogue as stored, without holding it (to read, not to change)."""
    row = await db.one(
        f"SELECT {COLUMNS} FROM conversations WHERE {THIS}",  # noqa: S608 - fixed names
        {"channel": channel, "endpoint": endpoint, "address": address},
    )
    return None if row is None else conversation_of(row)


_SAVE = """UPDATE conversations SET studio_id = :studio_id, customer_id = :customer_id,
    language = :language, state = :state, data = :data, options = :options, step = :step,
    message_ref = :message_ref, updated_at = :now, lease_until = NULL, lease_token = NULL
    WHERE id = :id AND lease_token = :token"""


def _save_params(lease: Lease, conversation: Conversation, now: datetime) -> dict[str, Any]:
    c = conversation
    return {
        "studio_id": c.studio_id,
        "customer_id": c.customer_id,
        "language": c.language,
        "state": c.state,
        "data": json.dumps(c.data),
        "options": json.dumps(c.options),
        "step": c.step,
        "message_ref": c.message_ref,
        "now": now,
        "id": c.id,
        "token": lease.token,
    }


def _saved(lease: Lease, conversation: Conversation, changed: int) -> None:
    if changed != 1:
        lease.held = False  # the row carries someone else's token: nothing of ours to release
        raise LeaseLost(f"{conversation.channel}:{conversation.address}")


def _with_funnel(conversation: Conversation, now: datetime, params: dict[str, Any]) -> str:
    """PostgreSQL: the save and the turn's funnel events in one statement (the INSERT joins
    the saved row, so a lost lease records nothing); it returns how many rows it saved."""
    who = Who(conversation.studio_id, conversation.customer_id, conversation.channel, now)
    insert, more = statement(conversation.funnel, who, "postgresql", source="saved")
    params.update(more)
    return f"WITH saved AS ({_SAVE} RETURNING id), events AS ({insert})\nSELECT COUNT(*) FROM saved"


async def _save_funnel_in(tx: Tx, conversation: Conversation, now: datetime) -> None:
    """SQLite: the turn's funnel events, after the save, in its transaction."""
    who = Who(conversation.studio_id, conversation.customer_id, conversation.channel, now)
    sql, params = statement(conversation.funnel, who, tx.dialect)
    await tx.execute(sql, params)


async def save(db: Database, lease: Lease, conversation: Conversation, now: datetime) -> None:
    """Write the dialogue back and release its lease, in one statement. Raises `LeaseLost`,
    writing nothing, if the lease is no longer ours. With funnel events to record: one
    statement on PostgreSQL, one transaction of two on SQLite."""
    if conversation.funnel and db.dialect != "postgresql":
        async with db.transaction() as tx:
            await save_in(tx, lease, conversation, now)
    else:
        await _save_one(db, lease, conversation, now)
    lease.held = False


async def save_in(tx: Tx, lease: Lease, conversation: Conversation, now: datetime) -> None:
    """`save` inside the caller's transaction (with the replies it queues); the caller marks
    the lease let go (`held = False`) once that transaction has committed."""
    if conversation.funnel and tx.dialect != "postgresql":
        params = _save_params(lease, conversation, now)
        _saved(lease, conversation, await tx.execute(_SAVE, params))
        await _save_funnel_in(tx, conversation, now)
    else:
        await _save_one(tx, lease, conversation, now)


async def _save_one(
    db: Database | Tx, lease: Lease, conversation: Conversation, now: datetime
) -> None:
    """The save as one statement: the row alone, or on PostgreSQL the row and its funnel
    events together."""
    params = _save_params(lease, conversation, now)
    if not conversation.funnel:
        _saved(lease, conversation, await db.execute(_SAVE, params))
    else:
        sql = _with_funnel(conversation, now, params)
        _saved(lease, conversation, int(await db.scalar(sql, params)))


async def note_message(
    db: Database, channel: str, address: str, message_ref: str, endpoint: str = ""
) -> str | None:
    """Store the message now carrying the dialogue's options; the one noted before it."""
    params = {"ref": message_ref, "channel": channel, "endpoint": endpoint, "address": address}
    async with db.transaction() as tx:
        previous = await tx.scalar(
            f"SELECT message_ref FROM conversations WHERE {THIS}",  # noqa: S608 - fixed names
            params,
        )
        await tx.execute(
            f"UPDATE conversations SET message_ref = :ref WHERE {THIS}",  # noqa: S608
            params,
        )
    return None if previous is None else str(previous)
