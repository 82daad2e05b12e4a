"""The bots one process serves: which one an update or a studio's message goes through."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.telegram_bot import TelegramBot, TelegramSettings
from bookbot.handlers.telegram_bots import BotNotServed, TelegramBots
from bookbot.services.inbox import InboxItem
from bookbot.store.db import Database

NOWHERE = "http://127.0.0.1:9/bot"  # nothing listens: getMe fails at once


def _bot(db: Database, token: str, studio_id: int | None = None) -> TelegramBot:
    clock = FrozenClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    endpoint = token.split(":")[0] if studio_id is not None else ""
    return TelegramBot(
        Dialogues(db, clock),
        TelegramSettings(token, NOWHERE),
        endpoint=endpoint,
        studio_id=studio_id,
    )


def _item(external_id: str) -> InboxItem:
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    return InboxItem(1, "telegram", external_id, "telegram:1", {}, now, 1, "token")


async def test_a_studio_bot_serves_its_studio_and_the_default_the_rest(db: Database) -> None:
    default, own = _bot(db, "4242:DEFAULT"), _bot(db, "5001:OWN", studio_id=7)
    bots = TelegramBots(default)
    bots.add(own)
    assert bots.for_studio(7) is own
    assert bots.for_studio(8) is default
    assert bots.for_studio(None) is default
    assert bots.for_endpoint("5001") is own
    assert bots.for_endpoint("") is default
    assert own.external_id(12) == "5001:12"
    assert default.external_id(12) == "12"
    assert bots.bot_of(_item("5001:12")) is own
    assert bots.bot_of(_item("12")) is default
    with pytest.raises(BotNotServed):
        bots.bot_of(_item("5999:12"))


async def test_a_studio_bot_that_cannot_start_is_dropped_and_its_messages_wait(
    db: Database,
) -> None:
    """Not sent through the default bot instead: its customers never started that one."""
    bots = TelegramBots(None)
    bots.add(_bot(db, "5001:REVOKED", studio_id=7))
    async with AsyncExitStack() as stack:
        assert await bots.open(stack) == []
    assert bots.for_studio(7) is None
    assert bots.endpoint_for(7) == "5001"


async def test_the_default_bot_that_cannot_start_stops_the_process(db: Database) -> None:
    bots = TelegramBots(_bot(db, "4242:DEFAULT"))
    async with AsyncExitStack() as stack:
        with pytest.raises(Exception, match=r"(?i)connect|network|error"):
            await bots.open(stack)
