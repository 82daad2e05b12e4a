"""Fixtures for tests that drive a real python-telegram-bot Application against the emulator.

Without node/npm these tests skip; with BOOKBOT_REQUIRE_NODE=1 they fail instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.examples import NOW, load_example_studio
from tests.node_tools import npm_package, require_node

from .emulator import TELEGRAM_TEST_API, Emulator, run_emulator


@pytest.fixture(scope="session")
def telegram_emulator() -> Iterator[Emulator]:
    """One emulator process for the whole session (shared by all tokens)."""
    tools = require_node("the Telegram Bot API emulator (telegram-test-api)")
    prefix = npm_package(TELEGRAM_TEST_API, tools)
    with run_emulator(prefix, node=tools.node) as emulator:
        yield emulator


@pytest.fixture
def emulator(telegram_emulator: Emulator) -> Emulator:
    """The session's emulator, emptied for this test (messages, calls, callback answers)."""
    assert telegram_emulator.alive(), telegram_emulator.log()
    telegram_emulator.reset()
    return telegram_emulator


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def studio(db: Database, clock: FrozenClock) -> int:
    """The example pottery studio with four weeks of sessions."""
    return await load_example_studio(db, clock)
