"""A studio loaded from the example file, with sessions, for dialogue tests."""

from __future__ import annotations

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.examples import NOW, load_example_studio


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def studio_id(db: Database, clock: FrozenClock) -> int:
    return await load_example_studio(db, clock)


@pytest.fixture
def dialogues(
    db: Database,
    clock: FrozenClock,
    studio_id: int,  # noqa: ARG001 - requested for its rows: the studio is loaded first
) -> Dialogues:
    return Dialogues(db, clock)


@pytest.fixture
async def chat(dialogues: Dialogues) -> Chat:
    ana = Chat(dialogues)
    await ana.say("/start")
    return ana
