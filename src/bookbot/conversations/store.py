"""Dialogue state in the database, and the lease that lets one worker at a time work on it.

In one process, an `asyncio.Lock` per person serialises their updates; across processes
(two bot workers), a lease on the dialogue's row does. Claiming the lease is one statement
that also reads what a turn starts from: the dialogue, its studio, its customer, and
whether the person is staff there. Each hold writes a random token with the lease; the save
writes the new state and lets the lease go in one UPDATE that matches only while that token
is on the row, so a worker whose lease ran out and was taken over changes nothing: it gets
`LeaseLost`. The lease is short and renewed while the turn runs (`heartbeat`): a killed
worker's dialogue is free again within LEASE, a live slow turn keeps its own.

The row itself (what is stored, reading it, saving it) is in `dialogue_rows`; its names are
re-exported here, where callers take them from.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.conversations.dialogue_rows import (
    COLUMNS,
    FIELDS,
    THIS,
    Conversation,
    ConversationBusy,
    Lease,
    LeaseLost,
    conversation_of,
    find,
    note_message,
    save,
    save_in,
)
from bookbot.engine.clock import Clock
from bookbot.services.common import Studio, studio_columns, studio_from
from bookbot.services.customers import customer_columns, customer_from
from bookbot.services.staff_access import identity, staff_id_query
from bookbot.store.db import Database, Tx
from bookbot.store.heartbeat import Heartbeat

__all__ = [
    "CLAIM_WAIT",
    "LEASE",
    "Conversation",
    "ConversationBusy",
    "Lease",
    "LeaseLost",
    "NewDialogue",
    "Serializer",
    "create",
    "find",
    "note_message",
    "release",
    "release_in",
    "renew",
    "save",
    "save_in",
]

log = logging.getLogger(__name__)

# As short as the inbox claim's (jobs.inbox_worker): a restart answers what a killed
# process was in the middle of within seconds. Renewed every third of it while held.
LEASE = timedelta(seconds=10)
CLAIM_WAIT = 10.0


_FREE = "(lease_until IS NULL OR lease_until < :now)"
_TAKE = "UPDATE conversations SET lease_until = :until, lease_token = :token"


def _loaded(claimed: str) -> str:
    """What a turn starts from, beside the claimed row `c` that the join `claimed` finds (no
    row: nothing claimed). `known` tells a dialogue someone else holds from one that does
    not exist yet."""
    return f"""SELECT EXISTS (SELECT 1 FROM conversations WHERE {THIS}) AS known,
    {", ".join(f"c.{name}" for name in FIELDS)},
    {studio_columns("s", "s_")},
    {customer_columns("cu", "cu_")},
    ({staff_id_query("c.studio_id")}) AS staff_id,
    (SELECT o.studio_id FROM studio_channels o
     WHERE o.channel = :channel AND o.address = :endpoint) AS endpoint_owner
FROM (SELECT 1 AS here) AS k
{claimed}
LEFT JOIN studios s ON s.id = c.studio_id
LEFT JOIN customers cu ON cu.studio_id = c.studio_id AND cu.id = c.customer_id"""  # noqa: S608


# PostgreSQL: one statement, one round trip. The UPDATE in the CTE takes the lease only if
# it is free, and the SELECT joins what it returns.
_CLAIM_POSTGRES = (
    f"WITH claimed AS ({_TAKE} WHERE {THIS} AND {_FREE} RETURNING {COLUMNS})\n"
    + _loaded("LEFT JOIN claimed c ON TRUE")
)
# SQLite cannot join an UPDATE's rows: the UPDATE, then the read of the row it leased, in
# one write transaction (no round trips to save there).
_CLAIM_SQLITE_TAKE = f"{_TAKE} WHERE {THIS} AND {_FREE}"
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
    lease.conversation = conversation_of(row)
    lease.studio = studio_from(row, "s_")
    lease.customer = customer_from(row, "cu_")
    lease.staff_id = row["staff_id"]
    lease.endpoint_owner = row["endpoint_owner"]
    return True


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
    RETURNING {COLUMNS}, ({staff_id_query("conversations.studio_id")}) AS staff_id"""  # noqa: S608


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
            lease.conversation = conversation_of(row, created=True)
            lease.studio, lease.customer, lease.staff_id = new.studio, None, row["staff_id"]
            return lease.conversation
        claimed = await _claim(db, lease, now, channel, address, endpoint=endpoint)
        if claimed and lease.conversation is not None:
            return lease.conversation
        await waiting.wait()


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
                    LEASE.total_seconds() / 3, lambda: renew(self._db, lease, now()), "a dialogue"
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
