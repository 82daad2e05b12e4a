"""A studio loaded from the example file, with sessions, for dialogue tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.cli.demo import example_path
from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.services import generation
from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_file
from tests.conversations.chat import Chat

# Friday 20 Nov 2026, 09:00 in London; the course runs start in March and June 2027.
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def studio_id(db: Database, clock: FrozenClock) -> int:
    report = await load_studio(db, parse_studio_file(example_path()))
    for pattern_id in await generation.pattern_ids(db, report.studio_id):
        await generation.generate_sessions(
            db, clock, report.studio_id, pattern_id, preview=False, horizon=timedelta(weeks=4)
        )
    return report.studio_id


@pytest.fixture
def dialogues(db: Database, clock: FrozenClock, studio_id: int) -> Dialogues:
    return Dialogues(db, clock)


@pytest.fixture
async def chat(dialogues: Dialogues) -> Chat:
    ana = Chat(dialogues)
    await ana.say("/start")
    return ana
