"""Stripe as the payment provider: `services.payment_gateway.PaymentGateway` over the official
`stripe` library (StripeClient, async calls over aiohttp).

Every create request carries an Idempotency-Key derived from our payment row (and attempt), so
a retry after a lost response, ours or the library's own, gets the first object back instead
of a second Session, refund or invoice. Stripe's errors become `GatewayError`, whose
`retryable` tells the caller whether trying later can help. No stripe type leaves this module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe
from stripe.params import (
    CustomerCreateParams,
    InvoiceCreateParams,
    InvoiceItemCreateParams,
    RefundCreateParams,
)
from stripe.params.checkout import SessionCreateParams

from bookbot.services.payment_gateway import (
    CheckoutRequest,
    CheckoutSession,
    GatewayError,
    InvoiceRequest,
    InvoiceResult,
    RefundResult,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
# A chat turn waits on create_checkout: better a retryable error than a customer kept waiting
# for the library's default of 80 seconds.
DEFAULT_TIMEOUT = 20.0
# Safe because every create carries our own idempotency key, which the library's retries reuse.
DEFAULT_NETWORK_RETRIES = 2
PO_FIELD = "PO number"  # the invoice's custom field
# A Session names its PaymentIntent, whose charge holds the receipt page: one read, expanded.
RECEIPT_EXPAND = "payment_intent.latest_charge"
MAX_CUSTOM_FIELD_VALUE = 140  # Stripe's limit on an invoice custom field's value


def checkout_key(payment_id: int, attempt: int) -> str:
    return f"checkout:{payment_id}:{attempt}"


def invoice_key(payment_id: int, step: str) -> str:
    """One key per request of the invoice chain, so a retried chain replays each step."""
    return f"invoice:{payment_id}:{step}"


def _metadata(payment_id: int, given: dict[str, str]) -> dict[str, str]:
    # Our id last: the request's own metadata cannot point the object at another payment.
    return {**given, "payment_id": str(payment_id)}


def _timestamp(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    return int(moment.timestamp())


def _id_of(value: Any) -> str | None:
    """An id field that may come expanded (an object) or as the bare id."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    found = getattr(value, "id", None)
    return str(found) if found is not None else None


def retryable(error: stripe.StripeError) -> bool:
    """Can the same request succeed later? Stripe's own `Stripe-Should-Retry` decides first."""
    headers = error.headers or {}
    advice = next((v for k, v in headers.items() if k.lower() == "stripe-should-retry"), None)
    if advice in ("true", "false"):
        return advice == "true"
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    status = error.http_status
    # 409: the same idempotency key is still being worked on by another request.
    return status is None or status == 409 or status >= 500


def gateway_error(error: stripe.StripeError) -> GatewayError:
    code = getattr(error, "code", None)
    kind = type(error).__name__
    status = error.http_status
    reason = f"stripe {kind} ({status or 'no response'}{f', {code}' if code else ''}): "
    return GatewayError(
        reason + (error.user_message or str(error) or kind), retryable=retryable(error)
    )


def _receipt_url(session: stripe.checkout.Session) -> str | None:
    """The charge's receipt page, when the Session came with its charge expanded."""
    intent = session.payment_intent
    charge = None if intent is None or isinstance(intent, str) else intent.latest_charge
    if charge is None or isinstance(charge, str):
        return None
    return charge.receipt_url


def _session(session: stripe.checkout.Session) -> CheckoutSession:
    return CheckoutSession(
        id=session.id,
        url=session.url,
        status=str(session.status),
        payment_status=str(session.payment_status),
        amount_total=session.amount_total,
        currency=session.currency,
        expires_at=datetime.fromtimestamp(session.expires_at, UTC),
        payment_intent=_id_of(session.payment_intent),
        client_reference_id=session.client_reference_id,
        receipt_url=_receipt_url(session),
    )


class StripeGateway:
    """The real `PaymentGateway`. One aiohttp session per event loop, made on first use;
    `close()` closes the current loop's (call it before that loop ends)."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_network_retries: int = DEFAULT_NETWORK_RETRIES,
    ) -> None:
        self._key = secret_key
        self._api_base = api_base.rstrip("/") if api_base else None
        self._timeout = timeout
        self._retries = max_network_retries
        self._clients: dict[
            asyncio.AbstractEventLoop, tuple[stripe.HTTPClient, stripe.StripeClient]
        ] = {}

    def _client(self) -> stripe.StripeClient:
        loop = asyncio.get_running_loop()
        made = self._clients.get(loop)
        if made is None:
            http = stripe.AIOHTTPClient(timeout=self._timeout)
            client = stripe.StripeClient(
                self._key,
                base_addresses={"api": self._api_base} if self._api_base else None,
                http_client=http,
                max_network_retries=self._retries,
            )
            made = self._clients[loop] = (http, client)
        return made[1]

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        made = self._clients.pop(loop, None)
        # Sessions of loops already gone cannot be closed from here; they went with their loop.
        self._clients = {
            other: pair for other, pair in self._clients.items() if not other.is_closed()
        }
        if made is not None:
            await made[0].close_async()  # type: ignore[no-untyped-call]

    async def _call(self, what: str, request: Callable[[], Awaitable[T]]) -> T:
        try:
            return await request()
        except stripe.StripeError as error:
            failure = gateway_error(error)
            log.warning("%s failed: %s (retryable: %s)", what, failure.reason, failure.retryable)
            raise failure from error

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        metadata = _metadata(request.payment_id, request.metadata)
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {"name": request.description},
                    },
                    "quantity": 1,
                }
            ],
            "expires_at": _timestamp(request.expires_at),
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": str(request.payment_id),
            "metadata": metadata,
            # The charge (and so charge.refunded) carries our id too.
            "payment_intent_data": {"metadata": metadata},
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        client = self._client()
        key = checkout_key(request.payment_id, request.attempt)
        session = await self._call(
            f"checkout for payment {request.payment_id}",
            lambda: client.v1.checkout.sessions.create_async(params, {"idempotency_key": key}),
        )
        return _session(session)

    async def get_checkout(self, session_id: str) -> CheckoutSession:
        client = self._client()
        session = await self._call(
            f"reading checkout {session_id}",
            lambda: client.v1.checkout.sessions.retrieve_async(
                session_id, {"expand": [RECEIPT_EXPAND]}
            ),
        )
        return _session(session)

    async def expire_checkout(self, session_id: str) -> CheckoutSession:
        client = self._client()
        try:
            session = await client.v1.checkout.sessions.expire_async(session_id)
        except stripe.InvalidRequestError as error:
            # Stripe refuses to expire a Session that is not open (paid meanwhile, or already
            # expired) with no code of its own: read it, and hand it back as it is.
            current = await self.get_checkout(session_id)
            if current.status != "open":
                return current
            raise gateway_error(error) from error
        except stripe.StripeError as error:
            failure = gateway_error(error)
            log.warning("expiring checkout %s failed: %s", session_id, failure.reason)
            raise failure from error
        return _session(session)

    async def refund(
        self, payment_intent: str, amount_minor: int, *, idempotency_key: str
    ) -> RefundResult:
        client = self._client()
        params: RefundCreateParams = {
            "payment_intent": payment_intent,
            "amount": amount_minor,
        }
        refund = await self._call(
            f"refund of {payment_intent}",
            lambda: client.v1.refunds.create_async(params, {"idempotency_key": idempotency_key}),
        )
        return RefundResult(id=refund.id, status=str(refund.status), amount_minor=refund.amount)

    async def create_invoice(self, request: InvoiceRequest) -> InvoiceResult:
        client = self._client()
        payment = request.payment_id
        metadata = _metadata(payment, request.metadata)
        what = f"invoice for payment {payment}"
        customer_params: CustomerCreateParams = {
            "name": request.company_name,
            "email": request.billing_email,
            "metadata": metadata,
        }
        customer = await self._call(
            what,
            lambda: client.v1.customers.create_async(
                customer_params, {"idempotency_key": invoice_key(payment, "customer")}
            ),
        )
        item_params: InvoiceItemCreateParams = {
            "customer": customer.id,
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "description": request.description,
            "metadata": metadata,
        }
        await self._call(
            what,
            lambda: client.v1.invoice_items.create_async(
                item_params, {"idempotency_key": invoice_key(payment, "item")}
            ),
        )
        invoice_params: InvoiceCreateParams = {
            "customer": customer.id,
            "collection_method": "send_invoice",
            "days_until_due": request.days_until_due,
            "pending_invoice_items_behavior": "include",
            "description": request.description,
            "metadata": metadata,
        }
        if request.po_number:
            invoice_params["custom_fields"] = [
                {"name": PO_FIELD, "value": request.po_number[:MAX_CUSTOM_FIELD_VALUE]}
            ]
        draft = await self._call(
            what,
            lambda: client.v1.invoices.create_async(
                invoice_params, {"idempotency_key": invoice_key(payment, "invoice")}
            ),
        )
        invoice_id = str(draft.id)
        await self._call(
            what,
            lambda: client.v1.invoices.finalize_invoice_async(
                invoice_id, options={"idempotency_key": invoice_key(payment, "finalize")}
            ),
        )
        sent = await self._call(
            what,
            lambda: client.v1.invoices.send_invoice_async(
                invoice_id, options={"idempotency_key": invoice_key(payment, "send")}
            ),
        )
        return InvoiceResult(
            id=invoice_id,
            status=str(sent.status),
            hosted_invoice_url=sent.hosted_invoice_url,
            amount_due=sent.amount_due,
        )
