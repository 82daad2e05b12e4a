"""Queueing several messages to one customer in one statement (a booking's reminders)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bookbot.services import outbox
from bookbot.store.db import Database
from tests import builders

NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)


def queued(n: int, prefix: str = "r") -> list[outbox.Queued]:
    return [
        outbox.Queued(
            template="reminder_1h",
            params={"session_id": k, "class_name": "Wheel"},
            due_at=NOW + timedelta(minutes=k),
            dedupe_key=f"{prefix}:{k}",
        )
        for k in range(n)
    ]


async def test_many_are_queued_once_each_with_their_own_fields(db: Database) -> None:
    w = await builders.studio(db)
    ana = await builders.customer(db, w, "ana")
    # 250 rows: more than one INSERT's worth; a second call with half of them old adds 50.
    async with db.transaction() as tx:
        first = await outbox.enqueue_many(
            tx, now=NOW, studio_id=w.studio_id, customer_id=ana, messages=queued(250)
        )
    async with db.transaction() as tx:
        again = await outbox.enqueue_many(
            tx, now=NOW, studio_id=w.studio_id, customer_id=ana, messages=queued(300)[200:]
        )
        rows = await tx.all(
            "SELECT dedupe_key, template, params, due_at, status, customer_id FROM outbox"
            " WHERE studio_id = :s ORDER BY id",
            {"s": w.studio_id},
        )

    assert (first, again) == (250, 50)
    assert len(rows) == 300
    last = rows[-1]
    assert last["dedupe_key"] == "r:299"
    assert (last["template"], last["status"], last["customer_id"]) == (
        "reminder_1h",
        "pending",
        ana,
    )
    assert json.loads(last["params"]) == {"session_id": 299, "class_name": "Wheel"}
    assert len({r["dedupe_key"] for r in rows}) == 300


async def test_an_empty_list_queues_nothing(db: Database) -> None:
    w = await builders.studio(db)
    ana = await builders.customer(db, w, "ana")
    async with db.transaction() as tx:
        added = await outbox.enqueue_many(
            tx, now=NOW, studio_id=w.studio_id, customer_id=ana, messages=[]
        )
    assert added == 0
