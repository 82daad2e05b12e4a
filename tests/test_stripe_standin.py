"""The Stripe stand-in answers the real `stripe` library as Stripe would, offline.

Every test goes through `stripe.StripeClient` (async calls over aiohttp), so what passes here
is what bookbot's own payment code can rely on when it runs against the stand-in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import stripe
from aiohttp import web

from tests.stripe_standin import StripeStandIn, close_http_client, parse_form

KEY = "sk_test_standin"
WEBHOOK_SECRET = "whsec_standin"


@pytest.fixture
async def standin() -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret=WEBHOOK_SECRET) as running:
        yield running


@pytest.fixture
async def client(standin: StripeStandIn) -> AsyncIterator[stripe.StripeClient]:
    async with standin.client() as stripe_client:
        yield stripe_client


class Receiver:
    """A webhook endpoint that verifies like bookbot's must: 400 and nothing kept when bad."""

    def __init__(self) -> None:
        self.events: list[stripe.Event] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.read()
        try:
            event = stripe.Webhook.construct_event(
                payload, request.headers.get("Stripe-Signature"), WEBHOOK_SECRET
            )
        except stripe.SignatureVerificationError:
            return web.Response(status=400)
        self.events.append(event)
        return web.Response(status=200)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    endpoint = Receiver()
    app = web.Application()
    app.router.add_post("/stripe/webhook", endpoint.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    endpoint.url = f"http://127.0.0.1:{runner.addresses[0][1]}/stripe/webhook"
    yield endpoint
    await runner.cleanup()


def session_params(**overrides: Any) -> Any:
    """What bookbot sends for 2 seats at 15.00 EUR, tied to registration 12."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1500,
                    "product_data": {"name": "Morning yoga"},
                },
                "quantity": 2,
            }
        ],
        "client_reference_id": "registration-12",
        "metadata": {"registration": "12", "attempt": "1"},
        "payment_intent_data": {"metadata": {"registration": "12"}},
        "customer_email": "ana@example.com",
        "expires_at": int(time.time()) + 31 * 60,
        "success_url": "https://bot.example/paid",
        "cancel_url": "https://bot.example/cancelled",
    }
    return params | overrides


async def paid_session(client: stripe.StripeClient, standin: StripeStandIn) -> str:
    """A session the customer has paid: its PaymentIntent id."""
    session = await client.v1.checkout.sessions.create_async(session_params())
    event = standin.pay(session.id)
    return str(event["data"]["object"]["payment_intent"])


# -- Checkout Sessions ---------------------------------------------------------------------------


async def test_a_session_is_created_read_back_and_expired(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    session = await client.v1.checkout.sessions.create_async(session_params())

    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_total, session.currency) == (3000, "eur")
    assert session.client_reference_id == "registration-12"
    assert session.metadata is not None
    assert session.metadata.to_dict() == {"registration": "12", "attempt": "1"}
    assert session.url is not None
    assert session.url.endswith(session.id)

    again = await client.v1.checkout.sessions.retrieve_async(session.id, {"expand": ["line_items"]})
    assert again.id == session.id
    assert again.line_items is not None
    [line] = again.line_items.data
    assert (line.quantity, line.amount_total, line.description) == (2, 3000, "Morning yoga")

    expired = await client.v1.checkout.sessions.expire_async(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    event = standin.last_event()
    assert event["type"] == "checkout.session.expired"
    assert expired.last_response is not None
    assert event["request"]["id"] == expired.last_response.request_id
    with pytest.raises(stripe.InvalidRequestError, match="status of `expired`"):
        await client.v1.checkout.sessions.expire_async(session.id)


async def test_the_request_is_recorded_as_nested_parameters(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    await client.v1.checkout.sessions.create_async(
        session_params(), {"idempotency_key": "registration-12-attempt-1"}
    )

    [call] = standin.calls_to("POST", "/v1/checkout/sessions")
    assert call.idempotency_key == "registration-12-attempt-1"
    assert call.params["line_items"] == [
        {
            "price_data": {
                "currency": "eur",
                "unit_amount": "1500",
                "product_data": {"name": "Morning yoga"},
            },
            "quantity": "2",
        }
    ]
    assert call.params["metadata"] == {"registration": "12", "attempt": "1"}
    assert call.params["payment_intent_data"] == {"metadata": {"registration": "12"}}


@pytest.mark.parametrize(
    ("lifetime", "accepted"),
    [
        pytest.param(29 * 60, False, id="29 minutes"),
        pytest.param(30 * 60 + 5, True, id="30 minutes"),
        pytest.param(24 * 3600 - 5, True, id="24 hours"),
        pytest.param(24 * 3600 + 60, False, id="a day and a minute"),
    ],
)
async def test_expires_at_must_fall_between_30_minutes_and_24_hours(
    client: stripe.StripeClient, lifetime: int, *, accepted: bool
) -> None:
    params = session_params(expires_at=int(time.time()) + lifetime)
    if accepted:
        await client.v1.checkout.sessions.create_async(params)
        return
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await client.v1.checkout.sessions.create_async(params)
    assert refused.value.param == "expires_at"
    assert refused.value.http_status == 400


async def test_a_parameter_stripe_does_not_know_is_refused(client: stripe.StripeClient) -> None:
    params = session_params()
    params["line_items"][0]["price_data"]["unit_amont"] = 1500

    with pytest.raises(stripe.InvalidRequestError) as refused:
        await client.v1.checkout.sessions.create_async(params)

    assert refused.value.code == "parameter_unknown"
    assert refused.value.param == "line_items[0][price_data][unit_amont]"


async def test_a_missing_session_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        await client.v1.checkout.sessions.retrieve_async("cs_test_nothing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


async def test_a_session_read_past_its_expiry_has_expired(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    session = await client.v1.checkout.sessions.create_async(session_params())
    standin.clock = lambda: time.time() + 3600

    again = await client.v1.checkout.sessions.retrieve_async(session.id)

    assert again.status == "expired"
    expired = standin.last_event()
    assert expired["type"] == "checkout.session.expired"
    assert expired["request"] == {"id": None, "idempotency_key": None}  # Stripe's own timer
    with pytest.raises(ValueError, match="not open"):
        standin.pay(session.id)


# -- Idempotency and failures ----------------------------------------------------------------------


async def test_a_repeated_idempotency_key_replays_the_first_session(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    params = session_params()
    first = await client.v1.checkout.sessions.create_async(params, {"idempotency_key": "reg-12-1"})
    second = await client.v1.checkout.sessions.create_async(params, {"idempotency_key": "reg-12-1"})

    assert second.id == first.id
    assert second.last_response is not None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert [call.replayed for call in standin.calls] == [False, True]
    sessions = [o for o in standin.objects.values() if o["object"] == "checkout.session"]
    assert len(sessions) == 1


async def test_the_same_key_with_other_parameters_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    await client.v1.checkout.sessions.create_async(
        session_params(), {"idempotency_key": "reg-12-1"}
    )

    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        await client.v1.checkout.sessions.create_async(
            session_params(client_reference_id="registration-13"), {"idempotency_key": "reg-12-1"}
        )


async def test_a_lost_answer_retried_by_the_library_creates_one_session(
    standin: StripeStandIn,
) -> None:
    standin.lose_next_response(500, on="POST /v1/checkout/sessions")
    async with standin.client(max_network_retries=2) as retrying:
        session = await retrying.v1.checkout.sessions.create_async(session_params())

    first, retry = standin.calls
    assert first.idempotency_key == retry.idempotency_key  # the library generated one key
    assert retry.replayed
    assert [o["id"] for o in standin.objects.values()] == [session.id]


async def test_injected_failures_and_outages_reach_the_library_as_stripe_errors(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    session = await client.v1.checkout.sessions.create_async(session_params())

    standin.fail_next(500, on="POST /v1/refunds")  # not for this read
    await client.v1.checkout.sessions.retrieve_async(session.id)
    with pytest.raises(stripe.APIError):
        await client.v1.refunds.create_async({"payment_intent": "pi_whatever"})

    standin.fail_next(429)
    with pytest.raises(stripe.RateLimitError):
        await client.v1.checkout.sessions.retrieve_async(session.id)

    standin.outage(60)
    with pytest.raises(stripe.APIError) as down:
        await client.v1.checkout.sessions.retrieve_async(session.id)
    assert down.value.http_status == 503
    standin.outage(0)
    await client.v1.checkout.sessions.retrieve_async(session.id)
    assert standin.requests == 6
    assert len(standin.calls) == 3  # only what the API answered itself


async def test_a_wrong_key_is_an_authentication_error(standin: StripeStandIn) -> None:
    async with standin.client(api_key="sk_test_wrong") as wrong:
        with pytest.raises(stripe.AuthenticationError, match="Invalid API Key"):
            await wrong.v1.checkout.sessions.create_async(session_params())
    assert standin.calls == []
    assert standin.objects == {}


async def test_the_httpx_client_warns_on_every_post(standin: StripeStandIn) -> None:
    """Why bookbot passes `stripe.AIOHTTPClient()`: the library's default async client.

    Without `http_client`, StripeClient makes async calls through `stripe.HTTPXClient` (httpx
    is installed, for python-telegram-bot). stripe 16 hands httpx 0.28 the form body as
    `data=<str>`, which httpx deprecates; where warnings are errors (this suite) the library
    turns the warning into an APIConnectionError. When this test fails, stripe has fixed it.
    """
    http = stripe.HTTPXClient()
    try:
        with pytest.warns(DeprecationWarning, match="content="):
            session = await stripe.StripeClient(
                KEY, base_addresses={"api": standin.base_url}, http_client=http
            ).v1.checkout.sessions.create_async(session_params())
    finally:
        await close_http_client(http)
    assert session.status == "open"


# -- Payments, refunds and webhooks ----------------------------------------------------------------


async def test_a_payment_completes_the_session_with_a_receipt(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    session = await client.v1.checkout.sessions.create_async(session_params())

    event = standin.pay(session.id)

    assert event["type"] == "checkout.session.completed"
    assert event["id"].startswith("evt_")
    assert (event["livemode"], event["api_version"]) == (False, stripe.api_version)
    paid = event["data"]["object"]
    assert (paid["status"], paid["payment_status"], paid["amount_total"]) == (
        "complete",
        "paid",
        3000,
    )
    assert paid["metadata"] == {"registration": "12", "attempt": "1"}
    again = await client.v1.checkout.sessions.retrieve_async(
        session.id, {"expand": ["payment_intent.latest_charge"]}
    )
    intent = again.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    assert intent.metadata is not None
    assert intent.metadata.to_dict() == {"registration": "12"}
    charge = intent.latest_charge
    assert isinstance(charge, stripe.Charge)
    assert charge.receipt_url is not None
    assert charge.receipt_url.startswith("https://pay.stripe.com/receipts/")


async def test_a_payment_can_differ_from_what_the_session_asked(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    session = await client.v1.checkout.sessions.create_async(session_params())

    paid = standin.pay(session.id, amount=100, currency="USD")["data"]["object"]

    assert (paid["amount_total"], paid["currency"]) == (100, "usd")


async def test_a_delayed_payment_settles_later_or_fails(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    settles = await client.v1.checkout.sessions.create_async(session_params())
    fails = await client.v1.checkout.sessions.create_async(session_params())

    completed = standin.pay(settles.id, async_=True)["data"]["object"]
    assert (completed["status"], completed["payment_status"]) == ("complete", "unpaid")
    succeeded = standin.succeed_async(settles.id)
    assert succeeded["type"] == "checkout.session.async_payment_succeeded"
    assert succeeded["data"]["object"]["payment_status"] == "paid"

    standin.pay(fails.id, async_=True)
    failed = standin.fail_async(fails.id)
    assert failed["type"] == "checkout.session.async_payment_failed"
    assert failed["data"]["object"]["payment_status"] == "unpaid"


async def test_refunds_stop_at_what_was_paid(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    intent = await paid_session(client, standin)

    partial = await client.v1.refunds.create_async(
        {"payment_intent": intent, "amount": 1000, "metadata": {"registration": "12"}}
    )
    assert (partial.status, partial.amount, partial.currency) == ("pending", 1000, "eur")
    refunded = standin.last_event("charge.refunded")["data"]["object"]
    assert (refunded["amount_refunded"], refunded["refunded"]) == (1000, False)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        await client.v1.refunds.create_async({"payment_intent": intent, "amount": 2500})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount")

    rest = await client.v1.refunds.create_async({"payment_intent": intent})
    assert rest.amount == 2000
    with pytest.raises(stripe.InvalidRequestError) as again:
        await client.v1.refunds.create_async({"payment_intent": intent})
    assert again.value.code == "charge_already_refunded"

    settled = standin.refund_succeeds(partial.id)
    assert settled["type"] == "refund.updated"
    assert settled["data"]["previous_attributes"] == {"status": "pending"}
    assert (await client.v1.refunds.retrieve_async(partial.id)).status == "succeeded"


async def test_a_failed_refund_makes_its_amount_refundable_again(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    intent = await paid_session(client, standin)
    refund = await client.v1.refunds.create_async({"payment_intent": intent})

    failed = standin.refund_fails(refund.id)

    assert failed["data"]["object"]["status"] == "failed"
    again = await client.v1.refunds.create_async({"payment_intent": intent})
    assert again.amount == 3000


async def test_a_delivered_event_verifies_with_the_stripe_library(
    client: stripe.StripeClient, standin: StripeStandIn, receiver: Receiver
) -> None:
    session = await client.v1.checkout.sessions.create_async(session_params())
    event = standin.pay(session.id)

    assert await standin.deliver(event, receiver.url) == 200

    [received] = receiver.events
    assert (received.id, received.type) == (event["id"], "checkout.session.completed")
    assert standin.deliveries == [(event["id"], receiver.url, 200)]
    assert event not in standin.pending_events()


async def test_a_tampered_or_stale_or_foreign_signature_is_refused(
    client: stripe.StripeClient, standin: StripeStandIn, receiver: Receiver
) -> None:
    session = await client.v1.checkout.sessions.create_async(session_params())
    event = standin.pay(session.id)
    payload, header = standin.signed(event)
    tampered = payload.replace(b'"amount_total": 3000', b'"amount_total": 1')
    _, stale = standin.signed(event, timestamp=int(time.time()) - 600)
    _, foreign = standin.signed(event, secret="whsec_someone_else")

    assert stripe.Webhook.construct_event(payload, header, WEBHOOK_SECRET).id == event["id"]
    for body, signature in [(tampered, header), (payload, stale), (payload, foreign)]:
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)
        async with (
            aiohttp.ClientSession() as http,
            http.post(receiver.url, data=body, headers={"Stripe-Signature": signature}) as answer,
        ):
            assert answer.status == 400
    assert receiver.events == []


async def test_the_signature_is_stripes_hmac_of_timestamp_and_payload(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    session = await client.v1.checkout.sessions.create_async(session_params())
    event = standin.expire(session.id)
    payload, header = standin.signed(event, timestamp=1_700_000_000)

    expected = hmac.new(
        WEBHOOK_SECRET.encode(), b"1700000000." + payload, hashlib.sha256
    ).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert json.loads(payload) == event


# -- Company invoices ------------------------------------------------------------------------------


async def test_a_company_invoice_is_finalized_sent_and_paid(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    company = await client.v1.customers.create_async(
        {"name": "Acme Ltd", "email": "billing@acme.example", "metadata": {"po": "PO-7"}}
    )
    draft = await client.v1.invoices.create_async(
        {
            "customer": company.id,
            "collection_method": "send_invoice",
            "days_until_due": 14,
            "currency": "eur",
            "metadata": {"registration": "12"},
        }
    )
    await client.v1.invoice_items.create_async(
        {
            "customer": company.id,
            "invoice": draft.id,
            "amount": 9000,
            "currency": "eur",
            "description": "Morning yoga x 6",
        }
    )

    final = await client.v1.invoices.finalize_invoice_async(draft.id)
    assert (final.status, final.amount_due, final.customer_email) == (
        "open",
        9000,
        "billing@acme.example",
    )
    assert final.number is not None
    assert final.hosted_invoice_url is not None
    assert final.due_date == draft.created + 14 * 86400
    await client.v1.invoices.send_invoice_async(draft.id)

    paid = standin.pay_invoice(draft.id)
    assert paid["type"] == "invoice.paid"
    assert paid["data"]["object"]["metadata"] == {"registration": "12"}
    again = await client.v1.invoices.retrieve_async(draft.id)
    assert (again.status, again.amount_paid, again.amount_remaining) == ("paid", 9000, 0)


async def test_a_failed_invoice_payment_leaves_it_open(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    company = await client.v1.customers.create_async({"name": "Acme Ltd"})
    await client.v1.invoice_items.create_async(
        {"customer": company.id, "amount": 5000, "currency": "usd"}
    )
    draft = await client.v1.invoices.create_async(
        {
            "customer": company.id,
            "collection_method": "send_invoice",
            "days_until_due": 7,
            "pending_invoice_items_behavior": "include",
        }
    )
    assert draft.amount_due == 5000
    await client.v1.invoices.finalize_invoice_async(draft.id)

    failed = standin.fail_invoice(draft.id)

    assert failed["type"] == "invoice.payment_failed"
    assert failed["data"]["object"]["attempt_count"] == 1
    assert (await client.v1.invoices.retrieve_async(draft.id)).status == "open"


async def test_invoice_rules_are_stripes(client: stripe.StripeClient) -> None:
    company = await client.v1.customers.create_async({"name": "Acme Ltd"})
    with pytest.raises(stripe.InvalidRequestError) as no_due:
        await client.v1.invoices.create_async(
            {"customer": company.id, "collection_method": "send_invoice"}
        )
    assert no_due.value.code == "parameter_missing"

    draft = await client.v1.invoices.create_async(
        {"customer": company.id, "collection_method": "send_invoice", "days_until_due": 3}
    )
    with pytest.raises(stripe.InvalidRequestError, match="finalize it first"):
        await client.v1.invoices.send_invoice_async(draft.id)
    with pytest.raises(stripe.InvalidRequestError) as nobody:
        await client.v1.invoices.create_async({"customer": "cus_nobody"})
    assert (nobody.value.code, nobody.value.param) == ("resource_missing", "customer")


# -- Parsing -------------------------------------------------------------------------------------


def test_form_keys_become_nested_dicts_and_lists() -> None:
    parsed = parse_form(
        [
            ("line_items[0][price_data][unit_amount]", "1500"),
            ("line_items[1][quantity]", "2"),
            ("metadata[0]", "a metadata key, not an index"),
            ("expand[]", "payment_intent"),
            ("expand[]", "line_items"),
        ]
    )
    assert parsed == {
        "line_items": [{"price_data": {"unit_amount": "1500"}}, {"quantity": "2"}],
        "metadata": {"0": "a metadata key, not an index"},
        "expand": ["payment_intent", "line_items"],
    }
