"""The real transport for outbox messages.

Notices (reminders, offers…) are rendered when sent and go through `NoticeRouter` to the
customer's preferred channel. A dialogue's replies (template `reply`) go back to the chat
they answer, as they were decided: buttons on Telegram, numbered lines by text.

Which of our bots or numbers sends: a reply goes back through the one its message came to
(its `endpoint` param); anything else for a studio through the studio's own bot or number
on that channel, else the deployment's default (`services.studio_channels`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from telegram import error as tg

from bookbot.conversations.model import TEXTING, Attachment, Channel, Reply
from bookbot.conversations.outbound import REPLY, reply_from_params
from bookbot.handlers.notices import Notice, NoticeRouter
from bookbot.handlers.session_change_ics import calendar_attachment, wants_calendar
from bookbot.handlers.templates import render
from bookbot.handlers.twilio_api import SendFailed
from bookbot.handlers.twilio_webhook import reply_text
from bookbot.presentation import certificate_pdf
from bookbot.presentation.i18n import translator
from bookbot.services import certificates, handoff
from bookbot.services.outbox import OutboundMessage
from bookbot.services.reachability import voice
from bookbot.services.transport import DeliveryError, Route

log = logging.getLogger(__name__)


class Pusher(Protocol):
    async def push(self, user_id: str, template: str, text: str) -> None: ...

    async def send_reply(
        self, chat_id: int, reply: Reply, edit: str | None, dialogue: str | None
    ) -> int: ...


class BotChoice(Protocol):
    """Which bot sends (`handlers.telegram_bots.TelegramBots`)."""

    def for_endpoint(self, endpoint: str) -> Pusher | None: ...

    def for_studio(self, studio_id: int | None) -> Pusher | None: ...


@dataclass
class NoticeTransport:
    router: NoticeRouter
    # Telegram with buttons: the notice becomes a dialogue screen with one-tap actions.
    telegram: Pusher | None = None
    # Where our web pages are (BOOKBOT_PUBLIC_URL): links to a certificate's PDF by text.
    public_url: str | None = None
    # Several bots (the studios' own beside the default): chosen per message; without it,
    # `telegram` sends everything.
    bots: BotChoice | None = None

    def _bot(self, message: OutboundMessage) -> Pusher | None:
        """The bot that sends `message`: the one a reply's message came to, else the
        studio's own, else the default."""
        if self.bots is None:
            return self.telegram
        endpoint = message.params.get("endpoint") if message.template == REPLY else None
        if isinstance(endpoint, str):
            return self.bots.for_endpoint(endpoint)
        return self.bots.for_studio(message.studio_id)

    async def route(self, message: OutboundMessage) -> Route | None:
        if message.template == REPLY:
            if message.channel is None or message.address is None:
                return None
            return Route(message.channel, message.address)
        if message.customer_id is None:
            # Addressed to a chat, not a customer (the studio's staff chat): send it there.
            if message.channel is None or message.address is None:
                return None
            return Route(message.channel, message.address)
        # Only a channel this process can send on: the worker waits for that channel's rate
        # token before sending, and a notice with nowhere to go must not wait for one first.
        first = await self.router.first_reachable(message.studio_id, message.customer_id)
        return Route(first[0].value, first[1]) if first else None

    async def send(self, message: OutboundMessage, route: Route) -> None:
        if message.template == REPLY:
            await self._reply(message, route)
            return
        text = await self._text(message)
        if message.customer_id is None:
            await self._to_chat(route, text, message.studio_id)
            return
        try:
            bot = self._bot(message)
            if route.channel == "telegram" and bot is not None:
                if message.template == certificates.TEMPLATE:
                    await self._certificate(bot, message, int(route.address))
                    return
                if wants_calendar(message.template, message.params):
                    await self._with_calendar(bot, message, int(route.address))
                    return
                await bot.push(route.address, _screen(message), text)
                return
            notice = Notice(text, {"1": text}, studio_id=message.studio_id)
            # The route was chosen as reachable a moment ago: send there, and only if it
            # turned the notice down meanwhile (opted out) go through the other channels.
            sent = await self.router.deliver_on(Channel(route.channel), route.address, notice)
            if sent is None:
                sent = await self.router.deliver(
                    message.studio_id, message.customer_id or 0, notice
                )
        except tg.TelegramError as error:
            raise _telegram_error(error) from error
        except SendFailed as error:
            raise _twilio_error(error) from error
        if sent.channel is None:
            raise DeliveryError(sent.how, permanent=True)

    async def _to_chat(self, route: Route, text: str, studio_id: int) -> None:
        """A plain message to a chat that is nobody's dialogue (a staff group): no buttons."""
        try:
            sent = await self.router.deliver_on(
                Channel(route.channel),
                route.address,
                Notice(text, {"1": text}, studio_id=studio_id),
            )
        except tg.TelegramError as error:
            raise _telegram_error(error) from error
        except SendFailed as error:
            raise _twilio_error(error) from error
        if sent is None or sent.channel is None:
            raise DeliveryError(f"{route.channel} cannot take it: {route.address}", permanent=True)

    async def _reply(self, message: OutboundMessage, route: Route) -> None:
        reply = reply_from_params(message.params)
        twilio = self.router.twilio
        bot = self._bot(message)
        endpoint = message.params.get("endpoint")
        try:
            if route.channel == Channel.TELEGRAM.value and bot is not None:
                sent = await bot.send_reply(
                    int(route.address),
                    reply,
                    message.params.get("edit"),
                    message.params.get("dialogue"),
                )
                if message.params.get("handoff") is not None:
                    await self._note_forward(message, int(route.address), sent)
                return
            if route.channel in TEXTING and twilio is not None:
                text = reply_text(reply)
                if not text:
                    return
                sids = await twilio.send_text(
                    Channel(route.channel),
                    route.address,
                    text,
                    studio_id=message.studio_id,
                    endpoint=endpoint if isinstance(endpoint, str) else None,
                )
                if not sids:
                    raise DeliveryError("opted out of this channel", permanent=True)
                return
        except tg.TelegramError as error:
            raise _telegram_error(error) from error
        except SendFailed as error:
            raise _twilio_error(error) from error
        raise DeliveryError(f"{route.channel} is not configured in this process")

    async def _note_forward(self, message: OutboundMessage, chat: int, message_id: int) -> None:
        """A customer's message forwarded to the staff chat (human handoff): remember its id
        there, so that a staff reply to it finds the customer. It was sent: a failure here
        must not send it again, so it is logged (that one message cannot be replied to)."""
        try:
            await handoff.note_sent(
                self.router.db,
                studio_id=message.studio_id,
                outbox_id=message.outbox_id,
                chat_id=chat,
                message_id=message_id,
            )
        except Exception:
            log.exception(
                "outbox %s: forwarded, but its message id was not kept", message.outbox_id
            )

    async def already_sent(
        self, message: OutboundMessage, route: Route, since: datetime
    ) -> bool | None:
        twilio = self.router.twilio
        if route.channel == "telegram" or twilio is None:
            return None  # the Bot API has no way to list what a bot sent
        if message.template == REPLY:
            text = reply_text(reply_from_params(message.params))
        else:
            text = await self._text(message)
        try:
            return await twilio.already_sent(
                Channel(route.channel), route.address, text, since, studio_id=message.studio_id
            )
        except SendFailed as error:
            raise _twilio_error(error) from error

    async def _text(self, message: OutboundMessage, *, attached: bool = False) -> str:
        to = await voice(self.router.db, message.studio_id, message.customer_id)
        params = message.params
        if message.template == certificates.TEMPLATE:  # by text: a link to the PDF
            url = (
                None
                if attached
                else certificate_pdf.download_url(
                    self.public_url, certificates.grouped(params["code"])
                )
            )
            params = {**params, "url": url, "attached": attached}
        return render(message.template, params, translator(to.language), to.timezone)

    async def _certificate(self, bot: Pusher, message: OutboundMessage, chat_id: int) -> None:
        """On Telegram a certificate arrives as its PDF, the notice as the caption."""
        async with self.router.db.transaction(write=False) as tx:
            found = await certificates.by_code(tx, message.params["code"])
        if found is None or found.studio_id != message.studio_id:
            raise DeliveryError("certificate gone", permanent=True)
        pdf = certificate_pdf.pdf_for(found, self.public_url)
        text = await self._text(message, attached=True)
        file = Attachment(certificate_pdf.filename(found.shown_code), certificate_pdf.MIME, pdf)
        await bot.send_reply(chat_id, Reply(text, attachment=file), None, None)

    async def _with_calendar(self, bot: Pusher, message: OutboundMessage, chat_id: int) -> None:
        """On Telegram a session change comes with the booking's updated .ics (the notice
        as its caption); by text it is the notice alone."""
        to = await voice(self.router.db, message.studio_id, message.customer_id)
        t = translator(to.language)
        text = render(message.template, {**message.params, "attached": True}, t, to.timezone)
        ics = calendar_attachment(message.params, t, stamp=message.due_at)
        await bot.send_reply(chat_id, Reply(text, attachment=ics), None, None)


def _screen(message: OutboundMessage) -> str:
    """Which actions go under it: check-in only under a reservation's last reminder."""
    if message.template == "reminder_1h" and message.params.get("reservation"):
        return "reminder_1h_reservation"
    if message.template == "feedback_request":  # the stars rate this booking
        return f"feedback_request:{message.params.get('registration_id', '')}"
    return message.template


def _telegram_error(error: tg.TelegramError) -> DeliveryError:
    if isinstance(error, tg.RetryAfter):
        return DeliveryError(str(error), retry_after=_seconds(error.retry_after))
    if isinstance(error, tg.Forbidden | tg.BadRequest):  # blocked the bot, chat gone
        return DeliveryError(f"telegram: {error}", permanent=True)
    # Timeouts and network trouble: try again later; the request may have arrived.
    return DeliveryError(f"telegram: {error}", maybe_sent=isinstance(error, tg.NetworkError))


def _twilio_error(error: SendFailed) -> DeliveryError:
    return DeliveryError(
        f"twilio: {error}",
        retry_after=error.retry_after,
        permanent=error.permanent,
        maybe_sent=error.status is None,  # no answer: it may have been accepted
    )


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
