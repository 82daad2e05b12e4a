"""Outbound SMS and WhatsApp through Twilio's Messages API, with the official twilio library.

twilio-python 9 has no base-URL setting, so the seam is its supported one: a custom
`http_client`. `_RebasedHttpClient` rewrites every `https://api.twilio.com...` URL the library
builds to `TwilioSettings.api_base`, so tests (and any proxy) get real library requests.

Every failure, whether Twilio said no or the network did, becomes `SendFailed`, which tells the
caller what it needs to decide: retry later (`retry_after`), never retry (`permanent`), or look at
Twilio's error `code` (21610: the recipient replied STOP, so we must not message them).
"""

from __future__ import annotations

import base64
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

log = logging.getLogger(__name__)

# The library logs each request and response at INFO, about nine lines a message (86,000
# lines in two minutes of a busy bot); what goes wrong is logged here, with the reason.
# Both of its clients' loggers: the async one is what we use, the sync one what Client makes
# when it is given none.
TWILIO_HTTP_LOGGERS = ("twilio.async_http_client", "twilio.http_client")
for _name in TWILIO_HTTP_LOGGERS:
    logging.getLogger(_name).setLevel(logging.WARNING)

TWILIO_API = "https://api.twilio.com"
CLOCK_SLACK = timedelta(minutes=2)
WHATSAPP = "whatsapp:"
SEND_POOL = 32  # connections to Twilio's API at most

# Twilio's exceptions drop the response headers, so the client notes a failed response's
# Retry-After here. A ContextVar, not an attribute: concurrent sends share one client, but each
# runs in its own task, and the library awaits the client inside the sending task's context.
_retry_after: ContextVar[str | None] = ContextVar("twilio_retry_after", default=None)


@dataclass(frozen=True)
class TwilioSettings:
    """How to reach Twilio and who we send as. Senders are optional; a channel needs one."""

    account_sid: str
    auth_token: str
    sms_from: str | None = None  # E.164, e.g. "+15017122661"
    # When set, SMS go through the Messaging Service (Twilio's recommendation: it picks the
    # sender, handles opt-outs and scales); `sms_from` is then ignored.
    messaging_service_sid: str | None = None
    whatsapp_from: str | None = None  # e.g. "whatsapp:+14155238886"; the prefix is optional
    api_base: str = TWILIO_API
    status_callback: str | None = None  # Twilio POSTs delivery status updates here


class SendFailed(Exception):
    """A message was not accepted by Twilio.

    `status` is the HTTP status (None: no answer at all), `code` Twilio's error code when it
    gave one. `permanent` means resending the same request cannot help (a 4xx other than 429).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.permanent = status is not None and 400 <= status < 500 and status != 429


class _RebasedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio is untyped: Any
    """The library's aiohttp client, sending `https://api.twilio.com/...` to `api_base` instead.

    Also applies the client-wide timeout, which `AsyncTwilioHttpClient.request` ignores (it hands
    aiohttp `timeout=None`, meaning no timeout at all), sends the credentials as an Authorization
    header (the parent builds `aiohttp.BasicAuth`, deprecated since aiohttp 3.14, so every request
    would warn), and records Retry-After (see above).
    """

    def __init__(self, api_base: str, timeout: float) -> None:
        # Our own session, with a bounded pool: a burst of sends queues for a connection
        # instead of opening hundreds (a failed send is retried by the outbox, not here).
        # It is opened here, so this must run inside an event loop.
        super().__init__(timeout=timeout, pool_connections=False)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=SEND_POOL, limit_per_host=SEND_POOL)
        )
        self.api_base = api_base.rstrip("/")

    def rebase(self, url: str) -> str:
        if url == TWILIO_API or url.startswith(TWILIO_API + "/"):
            return self.api_base + url[len(TWILIO_API) :]
        return url

    async def request(  # noqa: PLR0917 - the library's signature, overridden
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the library's signature
        allow_redirects: bool = False,
    ) -> Response:
        if auth is not None:
            login, password = auth
            token = base64.b64encode(f"{login}:{password}".encode()).decode()
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        response = await super().request(
            method,
            self.rebase(url),
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=self.timeout if timeout is None else timeout,
            allow_redirects=allow_redirects,
        )
        if response.status_code >= 400:
            _retry_after.set((response.headers or {}).get("Retry-After"))
        return response


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not retry_after:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def whatsapp_address(address: str) -> str:
    return address if address.startswith(WHATSAPP) else WHATSAPP + address


class TwilioSender:
    """Sends through one Twilio account. Create it inside the event loop; `close()` it after."""

    def __init__(self, settings: TwilioSettings, *, timeout: float = 15.0) -> None:
        self.settings = settings
        self._http = _RebasedHttpClient(settings.api_base, timeout)
        self._client = Client(
            settings.account_sid,
            settings.auth_token,
            http_client=self._http,
            # Not os.environ (the default when this is empty): TWILIO_EDGE / TWILIO_REGION would
            # move the host off api.twilio.com and so past the rewrite, and TWILIO_AUTH_TOKEN
            # would quietly stand in for an empty token. Our settings are the only source.
            environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
        )

    async def send_sms(self, to: str, body: str, *, from_number: str | None = None) -> str:
        """Send a text message; return its SID (SM...). `from_number` (a studio's own number)
        wins; then the Messaging Service, then the default number."""
        if from_number:
            sender: dict[str, Any] = {"from_": from_number}
        elif self.settings.messaging_service_sid:
            sender = {"messaging_service_sid": self.settings.messaging_service_sid}
        elif self.settings.sms_from:
            sender = {"from_": self.settings.sms_from}
        else:
            raise ValueError("no SMS sender: set sms_from or messaging_service_sid")
        return await self._create(to=to, body=body, **sender)

    async def send_whatsapp(self, to: str, body: str, *, from_number: str | None = None) -> str:
        """Send a free-form WhatsApp message (only allowed within 24 h of the customer's last one),
        from `from_number` (a studio's own) or the default sender."""
        return await self._create(
            to=whatsapp_address(to), from_=self._whatsapp_from(from_number), body=body
        )

    async def send_whatsapp_template(
        self,
        to: str,
        content_sid: str,
        variables: dict[str, str],
        *,
        from_number: str | None = None,
    ) -> str:
        """Send an approved Content API template (HX...), the only way to open a conversation."""
        return await self._create(
            to=whatsapp_address(to),
            from_=self._whatsapp_from(from_number),
            content_sid=content_sid,
            content_variables=json.dumps(variables),
        )

    async def bodies_sent_since(self, to: str, since: datetime, *, newest: int = 50) -> list[str]:
        """The bodies of messages Twilio accepted for `to` since `since` (newest first, at most
        `newest`): how a send interrupted by a crash or a timeout is checked before resending.

        Filtered here on `date_created` (set when Twilio accepts a message), not with Twilio's
        DateSent filter: a message still queued has no DateSent yet."""
        try:
            found = await self._client.messages.list_async(to=to, limit=newest, page_size=newest)
        except (TwilioRestException, TwilioServiceException) as exc:
            text = exc.msg if isinstance(exc, TwilioRestException) else exc.title
            raise SendFailed(text, status=exc.status) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendFailed(f"Twilio unreachable: {exc!r}") from exc
        # Twilio's timestamps have whole seconds; a little slack for the clocks' difference.
        earliest = since - CLOCK_SLACK
        return [
            str(m.body)
            for m in found
            if m.body is not None and m.date_created is not None and m.date_created >= earliest
        ]

    async def close(self) -> None:
        """Close the aiohttp session the library's client opened."""
        await self._http.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _whatsapp_from(self, from_number: str | None = None) -> str:
        if from_number:
            return whatsapp_address(from_number)
        if not self.settings.whatsapp_from:
            raise ValueError("no WhatsApp sender: set whatsapp_from")
        return whatsapp_address(self.settings.whatsapp_from)

    async def _create(self, **params: Any) -> str:
        if self.settings.status_callback:
            params["status_callback"] = self.settings.status_callback
        token = _retry_after.set(None)
        try:
            message = await self._client.messages.create_async(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            # The library fills a missing error code with the HTTP status; that is not a Twilio
            # error code, so report none. (Use .msg/.title, not str(exc): that has ANSI colours
            # when stderr is a terminal.)
            code = exc.code if exc.code != exc.status else None
            text = exc.msg if isinstance(exc, TwilioRestException) else exc.title
            retry_after = _seconds(_retry_after.get())
            log.warning("twilio: HTTP %s, code %s: %s", exc.status, code, text)
            raise SendFailed(text, status=exc.status, code=code, retry_after=retry_after) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("twilio: no answer: %r", exc)
            raise SendFailed(f"Twilio unreachable: {exc!r}") from exc
        finally:
            _retry_after.reset(token)
        return str(message.sid)
