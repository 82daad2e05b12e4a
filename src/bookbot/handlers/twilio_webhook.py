"""SMS and WhatsApp through Twilio: signed webhooks in, REST API sends out.

Inbound: Twilio POSTs a form to /twilio/sms or /twilio/whatsapp. The X-Twilio-Signature is
checked against the URL Twilio called, rebuilt from our public base URL (behind a proxy
the request's own host and scheme are not what Twilio signed). A bad or missing signature,
another account's AccountSid, a sender that is not a phone number or a body that is not
UTF-8 gets a 4xx and nothing else happens. A good one is stored in the inbox under its
MessageSid and only then acknowledged with empty TwiML; the inbox worker processes it
(`process`), once, and the replies go out through the outbox.

Outbound: replies and notices go through `TwilioChannel`, which never writes to an
opted-out number, renders options as numbered lines and splits long texts.

Several studios, several numbers: the `To` of an inbound message says which number of ours
it came to. A studio's own number (`[channels]` in its file) belongs to that studio alone;
any other (the default number, a Messaging Service's pool, whose numbers we are not told)
is the default endpoint, routed as before. Twilio only calls us, signed, for numbers of our
own account, so no message is dropped for coming to a number we do not know: that is logged.
Replies go out from the number the person wrote to, notices from the studio's own number,
and a STOP opts out of that one number only, as Twilio does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import datetime

from aiohttp import web
from twilio.request_validator import RequestValidator

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.matching import fold
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.conversations.outbound import ReplyTo
from bookbot.engine.clock import Clock
from bookbot.handlers.sms_text import sms_parts, whatsapp_parts
from bookbot.handlers.text import numbered
from bookbot.handlers.twilio_api import SendFailed, TwilioSender, whatsapp_address
from bookbot.phones import InvalidPhone, normalise_phone
from bookbot.services import inbox, optouts
from bookbot.services.common import studio_by_id
from bookbot.services.deliveries import record_status
from bookbot.services.inbox import InboxItem
from bookbot.services.studio_channels import DEFAULT, Endpoints, inbox_chat
from bookbot.store.db import Database

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
UNSUBSCRIBED = 21610  # Twilio: "Attempt to send to unsubscribed recipient"
MAX_INBOUND_TEXT = 1600  # Twilio's own limit for a message body
# A first message in Spanish starts the dialogue in Spanish.
SPANISH_OPENERS = frozenset(
    {
        "hola",
        "buenas",
        "buenos dias",
        "buenas tardes",
        "reservar",
        "ayuda",
        "menu",
        "quiero reservar",
        "hola quiero reservar",
    }
)
PATHS = {Channel.SMS: "/twilio/sms", Channel.WHATSAPP: "/twilio/whatsapp"}
STATUS_PATH = "/twilio/status"
SOURCE = "twilio"
E164 = re.compile(r"\+[1-9]\d{6,14}")


class TwilioChannel:
    """Sends texts over SMS or WhatsApp, honouring opt-outs on every path."""

    def __init__(
        self, db: Database, clock: Clock, sender: TwilioSender, endpoints: Endpoints | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.sender = sender
        # The studios' own numbers (filled when the process starts).
        self.endpoints = endpoints if endpoints is not None else Endpoints()

    def endpoint(self, channel: Channel, studio_id: int | None, endpoint: str | None) -> str:
        """Which number of ours sends: the one given (a reply), else the studio's own."""
        return endpoint if endpoint is not None else self.endpoints.endpoint(studio_id, channel)

    async def send_text(
        self,
        channel: Channel,
        address: str,
        text: str,
        *,
        studio_id: int | None = None,
        endpoint: str | None = None,
    ) -> list[str]:
        """Send `text` (split as the channel needs); the SIDs sent, [] if opted out.

        From `endpoint` (a number of ours, '' the default sender), else the studio's own
        number on that channel. By SMS the text is folded to GSM-7 unless the studio
        `studio_id` turned that off (`sms_fold_gsm`); without a studio it is folded."""
        ours = self.endpoint(channel, studio_id, endpoint)
        if await optouts.is_opted_out(self.db, channel.value, address, endpoint=ours):
            log.info("not sending to %s %s: opted out", channel.value, address)
            return []
        parts = _parts(channel, text, fold=await self._folds(channel, studio_id))
        send = self.sender.send_sms if channel is Channel.SMS else self.sender.send_whatsapp
        sids = []
        for part in parts:
            try:
                sids.append(await send(address, part, from_number=ours or None))
            except SendFailed as error:
                if error.code == UNSUBSCRIBED:  # opted out at Twilio's end: remember it
                    now = self.clock.now()
                    await optouts.opt_out(self.db, channel.value, address, now, endpoint=ours)
                    return sids
                raise
        return sids

    async def already_sent(
        self,
        channel: Channel,
        address: str,
        text: str,
        since: datetime,
        *,
        studio_id: int | None = None,
    ) -> bool:
        """Did every part of `text` reach Twilio for `address` since `since`?"""
        parts = _parts(channel, text, fold=await self._folds(channel, studio_id))
        to = address if channel is Channel.SMS else whatsapp_address(address)
        bodies = await self.sender.bodies_sent_since(to, since)
        return all(part in bodies for part in parts)

    async def _folds(self, channel: Channel, studio_id: int | None) -> bool:
        """Whether an SMS to this studio's customers is folded to GSM-7 (the default)."""
        if channel is not Channel.SMS or studio_id is None:
            return True
        return (await studio_by_id(self.db, studio_id)).sms_fold_gsm


def reply_text(reply: Reply) -> str:
    """A reply as one text: its words, then its options as numbered lines."""
    return numbered(reply) or reply.notice or ""


def _parts(channel: Channel, text: str, *, fold: bool = True) -> list[str]:
    """The messages `text` goes out as on that channel."""
    return sms_parts(text, fold=fold) if channel is Channel.SMS else whatsapp_parts(text)


def _sender(raw: str) -> str | None:
    """The E.164 form of Twilio's From. Twilio's own E.164 is trusted even when our copy of
    the numbering plan does not know the range yet (a new allocation); anything that is not
    E.164 at all is refused."""
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        bare = raw.removeprefix("whatsapp:")
        return bare if E164.fullmatch(bare) else None


class TwilioWebhooks:
    """The aiohttp endpoints Twilio calls (inbound SMS, inbound WhatsApp, delivery status),
    and the processor of the inbound messages they store."""

    def __init__(
        self,
        dialogues: Dialogues,
        channel: TwilioChannel,
        auth_token: str,
        public_url: str,
        *,
        account_sid: str | None = None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.dialogues = dialogues
        self.channel = channel
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/")
        self.account_sid = account_sid
        self.wake = wake  # the inbox worker: something new is stored

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(PATHS[Channel.SMS], self._inbound_sms),
            web.post(PATHS[Channel.WHATSAPP], self._inbound_whatsapp),
            web.post(STATUS_PATH, self._status),
        ]

    def _signed(self, request: web.Request, form: Mapping[str, str]) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        url = self.public_url + request.path_qs
        return bool(signature) and bool(self.validator.validate(url, dict(form), signature))

    async def _form(self, request: web.Request) -> dict[str, str] | web.Response:
        try:
            posted = await request.post()
        except (UnicodeDecodeError, ValueError):
            return web.Response(status=400, text="the form is not valid UTF-8")
        form = {k: v for k, v in posted.items() if isinstance(v, str)}
        if not self._signed(request, form):
            log.warning("twilio webhook %s: bad or missing signature", request.path)
            return web.Response(status=403, text="invalid signature")
        if self.account_sid and form.get("AccountSid") != self.account_sid:
            log.warning("twilio webhook %s: another account's request", request.path)
            return web.Response(status=403, text="not this account")
        return form

    async def _inbound_sms(self, request: web.Request) -> web.Response:
        return await self._inbound(request, Channel.SMS)

    async def _inbound_whatsapp(self, request: web.Request) -> web.Response:
        return await self._inbound(request, Channel.WHATSAPP)

    async def _inbound(self, request: web.Request, channel: Channel) -> web.Response:
        """Store, then acknowledge: a 200 means the message is in the inbox."""
        form = await self._form(request)
        if isinstance(form, web.Response):
            return form
        sid = form.get("MessageSid", "")
        if not sid or not form.get("From"):
            return web.Response(status=400, text="MessageSid and From are required")
        address = _sender(form["From"])
        if address is None:
            return web.Response(status=400, text="From is not a phone number")
        endpoint = self._endpoint(channel, form.get("To", ""))
        payload = {"channel": channel.value, "address": address, "form": form}
        if endpoint:
            payload["endpoint"] = endpoint
        now = self.dialogues.clock.now()
        chat = inbox_chat(channel.value, endpoint, address)
        if await inbox.accept(self.dialogues.db, SOURCE, sid, chat, payload, now=now):
            self.wake()
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    def _endpoint(self, channel: Channel, to: str) -> str:
        """The number of ours a message came to, if it is a studio's own; else the default
        ('': our configured sender, a Messaging Service's pool, or one we were not told of)."""
        number = to.removeprefix("whatsapp:")
        if self.channel.endpoints.owner(channel.value, number) is not None:
            return number
        settings = self.channel.sender.settings
        default = settings.sms_from if channel is Channel.SMS else settings.whatsapp_from
        if number and number != (default or "").removeprefix("whatsapp:"):
            log.info("twilio: %s to %s, not a studio's own number: the default", channel, number)
        return DEFAULT

    async def process(self, item: InboxItem) -> None:
        """One stored message: opt-out words, or a dialogue turn whose replies are queued."""
        channel, address = Channel(item.payload["channel"]), item.payload["address"]
        endpoint = str(item.payload.get("endpoint", DEFAULT))
        form: dict[str, str] = item.payload["form"]
        db, now = self.dialogues.db, self.dialogues.clock.now()
        body = form.get("Body", "")[:MAX_INBOUND_TEXT]
        words, opt = fold(body), form.get("OptOutType", "").upper()
        if words in optouts.OPT_OUT_WORDS or opt == "STOP":
            # That number of ours only; Twilio confirms it itself.
            await optouts.opt_out(db, channel.value, address, now, endpoint=endpoint)
            await inbox.finish_alone(db, item, now)
            return
        if words in optouts.OPT_IN_WORDS or opt == "START":
            await optouts.opt_in(db, channel.value, address, endpoint=endpoint)
            body = "/start"
        inbound = Inbound(
            channel,
            address,
            text=body,
            display_name=form.get("ProfileName", ""),
            phone=address,
            language_hint="es" if words in SPANISH_OPENERS and words != "menu" else None,
            endpoint=endpoint,
        )
        reply_to = ReplyTo(item, channel, address, endpoint)
        await self.dialogues.handle(inbound, reply_to=reply_to)

    async def gave_up(self, item: InboxItem) -> None:
        """A message that kept failing: tell the person, rather than stay silent."""
        channel, address = Channel(item.payload["channel"]), item.payload["address"]
        endpoint = str(item.payload.get("endpoint", DEFAULT))
        await self.dialogues.apologise(ReplyTo(item, channel, address, endpoint), address)

    async def _status(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if isinstance(form, web.Response):
            return form
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not sid or not status:
            return web.Response(status=400, text="MessageSid and MessageStatus are required")
        code = form.get("ErrorCode", "")
        await record_status(
            self.dialogues.db,
            sid,
            form.get("To", "").removeprefix("whatsapp:"),
            status=status,
            error_code=int(code) if code.isdigit() else None,
            now=self.dialogues.clock.now(),
        )
        return web.Response(status=204)
