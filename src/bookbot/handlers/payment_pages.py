"""The pages Stripe Checkout sends the customer back to: GET /pay/success and /pay/cancel.

Small, translated, static-looking pages that send the customer back to the chat (a deep link
into the Telegram bot, the WhatsApp number or the SMS number). They decide nothing: the
booking is confirmed by Stripe's webhook, never by someone opening a URL, so the success
page says the payment was received and that the confirmation comes in the chat.

The language is the `lang` query parameter when it names one we speak; otherwise the
studio's (the payment's studio, else the default studio); otherwise English. Every value
put into the page is escaped.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bookbot.presentation.i18n import DEFAULT, SUPPORTED, Translator, translator
from bookbot.services.payment_urls import CANCEL_PATH, SUCCESS_PATH, PaymentUrls, payment_urls
from bookbot.store.db import Database

__all__ = ["CANCEL_PATH", "SUCCESS_PATH", "PaymentPages", "PaymentUrls", "payment_urls"]

log = logging.getLogger(__name__)
TELEGRAM_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
E164 = re.compile(r"\+[1-9]\d{6,14}")
MAX_ID = 2**31 - 1
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # The success URL carries the Checkout Session's id: keep it out of other sites' logs.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "text-align:center;color:#222}a.button{display:inline-block;margin:.4rem;padding:.7rem 1.2rem;"
    "border-radius:.5rem;background:#2a6df4;color:#fff;text-decoration:none}"
)


@dataclass(frozen=True)
class ChatLinks:
    """Where the customer's chat with us lives, as far as this process knows."""

    telegram_username: Callable[[], str | None] = lambda: None  # known once the bot started
    whatsapp_number: str | None = None  # E.164, with or without "whatsapp:"
    sms_number: str | None = None  # E.164
    # A studio's own bot and numbers, where it has them (None: these, the default ones).
    studio: Callable[[int], ChatLinks | None] = lambda _studio_id: None

    def links(self, t: Translator, via: str | None) -> list[tuple[str, str]]:
        """(label, href) of the chats to go back to: the one the customer came from when it
        is known and we have it, else every one we have."""
        found: dict[str, tuple[str, str]] = {}
        username = self._username()
        if username:
            found["telegram"] = (t.gettext("Open Telegram"), f"https://t.me/{username}")
        whatsapp = _e164(self.whatsapp_number)
        if whatsapp:
            found["whatsapp"] = (t.gettext("Open WhatsApp"), f"https://wa.me/{whatsapp[1:]}")
        sms = _e164(self.sms_number)
        if sms:
            found["sms"] = (t.gettext("Open Messages"), f"sms:{sms}")
        if via in found:
            return [found[via]]
        return list(found.values())

    def _username(self) -> str | None:
        try:
            name = self.telegram_username()
        except RuntimeError:  # the bot is not initialised (yet): no link rather than no page
            return None
        name = (name or "").removeprefix("@")
        return name if TELEGRAM_USERNAME.fullmatch(name) else None


def _e164(number: str | None) -> str | None:
    bare = (number or "").removeprefix("whatsapp:").strip()
    return bare if E164.fullmatch(bare) else None


class PaymentPages:
    """The return pages, served by the webhook server."""

    def __init__(
        self, db: Database, chats: ChatLinks, *, default_studio: str | None = None
    ) -> None:
        self.db = db
        self.chats = chats
        self.default_studio = default_studio

    def routes(self) -> list[web.RouteDef]:
        return [web.get(SUCCESS_PATH, self._success), web.get(CANCEL_PATH, self._cancel)]

    async def _success(self, request: web.Request) -> web.Response:
        t = translator(await self.language(request))
        return self._page(
            request,
            t,
            await self._chats(request),
            heading=t.gettext("Payment received — back to the chat"),
            text=t.gettext(
                "Thank you. Your confirmation arrives in the chat as soon as the payment is "
                "through."
            ),
        )

    async def _cancel(self, request: web.Request) -> web.Response:
        t = translator(await self.language(request))
        return self._page(
            request,
            t,
            await self._chats(request),
            heading=t.gettext("Payment not completed — back to the chat"),
            text=t.gettext(
                "Nothing was charged. You can pay from the chat while your places are held."
            ),
        )

    async def _chats(self, request: web.Request) -> ChatLinks:
        """Back to the paying studio's own bot or number where it has one."""
        payment = request.query.get("p", "")
        if not (payment.isdigit() and 0 < int(payment) <= MAX_ID):
            return self.chats
        try:
            studio_id = await self.db.scalar(
                "SELECT studio_id FROM payments WHERE id = :id", {"id": int(payment)}
            )
        except Exception:  # the default links beat no page
            log.exception("payment page: could not read the payment's studio")
            return self.chats
        own = self.chats.studio(int(studio_id)) if studio_id is not None else None
        return own or self.chats

    def _page(
        self, request: web.Request, t: Translator, chats: ChatLinks, *, heading: str, text: str
    ) -> web.Response:
        via = request.query.get("via")
        buttons = "".join(
            f'<a class="button" href="{html.escape(href)}">{html.escape(label)}</a>'
            for label, href in chats.links(t, via)
        )
        body = (
            f'<!DOCTYPE html><html lang="{html.escape(t.language)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(heading)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{html.escape(heading)}</h1><p>{html.escape(text)}</p>"
            f"<p>{buttons}</p></body></html>"
        )
        return web.Response(text=body, content_type="text/html", charset="utf-8", headers=HEADERS)

    async def language(self, request: web.Request) -> str:
        """The page's language: `lang` if we speak it, else the studio's, else English."""
        asked = request.query.get("lang", "").strip().lower()
        if asked in SUPPORTED:
            return asked
        try:
            studio_language = await self._studio_language(request.query.get("p", ""))
        except Exception:  # a page in English beats no page
            log.exception("payment page: could not read the studio's language")
            studio_language = None
        return studio_language if studio_language in SUPPORTED else DEFAULT

    async def _studio_language(self, payment: str) -> str | None:
        if payment.isdigit() and 0 < int(payment) <= MAX_ID:
            row = await self.db.one(
                "SELECT s.default_language AS language FROM payments p"
                " JOIN studios s ON s.id = p.studio_id WHERE p.id = :id",
                {"id": int(payment)},
            )
            if row is not None:
                return str(row["language"])
        if self.default_studio:
            row = await self.db.one(
                "SELECT default_language AS language FROM studios WHERE slug = :slug",
                {"slug": self.default_studio},
            )
            if row is not None:
                return str(row["language"])
        return None
