"""Booking-funnel events for a lesson package bought in chat (the packages' own screen)."""

from __future__ import annotations

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.examples import load_tutor_studio


@pytest.fixture
async def studio_id(db: Database, clock: FrozenClock) -> int:
    return await load_tutor_studio(db, clock)


async def test_a_package_got_at_the_studio_is_viewed_started_and_completed(
    dialogues: Dialogues, db: Database
) -> None:
    ana = Chat(dialogues)
    await ana.say("/start")
    await ana.press("👤 Book an appointment")
    await ana.press("Spanish lesson (60 min)")  # the service's first screen, with its packages
    await ana.press("🎟 5 lessons with Lucía")
    await ana.press("✅ Get it, pay at the studio")

    rows = await db.all("SELECT channel, step, item_kind, item_key FROM funnel_events ORDER BY id")
    assert [(r["step"], r["item_kind"], r["item_key"]) for r in rows] == [
        ("view", "service", "spanish-lesson"),
        ("view", "package", "five-lessons"),
        ("started", "package", "five-lessons"),
        ("completed", "package", "five-lessons"),
    ]
