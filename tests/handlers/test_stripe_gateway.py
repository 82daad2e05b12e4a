"""StripeGateway through the real `stripe` library against the local Stripe stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.services.payment_gateway import (
    CheckoutRequest,
    GatewayError,
    InvoiceRequest,
    PaymentGateway,
)
from tests.stripe_standin import StripeStandIn

KEY = "sk_test_gateway"
WEBHOOK_SECRET = "whsec_gateway"


@pytest.fixture
async def standin() -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret=WEBHOOK_SECRET) as running:
        yield running


@pytest.fixture
async def gateway(standin: StripeStandIn) -> AsyncIterator[StripeGateway]:
    # No library retries: each test decides what a retry is.
    made = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    yield made
    await made.close()


def checkout(
    payment_id: int = 41, *, attempt: int = 1, metadata: dict[str, str] | None = None
) -> CheckoutRequest:
    return CheckoutRequest(
        payment_id=payment_id,
        attempt=attempt,
        amount_minor=3000,
        currency="EUR",
        description="Morning yoga x2, Mon 3 Mar 09:00",
        expires_at=datetime.now(UTC) + timedelta(minutes=31),
        success_url="https://bot.example/pay/success?p=41&session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://bot.example/pay/cancel?p=41",
        customer_email="ana@example.com",
        metadata=metadata or {},
    )


def test_is_a_payment_gateway() -> None:
    gateway: PaymentGateway = StripeGateway(KEY)
    assert isinstance(gateway, StripeGateway)


async def test_create_get_expire(gateway: StripeGateway, standin: StripeStandIn) -> None:
    request = checkout(metadata={"registration_id": "12", "payment_id": "999"})
    session = await gateway.create_checkout(request)

    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.amount_total == 3000
    assert session.currency == "eur"
    assert session.url is not None
    assert session.client_reference_id == "41"
    assert session.expires_at == request.expires_at.replace(microsecond=0)
    [call] = standin.calls_to("POST", "/v1/checkout/sessions")
    assert call.idempotency_key == "checkout:41:1"
    # Our id wins over whatever the request's metadata claims.
    assert call.params["metadata"] == {"registration_id": "12", "payment_id": "41"}
    assert call.params["payment_intent_data"]["metadata"]["payment_id"] == "41"
    assert call.params["customer_email"] == "ana@example.com"

    assert (await gateway.get_checkout(session.id)) == session

    expired = await gateway.expire_checkout(session.id)
    assert expired.status == "expired"
    assert expired.url is None
    assert standin.last_event().get("type") == "checkout.session.expired"


async def test_expire_a_session_no_longer_open_returns_it(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    paid = await gateway.create_checkout(checkout(1))
    standin.pay(paid.id)
    gone = await gateway.create_checkout(checkout(2))
    await gateway.expire_checkout(gone.id)

    after_payment = await gateway.expire_checkout(paid.id)
    assert (after_payment.status, after_payment.payment_status) == ("complete", "paid")
    assert after_payment.payment_intent is not None
    assert (await gateway.expire_checkout(gone.id)).status == "expired"


async def test_get_checkout_reads_the_receipt_url_once_paid(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    session = await gateway.create_checkout(checkout(3))
    assert session.receipt_url is None
    assert (await gateway.get_checkout(session.id)).receipt_url is None  # nothing paid yet

    standin.pay(session.id)
    paid = await gateway.get_checkout(session.id)

    charge = next(o for o in standin.objects.values() if o["object"] == "charge")
    assert paid.receipt_url == charge["receipt_url"]
    assert str(paid.receipt_url).startswith("https://pay.stripe.com/receipts/")
    assert paid.payment_intent == charge["payment_intent"]  # still the bare id
    reads = standin.calls_to("GET", f"/v1/checkout/sessions/{session.id}")
    assert reads[-1].params["expand"] == ["payment_intent.latest_charge"]


async def test_expire_unknown_session_is_not_retryable(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayError) as raised:
        await gateway.expire_checkout("cs_test_missing")
    assert not raised.value.retryable


async def test_retry_after_a_lost_response_creates_one_session(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    request = checkout(7, attempt=2)
    standin.lose_next_response(on="POST /v1/checkout/sessions")
    with pytest.raises(GatewayError) as raised:
        await gateway.create_checkout(request)
    assert raised.value.retryable

    session = await gateway.create_checkout(request)

    sessions = [o for o in standin.objects.values() if o["object"] == "checkout.session"]
    assert [s["id"] for s in sessions] == [session.id]
    calls = standin.calls_to("POST", "/v1/checkout/sessions")
    assert [c.idempotency_key for c in calls] == ["checkout:7:2", "checkout:7:2"]
    assert [c.replayed for c in calls] == [False, True]


async def test_library_retries_reuse_the_key(standin: StripeStandIn) -> None:
    gateway = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=1)
    try:
        standin.lose_next_response(on="POST /v1/checkout/sessions")
        session = await gateway.create_checkout(checkout(8))
    finally:
        await gateway.close()
    assert [o["id"] for o in standin.objects.values() if o["object"] == "checkout.session"] == [
        session.id
    ]


async def test_a_new_attempt_is_a_new_session(gateway: StripeGateway) -> None:
    first = await gateway.create_checkout(checkout(9, attempt=1))
    second = await gateway.create_checkout(checkout(9, attempt=2))
    assert first.id != second.id


async def test_refund(gateway: StripeGateway, standin: StripeStandIn) -> None:
    session = await gateway.create_checkout(checkout(5))
    standin.pay(session.id)
    intent = (await gateway.get_checkout(session.id)).payment_intent
    assert intent is not None

    refund = await gateway.refund(intent, 1000, idempotency_key="refund:3")
    again = await gateway.refund(intent, 1000, idempotency_key="refund:3")

    assert (refund.status, refund.amount_minor) == ("pending", 1000)
    assert again == refund
    charge = next(o for o in standin.objects.values() if o["object"] == "charge")
    assert charge["amount_refunded"] == 1000
    assert charge["metadata"]["payment_id"] == "5"  # so charge.refunded names our payment
    assert standin.last_event()["type"] == "charge.refunded"


async def test_refund_too_much_is_not_retryable(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    session = await gateway.create_checkout(checkout(6))
    standin.pay(session.id)
    intent = (await gateway.get_checkout(session.id)).payment_intent
    assert intent is not None
    with pytest.raises(GatewayError) as raised:
        await gateway.refund(intent, 3001, idempotency_key="refund:4")
    assert not raised.value.retryable
    assert "amount_too_large" in raised.value.reason


def invoice_request(**overrides: object) -> InvoiceRequest:
    values: dict[str, object] = {
        "payment_id": 21,
        "amount_minor": 45000,
        "currency": "eur",
        "description": "Pottery course x3",
        "company_name": "Acme S.L.",
        "billing_email": "billing@acme.example",
        "days_until_due": 14,
        "po_number": "PO-778",
        "metadata": {"registration_id": "30"},
    }
    values.update(overrides)
    return InvoiceRequest(**values)  # type: ignore[arg-type]


async def test_invoice(gateway: StripeGateway, standin: StripeStandIn) -> None:
    result = await gateway.create_invoice(invoice_request())

    assert result.status == "open"
    assert result.amount_due == 45000
    assert result.hosted_invoice_url is not None
    invoice = standin.objects[result.id]
    customer = standin.objects[invoice["customer"]]
    assert (customer["name"], customer["email"]) == ("Acme S.L.", "billing@acme.example")
    assert invoice["collection_method"] == "send_invoice"
    assert invoice["currency"] == "eur"
    assert invoice["metadata"] == {"registration_id": "30", "payment_id": "21"}
    [line] = invoice["lines"]["data"]
    assert (line["amount"], line["description"]) == (45000, "Pottery course x3")
    [created] = standin.calls_to("POST", "/v1/invoices")
    assert created.params["custom_fields"] == [{"name": "PO number", "value": "PO-778"}]
    assert created.params["days_until_due"] == "14"
    assert created.params["pending_invoice_items_behavior"] == "include"
    assert [c.path.rsplit("/", 1)[-1] for c in standin.calls_to("POST", "/v1/invoices/*")] == [
        "finalize",
        "send",
    ]
    keys = [c.idempotency_key for c in standin.calls if c.method == "POST"]
    assert keys == [
        "invoice:21:customer",
        "invoice:21:item",
        "invoice:21:invoice",
        "invoice:21:finalize",
        "invoice:21:send",
    ]


async def test_invoice_without_po_number(gateway: StripeGateway, standin: StripeStandIn) -> None:
    await gateway.create_invoice(invoice_request(po_number=None))
    [created] = standin.calls_to("POST", "/v1/invoices")
    assert "custom_fields" not in created.params


async def test_invoice_retried_after_a_lost_step_makes_one_invoice(
    gateway: StripeGateway, standin: StripeStandIn
) -> None:
    standin.lose_next_response(on="POST /v1/invoices/*/finalize")
    with pytest.raises(GatewayError):
        await gateway.create_invoice(invoice_request())
    result = await gateway.create_invoice(invoice_request())

    kinds = [o["object"] for o in standin.objects.values()]
    assert (kinds.count("customer"), kinds.count("invoiceitem"), kinds.count("invoice")) == (
        1,
        1,
        1,
    )
    assert standin.objects[result.id]["status"] == "open"


async def test_outage_is_retryable(gateway: StripeGateway, standin: StripeStandIn) -> None:
    standin.outage(30)
    with pytest.raises(GatewayError) as raised:
        await gateway.create_checkout(checkout())
    assert raised.value.retryable
    with pytest.raises(GatewayError) as raised:
        await gateway.get_checkout("cs_test_any")
    assert raised.value.retryable
    standin.outage(0)
    assert (await gateway.create_checkout(checkout())).status == "open"


async def test_rate_limit_is_retryable(gateway: StripeGateway, standin: StripeStandIn) -> None:
    standin.fail_next(429, on="POST /v1/refunds")
    with pytest.raises(GatewayError) as raised:
        await gateway.refund("pi_any", 100, idempotency_key="refund:9")
    assert raised.value.retryable


async def test_unreachable_is_retryable() -> None:
    gateway = StripeGateway(KEY, api_base="http://127.0.0.1:9", max_network_retries=0)
    try:
        with pytest.raises(GatewayError) as raised:
            await gateway.get_checkout("cs_test_any")
    finally:
        await gateway.close()
    assert raised.value.retryable


async def test_wrong_key_is_not_retryable(standin: StripeStandIn) -> None:
    gateway = StripeGateway("sk_test_wrong", api_base=standin.base_url, max_network_retries=0)
    try:
        with pytest.raises(GatewayError) as raised:
            await gateway.create_checkout(checkout())
    finally:
        await gateway.close()
    assert not raised.value.retryable
    assert "sk_test_wrong" not in raised.value.reason
