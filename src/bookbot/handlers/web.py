"""The HTTP side of `bookbot run`: webhooks served by aiohttp (Telegram here; Twilio's
routes come from `twilio_webhook`).

Telegram's webhook must carry the secret token we registered (X-Telegram-Bot-Api-Secret-
Token); anything else gets 403 and is not looked at. A good update is queued for the bot
and acknowledged at once, so Telegram never waits on our database.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bookbot.handlers.telegram_bot import TelegramBot

log = logging.getLogger(__name__)
TELEGRAM_PATH = "/telegram/webhook"
MAX_BODY = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def telegram_route(bot: TelegramBot, secret: str) -> web.RouteDef:
    async def receive(request: web.Request) -> web.Response:
        offered = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(offered.encode(), secret.encode()):
            log.warning("telegram webhook: wrong or missing secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            payload = json.loads(await request.read())
            update = Update.de_json(payload, bot.app.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not a Telegram update")
        await bot.app.update_queue.put(update)
        return web.Response(text="ok")

    return web.post(TELEGRAM_PATH, receive)


def make_app(*routes: web.RouteDef) -> web.Application:
    """The webhook server: the given channels' routes plus a health check."""
    app = web.Application(client_max_size=MAX_BODY)
    app.add_routes([*routes, web.get("/healthz", _health)])
    return app


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")
