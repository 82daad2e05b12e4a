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
import html
import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bookbot.handlers.telegram_bot import NotAnUpdate, TelegramBot
from bookbot.presentation import certificate_pdf
from bookbot.presentation.i18n import Translator, translator
from bookbot.services import certificates
from bookbot.store.db import Database

log = logging.getLogger(__name__)
TELEGRAM_PATH = "/telegram/webhook"  # the default bot's; a studio's own: /telegram/<bot id>
MAX_BODY = 1024 * 1024
HEALTH_PATH = "/healthz"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def webhook_path(endpoint: str) -> str:
    """Where Telegram posts a bot's updates: one path per bot, so each is stored as its own."""
    return f"/telegram/{endpoint}" if endpoint else TELEGRAM_PATH


def telegram_route(bot: TelegramBot, secret: str, path: str = TELEGRAM_PATH) -> web.RouteDef:
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

    return web.post(path, receive)


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


CERT_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}
CODE_PATTERN = "{code:[0-9A-Za-z-]{1,40}}"


def certificate_routes(db: Database, public_url: str | None) -> list[web.RouteDef]:
    """GET /verify/<code>: a small page saying whether a certificate is valid (holder,
    course, dates, studio), revoked (when, why) or unknown (404); GET /certificates/<code>.pdf:
    its PDF. The code alone decides (it is global and unguessable); nothing else is shown."""

    async def page(request: web.Request) -> web.Response:
        t = translator(_language(request))
        async with db.transaction(write=False) as tx:
            found = await certificates.verify(tx, request.match_info["code"])
        status, body = verification_page(found, t)
        return web.Response(
            status=status, text=body, content_type="text/html", headers=CERT_HEADERS
        )

    async def download(request: web.Request) -> web.Response:
        async with db.transaction(write=False) as tx:
            found = await certificates.by_code(tx, request.match_info["code"])
        if found is None:
            raise web.HTTPNotFound(text="not found", headers=CERT_HEADERS)
        body = certificate_pdf.pdf_for(found, public_url)
        headers = {
            **CERT_HEADERS,
            "Content-Disposition": f'attachment; filename="{certificate_pdf.filename(found.shown_code)}"',
        }
        return web.Response(body=body, content_type=certificate_pdf.MIME, headers=headers)

    return [
        web.get(certificate_pdf.VERIFY_PATH.format(code=CODE_PATTERN), page),
        web.get(certificate_pdf.DOWNLOAD_PATH.format(code=CODE_PATTERN), download),
    ]


def _language(request: web.Request) -> str:
    first = request.headers.get("Accept-Language", "").split(",")[0]
    return first.split(";")[0].strip()


def verification_page(found: certificates.Verification, t: Translator) -> tuple[int, str]:
    """The status and the escaped HTML of the /verify page."""
    _ = t._
    c = found.certificate
    if found.status == "unknown" or c is None:
        title, lines, status = _("Certificate not found"), [_("No certificate has this code.")], 404
    else:
        dates = certificate_pdf.dates_text(c.first_day, c.last_day, t.language)
        facts = [
            _("Holder: {name}").format(name=c.holder_name),
            _("Course: {course}").format(course=c.course_name),
            _("Dates: {dates}").format(dates=dates),
            _("Issued by: {studio}").format(studio=c.studio_name),
            _("Code: {code}").format(code=c.shown_code),
        ]
        status = 200
        if found.status == "revoked" and c.revoked_at is not None:
            title = _("Certificate revoked")
            day = c.revoked_at.date()
            when = certificate_pdf.dates_text(day, day, t.language)
            lines = [
                _("Revoked on {date}: {reason}").format(date=when, reason=c.revoked_reason or ""),
                *facts,
            ]
        else:
            title, lines = _("Valid certificate"), facts
    items = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    body = (
        f'<!doctype html><html lang="{html.escape(t.language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
        "max-width:36em;margin:2em auto;padding:0 1em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{items}</body></html>"
    )
    return status, body
