"""`bookbot run`: the bot. Telegram by polling, or by webhook when a public URL is set."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
from typing import Any

from aiohttp import web

from bookbot.cli.common import opened
from bookbot.config import Settings
from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import SystemClock
from bookbot.handlers.telegram_bot import TelegramBot, TelegramSettings
from bookbot.handlers.web import TELEGRAM_PATH, make_app

log = logging.getLogger("bookbot")


def register(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run the bot (needs BOOKBOT_TELEGRAM_TOKEN; webhook mode when BOOKBOT_PUBLIC_URL is set)",
        description="Environment: BOOKBOT_TELEGRAM_TOKEN, BOOKBOT_TELEGRAM_API_BASE (a Bot API "
        "stand-in), BOOKBOT_PUBLIC_URL (https://bot.example.com: webhook mode), "
        "BOOKBOT_WEBHOOK_SECRET, BOOKBOT_HOST, BOOKBOT_PORT, BOOKBOT_DEFAULT_STUDIO.",
    )
    run.set_defaults(run=run_bot)


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve(settings: Settings, bot: TelegramBot) -> None:
    """Start the bot, by webhook or polling, and run until SIGINT/SIGTERM."""
    app = bot.app
    async with app:
        await app.start()
        runner = None
        if settings.public_url:
            secret = settings.webhook_secret or secrets.token_urlsafe(32)
            runner = web.AppRunner(make_app(bot, secret))
            await runner.setup()
            await web.TCPSite(runner, settings.host, settings.port).start()
            url = settings.public_url + TELEGRAM_PATH
            await app.bot.set_webhook(url, secret_token=secret)
            log.info("webhook mode: %s (listening on %s:%s)", url, settings.host, settings.port)
        else:
            await app.bot.delete_webhook()
            assert app.updater is not None  # noqa: S101 - built with an updater
            await app.updater.start_polling()
            log.info("polling mode")
        try:
            await _until_stopped()
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if runner is not None:
                await runner.cleanup()
            await app.stop()


async def run_bot(settings: Settings, args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not settings.telegram_token:
        raise ValueError("set BOOKBOT_TELEGRAM_TOKEN to the token @BotFather gave you")
    async with opened(settings) as db:
        dialogues = Dialogues(db, SystemClock(), default_studio=settings.default_studio)
        bot = TelegramBot(
            dialogues, TelegramSettings(settings.telegram_token, settings.telegram_api_base)
        )
        await serve(settings, bot)
    return 0
