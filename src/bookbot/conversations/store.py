"""Dialogue state in the database, and the lease that lets one worker at a time work on it.

In one process, an `asyncio.Lock` per person serialises their updates; across processes
(two bot workers), a lease on the dialogue's row does. Claiming the lease is one statement
that also reads what a turn starts from: the dialogue, its studio, its customer, and
whether the person is staff there. Each hold writes a random token with the lease; the save
writes the new state and lets the lease go in one UPDATE that matches only while that token
is on the row, so a worker whose lease ran out and was taken over changes nothing: it gets
`LeaseLost`. The lease is short and renewed while the turn runs (`heartbeat`): a killed
worker's dialogue is free again within LEASE, a live slow turn keeps its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bookbot.conversations.heartbeat import Heartbeat
from bookbot.engine.clock import Clock
from bookbot.services.common import Studio, studio_columns, studio_from
from bookbot.services.customers import Customer, customer_columns, customer_from
from bookbot.services.funnel import Event, Who, statement
from bookbot.services.staff_access import identity, staff_id_query
from bookbot.store.db import Database, Row, Tx

log = logging.getLogger(__name__)

# As short as the inbox claim's (jobs.inbox_worker): a restart answers what a killed
# process was in the middle of within seconds. Renewed every third of it while held.
LEASE = timedelta(seconds=10)
CLAIM_WAIT = 10.0


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


_FIELDS = (
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
_COLUMNS = ", ".join(_FIELDS)


def _conversation(row: Row, *, created: bool = False) -> Conversation:
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
    held: bool = True


_FREE = "(lease_until IS NULL OR lease_until < :now)"
_TAKE = "UPDATE conversations SET lease_until = :until, lease_token = :token"
_THIS = "channel = :channel AND endpoint = :endpoint AND address = :address"


def _loaded(claimed: str) -> str:
    """What a turn starts from, beside the claimed row `c` that the join `claimed` finds (no
    row: nothing claimed). `known` tells a dialogue someone else holds from one that does
    not exist yet."""
    return f"""SELECT EXISTS (SELECT 1 FROM conversations WHERE {_THIS}) AS known,
    {", ".join(f"c.{name}" for name in _FIELDS)},
    {studio_columns("s", "s_")},
    {customer_columns("cu", "cu_")},
    ({staff_id_query("c.studio_id")}) AS staff_id
FROM (SELECT 1 AS here) AS k
{claimed}
LEFT JOIN studios s ON s.id = c.studio_id
LEFT JOIN customers cu ON cu.studio_id = c.studio_id AND cu.id = c.customer_id"""  # noqa: S608


# PostgreSQL: one statement, one round trip. The UPDATE in the CTE takes the lease only if
# it is free, and the SELECT joins what it returns.
_CLAIM_POSTGRES = (
    f"WITH claimed AS ({_TAKE} WHERE {_THIS} AND {_FREE} RETURNING {_COLUMNS})\n"
    + _loaded("LEFT JOIN claimed c ON TRUE")
)
# SQLite cannot join an UPDATE's rows: the UPDATE, then the read of the row it leased, in
# one write transaction (no round trips to save there).
_CLAIM_SQLITE_TAKE = f"{_TAKE} WHERE {_THIS} AND {_FREE}"
_CLAIM_SQLITE_READ = _loaded(
    "LEFT JOIN conversations c ON c.channel = :channel AND c.endpoint = :endpoint"
    " AND c.address = :address AND c.lease_token = :token"
)


async def _claim(
    db: Database, lease: Lease, now: datetime, channel: str, address: str, *, endpoint: str = ""
) -> bool:
    """Try to take the lease, reading the turn's start into `lease`. False: another worker
    holds it. True with no `lease.conversation`: there is no dialogue to hold yet."""
    params = {
        "channel": channel,
        "endpoint": endpoint,
        "address": address,
        "token": lease.token,
        "now": now,
        "until": now + LEASE,
        **identity(channel, address),
    }
    if db.dialect == "postgresql":
        row = await db.one(_CLAIM_POSTGRES, params)
    else:
        async with db.transaction() as tx:
            await tx.execute(_CLAIM_SQLITE_TAKE, params)
            row = await tx.one(_CLAIM_SQLITE_READ, params)
    if row is None:  # pragma: no cover - the query always returns its one row
        raise AssertionError("the claim returned no row")
    if row["id"] is None:
        return not row["known"]
    lease.conversation = _conversation(row)
    lease.studio = studio_from(row, "s_")
    lease.customer = customer_from(row, "cu_")
    lease.staff_id = row["staff_id"]
    return True


async def find(db: Database, channel: str, address: str, endpoint: str = "") -> Conversation | None:
    """The dialogue as stored, without holding it (to read, not to change)."""
    row = await db.one(
        f"SELECT {_COLUMNS} FROM conversations WHERE {_THIS}",  # noqa: S608 - fixed names
        {"channel": channel, "endpoint": endpoint, "address": address},
    )
    return None if row is None else _conversation(row)


@dataclass(frozen=True)
class NewDialogue:
    """Whose a first contact's dialogue is, and where and how it starts."""

    channel: str
    address: str
    studio: Studio
    language: str
    state: str
    endpoint: str = ""


_CREATE = f"""INSERT INTO conversations (channel, endpoint, address, studio_id, language,
    state, updated_at, lease_until, lease_token)
    VALUES (:channel, :endpoint, :address, :studio_id, :language, :state, :now, :until, :token)
    ON CONFLICT (channel, endpoint, address) DO NOTHING
    RETURNING {_COLUMNS}, ({staff_id_query("conversations.studio_id")}) AS staff_id"""  # noqa: S608


async def create(db: Database, lease: Lease, now: datetime, new: NewDialogue) -> Conversation:
    """A new dialogue, held by `lease` (which then reads as claiming it would: no customer
    yet, the person's staff id); or, if another worker created it a moment ago, theirs
    (`created` False), claimed once they let it go."""
    channel, address, endpoint = new.channel, new.address, new.endpoint
    params = {
        "channel": channel,
        "endpoint": endpoint,
        "address": address,
        "studio_id": new.studio.id,
        "language": new.language,
        "state": new.state,
        "now": now,
        "until": now + LEASE,
        "token": lease.token,
        **identity(channel, address),
    }
    waiting = _Waiting(f"{channel}:{address}")
    while True:
        row = await db.one(_CREATE, params)
        if row is not None:
            lease.conversation = _conversation(row, created=True)
            lease.studio, lease.customer, lease.staff_id = new.studio, None, row["staff_id"]
            return lease.conversation
        claimed = await _claim(db, lease, now, channel, address, endpoint=endpoint)
        if claimed and lease.conversation is not None:
            return lease.conversation
        await waiting.wait()


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
    params = _save_params(lease, conversation, now)
    if not conversation.funnel:
        _saved(lease, conversation, await db.execute(_SAVE, params))
    elif db.dialect == "postgresql":
        sql = _with_funnel(conversation, now, params)
        _saved(lease, conversation, int(await db.scalar(sql, params)))
    else:
        async with db.transaction() as tx:
            _saved(lease, conversation, await tx.execute(_SAVE, params))
            await _save_funnel_in(tx, conversation, now)
    lease.held = False


async def save_in(tx: Tx, lease: Lease, conversation: Conversation, now: datetime) -> None:
    """`save` inside the caller's transaction (with the replies it queues); the caller marks
    the lease let go (`held = False`) once that transaction has committed."""
    params = _save_params(lease, conversation, now)
    if not conversation.funnel:
        _saved(lease, conversation, await tx.execute(_SAVE, params))
    elif tx.dialect == "postgresql":
        sql = _with_funnel(conversation, now, params)
        _saved(lease, conversation, int(await tx.scalar(sql, params)))
    else:
        _saved(lease, conversation, await tx.execute(_SAVE, params))
        await _save_funnel_in(tx, conversation, now)


_RELEASE = """UPDATE conversations SET lease_until = NULL, lease_token = NULL
    WHERE id = :id AND lease_token = :token"""


_RENEW = "UPDATE conversations SET lease_until = :until WHERE id = :id AND lease_token = :token"


async def renew(db: Database, lease: Lease, now: datetime) -> bool:
    """Extend a held lease to `now` + LEASE; False if the row no longer carries our token
    (taken over: the turn's save will raise `LeaseLost`)."""
    if not lease.held or lease.conversation is None:  # nothing (yet) on a row to extend
        return lease.held
    params = {"id": lease.conversation.id, "token": lease.token, "until": now + LEASE}
    return bool(await db.execute(_RENEW, params))


async def release(db: Database, lease: Lease) -> None:
    """Let the lease go without saving (nothing changed, or the turn failed)."""
    if lease.held and lease.conversation is not None:
        await db.execute(_RELEASE, {"id": lease.conversation.id, "token": lease.token})
    lease.held = False


async def release_in(tx: Tx, lease: Lease) -> None:
    """`release` inside the caller's transaction (which then marks `held = False`)."""
    if lease.conversation is not None:
        await tx.execute(_RELEASE, {"id": lease.conversation.id, "token": lease.token})


class _Waiting:
    """Backoff while another worker holds a dialogue: 10 ms doubling to 0.5 s, then, after
    CLAIM_WAIT seconds in all, `ConversationBusy`."""

    def __init__(self, who: str) -> None:
        self._who = who
        self._delay = 0.01
        self._waited = 0.0

    async def wait(self) -> None:
        if self._waited >= CLAIM_WAIT:
            raise ConversationBusy(self._who)
        await asyncio.sleep(self._delay)
        self._waited += self._delay
        self._delay = min(self._delay * 2, 0.5)


class Serializer:
    """One update at a time per person: a lock in this process, a lease across processes."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._users: dict[tuple[str, str, str], int] = {}

    @asynccontextmanager
    async def hold(self, channel: str, address: str, endpoint: str = "") -> AsyncIterator[Lease]:
        """Hold the person's dialogue, loaded; `save` releases the lease with the new state,
        and anything left held (an early return, an error) is released on the way out."""
        key = (channel, endpoint, address)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                lease = Lease(secrets.token_hex(8))
                waiting = _Waiting(f"{channel}:{address}")
                now = self._clock.now
                while not await _claim(self._db, lease, now(), channel, address, endpoint=endpoint):
                    await waiting.wait()
                beating = Heartbeat(
                    LEASE.total_seconds() / 3, lambda: renew(self._db, lease, now())
                )
                beating.start()
                try:
                    yield lease
                finally:
                    await beating.stop()
                    await self._let_go(lease)
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # forget idle people so the maps do not grow
                del self._users[key], self._locks[key]

    async def _let_go(self, lease: Lease) -> None:
        try:
            await release(self._db, lease)
        except Exception:  # it runs out by itself (LEASE); the turn's own error matters more
            log.exception("could not release the lease on a dialogue; it will run out")


async def note_message(
    db: Database, channel: str, address: str, message_ref: str, endpoint: str = ""
) -> str | None:
    """Store the message now carrying the dialogue's options; the one noted before it."""
    params = {"ref": message_ref, "channel": channel, "endpoint": endpoint, "address": address}
    async with db.transaction() as tx:
        previous = await tx.scalar(
            f"SELECT message_ref FROM conversations WHERE {_THIS}",  # noqa: S608 - fixed names
            params,
        )
        await tx.execute(
            f"UPDATE conversations SET message_ref = :ref WHERE {_THIS}",  # noqa: S608
            params,
        )
    return None if previous is None else str(previous)
