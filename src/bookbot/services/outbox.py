"""The outbox: every message the bot sends first is a row, queued inside the transaction
that decided it (a booking queues its reminders), delivered later by the delivery job.

Rows are claimed before sending: a claim sets `status = 'sending'` and a short lease, on
PostgreSQL with `FOR UPDATE SKIP LOCKED` so two workers never take the same row, on
SQLite inside the one write lock. The worker renews the lease while it holds the rows
(`renew`), so a dead worker's rows are free again seconds after it died. Just before each
send the worker notes the send's start (`send_started_at`); the outcome clears the note.
A worker that dies mid-send leaves a row whose lease expires and whose note says "in
doubt": the next claim takes it again, and the delivery job first asks the channel whether
that send arrived (Twilio can tell; Telegram cannot, so there it is sent again: at least
once, never lost). A row claimed but not yet begun is simply sent. A dedupe key makes
queueing idempotent: asking twice queues once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bookbot.services.common import in_list
from bookbot.store.db import Database, Row, Tx, instant


@dataclass(frozen=True)
class OutboundMessage:
    """One outbox row being delivered."""

    outbox_id: int
    studio_id: int
    customer_id: int | None
    template: str
    params: dict[str, Any]
    dedupe_key: str
    due_at: datetime
    attempts: int  # including this one
    claim_token: str = ""
    # An earlier send began at this instant and its outcome was never recorded.
    in_doubt_since: datetime | None = None
    # Fixed at queueing for a reply: the chat it answers.
    channel: str | None = None
    address: str | None = None


async def enqueue(  # noqa: PLR0913 - one keyword per column written, all named at the call
    tx: Tx,
    *,
    now: datetime,
    studio_id: int,
    customer_id: int | None,
    template: str,
    params: dict[str, Any],
    due_at: datetime,
    dedupe_key: str,
    channel: str | None = None,
    address: str | None = None,
) -> bool:
    """Queue a message (in the caller's transaction); False if that key was queued before.
    `channel` and `address` fix where it goes (a reply goes back where it was asked);
    without them it goes to the customer's preferred channel when it is sent."""
    message = Queued(template, params, due_at, dedupe_key, channel, address)
    added = await enqueue_many(
        tx, now=now, studio_id=studio_id, customer_id=customer_id, messages=[message]
    )
    return added == 1


@dataclass(frozen=True)
class Queued:
    """One message to queue (see `enqueue`)."""

    template: str
    params: dict[str, Any]
    due_at: datetime
    dedupe_key: str
    channel: str | None = None
    address: str | None = None


# Rows per INSERT: 11 parameters each stays far below either database's parameter limit.
_ROWS_PER_INSERT = 100


async def enqueue_many(
    tx: Tx,
    *,
    now: datetime,
    studio_id: int,
    customer_id: int | None,
    messages: Sequence[Queued],
) -> int:
    """Queue messages to one customer (in the caller's transaction), a hundred to a
    statement: a booking's reminders in one. How many were new (a dedupe key queued before
    is skipped)."""
    added = 0
    for first in range(0, len(messages), _ROWS_PER_INSERT):
        chunk = messages[first : first + _ROWS_PER_INSERT]
        rows = ", ".join(
            f"(:studio_id, :customer_id, :t{i}, :p{i}, :d{i}, 'pending', :now, :k{i}, :c{i}, :a{i})"
            for i in range(len(chunk))
        )
        params: dict[str, object] = {"studio_id": studio_id, "customer_id": customer_id, "now": now}
        for i, message in enumerate(chunk):
            params |= {
                f"t{i}": message.template,
                f"p{i}": json.dumps(message.params, sort_keys=True),
                f"d{i}": message.due_at,
                f"k{i}": message.dedupe_key,
                f"c{i}": message.channel,
                f"a{i}": message.address,
            }
        added += await tx.execute(
            "INSERT INTO outbox (studio_id, customer_id, template, params, due_at, status,"  # noqa: S608 - placeholders only
            f" created_at, dedupe_key, channel, address) VALUES {rows}"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            params,
        )
    return added


async def withdraw(tx: Tx, studio_id: int, keys: Sequence[str]) -> int:
    """Withdraw messages not sent yet (a cancelled booking's reminders)."""
    if not keys:
        return 0
    body, params = in_list("k", keys)
    return await tx.execute(
        "UPDATE outbox SET status = 'withdrawn' WHERE studio_id = :studio_id"  # noqa: S608
        f" AND status = 'pending' AND dedupe_key IN ({body})",
        {"studio_id": studio_id, **params},
    )


# What a claim may take, oldest first. It walks `ix_outbox_claim` (pending and sending rows
# only, in (due_at, id) order) from the oldest and stops at `now`: sent history and future
# reminders are never read, and no sort is needed. A sending row was due when it was
# claimed, so `due_at <= :now` holds for every row whose lease may have run out. The
# per-status test is a CASE, not an OR, so that PostgreSQL does not split the query into
# one range per status (each on `ix_outbox_status_due`) and then sort the whole due backlog;
# SQLite, which has no statistics to tell the two indexes apart, is told which to walk.
DUE_SQL = """SELECT id FROM outbox{indexed}
WHERE status IN ('pending', 'sending') AND due_at <= :now
  AND CASE WHEN status = 'pending' THEN next_attempt_at IS NULL OR next_attempt_at <= :now
      ELSE lease_until < :now END
ORDER BY due_at, id LIMIT :limit"""

_CLAIMED = """UPDATE outbox SET status = 'sending', lease_until = :lease, attempts = attempts + 1,
    claim_token = :token
WHERE id IN ({ids})
RETURNING id, studio_id, customer_id, template, params, dedupe_key, due_at, attempts,
    send_started_at, channel, address"""


def due_sql(dialect: str) -> str:
    """The claim's SELECT on `dialect`. PostgreSQL locks the rows it takes and passes over
    those another worker is claiming; SQLite's write lock already keeps claims apart."""
    if dialect == "sqlite":
        return DUE_SQL.format(indexed=" INDEXED BY ix_outbox_claim")
    return DUE_SQL.format(indexed="") + " FOR UPDATE OF outbox SKIP LOCKED"


async def claim(db: Database, now: datetime, limit: int, lease: timedelta) -> list[OutboundMessage]:
    """Take up to `limit` due rows for this worker, oldest first."""
    async with db.transaction() as tx:
        rows = await tx.all(due_sql(tx.dialect), {"now": now, "limit": limit})
        if not rows:
            return []
        body, params = in_list("o", [r["id"] for r in rows])
        token = secrets.token_hex(8)
        claimed = await tx.all(
            _CLAIMED.format(ids=body), {"lease": now + lease, "token": token, **params}
        )
    messages = [_message(row, token) for row in claimed]
    return sorted(messages, key=lambda m: (m.due_at, m.outbox_id))


def _message(row: Row, token: str) -> OutboundMessage:
    started = row["send_started_at"]
    return OutboundMessage(
        outbox_id=row["id"],
        studio_id=row["studio_id"],
        customer_id=row["customer_id"],
        template=row["template"],
        params=json.loads(row["params"]),
        dedupe_key=row["dedupe_key"],
        due_at=instant(row["due_at"]),
        attempts=row["attempts"],
        claim_token=token,
        in_doubt_since=instant(started) if started is not None else None,
        channel=row["channel"],
        address=row["address"],
    )


async def begin_send(
    db: Database, message: OutboundMessage, now: datetime, lease: timedelta
) -> bool:
    """Just before sending: still ours? Then hold it for another lease and note that a send
    began (until its outcome is marked, a crash leaves the row in doubt). False: a worker
    that reclaimed the row after our lease ran out owns it now; we must not send."""
    return message.outbox_id in await begin_sends(db, [message], now, lease)


async def begin_sends(
    db: Database, messages: Sequence[OutboundMessage], now: datetime, lease: timedelta
) -> set[int]:
    """`begin_send` for many rows in one statement per claim; the ids still ours."""
    held: set[int] = set()
    for token, ids in _by_claim(messages).items():
        body, params = in_list("o", ids)
        rows = await db.all(
            "UPDATE outbox SET lease_until = :lease, send_started_at = :now"  # noqa: S608
            f" WHERE id IN ({body}) AND status = 'sending' AND claim_token = :token RETURNING id",
            {"lease": now + lease, "now": now, "token": token, **params},
        )
        held.update(int(r["id"]) for r in rows)
    return held


async def renew(db: Database, messages: Sequence[OutboundMessage], until: datetime) -> None:
    """Keep the rows still being delivered ours until `until` (a heartbeat): a short lease,
    renewed, lets a restart take over a dead process's rows within seconds, while a live
    worker keeps rows that wait their turn (a rate limit) or a slow send as long as needed."""
    for token, ids in _by_claim(messages).items():
        body, params = in_list("o", ids)
        await db.execute(
            "UPDATE outbox SET lease_until = :until WHERE id IN ("  # noqa: S608
            f"{body}) AND status = 'sending' AND claim_token = :token",
            {"until": until, "token": token, **params},
        )


async def mark_sent(db: Database, message: OutboundMessage, now: datetime, channel: str) -> None:
    await mark_all_sent(db, [(message, channel)], now)


async def mark_all_sent(
    db: Database, sent: Sequence[tuple[OutboundMessage, str]], now: datetime
) -> None:
    """Mark many rows sent (each with the channel it went by), one statement per claim."""
    by_channel: dict[str, list[OutboundMessage]] = {}
    for message, channel in sent:
        by_channel.setdefault(channel, []).append(message)
    for channel, messages in by_channel.items():
        for token, ids in _by_claim(messages).items():
            body, params = in_list("o", ids)
            await db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = :now, channel = :channel,"  # noqa: S608
                " lease_until = NULL, send_started_at = NULL, last_error = NULL"
                f" WHERE id IN ({body}) AND status = 'sending' AND claim_token = :token",
                {"now": now, "channel": channel, "token": token, **params},
            )


def _by_claim(messages: Sequence[OutboundMessage]) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {}
    for message in messages:
        ids.setdefault(message.claim_token, []).append(message.outbox_id)
    return ids


async def mark_retry(
    db: Database,
    message: OutboundMessage,
    at: datetime,
    error: str,
    *,
    in_doubt_since: datetime | None = None,
) -> None:
    """Due again at `at`. `in_doubt_since`: the failed send may have arrived (a timeout), so
    the next attempt asks the channel first."""
    await db.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = :at, lease_until = NULL,"
        " send_started_at = :doubt, last_error = :error"
        " WHERE id = :id AND status = 'sending' AND claim_token = :token",
        {
            "at": at,
            "doubt": in_doubt_since,
            "error": error[:500],
            "id": message.outbox_id,
            "token": message.claim_token,
        },
    )


async def postpone(db: Database, message: OutboundMessage, until: datetime) -> None:
    """Not now, and not an attempt: due again at `until` (its chat is waiting out a 429)."""
    await db.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = :until, lease_until = NULL,"
        " attempts = attempts - 1 WHERE id = :id AND status = 'sending' AND claim_token = :token",
        {"until": until, "id": message.outbox_id, "token": message.claim_token},
    )


async def release(db: Database, message: OutboundMessage) -> None:
    """Give a claimed row back unsent (the worker is stopping): due again at once."""
    await db.execute(
        "UPDATE outbox SET status = 'pending', lease_until = NULL, attempts = attempts - 1"
        " WHERE id = :id AND status = 'sending' AND claim_token = :token",
        {"id": message.outbox_id, "token": message.claim_token},
    )


async def mark_final(db: Database, message: OutboundMessage, status: str, error: str) -> None:
    """`failed` (gave up, with why) or `skipped` (nowhere to send: opted out…)."""
    await db.execute(
        "UPDATE outbox SET status = :status, lease_until = NULL, send_started_at = NULL,"
        " last_error = :error WHERE id = :id AND status = 'sending' AND claim_token = :token",
        {
            "status": status,
            "error": error[:500],
            "id": message.outbox_id,
            "token": message.claim_token,
        },
    )
