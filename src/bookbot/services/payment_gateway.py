"""What the payment services ask of a payment provider (Stripe in production).

Kept to plain values so that services never see a provider's types, and so that the real
adapter (`handlers/stripe_gateway.py`) and a local stand-in in tests are interchangeable.
Amounts are integer minor units; currencies lower-case ISO codes, as Stripe writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class GatewayError(Exception):
    """The provider refused or could not be reached. `retryable`: trying again later may
    work (a timeout, a 5xx, a 429); otherwise the request itself is wrong."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True)
class CheckoutRequest:
    payment_id: int
    attempt: int
    amount_minor: int
    currency: str
    description: str  # the line the customer sees on the payment page
    expires_at: datetime  # 30 minutes to 24 hours ahead (Stripe's bounds)
    success_url: str
    cancel_url: str
    customer_email: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    amount_total: int | None
    currency: str | None
    expires_at: datetime
    payment_intent: str | None = None
    client_reference_id: str | None = None
    # The charge's receipt page; known once paid, and only on a Session read with its
    # PaymentIntent's charge (`get_checkout`), not on the one a webhook event carries.
    receipt_url: str | None = None


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str  # pending, succeeded, failed, canceled
    amount_minor: int


@dataclass(frozen=True)
class InvoiceRequest:
    payment_id: int
    amount_minor: int
    currency: str
    description: str
    company_name: str
    billing_email: str
    days_until_due: int
    po_number: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InvoiceResult:
    id: str
    status: str  # draft, open, paid, void, uncollectible
    hosted_invoice_url: str | None
    amount_due: int


class PaymentGateway(Protocol):
    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A Checkout Session for one payment (idempotent per payment and attempt)."""
        ...

    async def get_checkout(self, session_id: str) -> CheckoutSession:
        """The Session as it is now, with its `receipt_url` once paid."""
        ...

    async def expire_checkout(self, session_id: str) -> CheckoutSession:
        """Expire an open Session so nobody can pay for seats that are gone; a Session that
        is no longer open comes back as it is (complete or expired), not as an error."""
        ...

    async def refund(
        self, payment_intent: str, amount_minor: int, *, idempotency_key: str
    ) -> RefundResult: ...

    async def create_invoice(self, request: InvoiceRequest) -> InvoiceResult:
        """Customer, invoice item, invoice (send_invoice), finalised and sent."""
        ...
