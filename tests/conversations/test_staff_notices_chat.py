"""/notices: staff choose what their chat is told of customer activity, and how."""

from __future__ import annotations

import json

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import (
    MAYA_TELEGRAM,
    NOT_STAFF,
    _all,
    ben_and_cleo_today,
    staff_chat,
)


async def subscription(db: Database) -> list[tuple[str, str, str, str]]:
    rows = await _all(
        db, "SELECT channel, address, events, mode FROM staff_notice_subscriptions ORDER BY id"
    )
    return [(r["channel"], r["address"], r["events"], r["mode"]) for r in rows]


async def test_staff_subscribe_choose_events_and_switch_off(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/notices")
    assert "This chat is not told of customer activity." in maya.text
    assert maya.labels[:3] == ["⚡ At once", "🗓 Daily summary", "🔕 Off ✓"]

    await maya.press("⚡ At once")
    assert "This chat is told at once of:" in maya.text
    assert "• Waitlist joins" in maya.text
    assert await subscription(db) == [
        ("telegram", MAYA_TELEGRAM, "booking,cancellation,waitlist,handoff", "instant")
    ]

    await maya.press("☑ Waitlist joins")
    assert "☐ Waitlist joins" in maya.labels
    await maya.press("🗓 Daily summary")
    assert "This chat gets a summary every day at 08:00 of:" in maya.text
    assert await subscription(db) == [
        ("telegram", MAYA_TELEGRAM, "booking,cancellation,handoff", "digest")
    ]

    await maya.press("🔕 Off")
    assert await subscription(db) == []
    assert "⬅ Back" in maya.labels


async def test_a_subscribed_chat_is_told_of_a_new_booking(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/notices")
    await maya.press("⚡ At once")

    await ben_and_cleo_today(db, clock, studio_id)  # a booking for 2 and a pass reservation

    rows = await _all(
        db,
        "SELECT channel, address, params FROM outbox WHERE template = 'staff_activity' ORDER BY id",
    )
    told = [(r["channel"], r["address"], json.loads(r["params"])) for r in rows]
    assert [(c, a, p["kind"], p["customer_name"]) for c, a, p in told] == [
        ("telegram", MAYA_TELEGRAM, "booking", "Ben Baker"),
        ("telegram", MAYA_TELEGRAM, "booking", "Cleo Cruz"),
    ]
    assert told[0][2]["guests"] == 2


async def test_notices_is_for_staff_only(dialogues: Dialogues, db: Database) -> None:
    eve = Chat(dialogues, address="6002", name="Eve", channel=Channel.TELEGRAM)
    await eve.say("/start")
    await eve.say("/notices")
    assert NOT_STAFF in eve.text
    assert await subscription(db) == []
