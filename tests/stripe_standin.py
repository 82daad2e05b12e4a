"""A local stand-in for Stripe's REST API and webhooks, for tests and benches without internet.

    async with StripeStandIn(secret_key="sk_test_x", webhook_secret="whsec_x") as stripe_api:
        async with stripe_api.client() as client:          # StripeClient over aiohttp
            session = await client.v1.checkout.sessions.create_async({...}, {"idempotency_key": k})
        event = stripe_api.pay(session.id)                 # the customer pays on Stripe's page
        status = await stripe_api.deliver(event, "http://127.0.0.1:8080/stripe/webhook")
        stripe_api.fail_next(500, on="POST /v1/refunds")   # the next refund gets a 500
        stripe_api.lose_next_response(on="POST /v1/checkout/sessions")  # done, answer lost
        stripe_api.outage(10)                              # every request gets a 503 for 10 s

Code under test builds its own client the same way: `stripe.StripeClient(key,
base_addresses={"api": stripe_api.base_url}, http_client=stripe.AIOHTTPClient())`, and closes
the HTTP client when done (`close_http_client`; StripeClient has no close). Pass the aiohttp
client: without one, StripeClient's async calls go through stripe.HTTPXClient, which makes
httpx 0.28 warn on every POST (an error under this suite's warning filter).

It speaks the v1 form-encoded API the `stripe` library sends (`line_items[0][price_data]
[unit_amount]=1500`, `expand[0]=payment_intent`) and answers with Stripe-shaped objects and
errors (`{"error": {"type", "code", "message", "param"}}`): 401 for a wrong key, 404
`resource_missing`, 400 `parameter_unknown` for a parameter that stripe's own typed params do
not name (a typo fails here as it would in production), 400 `parameter_missing` /
`parameter_invalid_integer`, and the rules each handler's docstring states.

Served: Checkout Sessions (create, retrieve, line items, expire), Refunds (create, retrieve),
PaymentIntents and Charges (retrieve), Customers (create, retrieve), Invoice items (create),
Invoices (create, retrieve, finalize, send). `expand` works on every id field and on a
session's `line_items`.

`Idempotency-Key`: a repeated key with the same method, path and parameters replays the first
response byte for byte (with `Idempotent-Replayed: true`); other parameters or another
endpoint get Stripe's 400 `idempotency_error`. Only successful responses are kept, as Stripe
keeps none for a request that failed validation; keys last 24 hours of `clock`. The stripe
library sends a generated key on every POST that names none.

What happens on Stripe's side is played by the test: `pay`, `succeed_async`, `fail_async`,
`expire`, `refund_succeeds`, `refund_fails`, `pay_invoice`, `fail_invoice`. Each returns the
event Stripe would send. Events caused by API calls (`checkout.session.expired` after an
expire request, `charge.refunded` after a refund, `invoice.paid` when a zero invoice is
finalized) are only recorded: `events` holds every event in order, `pending_events()` those
not yet delivered with a 2xx. `deliver` posts one signed as Stripe signs
(`t=<ts>,v1=<HMAC-SHA256(secret, "<ts>.<payload>")>`, the payload pretty-printed like
Stripe's, so a handler must verify the raw bytes); `signed` gives the payload and header to
tests that post by themselves (duplicates, shuffled order, stale or foreign signatures).

`calls` records every request the API answered itself (after authentication and injected
failures), its parameters parsed into nested dicts and lists (values stay strings). `clock`
is Stripe's own clock (epoch seconds): move it past a session's `expires_at` and the session
reads as expired, with its event, as Stripe's own expiry would leave it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import fnmatch
import functools
import hmac
import json
import re
import secrets
import string
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

import aiohttp
import stripe
from aiohttp import web
from typing_extensions import is_typeddict

HOST = "127.0.0.1"
API_VERSION: str = stripe.api_version
EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "charge.refunded",
        "refund.updated",
        "invoice.paid",
        "invoice.payment_failed",
    }
)
SESSION_MIN_LIFETIME = 30 * 60  # Stripe's bounds on a Checkout Session's expires_at
SESSION_MAX_LIFETIME = 24 * 60 * 60
IDEMPOTENCY_KEY_LIFETIME = 24 * 60 * 60

JSON = dict[str, Any]
_BASE62 = string.ascii_letters + string.digits
_OPTION_KEYS = frozenset(stripe.RequestOptions.__annotations__)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


async def close_http_client(http: stripe.HTTPClient) -> None:
    """`http.close_async()`, which stripe 16 leaves untyped; StripeClient has no close."""
    await http.close_async()  # type: ignore[no-untyped-call]


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_BASE62) for _ in range(length))


class StripeApiError(Exception):
    """An error the API answers with, in Stripe's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = error_type
        self.code = code
        self.param = param
        self.message = message

    def body(self) -> JSON:
        error: JSON = {"message": self.message, "type": self.type}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def missing(param: str) -> StripeApiError:
    return StripeApiError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def no_such(kind: str, object_id: str, param: str = "id") -> StripeApiError:
    return StripeApiError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


@dataclass(frozen=True)
class StripeCall:
    """One request the API answered itself, as the stand-in parsed it."""

    method: str
    path: str
    params: JSON
    idempotency_key: str | None
    status: int
    replayed: bool
    received_at: float  # time.monotonic()


@dataclass(frozen=True)
class Failure:
    """An error `fail_next` or `lose_next_response` injects into a request matching `on`."""

    status: int
    code: str | None
    message: str
    should_retry: bool | None
    on: str  # fnmatch pattern over "METHOD /path"
    executed: bool  # the request takes effect first: only the answer is lost

    def matches(self, method: str, path: str) -> bool:
        pattern = self.on if " " in self.on or self.on == "*" else f"* {self.on}"
        return fnmatch.fnmatchcase(f"{method} {path}", pattern)

    def response(self, request_id: str) -> web.Response:
        headers = {"Request-Id": request_id}
        if self.should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if self.should_retry else "false"
        error_type = (
            "api_error"
            if self.status >= 500
            else "card_error"
            if self.status == 402
            else "invalid_request_error"
        )
        error = StripeApiError(self.status, self.message, error_type=error_type, code=self.code)
        return web.json_response(error.body(), status=self.status, headers=headers)


@dataclass
class _Stored:
    """The first response to an idempotency key."""

    method: str
    path: str
    params: JSON
    status: int
    body: str
    stored_at: float


@dataclass(frozen=True)
class Served:
    """What a handler gets: the parsed parameters and the path's `{id}`."""

    params: JSON
    match: Mapping[str, str]

    @property
    def id(self) -> str:
        return self.match["id"]


Handler = Callable[[Served], JSON]


@dataclass(frozen=True)
class _Endpoint:
    method: str
    path: str
    handler: Handler
    params_type: type  # stripe's TypedDict for this call: what parameters exist


@dataclass
class _Context:
    """The request being served, for the events it causes."""

    request_id: str | None = None
    idempotency_key: str | None = None


# -- request parsing ---------------------------------------------------------------------------


def parse_form(pairs: Iterable[tuple[str, str]]) -> JSON:
    """`a[b][0][c]=v` pairs into nested dicts and lists, as Stripe's servers read them.

    A dict whose keys are all indices becomes a list, except a `metadata` dict, whose keys
    are free text. Values stay strings: each endpoint coerces what it reads.
    """
    root: JSON = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        path = [head] + (rest[:-1].split("][") if rest.endswith("]") else [])
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StripeApiError(400, f"Invalid array or hash: {key}", param=key)
        last = path[-1] or str(len(node))  # `expand[]=x` appends
        node[last] = value
    return _children_listified(root)


def _children_listified(node: JSON) -> JSON:
    return {
        key: _listify(value, under_metadata=key == "metadata") if isinstance(value, dict) else value
        for key, value in node.items()
    }


def _listify(node: JSON, *, under_metadata: bool) -> Any:
    converted = _children_listified(node)
    if not under_metadata and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


@functools.cache
def _fields(params_type: type) -> dict[str, type | None]:
    """The parameters a stripe TypedDict names, each with the TypedDict of its items, if any."""
    module = sys.modules[params_type.__module__]
    fields: dict[str, type | None] = {}
    for name, annotation in params_type.__annotations__.items():
        if name in _OPTION_KEYS:
            continue
        fields[name] = None
        for identifier in _IDENTIFIER.findall(str(annotation)):
            nested = getattr(module, identifier, None)
            if isinstance(nested, type) and is_typeddict(nested):
                fields[name] = nested
                break
    return fields


def unknown_parameter(params: JSON, params_type: type, prefix: str = "") -> str | None:
    """The first parameter stripe's own types do not name, spelled as it was sent."""
    fields = _fields(params_type)
    for name, value in params.items():
        spelled = f"{prefix}[{name}]" if prefix else name
        if name not in fields:
            return spelled
        nested = fields[name]
        if nested is None:
            continue
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            where = spelled if index is None else f"{spelled}[{index}]"
            if isinstance(item, dict) and (found := unknown_parameter(item, nested, where)):
                return found
    return None


def integer(value: Any, param: str, *, minimum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeApiError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
        ) from None
    if minimum is not None and number < minimum:
        raise StripeApiError(
            400,
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
            param=param,
        )
    return number


def metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    """Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeApiError(400, "Invalid object", code="parameter_invalid_object", param=param)
    if len(value) > 50:
        raise StripeApiError(400, "You can specify up to 50 keys in metadata.", param=param)
    for key, text in value.items():
        if len(key) > 40 or not isinstance(text, str) or len(text) > 500:
            raise StripeApiError(
                400,
                "Metadata keys can have up to 40 characters and values up to 500 characters.",
                param=f"{param}[{key}]",
            )
    return dict(value)


def money(amount: int, currency: str) -> str:
    return f"{currency.upper()} {amount // 100}.{amount % 100:02d}"


class StripeStandIn:
    """Serves the Stripe endpoints bookbot uses on a free port of 127.0.0.1."""

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        *,
        default_currency: str = "usd",
    ) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.default_currency = default_currency  # the account's: an invoice without currency
        self.objects: dict[str, JSON] = {}  # every object by id, as Stripe holds it now
        self.events: list[JSON] = []  # every event, oldest first
        self.deliveries: list[tuple[str, str, int]] = []  # (event id, url, HTTP status)
        self.calls: list[StripeCall] = []
        self.requests = 0  # every request, refused ones included
        self.last_request_at: float | None = None  # time.monotonic() of the latest
        self.outage_until = 0.0  # time.monotonic() until which every request fails
        self.clock: Callable[[], float] = time.time  # Stripe's own clock, epoch seconds
        self.base_url = ""
        self._failures: list[Failure] = []
        self._idempotent: dict[str, _Stored] = {}
        self._session_lines: dict[str, list[JSON]] = {}
        self._delivered: set[str] = set()
        self._context = _Context()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    # -- knobs ---------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        code: str | None = None,
        message: str = "Simulated failure",
        should_retry: bool | None = None,
        on: str = "*",
    ) -> None:
        """Answer the next authenticated request matching `on` with this error; calls queue up.

        `on` is an fnmatch pattern over "METHOD /path" ("POST /v1/refunds",
        "* /v1/checkout/sessions/*/expire"), or over the path alone. The error's type is
        Stripe's for the status: `api_error` for 5xx, `card_error` for 402; a 429 gets the
        `rate_limit` code. `should_retry` sets `Stripe-Should-Retry`, which the stripe library
        obeys over its own rules when it retries (`max_network_retries`).
        """
        if status == 429 and code is None:
            code = "rate_limit"
        self._failures.append(Failure(status, code, message, should_retry, on, executed=False))

    def lose_next_response(self, status: int = 500, *, on: str = "*") -> None:
        """Let the next request matching `on` take effect, then answer it with an error.

        A response lost on the way back: what idempotency keys are for. A retry with the
        same key gets the first result replayed; one without creates a second object.
        """
        self._failures.append(Failure(status, None, "Simulated failure", None, on, executed=True))

    def outage(self, seconds: float) -> None:
        """Answer every request with a 503 for the next `seconds`; `outage(0)` ends one.

        Checked before authentication, as a front end that is down would.
        """
        self.outage_until = time.monotonic() + seconds

    def calls_to(self, method: str, path: str) -> list[StripeCall]:
        """The recorded calls whose method and path match these fnmatch patterns."""
        return [
            call
            for call in self.calls
            if fnmatch.fnmatchcase(call.method, method) and fnmatch.fnmatchcase(call.path, path)
        ]

    @contextlib.asynccontextmanager
    async def client(
        self, *, api_key: str | None = None, max_network_retries: int = 0
    ) -> AsyncIterator[stripe.StripeClient]:
        """A StripeClient on this stand-in over aiohttp, its connections closed on exit."""
        http = stripe.AIOHTTPClient()
        try:
            yield stripe.StripeClient(
                self.secret_key if api_key is None else api_key,
                base_addresses={"api": self.base_url},
                http_client=http,
                max_network_retries=max_network_retries,
            )
        finally:
            await close_http_client(http)

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        for endpoint in self._endpoints():
            app.router.add_route(endpoint.method, endpoint.path, self._route(endpoint))
        app.router.add_route("*", "/{tail:.*}", self._unrecognized)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{HOST}:{port}"
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- webhooks -------------------------------------------------------------------------------

    def signed(
        self, event: JSON, *, timestamp: int | None = None, secret: str | None = None
    ) -> tuple[bytes, str]:
        """The payload Stripe would post for `event` and its `Stripe-Signature` header."""
        payload = json.dumps(event, indent=2)
        header = stripe.WebhookSignature.generate_signature_header(
            payload,
            self.webhook_secret if secret is None else secret,
            int(self.clock()) if timestamp is None else timestamp,
        )
        return payload.encode(), header

    async def deliver(self, event: JSON, url: str, *, timestamp: int | None = None) -> int:
        """POST `event` to `url` as Stripe would; the HTTP status the endpoint answered."""
        if self._http is None:
            raise RuntimeError("StripeStandIn is not running")
        payload, header = self.signed(event, timestamp=timestamp)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": header,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        async with self._http.post(url, data=payload, headers=headers) as response:
            await response.read()
            status = response.status
        self.deliveries.append((str(event["id"]), url, status))
        if 200 <= status < 300:
            self._delivered.add(str(event["id"]))
        return status

    def pending_events(self) -> list[JSON]:
        """Events not yet delivered with a 2xx answer, oldest first (what Stripe would retry)."""
        return [event for event in self.events if event["id"] not in self._delivered]

    def last_event(self, event_type: str | None = None) -> JSON:
        """The newest event, or the newest of this type; LookupError if there is none."""
        for event in reversed(self.events):
            if event_type is None or event["type"] == event_type:
                return event
        raise LookupError(f"no {event_type} event" if event_type else "no event")

    def _emit(self, event_type: str, obj: JSON, previous: JSON | None = None) -> JSON:
        assert event_type in EVENT_TYPES, event_type
        data: JSON = {"object": copy.deepcopy(self._public(obj))}
        if previous is not None:
            data["previous_attributes"] = previous
        event: JSON = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(self.clock()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {
                "id": self._context.request_id,
                "idempotency_key": self._context.idempotency_key,
            },
            "type": event_type,
        }
        self.events.append(event)
        return event

    # -- what the customer, the bank and Stripe's timers do -------------------------------------

    def pay(
        self,
        session_id: str,
        *,
        amount: int | None = None,
        currency: str | None = None,
        async_: bool = False,
    ) -> JSON:
        """The customer completes the Checkout page: `checkout.session.completed`.

        `amount`/`currency` replace what the session charged (a mismatch to catch). With
        `async_` the payment method settles later (a bank debit): the session completes
        `unpaid` until `succeed_async` or `fail_async`.
        """
        session = self._open_session(session_id)
        email = session["customer_email"] or "customer@example.com"
        if amount is not None:
            session["amount_subtotal"] = session["amount_total"] = amount
        if currency is not None:
            session["currency"] = currency.lower()
        intent = self._store(
            {
                "id": new_id("pi"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": 0,
                "created": int(self.clock()),
                "currency": session["currency"],
                "customer": None,
                "description": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": dict(session["_payment_intent_metadata"]),
                "receipt_email": email,
                "status": "processing" if async_ else "requires_payment_method",
            }
        )
        session.update(
            status="complete",
            payment_intent=intent["id"],
            url=None,
            customer_details={"email": email, "name": None, "phone": None, "address": None},
        )
        if not async_:
            self._charge(intent)
            session["payment_status"] = "paid"
        return self._emit("checkout.session.completed", session)

    def succeed_async(self, session_id: str) -> JSON:
        """A delayed payment settles: `checkout.session.async_payment_succeeded`."""
        session, intent = self._processing(session_id)
        self._charge(intent)
        session["payment_status"] = "paid"
        return self._emit("checkout.session.async_payment_succeeded", session)

    def fail_async(self, session_id: str) -> JSON:
        """A delayed payment fails: `checkout.session.async_payment_failed`."""
        session, intent = self._processing(session_id)
        intent["status"] = "requires_payment_method"
        return self._emit("checkout.session.async_payment_failed", session)

    def expire(self, session_id: str) -> JSON:
        """Stripe's own timer expires an open session: `checkout.session.expired`."""
        return self._expire(self._open_session(session_id))

    def refund_succeeds(self, refund_id: str) -> JSON:
        """A pending refund reaches the customer: `refund.updated`, status succeeded."""
        refund = self._pending_refund(refund_id)
        refund["status"] = "succeeded"
        return self._emit("refund.updated", refund, {"status": "pending"})

    def refund_fails(self, refund_id: str) -> JSON:
        """A pending refund bounces (closed card): `refund.updated`, status failed.

        The amount becomes refundable again, as on Stripe.
        """
        refund = self._pending_refund(refund_id)
        refund.update(status="failed", failure_reason="expired_or_canceled_card")
        charge = self.objects[refund["charge"]]
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        return self._emit("refund.updated", refund, {"status": "pending"})

    def pay_invoice(self, invoice_id: str) -> JSON:
        """The company pays an open invoice: `invoice.paid`."""
        invoice = self._open_invoice(invoice_id)
        self._mark_paid(invoice)
        return self._emit("invoice.paid", invoice)

    def fail_invoice(self, invoice_id: str) -> JSON:
        """A payment attempt on an open invoice fails: `invoice.payment_failed`."""
        invoice = self._open_invoice(invoice_id)
        invoice["attempt_count"] += 1
        invoice["attempted"] = True
        return self._emit("invoice.payment_failed", invoice)

    def _open_session(self, session_id: str) -> JSON:
        session = self._object(session_id, "checkout.session")
        if session["status"] != "open":
            raise ValueError(f"{session_id} is {session['status']}, not open")
        return session

    def _processing(self, session_id: str) -> tuple[JSON, JSON]:
        session = self._object(session_id, "checkout.session")
        intent = self.objects.get(session["payment_intent"] or "")
        if intent is None or intent["status"] != "processing":
            raise ValueError(f"{session_id} has no payment waiting to settle")
        return session, intent

    def _pending_refund(self, refund_id: str) -> JSON:
        refund = self._object(refund_id, "refund")
        if refund["status"] != "pending":
            raise ValueError(f"{refund_id} is {refund['status']}, not pending")
        return refund

    def _open_invoice(self, invoice_id: str) -> JSON:
        invoice = self._object(invoice_id, "invoice")
        if invoice["status"] != "open":
            raise ValueError(f"{invoice_id} is {invoice['status']}, not open")
        return invoice

    def _charge(self, intent: JSON) -> JSON:
        charge = self._store(
            {
                "id": new_id("ch"),
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": intent["amount"],
                "amount_refunded": 0,
                "captured": True,
                "created": int(self.clock()),
                "currency": intent["currency"],
                "livemode": False,
                "metadata": dict(intent["metadata"]),
                "paid": True,
                "payment_intent": intent["id"],
                "receipt_email": intent["receipt_email"],
                "receipt_url": "https://pay.stripe.com/receipts/payment/" + new_id("rcpt", 40),
                "refunded": False,
                "status": "succeeded",
            }
        )
        intent.update(
            status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"]
        )
        return charge

    def _expire(self, session: JSON) -> JSON:
        session.update(status="expired", url=None)
        return self._emit("checkout.session.expired", session)

    def _mark_paid(self, invoice: JSON) -> None:
        invoice.update(
            status="paid",
            attempted=True,
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
        )
        invoice["status_transitions"]["paid_at"] = int(self.clock())

    # -- the objects ----------------------------------------------------------------------------

    def _store(self, obj: JSON) -> JSON:
        self.objects[obj["id"]] = obj
        return obj

    def _object(self, object_id: str, kind: str, param: str = "id") -> JSON:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise no_such(kind, object_id, param)
        # Stripe's own expiry: a session read past its expires_at has expired
        if (
            kind == "checkout.session"
            and obj["status"] == "open"
            and self.clock() >= obj["expires_at"]
        ):
            served, self._context = self._context, _Context()  # no request caused it
            self._expire(obj)
            self._context = served
        return obj

    @staticmethod
    def _public(obj: JSON) -> JSON:
        """The object without the stand-in's own bookkeeping (keys starting with `_`)."""
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    def _expand(self, obj: JSON, paths: list[str], where: str = "") -> JSON:
        shown = self._public(obj)
        wanted: dict[str, list[str]] = {}
        for path in paths:
            head, _, rest = path.partition(".")
            wanted.setdefault(head, []).extend([rest] if rest else [])
        for name, deeper in wanted.items():
            if name == "line_items" and shown.get("object") == "checkout.session":
                shown[name] = self._line_item_list(shown["id"])
                continue
            value = shown.get(name)
            target = self.objects.get(value) if isinstance(value, str) else None
            if name not in shown or (value is not None and target is None):
                raise StripeApiError(
                    400,
                    f"This property cannot be expanded ({where}{name}).",
                    param="expand",
                )
            if target is not None:
                shown[name] = self._expand(target, deeper, f"{where}{name}.")
        return shown

    def _line_item_list(self, session_id: str) -> JSON:
        lines = self._session_lines[session_id]
        return {
            "object": "list",
            "data": copy.deepcopy(lines),
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session_id}/line_items",
        }

    # -- serving --------------------------------------------------------------------------------

    def _route(self, endpoint: _Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            return await self._serve(request, endpoint)

        return serve

    def _arrived(self) -> web.Response | None:
        """Count a request; a refusal when the front end is down or the key is wrong."""
        self.requests += 1
        self.last_request_at = time.monotonic()
        if self.last_request_at < self.outage_until:
            error = StripeApiError(
                503, "Stripe is temporarily unavailable.", error_type="api_error"
            )
            return web.json_response(error.body(), status=503)
        return None

    def _authentication_error(self, request: web.Request) -> web.Response | None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        key = credentials.strip()
        if scheme.lower() == "basic":  # `curl -u sk_test_...:` sends the key as the user name
            try:
                key = base64.b64decode(key, validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        elif scheme.lower() != "bearer":
            key = ""
        if key and hmac.compare_digest(key.encode(), self.secret_key.encode()):
            return None
        message = (
            f"Invalid API Key provided: {key[:8]}{'*' * 4}{key[-4:]}"
            if key
            else "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
        )
        body = StripeApiError(401, message).body()
        return web.json_response(
            body, status=401, headers={"WWW-Authenticate": 'Bearer realm="Stripe"'}
        )

    async def _unrecognized(self, request: web.Request) -> web.Response:
        if (refused := self._arrived() or self._authentication_error(request)) is not None:
            return refused
        message = f"Unrecognized request URL ({request.method}: {request.path})."
        return web.json_response(StripeApiError(404, message).body(), status=404)

    async def _serve(self, request: web.Request, endpoint: _Endpoint) -> web.Response:
        if (refused := self._arrived() or self._authentication_error(request)) is not None:
            return refused
        request_id = new_id("req", 14)
        method, path = request.method, request.path
        failure = next((f for f in self._failures if f.matches(method, path)), None)
        if failure is not None:
            self._failures.remove(failure)
            if not failure.executed:
                return failure.response(request_id)
        raw = await request.text() if method == "POST" else request.query_string
        key = request.headers.get("Idempotency-Key") if method == "POST" else None
        self._context = _Context(request_id, key)
        params: JSON = {}
        try:
            params = parse_form(parse_qsl(raw, keep_blank_values=True))
            status, body, replayed = self._answer(endpoint, request, params, key)
        except StripeApiError as error:
            status, body, replayed = error.status, json.dumps(error.body()), False
        finally:
            self._context = _Context()
        self.calls.append(StripeCall(method, path, params, key, status, replayed, time.monotonic()))
        if failure is not None:
            return failure.response(request_id)
        headers = {
            "Request-Id": request_id,
            "Stripe-Version": request.headers.get("Stripe-Version", API_VERSION),
        }
        if key is not None:
            headers["Idempotency-Key"] = key
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return web.Response(
            text=body, status=status, content_type="application/json", headers=headers
        )

    def _answer(
        self, endpoint: _Endpoint, request: web.Request, params: JSON, key: str | None
    ) -> tuple[int, str, bool]:
        """(status, body, replayed) for a parsed request; StripeApiError for a refusal."""
        method, path = request.method, request.path
        stored = self._idempotent.get(key) if key is not None else None
        if stored is not None and self.clock() - stored.stored_at > IDEMPOTENCY_KEY_LIFETIME:
            stored = None
        if stored is not None:
            _check_same_request(stored, method, path, params, key or "")
            return stored.status, stored.body, True
        if (spelled := unknown_parameter(params, endpoint.params_type)) is not None:
            raise StripeApiError(
                400,
                f"Received unknown parameter: {spelled}",
                code="parameter_unknown",
                param=spelled,
            )
        obj = endpoint.handler(Served(params, request.match_info))
        expand = params.get("expand", [])
        body = json.dumps(self._expand(obj, [expand] if isinstance(expand, str) else expand))
        if key is not None:
            self._idempotent[key] = _Stored(method, path, params, 200, body, self.clock())
        return 200, body, False

    def _endpoints(self) -> list[_Endpoint]:
        from stripe import params as p
        from stripe.params import checkout as c

        sessions = "/v1/checkout/sessions"
        return [
            _Endpoint("POST", sessions, self._create_session, c.SessionCreateParams),
            _Endpoint("GET", sessions + "/{id}", self._retrieve_session, c.SessionRetrieveParams),
            _Endpoint(
                "GET",
                sessions + "/{id}/line_items",
                self._list_line_items,
                c.SessionListLineItemsParams,
            ),
            _Endpoint(
                "POST", sessions + "/{id}/expire", self._expire_session, c.SessionExpireParams
            ),
            _Endpoint(
                "GET",
                "/v1/payment_intents/{id}",
                self._retriever("payment_intent"),
                p.PaymentIntentRetrieveParams,
            ),
            _Endpoint("GET", "/v1/charges/{id}", self._retriever("charge"), p.ChargeRetrieveParams),
            _Endpoint("POST", "/v1/refunds", self._create_refund, p.RefundCreateParams),
            _Endpoint("GET", "/v1/refunds/{id}", self._retriever("refund"), p.RefundRetrieveParams),
            _Endpoint("POST", "/v1/customers", self._create_customer, p.CustomerCreateParams),
            _Endpoint(
                "GET", "/v1/customers/{id}", self._retriever("customer"), p.CustomerRetrieveParams
            ),
            _Endpoint(
                "POST", "/v1/invoiceitems", self._create_invoice_item, p.InvoiceItemCreateParams
            ),
            _Endpoint("POST", "/v1/invoices", self._create_invoice, p.InvoiceCreateParams),
            _Endpoint(
                "GET", "/v1/invoices/{id}", self._retriever("invoice"), p.InvoiceRetrieveParams
            ),
            _Endpoint(
                "POST",
                "/v1/invoices/{id}/finalize",
                self._finalize_invoice,
                p.InvoiceFinalizeInvoiceParams,
            ),
            _Endpoint(
                "POST", "/v1/invoices/{id}/send", self._send_invoice, p.InvoiceSendInvoiceParams
            ),
        ]

    def _retriever(self, kind: str) -> Handler:
        def retrieve(call: Served) -> JSON:
            return self._object(call.id, kind)

        return retrieve

    # -- Checkout Sessions ----------------------------------------------------------------------

    def _create_session(self, call: Served) -> JSON:
        """mode=payment with `price_data` line items (no Prices here); expires_at 30 min..24 h."""
        params = call.params
        mode = required(params, "mode")
        if mode != "payment":
            raise StripeApiError(
                400, f"The stand-in serves mode=payment only, not {mode}.", param="mode"
            )
        now = int(self.clock())
        expires_at = integer(params.get("expires_at", now + SESSION_MAX_LIFETIME), "expires_at")
        if expires_at < now + SESSION_MIN_LIFETIME:
            raise StripeApiError(
                400,
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                param="expires_at",
            )
        if expires_at > now + SESSION_MAX_LIFETIME:
            raise StripeApiError(
                400,
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                param="expires_at",
            )
        lines = [self._line_item(item, i) for i, item in enumerate(params.get("line_items") or [])]
        if not lines:
            raise StripeApiError(
                400, "`line_items` is required in `payment` mode.", param="line_items"
            )
        currencies = {line["currency"] for line in lines}
        if len(currencies) > 1:
            raise StripeApiError(
                400, "All line items must use the same currency.", param="line_items"
            )
        reference = params.get("client_reference_id")
        if reference is not None and len(reference) > 200:
            raise StripeApiError(
                400,
                "client_reference_id is limited to 200 characters.",
                param="client_reference_id",
            )
        intent_data = params.get("payment_intent_data") or {}
        total = sum(line["amount_total"] for line in lines)
        session_id = new_id("cs_test", 58)
        self._session_lines[session_id] = lines
        return self._store(
            {
                "id": session_id,
                "object": "checkout.session",
                "after_expiration": None,
                "allow_promotion_codes": None,
                "amount_subtotal": total,
                "amount_total": total,
                "automatic_tax": {"enabled": False, "liability": None, "status": None},
                "cancel_url": params.get("cancel_url"),
                "client_reference_id": reference,
                "created": now,
                "currency": currencies.pop(),
                "customer": params.get("customer"),
                "customer_creation": params.get("customer_creation", "if_required"),
                "customer_details": None,
                "customer_email": params.get("customer_email"),
                "expires_at": expires_at,
                "invoice": None,
                "livemode": False,
                "locale": params.get("locale"),
                "metadata": metadata(params.get("metadata")),
                "mode": mode,
                "payment_intent": None,
                "payment_link": None,
                "payment_method_types": ["card"],
                "payment_status": "unpaid",
                "recovered_from": None,
                "setup_intent": None,
                "status": "open",
                "submit_type": params.get("submit_type"),
                "subscription": None,
                "success_url": params.get("success_url"),
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "ui_mode": params.get("ui_mode", "hosted"),
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                "_payment_intent_metadata": metadata(
                    intent_data.get("metadata"), "payment_intent_data[metadata]"
                ),
            }
        )

    def _line_item(self, item: JSON, index: int) -> JSON:
        where = f"line_items[{index}]"
        if "price" in item:
            raise no_such("price", str(item["price"]), f"{where}[price]")
        data = required(item, "price_data", where)
        currency = str(required(data, "currency", f"{where}[price_data]"))
        unit_amount = integer(
            required(data, "unit_amount", f"{where}[price_data]"),
            f"{where}[price_data][unit_amount]",
            minimum=0,
        )
        quantity = integer(required(item, "quantity", where), f"{where}[quantity]", minimum=1)
        product = data.get("product_data", {}).get("name") or data.get("product")
        if not product:
            raise missing(f"{where}[price_data][product_data]")
        amount = unit_amount * quantity
        return {
            "id": new_id("li"),
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": currency.lower(),
            "description": product,
            "price": {
                "id": new_id("price"),
                "object": "price",
                "active": False,
                "currency": currency.lower(),
                "product": new_id("prod", 14),
                "type": "one_time",
                "unit_amount": unit_amount,
            },
            "quantity": quantity,
        }

    def _retrieve_session(self, call: Served) -> JSON:
        return self._object(call.id, "checkout.session", "session")

    def _list_line_items(self, call: Served) -> JSON:
        session = self._object(call.id, "checkout.session", "session")
        return self._line_item_list(session["id"])

    def _expire_session(self, call: Served) -> JSON:
        """Only an open session expires; Stripe then sends `checkout.session.expired` too."""
        session = self._object(call.id, "checkout.session", "session")
        if session["status"] != "open":
            raise StripeApiError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f"This Checkout Session has a status of `{session['status']}`.",
                code="checkout_session_not_open",  # stand-in's own: Stripe's text carries no code
            )
        self._expire(session)
        return session

    # -- Refunds --------------------------------------------------------------------------------

    def _create_refund(self, call: Served) -> JSON:
        """Of a PaymentIntent's or a charge's unrefunded amount; pending until the test settles it."""
        params = call.params
        charge = self._refundable_charge(params)
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = integer(params.get("amount", remaining), "amount", minimum=1)
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({money(amount, charge['currency'])}) is greater than unrefunded "
                f"amount on charge ({money(remaining, charge['currency'])})",
                code="amount_too_large",
                param="amount",
            )
        refund = self._store(
            {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": None,
                "charge": charge["id"],
                "created": int(self.clock()),
                "currency": charge["currency"],
                "failure_reason": None,
                "metadata": metadata(params.get("metadata")),
                "payment_intent": charge["payment_intent"],
                "reason": params.get("reason"),
                "receipt_number": None,
                "status": "pending",
            }
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("charge.refunded", charge)
        return refund

    def _refundable_charge(self, params: JSON) -> JSON:
        if "payment_intent" in params:
            intent = self._object(str(params["payment_intent"]), "payment_intent", "payment_intent")
            if intent["latest_charge"] is None or intent["status"] != "succeeded":
                raise StripeApiError(
                    400,
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                    code="charge_not_refundable",  # stand-in's own name for this refusal
                    param="payment_intent",
                )
            return self.objects[intent["latest_charge"]]
        if "charge" in params:
            return self._object(str(params["charge"]), "charge", "charge")
        raise StripeApiError(
            400, "One of `charge` or `payment_intent` is required.", code="parameter_missing"
        )

    # -- Customers and invoices -----------------------------------------------------------------

    def _create_customer(self, call: Served) -> JSON:
        params = call.params
        locales = params.get("preferred_locales") or []
        return self._store(
            {
                "id": new_id("cus", 14),
                "object": "customer",
                "balance": 0,
                "created": int(self.clock()),
                "currency": None,
                "delinquent": False,
                "description": params.get("description"),
                "email": params.get("email"),
                "invoice_prefix": "".join(secrets.choice(string.ascii_uppercase) for _ in range(8)),
                "livemode": False,
                "metadata": metadata(params.get("metadata")),
                "name": params.get("name"),
                "phone": params.get("phone"),
                "preferred_locales": locales if isinstance(locales, list) else [locales],
                "_next_invoice_number": 1,
            }
        )

    def _create_invoice_item(self, call: Served) -> JSON:
        """`amount` + `currency`, or `price_data`/`unit_amount_decimal` with a quantity.

        Attached to `invoice` (a draft of the same customer) or left pending for the next
        invoice created with `pending_invoice_items_behavior=include`.
        """
        params = call.params
        customer = self._object(str(required(params, "customer")), "customer", "customer")
        amount, currency, quantity = _invoice_item_amount(params)
        item = {
            "id": new_id("ii"),
            "object": "invoiceitem",
            "amount": amount,
            "currency": currency,
            "customer": customer["id"],
            "date": int(self.clock()),
            "description": params.get("description"),
            "discountable": True,
            "invoice": None,
            "livemode": False,
            "metadata": metadata(params.get("metadata")),
            "period": {"start": int(self.clock()), "end": int(self.clock())},
            "quantity": quantity,
        }
        if "invoice" in params:
            invoice = self._object(str(params["invoice"]), "invoice", "invoice")
            self._attach(item, invoice)
        return self._store(item)

    def _attach(self, item: JSON, invoice: JSON) -> None:
        if invoice["status"] != "draft":
            raise StripeApiError(
                400,
                f"You can only add invoice items to draft invoices; {invoice['id']} is {invoice['status']}.",
                code="invoice_not_editable",
                param="invoice",
            )
        if invoice["customer"] != item["customer"]:
            raise StripeApiError(400, "The invoice belongs to another customer.", param="invoice")
        if invoice["currency"] != item["currency"]:
            raise StripeApiError(
                400,
                f"The currency of the invoice item ({item['currency']}) must match the invoice's "
                f"({invoice['currency']}).",
                param="currency",
            )
        item["invoice"] = invoice["id"]
        invoice["lines"]["data"].append(
            {
                "id": new_id("il"),
                "object": "line_item",
                "amount": item["amount"],
                "currency": item["currency"],
                "description": item["description"],
                "invoice": invoice["id"],
                "livemode": False,
                "metadata": dict(item["metadata"]),
                "parent": {
                    "type": "invoice_item_details",
                    "invoice_item_details": {"invoice_item": item["id"]},
                },
                "period": dict(item["period"]),
                "quantity": item["quantity"],
            }
        )
        total = sum(line["amount"] for line in invoice["lines"]["data"])
        invoice["lines"]["total_count"] = len(invoice["lines"]["data"])
        invoice.update(subtotal=total, total=total, amount_due=total, amount_remaining=total)

    def _create_invoice(self, call: Served) -> JSON:
        """send_invoice needs `days_until_due` (or `due_date`); only send_invoice takes it."""
        params = call.params
        customer = self._object(str(required(params, "customer")), "customer", "customer")
        method = params.get("collection_method", "charge_automatically")
        now = int(self.clock())
        due_date = self._due_date(params, method, now)
        pending = [
            item
            for item in self.objects.values()
            if item["object"] == "invoiceitem"
            and item["customer"] == customer["id"]
            and item["invoice"] is None
            and params.get("pending_invoice_items_behavior") == "include"
        ]
        currency = str(
            params.get("currency") or (pending[0]["currency"] if pending else self.default_currency)
        ).lower()
        if any(item["currency"] != currency for item in pending):
            raise StripeApiError(
                400,
                "The customer's pending invoice items are in another currency.",
                param="currency",
            )
        invoice_id = new_id("in")
        invoice = self._store(
            {
                "id": invoice_id,
                "object": "invoice",
                "account_country": "US",
                "account_name": "Stand-in Studio",
                "amount_due": 0,
                "amount_paid": 0,
                "amount_remaining": 0,
                "attempt_count": 0,
                "attempted": False,
                "auto_advance": params.get("auto_advance", "false") == "true",
                "billing_reason": "manual",
                "collection_method": method,
                "created": now,
                "currency": currency,
                "customer": customer["id"],
                "customer_email": customer["email"],
                "customer_name": customer["name"],
                "description": params.get("description"),
                "due_date": due_date,
                "effective_at": None,
                "footer": params.get("footer"),
                "hosted_invoice_url": None,
                "invoice_pdf": None,
                "lines": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "total_count": 0,
                    "url": f"/v1/invoices/{invoice_id}/lines",
                },
                "livemode": False,
                "metadata": metadata(params.get("metadata")),
                "number": None,
                "period_end": now,
                "period_start": now,
                "status": "draft",
                "status_transitions": {
                    "finalized_at": None,
                    "marked_uncollectible_at": None,
                    "paid_at": None,
                    "voided_at": None,
                },
                "subtotal": 0,
                "total": 0,
            }
        )
        for item in pending:
            self._attach(item, invoice)
        return invoice

    @staticmethod
    def _due_date(params: JSON, method: str, now: int) -> int | None:
        if method not in ("charge_automatically", "send_invoice"):
            raise StripeApiError(
                400, f"Invalid collection_method: {method}", param="collection_method"
            )
        given = [name for name in ("days_until_due", "due_date") if name in params]
        if method == "charge_automatically":
            if given:
                raise StripeApiError(
                    400,
                    f"You can only set `{given[0]}` if `collection_method` is `send_invoice`.",
                    param=given[0],
                )
            return None
        if not given:
            raise missing("days_until_due")
        if "due_date" in params:
            return integer(params["due_date"], "due_date", minimum=now)
        return now + integer(params["days_until_due"], "days_until_due", minimum=0) * 86400

    def _finalize_invoice(self, call: Served) -> JSON:
        """draft -> open (or straight to paid when nothing is due), numbered, with its pages."""
        invoice = self._object(call.id, "invoice", "invoice")
        if invoice["status"] != "draft":
            raise StripeApiError(
                400,
                "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
                code="invoice_not_editable",  # stand-in's choice of code
            )
        customer = self.objects[invoice["customer"]]
        number = customer["_next_invoice_number"]
        customer["_next_invoice_number"] += 1
        token = new_id("test", 40)
        now = int(self.clock())
        invoice.update(
            status="open",
            number=f"{customer['invoice_prefix']}-{number:04d}",
            hosted_invoice_url=f"https://invoice.stripe.com/i/acct_standin/{token}",
            invoice_pdf=f"https://pay.stripe.com/invoice/acct_standin/{token}/pdf",
            effective_at=now,
        )
        invoice["status_transitions"]["finalized_at"] = now
        if invoice["amount_due"] == 0:
            self._mark_paid(invoice)
            self._emit("invoice.paid", invoice)
        return invoice

    def _send_invoice(self, call: Served) -> JSON:
        """Emails the hosted invoice page (in test mode Stripe sends nothing); open or paid only."""
        invoice = self._object(call.id, "invoice", "invoice")
        if invoice["collection_method"] != "send_invoice":
            raise StripeApiError(
                400,
                "You can only manually send an invoice if its collection method is 'send_invoice'.",
            )
        if invoice["status"] not in ("open", "paid"):
            raise StripeApiError(
                400,
                f"You can't send an invoice with status {invoice['status']}; finalize it first.",
                code="invoice_not_editable",  # stand-in's choice of code
            )
        return invoice


def _invoice_item_amount(params: JSON) -> tuple[int, str, int]:
    """(amount, currency, quantity) of an invoice item, from whichever way it was priced."""
    quantity = integer(params.get("quantity", 1), "quantity", minimum=1)
    price_data = params.get("price_data")
    if isinstance(price_data, dict):
        currency = required(price_data, "currency", "price_data")
        unit = integer(
            required(price_data, "unit_amount", "price_data"),
            "price_data[unit_amount]",
            minimum=0,
        )
        return unit * quantity, str(currency).lower(), quantity
    currency = required(params, "currency")
    if "amount" in params:
        return integer(params["amount"], "amount"), str(currency).lower(), 1
    if "unit_amount_decimal" in params:
        unit = integer(params["unit_amount_decimal"], "unit_amount_decimal", minimum=0)
        return unit * quantity, str(currency).lower(), quantity
    raise missing("amount")


def _check_same_request(stored: _Stored, method: str, path: str, params: JSON, key: str) -> None:
    if (stored.method, stored.path) != (method, path):
        raise StripeApiError(
            400,
            "Keys for idempotent requests can only be used for the same endpoint they were first "
            f"used for ('{stored.method} {stored.path}' vs '{method} {path}'). Try using a key "
            f"other than '{key}' if you meant to execute a different request.",
            error_type="idempotency_error",
        )
    if stored.params != params:
        raise StripeApiError(
            400,
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.",
            error_type="idempotency_error",
        )


def required(params: JSON, name: str, where: str = "") -> Any:
    """`params[name]`, or Stripe's parameter_missing error naming it as sent (`where[name]`)."""
    value = params.get(name)
    if value is None or value == "":
        raise missing(f"{where}[{name}]" if where else name)
    return value
