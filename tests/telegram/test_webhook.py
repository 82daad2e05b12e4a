"""Webhook mode: Telegram's secret token is checked, each update is handled once."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bookbot.engine.clock import FrozenClock
from bookbot.handlers.telegram_bot import TelegramBot
from bookbot.handlers.web import SECRET_HEADER, TELEGRAM_PATH, make_app, telegram_route
from bookbot.store.db import Database
from tests.pipeline import Pipeline, pipeline

from .emulator import AsyncTgClient, Emulator, aclient, eventually
from .test_bot import TOKEN, make_bot

SECRET = "s3cret-token_for-tests"
CHAT = 107


def text_update(update_id: int, text: str = "/start") -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": CHAT, "type": "private", "first_name": "Web"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Web"},
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


@pytest.mark.usefixtures("studio")
async def test_webhook_checks_the_secret_and_handles_each_update_once(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    bot = make_bot(db, clock, emulator)
    flow = pipeline(db, clock, {"telegram": bot}, telegram=bot)
    user = aclient(emulator, TOKEN, chat_id=CHAT)
    async with bot.bot:
        welcomes, statuses = await _exchange(bot, flow, user)

    assert statuses == {
        "no secret": 403,
        "wrong secret": 403,
        "garbage": 400,
        "wrong shapes": [400] * len(WRONG_SHAPES),
        "twice": [200, 200],
    }
    assert welcomes == 1


# Valid JSON, but not an update: each gets 400, never a 500.
WRONG_SHAPES: list[bytes] = [
    b"[]",
    b"null",
    b'{"message": "hi"}',
    b'{"update_id": "7"}',
    b'{"update_id": 8, "message": "hi"}',
    b'{"update_id": 9, "message": {"chat": 5}}',
    b"[" * 50_000 + b"]" * 50_000,
    b'{"update_id": 10, "message": {"text": "\xff"}}',
]


async def _exchange(
    bot: TelegramBot, flow: Pipeline, user: AsyncTgClient
) -> tuple[int, dict[str, object]]:
    async with TestClient(TestServer(make_app(telegram_route(bot, SECRET)))) as http:

        def post(update: object, secret: str | None = SECRET) -> Any:
            headers = {SECRET_HEADER: secret} if secret else {}
            data = update if isinstance(update, bytes) else json.dumps(update).encode()
            return http.post(TELEGRAM_PATH, data=data, headers=headers)

        statuses: dict[str, object] = {
            "no secret": (await post(text_update(1), None)).status,
            "wrong secret": (await post(text_update(1), "nope")).status,
            "garbage": (await post(b"{not json")).status,
            "wrong shapes": [(await post(body)).status for body in WRONG_SHAPES],
            # Telegram redelivers when it is unsure we got an update.
            "twice": [(await post(text_update(2))).status for _ in range(2)],
        }
        # One person's updates run in order: once /help is answered, the redelivered
        # /start has been dealt with too.
        await post(text_update(3, "/help"))
        await flow.drain()
        await eventually(lambda: _count(user, "sending its number or its words"))
        return await _count(user, "What would you like to do?"), statuses


async def _count(user: AsyncTgClient, text: str) -> int:
    return sum(text in m.get("text", "") for m in await user.history())
