"""Publishing the "/" menu never stops the bot: a Bot API that refuses setMyCommands (a
small local stand-in that answers 400 for some chats and 500 for the rest) is logged and
the bot goes on; every menu is still tried once."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.telegram_bot import TelegramBot, TelegramSettings
from bookbot.store.db import Database
from tests import builders
from tests.examples import NOW

TOKEN = "4343:MENU"


@dataclass
class RefusingBotApi:
    """getMe works; setMyCommands is refused: 400 for a chat scope, 500 otherwise."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = dict(await request.post())
        if method == "getMe":
            me = {"id": 1, "is_bot": True, "first_name": "Bot", "username": "bot"}
            return web.json_response({"ok": True, "result": me})
        self.calls.append({"method": method, **params})
        if "chat_id" in json.loads(str(params.get("scope", "{}"))):
            error = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            return web.json_response(error, status=400)
        return web.json_response(
            {"ok": False, "error_code": 500, "description": "down"}, status=500
        )


@pytest.fixture
async def api() -> AsyncIterator[RefusingBotApi]:
    standin = RefusingBotApi()
    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/{{method}}", standin.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    standin.base = f"http://127.0.0.1:{runner.addresses[0][1]}/bot"
    yield standin
    await runner.cleanup()


async def test_a_refused_menu_is_logged_and_the_bot_goes_on(
    db: Database, api: RefusingBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    w = await builders.studio(db)
    await db.execute(
        "UPDATE staff SET telegram_user_id = 9001 WHERE id = :maya", {"maya": w["maya"]}
    )
    bot = TelegramBot(Dialogues(db, FrozenClock(NOW)), TelegramSettings(TOKEN, api.base))
    caplog.set_level(logging.WARNING, logger="bookbot.handlers.telegram_bot")
    async with bot.bot:
        await bot.publish_commands()  # no exception

    assert [c["method"] for c in api.calls] == ["setMyCommands"] * 4  # 2 languages x 2 scopes
    assert [c.get("language_code") for c in api.calls] == [None, None, "es", "es"]
    refused = [r for r in caplog.records if "setMyCommands" in r.getMessage()]
    assert len(refused) == 4
