"""The inbox: whatever a channel sends us is stored before we acknowledge it.

A webhook (or the Telegram poller) writes the payload under its external id (Twilio
MessageSid, Telegram update_id, Stripe event id) in one transaction and only then answers
200. A redelivered id is recognised by the unique key and not queued again. A worker
claims stored rows with a lease and processes each one; the row is marked done in the
same transaction as its effects (the dialogue's new state and the replies queued in the
outbox), so a crash at any point means the row is processed after the restart, once.

Order and fairness: a chat's rows are processed one at a time, in arrival order; a claim
takes only the oldest open row of each chat, so one chat with a thousand waiting rows
takes one place in a claim, like everyone else.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bookbot.services.common import in_list
from bookbot.store.db import Database, Tx, instant

MAX_ERROR = 500


@dataclass(frozen=True)
class InboxItem:
    """One claimed row."""

    id: int
    source: str
    external_id: str
    chat: str
    payload: dict[str, Any]
    received_at: datetime
    attempts: int  # including this one
    claim_token: str


class LostClaim(Exception):
    """The row's lease ran out and another worker took it; our work must not commit."""


async def accept(
    db: Database,
    source: str,
    external_id: str,
    chat: str,
    payload: dict[str, Any],
    *,
    now: datetime,
) -> bool:
    """Store an inbound update (before acknowledging it). False: already stored."""
    added = await db.execute(
        "INSERT INTO inbox (source, external_id, chat, payload, received_at, status,"
        " attempts) VALUES (:source, :external_id, :chat, :payload, :now, 'pending', 0)"
        " ON CONFLICT (source, external_id) DO NOTHING",
        {
            "source": source,
            "external_id": external_id,
            "chat": chat,
            "payload": json.dumps(payload, sort_keys=True),
            "now": now,
        },
    )
    return added == 1


# The oldest open row of each chat whose earlier rows are all finished, not leased by a
# live worker, and not waiting for a retry. Reads the partial indexes on open rows only.
_CLAIMABLE = """SELECT i.id FROM inbox i
WHERE i.status = 'pending'
  AND (i.lease_until IS NULL OR i.lease_until < :now)
  AND (i.next_attempt_at IS NULL OR i.next_attempt_at <= :now)
  AND NOT EXISTS (
    SELECT 1 FROM inbox e WHERE e.status = 'pending' AND e.chat = i.chat AND e.id < i.id)
ORDER BY i.id LIMIT :limit"""


async def claim(db: Database, now: datetime, limit: int, lease: timedelta) -> list[InboxItem]:
    """Take up to `limit` rows, at most one per chat, oldest first."""
    async with db.transaction() as tx:
        skip = " SKIP LOCKED" if tx.dialect == "postgresql" else ""
        rows = await tx.all(_CLAIMABLE + tx.for_update("i") + skip, {"now": now, "limit": limit})
        if not rows:
            return []
        body, params = in_list("i", [r["id"] for r in rows])
        token = secrets.token_hex(8)
        claimed = await tx.all(
            "UPDATE inbox SET lease_until = :lease, claim_token = :token,"  # noqa: S608
            f" attempts = attempts + 1 WHERE id IN ({body})"
            " RETURNING id, source, external_id, chat, payload, received_at, attempts",
            {"lease": now + lease, "token": token, **params},
        )
    items = [
        InboxItem(
            id=r["id"],
            source=r["source"],
            external_id=r["external_id"],
            chat=r["chat"],
            payload=json.loads(r["payload"]),
            received_at=instant(r["received_at"]),
            attempts=r["attempts"],
            claim_token=token,
        )
        for r in claimed
    ]
    return sorted(items, key=lambda item: item.id)


async def renew(db: Database, items: list[InboxItem], until: datetime) -> None:
    """Keep the rows still being processed ours until `until` (a heartbeat): a short lease,
    renewed, lets a restart take over a dead process's rows within seconds."""
    for token in {item.claim_token for item in items}:
        body, params = in_list("i", [item.id for item in items if item.claim_token == token])
        await db.execute(
            "UPDATE inbox SET lease_until = :until WHERE id IN ("  # noqa: S608
            f"{body}) AND status = 'pending' AND claim_token = :token",
            {"until": until, "token": token, **params},
        )


async def finish(tx: Tx, item: InboxItem, now: datetime, status: str = "done") -> None:
    """Mark the row done (or throttled) inside the transaction that carries its effects.
    Raises LostClaim, rolling those effects back, if the row is no longer ours."""
    changed = await tx.execute(
        "UPDATE inbox SET status = :status, processed_at = :now, lease_until = NULL"
        " WHERE id = :id AND status = 'pending' AND claim_token = :token",
        {"status": status, "now": now, "id": item.id, "token": item.claim_token},
    )
    if changed != 1:
        raise LostClaim(f"inbox {item.id}")


async def erase(tx: Tx, item: InboxItem) -> None:
    """Blank the row's payload (the person who sent it asked to be forgotten)."""
    await tx.execute("UPDATE inbox SET payload = '{}' WHERE id = :id", {"id": item.id})


async def finish_alone(db: Database, item: InboxItem, now: datetime, status: str = "done") -> None:
    """`finish` in a transaction of its own (work with no other effects to commit)."""
    async with db.transaction() as tx:
        await finish(tx, item, now, status)


async def retry(db: Database, item: InboxItem, at: datetime, error: str) -> None:
    """Processing failed: due again at `at` (the chat's later rows wait behind it)."""
    await db.execute(
        "UPDATE inbox SET next_attempt_at = :at, lease_until = NULL, last_error = :error"
        " WHERE id = :id AND status = 'pending' AND claim_token = :token",
        {"at": at, "error": error[:MAX_ERROR], "id": item.id, "token": item.claim_token},
    )


async def give_up(db: Database, item: InboxItem, now: datetime, error: str) -> None:
    """Failed for good: kept with the reason, so the chat's later rows can go on."""
    await db.execute(
        "UPDATE inbox SET status = 'failed', processed_at = :now, lease_until = NULL,"
        " last_error = :error WHERE id = :id AND status = 'pending' AND claim_token = :token",
        {"now": now, "error": error[:MAX_ERROR], "id": item.id, "token": item.claim_token},
    )


async def release(db: Database, item: InboxItem) -> None:
    """Give a claimed row back unprocessed (the worker is stopping): due again at once."""
    await db.execute(
        "UPDATE inbox SET lease_until = NULL, attempts = attempts - 1"
        " WHERE id = :id AND status = 'pending' AND claim_token = :token",
        {"id": item.id, "token": item.claim_token},
    )
