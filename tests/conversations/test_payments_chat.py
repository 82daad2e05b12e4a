"""Paying in chat, on SQLite and PostgreSQL: the real StripeGateway against the local Stripe
stand-in (real HTTP, the real `stripe` library), events through the real webhook route and
the inbox worker, and the customer's messages as each channel renders them."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestServer

from bookbot.config import Settings
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Option, Reply
from bookbot.conversations.outbound import reply_from_params, reply_params
from bookbot.conversations.payment_steps import one_line, valid_email
from bookbot.conversations.states import PaymentSetup
from bookbot.engine.clock import FrozenClock
from bookbot.engine.recurrence import zone
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.handlers.stripe_webhook import SOURCE, WEBHOOK_PATH, StripeWebhook
from bookbot.handlers.telegram_bot import keyboard
from bookbot.handlers.templates import render
from bookbot.handlers.text import numbered
from bookbot.handlers.twilio_webhook import reply_text
from bookbot.handlers.web import make_app
from bookbot.jobs.inbox_worker import InboxWorker
from bookbot.presentation.i18n import translator
from bookbot.serve import build
from bookbot.store.db import Database, instant
from tests.conversations.chat import Chat
from tests.conversations.test_staff import staff_chat
from tests.stripe_standin import StripeStandIn

KEY = "sk_test_chat"
SECRET = "whsec_chat"
PUBLIC = "https://bot.example"


@pytest.fixture
async def standin(clock: FrozenClock) -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as running:
        running.clock = lambda: clock.now().timestamp()  # Stripe's time is the test's
        yield running


@pytest.fixture
async def gateway(standin: StripeStandIn) -> AsyncIterator[StripeGateway]:
    made = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    yield made
    await made.close()


@dataclass
class Shop:
    db: Database
    clock: FrozenClock
    standin: StripeStandIn
    gateway: StripeGateway
    dialogues: Dialogues
    webhook_url: str
    worker: InboxWorker

    def chat(self, channel: Channel = Channel.TELEGRAM, address: str = "7001") -> Chat:
        return Chat(self.dialogues, address=address, channel=channel)

    async def payment(self, payment_id: int | None = None) -> dict[str, Any]:
        if payment_id is None:
            row = await self.db.one("SELECT * FROM payments ORDER BY id DESC LIMIT 1")
        else:
            row = await self.db.one("SELECT * FROM payments WHERE id = :id", {"id": payment_id})
        assert row is not None
        found: dict[str, Any] = dict(cast(Any, row))
        return found

    async def deliver(self, event: dict[str, Any]) -> None:
        """Stripe posts the event (signed, now) to our webhook; the inbox worker applies it."""
        status = await self.standin.deliver(event, self.webhook_url, timestamp=int(time.time()))
        assert status == 200
        await self.worker.run_until_idle()

    async def outbox(self, template: str) -> list[dict[str, Any]]:
        rows = await self.db.all(
            "SELECT customer_id, params FROM outbox WHERE template = :t ORDER BY id",
            {"t": template},
        )
        return [{"customer_id": r["customer_id"], "params": _params(r["params"])} for r in rows]

    async def seats_held_or_booked(self) -> int:
        return int(
            await self.db.scalar(
                "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions"
                " WHERE status = 'booked' OR (status = 'held' AND held_until > :now)",
                {"now": self.clock.now()},
            )
        )


def _params(raw: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = raw if isinstance(raw, dict) else json.loads(raw)
    return loaded


@pytest.fixture
async def shop(
    db: Database,
    clock: FrozenClock,
    studio_id: int,  # noqa: ARG001 - the example studio is loaded first
    standin: StripeStandIn,
    gateway: StripeGateway,
) -> AsyncIterator[Shop]:
    dialogues = Dialogues(db, clock, payments=PaymentSetup(gateway, PUBLIC))
    webhook = StripeWebhook(db, clock, SECRET, gateway=gateway)
    server = TestServer(make_app(*webhook.routes()))
    await server.start_server()
    try:
        yield Shop(
            db,
            clock,
            standin,
            gateway,
            dialogues,
            str(server.make_url(WEBHOOK_PATH)),
            InboxWorker(db, clock, {SOURCE: webhook}),
        )
    finally:
        await server.close()


async def _to_summary(chat: Chat, class_name: str = "Wheel Throwing Taster") -> None:
    await chat.say("/start")
    for reply in ("book", class_name, "1", "2"):
        await chat.say(reply)


def _link(reply: Reply) -> Option:
    links = [o for o in reply.options if o.url]
    assert len(links) == 1, reply.options
    return links[0]


async def test_book_for_two_pay_now_link_confirmed_with_a_receipt(shop: Shop) -> None:
    chat = shop.chat()
    await _to_summary(chat)
    assert "Total: £90.00." in chat.text
    assert "Total: £90.00, paid at the studio." not in chat.text
    # The taster is 'either': pay now or at the studio; no deposit, no company invoice.
    assert chat.labels == ["💳 Pay now", "Pay at the studio", "⬅ Back", "✖ Cancel"]

    await chat.press("💳 Pay now")

    link = _link(chat.last)
    assert link.label == "💳 Pay £90.00"
    assert link.url == (await shop.payment())["checkout_url"]
    assert str(link.url).startswith("https://checkout.stripe.com/")
    # Held as long as the link lives (the studio's 30 minutes; the service may add a margin).
    expires = instant((await shop.payment())["expires_at"]).astimezone(zone("Europe/London"))
    held = "I'll confirm here when the payment arrives; the seats are held until {:%H:%M}."
    assert held.format(expires) in chat.text
    assert expires - shop.clock.now() >= timedelta(minutes=30)
    button = keyboard(chat.last)
    assert button is not None
    assert button.inline_keyboard[0][0].url == link.url  # a URL button on Telegram
    payment = await shop.payment()
    assert (payment["status"], payment["amount_minor"], payment["purpose"]) == (
        "pending",
        9000,
        "full",
    )
    create = next(c for c in shop.standin.calls if c.path == "/v1/checkout/sessions")
    assert "lang=en" in create.params["success_url"]
    assert "via=telegram" in create.params["cancel_url"]

    await shop.deliver(shop.standin.pay(payment["stripe_session_id"]))

    assert (await shop.payment(payment["id"]))["status"] == "paid"
    receipts = await shop.outbox("payment_receipt")
    assert len(receipts) == 1
    text = render("payment_receipt", receipts[0]["params"], translator("en"), "Europe/London")
    assert text.startswith("Payment received: £90.00. Thank you!")
    assert "Wheel Throwing Taster" in text
    await chat.press("🔄 I have paid")
    assert "✅ Payment received: your booking is confirmed." in chat.text
    await chat.say("my")
    assert chat.labels[0].endswith("· 2 people · paid")


async def test_the_staff_roster_shows_who_paid(shop: Shop, studio_id: int) -> None:
    chat = shop.chat()
    await _to_summary(chat)
    await chat.press("💳 Pay now")
    await shop.deliver(shop.standin.pay((await shop.payment())["stripe_session_id"]))
    maya = await staff_chat(shop.dialogues, shop.db, studio_id)
    await maya.say("/roster")
    await maya.press("Sat 21 Nov, 14:00 · Wheel Throwing Taster")
    assert maya.labels[0] == "Ana · 2 people · paid"
    # The roster's table: name, party size, payment (sent preformatted)
    row = next(line for line in maya.last.text.splitlines() if line.startswith("Ana "))
    assert row.split() == ["Ana", "2", "paid"]
    assert maya.last.preformatted


async def test_staff_payments_lists_today_and_what_is_owed(shop: Shop, studio_id: int) -> None:
    chat = shop.chat()
    await _to_summary(chat)
    await chat.press("💳 Pay now")
    paid = await shop.payment()
    await shop.deliver(shop.standin.pay(paid["stripe_session_id"]))
    other = shop.chat(address="7002")
    await _to_summary(other, "Six-Week Wheel Course")
    await other.press("💳 Pay £144.00 deposit now")
    await shop.deliver(shop.standin.pay((await shop.payment())["stripe_session_id"]))
    balance = await shop.payment()

    maya = await staff_chat(shop.dialogues, shop.db, studio_id)
    await maya.say("/staff")
    assert "💳 Payments" in maya.labels
    await maya.say("/payments")

    assert "Paid today:" in maya.text
    assert f"• #{paid['id']} · 09:00 · £90.00 · Wheel Throwing Taster · paid in full" in maya.text
    assert "Total: £234.00" in maya.text
    owed = f"• #{balance['id']} · £336.00 · Six-Week Wheel Course · balance · due Mon 8 Mar"
    assert owed in maya.text
    assert "Later ▸" not in maya.labels  # nothing is paid tomorrow yet

    await maya.press("◂ Earlier")  # the day before: nothing paid; the same still owed
    assert "Paid on Thu 19 Nov:\nnothing\n" in maya.text
    assert owed in maya.text
    await maya.say("today")
    assert "Total: £234.00" in maya.text


async def test_backing_out_expires_the_session_and_holds_the_seats_again(shop: Shop) -> None:
    chat = shop.chat()
    await _to_summary(chat)
    await chat.press("💳 Pay now")
    first = await shop.payment()

    await chat.press("⬅ Back")

    assert "Payment cancelled; nothing was charged." in chat.text
    assert "Please check your booking:" in chat.text
    session = await shop.gateway.get_checkout(first["stripe_session_id"])
    assert session.status == "expired"
    assert (await shop.payment(first["id"]))["status"] == "cancelled"
    assert await shop.seats_held_or_booked() == 2  # held again for the summary

    await chat.press("✖ Cancel")
    assert await shop.seats_held_or_booked() == 0


async def test_leaving_the_link_by_menu_calls_it_off(shop: Shop) -> None:
    chat = shop.chat()
    await _to_summary(chat)
    await chat.press("💳 Pay now")
    first = await shop.payment()
    await chat.say("menu")
    assert (await shop.payment(first["id"]))["status"] == "cancelled"
    assert (await shop.gateway.get_checkout(first["stripe_session_id"])).status == "expired"
    assert await shop.seats_held_or_booked() == 0


async def test_deposit_then_the_balance_is_scheduled(shop: Shop) -> None:
    chat = shop.chat()
    await _to_summary(chat, "Six-Week Wheel Course")
    total = 2 * 24000
    assert f"Total: £{total / 100:,.2f}." in chat.text
    deposit = "💳 Pay £144.00 deposit now"  # 30% of £480.00
    assert chat.labels[:4] == ["💳 Pay now", deposit, "🏢 Invoice my company", "Pay at the studio"]

    await chat.press(deposit)

    payment = await shop.payment()
    assert (payment["purpose"], payment["amount_minor"]) == ("deposit", 14400)
    assert _link(chat.last).label == "💳 Pay £144.00"
    await shop.deliver(shop.standin.pay(payment["stripe_session_id"]))
    balance = await shop.payment()
    assert (balance["purpose"], balance["status"], balance["amount_minor"]) == (
        "balance",
        "scheduled",
        total - 14400,
    )
    await chat.say("my")
    assert chat.labels[0].endswith("· deposit paid, balance due Mon 8 Mar")


async def test_company_invoice_with_typed_details(shop: Shop) -> None:
    chat = shop.chat()
    await _to_summary(chat, "Six-Week Wheel Course")
    await chat.press("🏢 Invoice my company")
    assert "Which company should we invoice?" in chat.text
    await chat.say("  Acme\u200b   Pottery\tLtd \x07")
    await chat.say("billing at acme")
    assert "That does not look like an email address." in chat.text
    await chat.say("accounts@acme.example")
    assert "purchase order" in chat.text
    await chat.say("PO-7731")

    assert "🎉 Booked! Six-Week Wheel Course" in chat.text
    assert "The invoice goes to accounts@acme.example." in chat.text
    payment = await shop.payment()
    assert payment["purpose"] == "invoice"
    assert payment["status"] == "invoiced"
    assert payment["company_name"] == "Acme Pottery Ltd"
    assert (payment["billing_email"], payment["po_number"]) == ("accounts@acme.example", "PO-7731")
    await shop.deliver(shop.standin.pay_invoice(payment["stripe_invoice_id"]))
    assert (await shop.payment(payment["id"]))["status"] == "paid"


async def test_sms_shows_the_link_as_a_line_and_numbers_the_rest(shop: Shop) -> None:
    chat = shop.chat(Channel.SMS, "+447700900123")
    await _to_summary(chat)
    await chat.say("1")  # Pay now

    text = reply_text(chat.last)
    url = _link(chat.last).url
    assert f"Pay £90.00: {url}" in text
    assert "1. 🔄 I have paid" in text
    assert "2. ⬅ Back" in text
    create = next(c for c in shop.standin.calls if c.path == "/v1/checkout/sessions")
    assert "via=sms" in create.params["cancel_url"]
    await chat.say("2")  # Back: the link is called off, the seats held again
    assert "Payment cancelled" in chat.text


async def test_a_gateway_error_is_polite_and_keeps_the_hold(shop: Shop) -> None:
    chat = shop.chat()
    await _to_summary(chat)
    shop.standin.fail_next(400, on="POST /v1/checkout/sessions")
    await chat.press("💳 Pay now")
    assert "the payment page could not be opened just now" in chat.text
    assert "Please check your booking:" in chat.text
    assert await shop.seats_held_or_booked() == 2
    await chat.press("💳 Pay now")  # asking again makes a fresh one
    assert _link(chat.last).url


async def test_a_pass_bought_online_is_active_once_paid(shop: Shop) -> None:
    await shop.db.execute(
        "UPDATE classes SET payment = 'online' WHERE name = 'Open Studio Drop-in'"
    )
    chat = shop.chat()
    await chat.say("/start")
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    offer = next(label for label in chat.labels if label.startswith("🎟 Get"))
    await chat.press(offer)
    assert chat.labels == ["💳 Pay now", "⬅ Back", "✖ Cancel"]  # 'online': no paying later
    await chat.press("💳 Pay now")
    payment = await shop.payment()
    assert payment["purpose"] == "pass"
    await shop.deliver(shop.standin.pay(payment["stripe_session_id"]))
    await chat.press("🔄 I have paid")
    assert "your pass is active" in chat.text


async def test_without_stripe_everything_is_paid_at_the_studio(chat: Chat) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1", "2"):
        await chat.say(reply)
    assert "Total: £90.00, paid at the studio." in chat.text
    assert chat.labels[0] == "✅ Confirm booking"
    assert not any(o.url for o in chat.last.options)


def test_a_link_survives_the_outbox() -> None:
    reply = Reply("Pay", (Option("", "💳 Pay £9.00", "https://pay.example/s"), Option("3:0", "OK")))
    again = reply_from_params(reply_params(reply, edit_ref=None, dialogue="1"))
    assert again.options == reply.options
    old = reply_from_params({"text": "x", "options": [["3:0", "OK"]]})
    assert old.options == (Option("3:0", "OK"),)
    assert numbered(again) == "Pay\n💳 Pay £9.00: https://pay.example/s\n1. OK"


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("accounts@acme.example", True),
        ("a.b+c@sub.acme.co.uk", True),
        ("ana@bücher.example", True),
        ("no-at.example", False),
        ("two@@acme.example", False),
        ("a..b@acme.example", False),
        ("ana@localhost", False),
        ("ana@-acme.example", False),
        ("ana@acme.example\nBcc: x@y.example", False),
        ("<script>@acme.example", False),
        ("a" * 65 + "@acme.example", False),
    ],
)
def test_billing_email_is_checked(typed: str, ok: bool) -> None:
    assert (valid_email(typed) is not None) is ok


def test_typed_company_details_are_one_printable_line() -> None:
    assert one_line("  Acme\u200b \u202eLtd\n\x00 ", 100) == "Acme Ltd"
    assert len(one_line("x" * 500, 100)) == 100


async def test_bookbot_run_gives_the_dialogues_the_gateway(
    db: Database, clock: FrozenClock
) -> None:
    for stripe_on in (False, True):
        settings = Settings(
            database_url="unused",
            twilio_account_sid="AC" + "3" * 32,
            twilio_auth_token="twilio-token-for-chat-tests",
            twilio_sms_from="+15005550006",
            public_url=PUBLIC,
            stripe_secret_key=KEY if stripe_on else None,
            stripe_webhook_secret=SECRET if stripe_on else None,
        )
        services = build(settings, db, clock)
        assert services.twilio is not None
        assert services.sender is not None
        await services.sender.close()
        paying = services.twilio.dialogues.payments
        if not stripe_on:
            assert paying is None  # no Stripe: everything is paid at the studio
            continue
        assert paying is not None
        assert services.gateway is not None
        assert paying.gateway is services.gateway
        assert paying.public_url == PUBLIC
        await services.gateway.close()
