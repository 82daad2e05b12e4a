"""Human handoff reads what it needs through its indexes, not the history: with thousands of
ended handoffs and forwarded messages and a busy inbox, the per-message and per-tick
queries of services.handoff are EXPLAINed on SQLite and PostgreSQL (after ANALYZE) and must
name their index and read no growing table whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.services import handoff
from bookbot.store.db import Database
from tests import builders
from tests.store.test_query_plans import _plan

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ENDED = 3000
GROWING = ("handoffs", "handoff_messages", "inbox", "h", "m")


@pytest.fixture
async def world(db: Database) -> builders.World:
    """A customer with 3000 ended handoffs (a forward each), two others in one now, and an
    inbox of 5000 handled messages."""
    w = await builders.studio(db)
    ana = await builders.customer(db, w, "ana")
    others = [await builders.customer(db, w, name) for name in ("ben", "cy")]
    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO handoffs (studio_id, customer_id, channel, address, started_at,"
            " last_activity_at, ended_at, ended_by) VALUES (:studio_id, :customer_id, 'sms',"
            " '+447700900001', :at, :at, :ended, :by)",
            [
                {
                    "studio_id": w.studio_id,
                    "customer_id": ana,
                    "at": NOW - timedelta(hours=i + 1),
                    "ended": NOW - timedelta(hours=i),
                    "by": "timeout",
                }
                for i in range(ENDED)
            ]
            + [
                {
                    "studio_id": w.studio_id,
                    "customer_id": c,
                    "at": NOW - timedelta(minutes=5),
                    "ended": None,
                    "by": None,
                }
                for c in others
            ],
        )
        ids = [int(r["id"]) for r in await tx.all("SELECT id FROM handoffs ORDER BY id")]
        await tx.execute_many(
            "INSERT INTO handoff_messages (studio_id, handoff_id, staff_chat_id,"
            " staff_message_id, created_at) VALUES (:studio_id, :handoff_id, -100, :m, :at)",
            [{"studio_id": w.studio_id, "handoff_id": h, "m": h, "at": NOW} for h in ids],
        )
        await tx.execute_many(
            "INSERT INTO inbox (source, external_id, chat, payload, received_at, status)"
            " VALUES ('twilio', :x, :chat, :payload, :at, 'done')",
            [
                {
                    "x": f"SM{i}",
                    "chat": f"sms:+4477009{i % 500:05}",
                    "payload": json.dumps({"form": {"Body": f"message {i}"}}),
                    "at": NOW,
                }
                for i in range(5000)
            ],
        )
    if db.dialect == "postgresql":
        async with db.transaction() as tx:
            await tx.execute("ANALYZE")
    w.ids["ben"] = others[0]
    return w


async def _uses(db: Database, sql: str, params: dict[str, object], *index: str) -> None:
    """`sql` reads through one of `index` (SQLite names a UNIQUE constraint's own index
    sqlite_autoindex_<table>_N) and reads no growing table whole."""
    plan = await _plan(db, sql, params)
    shown = "\n".join(plan)
    assert any(name in step for step in plan for name in index), f"{index} not used:\n{shown}"
    for step in plan:
        words = step.lstrip(" ->").split()
        whole = (words[:1] == ["SCAN"] and words[1] in GROWING) or (
            words[:3] == ["Seq", "Scan", "on"] and words[3] in GROWING
        )
        assert not whole, f"reads a growing table whole:\n{shown}"


async def test_the_open_handoff_is_found_by_its_unique_index(
    db: Database, world: builders.World
) -> None:
    params = {"studio_id": world.studio_id, "customer_id": world["ana"]}
    await _uses(db, handoff.OPEN_SQL, params, "uq_handoffs_open")


@pytest.mark.usefixtures("world")
async def test_a_staff_reply_finds_its_forward_by_index(db: Database) -> None:
    params = {"chat": -100, "message_id": 1500}
    await _uses(
        db,
        handoff.BY_MESSAGE_SQL,
        params,
        "uq_handoff_messages_staff_chat_id",
        "sqlite_autoindex_handoff_messages",
    )


async def test_a_sent_forward_is_noted_by_index(db: Database, world: builders.World) -> None:
    params = {"message_id": 1, "studio_id": world.studio_id, "outbox_id": 7, "chat": -100}
    await _uses(db, handoff.NOTE_SENT_SQL, params, "ix_handoff_messages_outbox")


@pytest.mark.usefixtures("world")
async def test_the_quiet_sweep_reads_only_open_handoffs(db: Database) -> None:
    params = {"cutoff": NOW, "limit": 100}
    await _uses(db, handoff.QUIET_SQL, params, "ix_handoffs_open_activity")
    assert [h.customer_id for h in await handoff.quiet_since(db, NOW, 100)] != []


@pytest.mark.usefixtures("world")
async def test_recent_messages_are_read_by_chat_through_an_index(db: Database) -> None:
    params = {"chat": "sms:+447700900007", "limit": 5}
    await _uses(db, handoff.RECENT_SQL, params, "ix_inbox_chat")
    texts = await handoff.recent_texts(db, "sms:+447700900007", 3)
    assert texts == ["message 3507", "message 4007", "message 4507"]
