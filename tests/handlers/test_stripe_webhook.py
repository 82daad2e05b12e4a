"""POST /stripe/webhook on the real aiohttp app: events signed as Stripe signs them (by the
Stripe stand-in) are stored in the inbox once; anything unsigned, mis-signed, stale or
tampered with gets 400 and leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import stripe
from aiohttp.test_utils import TestClient, TestServer

from bookbot.config import Settings
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.handlers.stripe_webhook import (
    SOURCE,
    TOLERANCE,
    WEBHOOK_PATH,
    StripeWebhook,
    event_chat,
)
from bookbot.handlers.web import make_app
from bookbot.jobs.inbox_worker import InboxWorker
from bookbot.serve import build, serve
from bookbot.services import inbox
from bookbot.services.payment_gateway import CheckoutRequest, InvoiceRequest
from bookbot.store.db import Database
from tests.examples import load_example_studio
from tests.stripe_standin import StripeStandIn
from tests.twilio_standin import TwilioStandIn

KEY = "sk_test_webhook"
SECRET = "whsec_webhook_secret_for_tests"
TWILIO_ACCOUNT = "AC" + "2" * 32
TWILIO_TOKEN = "twilio-token-for-stripe-tests"


@dataclass
class World:
    db: Database
    http: TestClient[Any, Any]
    stripe: StripeStandIn
    gateway: StripeGateway
    webhook: StripeWebhook
    woken: list[bool]

    @property
    def url(self) -> str:
        return str(self.http.make_url(WEBHOOK_PATH))

    async def post(self, payload: bytes, header: str | None) -> int:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if header is not None:
            headers["Stripe-Signature"] = header
        response = await self.http.post(WEBHOOK_PATH, data=payload, headers=headers)
        return response.status

    async def paid_session_event(self, payment_id: int = 41) -> dict[str, Any]:
        session = await self.gateway.create_checkout(
            CheckoutRequest(
                payment_id=payment_id,
                attempt=1,
                amount_minor=3000,
                currency="eur",
                description="Morning yoga x2",
                expires_at=datetime.now(UTC) + timedelta(minutes=40),
                success_url="https://bot.example/pay/success",
                cancel_url="https://bot.example/pay/cancel",
            )
        )
        return self.stripe.pay(session.id)


async def stored(db: Database) -> list[dict[str, Any]]:
    rows = await db.all(
        "SELECT external_id, chat, payload, status FROM inbox WHERE source = :source ORDER BY id",
        {"source": SOURCE},
    )
    return [
        {
            "external_id": r["external_id"],
            "chat": r["chat"],
            "payload": json.loads(r["payload"]),
            "status": r["status"],
        }
        for r in rows
    ]


@pytest.fixture
async def world(db: Database, clock: FrozenClock) -> AsyncIterator[World]:
    woken: list[bool] = []
    webhook = StripeWebhook(db, clock, SECRET, wake=lambda: woken.append(True))
    async with StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as stripe_api:
        gateway = StripeGateway(KEY, api_base=stripe_api.base_url, max_network_retries=0)
        async with TestClient(TestServer(make_app(*webhook.routes()))) as http:
            yield World(db, http, stripe_api, gateway, webhook, woken)
        await gateway.close()


async def test_signed_event_is_stored_once_and_acknowledged(world: World) -> None:
    event = await world.paid_session_event()

    assert await world.stripe.deliver(event, world.url) == 200

    [row] = await stored(world.db)
    assert row["external_id"] == event["id"]
    assert row["payload"] == event
    assert row["status"] == "pending"
    assert row["chat"] == "stripe:payment:41"
    assert world.woken == [True]
    assert world.stripe.pending_events() == []


async def test_duplicate_delivery_is_stored_once(world: World) -> None:
    event = await world.paid_session_event()
    payload, header = world.stripe.signed(event)

    assert await world.post(payload, header) == 200
    assert await world.stripe.deliver(event, world.url) == 200  # signed afresh, same id

    assert [r["external_id"] for r in await stored(world.db)] == [event["id"]]
    assert world.woken == [True]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda _p, _h, _s: (_p, None), id="missing header"),
        pytest.param(lambda _p, _h, _s: (_p, ""), id="empty header"),
        pytest.param(lambda _p, _h, _s: (_p, "t=1,v1=abc"), id="garbage header"),
        pytest.param(
            lambda _p, _h, s: s(secret="whsec_someone_else"), id="another endpoint's secret"
        ),
        pytest.param(lambda _p, _h, s: s(timestamp=int(time.time()) - TOLERANCE - 60), id="stale"),
        pytest.param(
            lambda p, h, _s: (p.replace(b'"amount_total": 3000', b'"amount_total": 1'), h),
            id="tampered body",
        ),
        pytest.param(lambda p, h, _s: (json.dumps(json.loads(p)).encode(), h), id="re-encoded"),
    ],
)
async def test_bad_signature_is_400_and_nothing_stored(
    world: World, forge: Any, caplog: pytest.LogCaptureFixture
) -> None:
    event = await world.paid_session_event()
    payload, header = world.stripe.signed(event)

    def sign(**options: Any) -> tuple[bytes, str]:
        return world.stripe.signed(event, **options)

    bad_payload, bad_header = forge(payload, header, sign)
    assert bad_payload != payload or bad_header != header
    with caplog.at_level(logging.WARNING, logger="bookbot.handlers.stripe_webhook"):
        assert await world.post(bad_payload, bad_header) == 400

    assert await stored(world.db) == []
    assert world.woken == []
    logged = caplog.text
    assert "stripe webhook" in logged
    assert SECRET not in logged
    assert header.partition("v1=")[2][:16] not in logged


async def test_signed_but_not_an_event_is_400(world: World) -> None:
    payload = b'{"hello": "world"}'
    header = world.stripe.signed({"id": "evt_x"})[1]  # a signature over another body
    assert await world.post(payload, header) == 400
    good = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), SECRET, int(time.time())
    )
    assert await world.post(payload, good) == 400
    assert await stored(world.db) == []


async def test_a_tolerance_of_our_own(db: Database, clock: FrozenClock) -> None:
    webhook = StripeWebhook(db, clock, SECRET, tolerance=30)
    async with StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as stripe_api:
        event = {"id": "evt_1", "type": "invoice.paid", "data": {"object": {"id": "in_1"}}}
        payload, header = stripe_api.signed(event, timestamp=int(time.time()) - 60)
        async with TestClient(TestServer(make_app(*webhook.routes()))) as http:
            response = await http.post(
                WEBHOOK_PATH, data=payload, headers={"Stripe-Signature": header}
            )
    assert response.status == 400


def test_events_of_one_payment_share_a_chat() -> None:
    def event(obj: dict[str, Any]) -> dict[str, Any]:
        return {"id": "evt_1", "type": "x", "data": {"object": obj}}

    session = {"object": "checkout.session", "id": "cs_1", "metadata": {"payment_id": "7"}}
    charge = {"object": "charge", "id": "ch_1", "payment_intent": "pi_1", "metadata": {}}
    refund = {"object": "refund", "id": "re_1", "payment_intent": "pi_1", "metadata": {}}
    invoice = {"object": "invoice", "id": "in_1", "metadata": {}}
    assert event_chat(event(session)) == "stripe:payment:7"
    assert event_chat(event({**charge, "metadata": {"payment_id": "7"}})) == "stripe:payment:7"
    assert event_chat(event(charge)) == event_chat(event(refund)) == "stripe:pi_1"
    assert event_chat(event(invoice)) == "stripe:in_1"
    assert event_chat(event({"object": "checkout.session", "id": "cs_2"})) == "stripe:cs_2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def listening(port: int) -> None:
    for _ in range(200):
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"nothing listens on {port}")


async def test_bookbot_run_serves_payments(db: Database, clock: FrozenClock) -> None:
    """`bookbot run`'s own build() and serve(): the webhook and the pages are served, the
    events are stored, and Stripe's HTTP session is closed once everything has stopped."""
    port = free_port()
    async with (
        StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as stripe_api,
        TwilioStandIn(TWILIO_ACCOUNT, TWILIO_TOKEN) as twilio,
    ):
        settings = Settings(
            database_url="unused",
            public_url="https://bot.example.com",
            host="127.0.0.1",
            port=port,
            twilio_account_sid=TWILIO_ACCOUNT,
            twilio_auth_token=TWILIO_TOKEN,
            twilio_sms_from="+15005550006",
            twilio_api_base=twilio.base_url,
            stripe_secret_key=KEY,
            stripe_webhook_secret=SECRET,
            stripe_api_base=stripe_api.base_url,
        )
        services = build(settings, db, clock)
        gateway = services.gateway
        assert gateway is not None
        assert services.jobs.gateway is gateway
        assert services.jobs.urls is not None
        assert services.jobs.urls.success.startswith("https://bot.example.com/pay/success?")
        assert services.inbox.processors[SOURCE] is services.stripe
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(settings, services, stop))
        try:
            await listening(port)
            session = await gateway.create_checkout(
                CheckoutRequest(
                    payment_id=5,
                    attempt=1,
                    amount_minor=1500,
                    currency="eur",
                    description="Wheel course",
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                    success_url="https://bot.example.com/pay/success",
                    cancel_url="https://bot.example.com/pay/cancel",
                )
            )
            event = stripe_api.pay(session.id)
            base = f"http://127.0.0.1:{port}"
            assert await stripe_api.deliver(event, base + WEBHOOK_PATH) == 200
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{base}/pay/success?lang=es&via=sms") as page,
            ):
                text = await page.text()
            assert page.status == 200
            assert "Pago recibido" in text
            assert 'href="sms:+15005550006"' in text
        finally:
            stop.set()
            await serving
        assert [r["external_id"] for r in await stored(db)] == [event["id"]]
        assert not gateway._clients  # closed on shutdown


async def test_bookbot_run_refuses_half_configured_payments(
    db: Database, clock: FrozenClock
) -> None:
    settings = Settings(
        database_url="unused",
        public_url="https://bot.example.com",
        twilio_account_sid=TWILIO_ACCOUNT,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_sms_from="+15005550006",
        stripe_secret_key=KEY,
    )
    with pytest.raises(ValueError, match="BOOKBOT_STRIPE_WEBHOOK_SECRET"):
        build(settings, db, clock)
    settings = Settings(
        database_url="unused",
        twilio_account_sid=TWILIO_ACCOUNT,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_sms_from="+15005550006",
        public_url="https://bot.example.com",
    )
    services = build(settings, db, clock)
    assert services.sender is not None
    await services.sender.close()
    assert services.gateway is None
    assert services.stripe is None
    assert services.pages is None


# --- through the inbox worker into payment_events.apply_event --------------------------------


@dataclass
class Paying:
    """A studio with a staff chat, a customer, and the webhook's processor in an inbox worker."""

    world: World
    worker: InboxWorker
    studio_id: int
    customer_id: int

    async def payment(self, *, purpose: str, status: str, amount: int = 3000) -> int:
        now = self.world.webhook.clock.now()
        async with self.world.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO payments (studio_id, customer_id, purpose, amount_minor, currency,"
                " status, created_at, updated_at) VALUES (:studio, :customer, :purpose, :amount,"
                " 'gbp', :status, :now, :now)",
                {
                    "studio": self.studio_id,
                    "customer": self.customer_id,
                    "purpose": purpose,
                    "amount": amount,
                    "status": status,
                    "now": now,
                },
            )
            return int(await tx.scalar("SELECT MAX(id) FROM payments"))

    async def status(self, payment_id: int) -> str:
        return str(
            await self.world.db.scalar(
                "SELECT status FROM payments WHERE id = :id", {"id": payment_id}
            )
        )

    async def staff_notices(self) -> list[str]:
        rows = await self.world.db.all(
            "SELECT template FROM outbox WHERE customer_id IS NULL AND studio_id = :s ORDER BY id",
            {"s": self.studio_id},
        )
        return [r["template"] for r in rows]


@pytest.fixture
async def paying(world: World, clock: FrozenClock) -> Paying:
    studio_id = await load_example_studio(world.db, clock, weeks=0)
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE studios SET staff_chat_id = 4242 WHERE id = :id", {"id": studio_id}
        )
        await tx.execute(
            "INSERT INTO customers (studio_id, name, created_at) VALUES (:s, 'Acme', :now)",
            {"s": studio_id, "now": clock.now()},
        )
        customer_id = int(await tx.scalar("SELECT MAX(id) FROM customers"))
    world.webhook.gateway = world.gateway
    worker = InboxWorker(world.db, clock, {SOURCE: world.webhook})
    return Paying(world, worker, studio_id, customer_id)


async def test_invoice_paid_end_to_end_once(paying: Paying) -> None:
    world = paying.world
    payment_id = await paying.payment(purpose="invoice", status="invoiced", amount=24000)
    invoice = await world.gateway.create_invoice(
        InvoiceRequest(
            payment_id=payment_id,
            amount_minor=24000,
            currency="gbp",
            description="Six-week wheel course",
            company_name="Acme Ltd",
            billing_email="billing@acme.example",
            days_until_due=14,
        )
    )
    event = world.stripe.pay_invoice(invoice.id)

    assert await world.stripe.deliver(event, world.url) == 200
    assert await world.stripe.deliver(event, world.url) == 200  # Stripe delivers again
    assert await paying.worker.run_until_idle() == 1

    assert await paying.status(payment_id) == "paid"
    assert await paying.staff_notices() == ["payment_staff_paid"]
    assert [r["status"] for r in await stored(world.db)] == ["done"]


async def test_expired_session_end_to_end(paying: Paying) -> None:
    world = paying.world
    payment_id = await paying.payment(purpose="full", status="pending")
    session = await world.gateway.create_checkout(
        CheckoutRequest(
            payment_id=payment_id,
            attempt=1,
            amount_minor=3000,
            currency="gbp",
            description="Wheel taster",
            expires_at=datetime.now(UTC) + timedelta(minutes=40),
            success_url="https://bot.example/pay/success",
            cancel_url="https://bot.example/pay/cancel",
        )
    )
    expired = world.stripe.expire(session.id)
    late_duplicate = dict(expired)

    assert await world.stripe.deliver(expired, world.url) == 200
    assert await paying.worker.run_until_idle() == 1
    assert await world.stripe.deliver(late_duplicate, world.url) == 200
    assert await paying.worker.run_until_idle() == 0

    assert await paying.status(payment_id) == "expired"


async def test_an_event_given_up_on_tells_staff(paying: Paying) -> None:
    world = paying.world
    payment_id = await paying.payment(purpose="full", status="pending")
    event = {
        "id": "evt_broken",
        "type": "checkout.session.completed",
        "data": {
            "object": {"object": "checkout.session", "metadata": {"payment_id": str(payment_id)}}
        },
    }
    payload, header = world.stripe.signed(event)
    assert await world.post(payload, header) == 200
    [item] = await inbox.claim(world.db, paying.world.webhook.clock.now(), 1, timedelta(seconds=5))

    await world.webhook.gave_up(item)

    assert await paying.staff_notices() == ["payment_staff_event_failed"]
    await world.webhook.gave_up(item)  # told once
    assert await paying.staff_notices() == ["payment_staff_event_failed"]
