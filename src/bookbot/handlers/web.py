"""The HTTP side of `bookbot run`: webhooks served by aiohttp (Telegram here; Twilio's
routes come from `twilio_webhook`).

Telegram's webhook must carry the secret token we registered (X-Telegram-Bot-Api-Secret-
Token); anything else gets 403 and is not looked at. A body that is not a Telegram update
gets 400. A good update is stored in the inbox and only then acknowledged.

While the server stops, every webhook is answered 503 (`Gate`), so the sender keeps the
update and delivers it again later instead of handing it to a process that is going away.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bookbot.handlers.telegram_bot import NotAnUpdate, TelegramBot

log = logging.getLogger(__name__)
TELEGRAM_PATH = "/telegram/webhook"
MAX_BODY = 1024 * 1024
HEALTH_PATH = "/healthz"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def telegram_route(bot: TelegramBot, secret: str) -> web.RouteDef:
    async def receive(request: web.Request) -> web.Response:
        offered = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(offered.encode(), secret.encode()):
            log.warning("telegram webhook: wrong or missing secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            await bot.accept(json.loads(await request.read()))
        except (ValueError, RecursionError, NotAnUpdate):  # not JSON, too deep, wrong shape
            return web.Response(status=400, text="not a Telegram update")
        return web.Response(text="ok")

    return web.post(TELEGRAM_PATH, receive)


class Gate:
    """Open while we take webhooks; closed (503) from the moment the server stops."""

    def __init__(self) -> None:
        self.open = True

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.open and request.path != HEALTH_PATH:
            return web.Response(status=503, text="stopping", headers={"Retry-After": "5"})
        return await handler(request)


def make_app(*routes: web.RouteDef, gate: Gate | None = None) -> web.Application:
    """The webhook server: the given channels' routes plus a health check."""
    middlewares = [gate.middleware] if gate is not None else []
    app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares)
    app.add_routes([*routes, web.get(HEALTH_PATH, _health)])
    return app


async def _health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")
