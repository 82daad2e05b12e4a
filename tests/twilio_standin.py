"""A local stand-in for Twilio's REST API (the Messages resource), for tests without internet.

    async with TwilioStandIn(account_sid="AC...", auth_token="secret") as twilio:
        sender = TwilioSender(TwilioSettings(..., api_base=twilio.base_url))
        sid = await sender.send_sms("+15005550006", "hi")
        [sent] = await twilio.wait_for(1)          # the form fields the request carried
        twilio.fail_next(status=429, code=20429, retry_after=2)
        twilio.outage(10)                          # every request fails with a 503 for 10 s

`GET` on the same path lists the accepted messages, newest first, filtered by `To` (how
the delivery job checks a send a crash interrupted). It answers like Twilio: HTTP Basic auth with the account SID and auth token (401 / 20003
otherwise), Twilio's own 400s for a missing To / sender / content, 201 with a message resource,
and Twilio-shaped JSON errors. `messages` holds only the requests it accepted, in order, and
`received_at` when each arrived (`time.monotonic()`, for latencies); `requests` counts every
request on the Messages path, accepted or not, and `last_request_at` is when the latest came
(how a black-box run tells that the bot has gone quiet).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web

HOST = "127.0.0.1"
API_VERSION = "2010-04-01"
MESSAGES_PATH = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json"


@dataclass(frozen=True)
class _Failure:
    status: int
    code: int
    message: str
    retry_after: float | None


def twilio_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """An error body the way Twilio's 2010-04-01 API writes it."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status, headers=headers)


class TwilioStandIn:
    """Serves POST /2010-04-01/Accounts/{sid}/Messages.json on a free port of 127.0.0.1."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str]] = []
        self.resources: list[dict[str, Any]] = []  # what GET Messages.json lists, oldest first
        self.received_at: list[float] = []  # time.monotonic() of each of `messages`
        self.requests = 0  # every request on the Messages path, failed ones included
        self.last_request_at: float | None = None  # time.monotonic() of the latest
        self.outage_until = 0.0  # time.monotonic() until which every request fails
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # Twilio's own clock
        self.base_url = ""
        self._failures: deque[_Failure] = deque()
        self._runner: web.AppRunner | None = None

    def fail_next(
        self,
        *,
        status: int,
        code: int,
        message: str = "Simulated failure",
        retry_after: float | None = None,
    ) -> None:
        """Answer the next authenticated request with this error (calls queue up)."""
        self._failures.append(_Failure(status, code, message, retry_after))

    def outage(self, seconds: float) -> None:
        """Answer every request with a 503 for the next `seconds` (a REST API outage).

        Checked before authentication, as a front end that is down would. `outage(0)` ends one.
        """
        self.outage_until = time.monotonic() + seconds

    async def wait_for(self, n: int, within: float = 5.0) -> list[dict[str, str]]:
        """Every captured message, once there are at least `n`; TimeoutError after `within` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(self.messages) < n:
            if loop.time() >= deadline:
                raise TimeoutError(f"expected {n} message(s), got {len(self.messages)}")
            await asyncio.sleep(0.01)
        return list(self.messages)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post(MESSAGES_PATH, self._create_message)
        app.router.add_get(MESSAGES_PATH, self._list_messages)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{HOST}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the API ----------------------------------------------------------------------------------

    def _authenticated(self, request: web.Request) -> bool:
        # Parsed by hand: aiohttp.BasicAuth is deprecated since aiohttp 3.14.
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return False
        return hmac.compare_digest(given, f"{self.account_sid}:{self.auth_token}".encode())

    def _arrived(self) -> web.Response | None:
        """Count a request; the outage's error while one lasts."""
        self.requests += 1
        self.last_request_at = time.monotonic()
        if self.last_request_at < self.outage_until:
            return twilio_error(503, 20503, "Service Unavailable")
        return None

    async def _create_message(self, request: web.Request) -> web.Response:
        if (down := self._arrived()) is not None:
            return down
        if not self._authenticated(request):
            return twilio_error(
                401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'}
            )
        if request.match_info["account_sid"] != self.account_sid:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        if self._failures:
            failure = self._failures.popleft()
            headers: dict[str, str] = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = f"{failure.retry_after:g}"
            return twilio_error(failure.status, failure.code, failure.message, headers)
        form = {key: str(value) for key, value in (await request.post()).items()}
        problem = _invalid(form)
        if problem is not None:
            return twilio_error(400, *problem)
        self.messages.append(form)
        self.received_at.append(time.monotonic())
        resource = self._resource(form)
        self.resources.append(resource)
        return web.json_response(resource, status=201)

    async def _list_messages(self, request: web.Request) -> web.Response:
        """GET Messages.json?To=…&PageSize=…: newest first, one page (no paging needed here)."""
        if (down := self._arrived()) is not None:
            return down
        if not self._authenticated(request):
            return twilio_error(401, 20003, "Authenticate")
        if self._failures:
            failure = self._failures.popleft()
            return twilio_error(failure.status, failure.code, failure.message)
        to = request.query.get("To")
        size = int(request.query.get("PageSize", "50"))
        found = [r for r in reversed(self.resources) if to is None or r["to"] == to][:size]
        uri = request.path_qs
        return web.json_response(
            {
                "messages": found,
                "page": 0,
                "page_size": size,
                "start": 0,
                "end": max(len(found) - 1, 0),
                "uri": uri,
                "first_page_uri": uri,
                "next_page_uri": None,
                "previous_page_uri": None,
            }
        )

    def _resource(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(self.now(), usegmt=True)
        service = form.get("MessagingServiceSid")
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            # With a Messaging Service and no From, Twilio picks the sender later: from is null
            # and the status "accepted" until then.
            "from": form.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and "From" not in form else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form.get("To"),
            "uri": f"{uri}.json",
        }


def _invalid(form: dict[str, str]) -> tuple[int, str] | None:
    """Twilio's own checks on a new message, with its codes."""
    if not form.get("To"):
        return 21604, "A 'To' phone number is required."
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message"
    if not (form.get("Body") or form.get("ContentSid") or form.get("MediaUrl")):
        return 21602, "Message body is required."
    return None
