"""Paying for an appointment in chat, on SQLite and PostgreSQL: the real StripeGateway
against the local Stripe stand-in, events through the real webhook route and the inbox
worker. The pottery studio (Europe/London) gets a 60-minute wheel lesson by SQL, taught by
Tom on weekdays 10:00-16:00, for £40.00 with a 5-hour cancellation cutoff; it is Fri 20 Nov
2026, 09:00 UTC."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Option, Reply
from bookbot.conversations.states import PaymentSetup
from bookbot.engine.clock import FrozenClock
from bookbot.engine.recurrence import zone
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.handlers.stripe_webhook import SOURCE, WEBHOOK_PATH, StripeWebhook
from bookbot.handlers.templates import render
from bookbot.handlers.web import make_app
from bookbot.jobs.inbox_worker import InboxWorker
from bookbot.presentation.i18n import translator
from bookbot.store.db import Database, instant
from tests.conversations.chat import Chat
from tests.stripe_standin import StripeStandIn

KEY = "sk_test_appointment_chat"
SECRET = "whsec_appointment_chat"
PUBLIC = "https://bot.example"
TOM = "Tom Hargreaves"


@pytest.fixture
async def standin(clock: FrozenClock) -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as running:
        running.clock = lambda: clock.now().timestamp()
        yield running


@pytest.fixture
async def gateway(standin: StripeStandIn) -> AsyncIterator[StripeGateway]:
    made = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    yield made
    await made.close()


async def _lesson(db: Database, studio_id: int, payment: str) -> int:
    """Tom's wheel lesson, paid `payment`; its service id."""
    ids = {"studio_id": studio_id}
    async with db.transaction() as tx:
        tom = int(
            await tx.scalar(
                "SELECT id FROM staff WHERE studio_id = :studio_id AND key = 'tom'", ids
            )
        )
        for weekday in range(5):
            await tx.execute(
                "INSERT INTO availability_windows (studio_id, staff_id, weekday, start_time,"
                " end_time, source) VALUES (:studio_id, :tom, :weekday, '10:00', '16:00', 'file')",
                {**ids, "tom": tom, "weekday": weekday},
            )
        service_id = int(
            await tx.scalar(
                "INSERT INTO services (studio_id, key, name, duration_minutes, price_minor,"
                " location, reschedule_cutoff_hours, cancellation_cutoff_hours, payment)"
                " VALUES (:studio_id, 'lesson', 'Wheel lesson', 60, 4000, '1 Kiln Lane', 5, 5,"
                " :payment) RETURNING id",
                {**ids, "payment": payment},
            )
        )
        await tx.execute(
            "INSERT INTO service_staff (studio_id, service_id, staff_id)"
            " VALUES (:studio_id, :service_id, :tom)",
            {**ids, "service_id": service_id, "tom": tom},
        )
    return service_id


@dataclass
class Desk:
    db: Database
    clock: FrozenClock
    standin: StripeStandIn
    studio_id: int
    dialogues: Dialogues
    webhook_url: str
    worker: InboxWorker

    async def chat(self, address: str = "+447700900001", name: str = "Ana") -> Chat:
        person = Chat(self.dialogues, address=address, name=name)
        await person.say("/start")
        return person

    async def payment(self) -> dict[str, Any]:
        row = await self.db.one("SELECT * FROM payments ORDER BY id DESC LIMIT 1")
        assert row is not None
        return dict(row)

    async def appointments(self) -> list[tuple[str, Any]]:
        rows = await self.db.all("SELECT status, held_until FROM appointments ORDER BY id")
        return [(str(r["status"]), r["held_until"]) for r in rows]

    async def statuses(self) -> list[str]:
        return [status for status, _until in await self.appointments()]

    async def deliver(self, event: dict[str, Any]) -> None:
        status = await self.standin.deliver(event, self.webhook_url, timestamp=int(time.time()))
        assert status == 200
        await self.worker.run_until_idle()

    async def outbox(self, template: str) -> list[dict[str, Any]]:
        rows = await self.db.all(
            "SELECT customer_id, params FROM outbox WHERE template = :t ORDER BY id",
            {"t": template},
        )
        return [
            {
                "customer_id": r["customer_id"],
                "params": r["params"] if isinstance(r["params"], dict) else json.loads(r["params"]),
            }
            for r in rows
        ]


async def _desk(
    db: Database, clock: FrozenClock, studio_id: int, standin: StripeStandIn, gateway: StripeGateway
) -> AsyncIterator[Desk]:
    dialogues = Dialogues(db, clock, payments=PaymentSetup(gateway, PUBLIC))
    webhook = StripeWebhook(db, clock, SECRET, gateway=gateway)
    server = TestServer(make_app(*webhook.routes()))
    await server.start_server()
    try:
        yield Desk(
            db,
            clock,
            standin,
            studio_id,
            dialogues,
            str(server.make_url(WEBHOOK_PATH)),
            InboxWorker(db, clock, {SOURCE: webhook}),
        )
    finally:
        await server.close()


@pytest.fixture
async def either(
    db: Database,
    clock: FrozenClock,
    studio_id: int,
    standin: StripeStandIn,
    gateway: StripeGateway,
) -> AsyncIterator[Desk]:
    """The lesson is paid online or at the studio, as the customer chooses."""
    await _lesson(db, studio_id, "either")
    async for made in _desk(db, clock, studio_id, standin, gateway):
        yield made


@pytest.fixture
async def online(
    db: Database,
    clock: FrozenClock,
    studio_id: int,
    standin: StripeStandIn,
    gateway: StripeGateway,
) -> AsyncIterator[Desk]:
    """The lesson is paid online only."""
    await _lesson(db, studio_id, "online")
    async for made in _desk(db, clock, studio_id, standin, gateway):
        yield made


async def _to_summary(chat: Chat, at: str = "10:00") -> None:
    await chat.press("👤 Book an appointment")
    await chat.press("Wheel lesson")
    await chat.press(TOM)
    await chat.press("Mon 23 Nov")
    await chat.press(at)


def _link(reply: Reply) -> Option:
    links = [o for o in reply.options if o.url]
    assert len(links) == 1, reply.options
    return links[0]


def _choices(chat: Chat) -> list[str]:
    return [o.label for o in chat.last.options if not o.url]


async def test_either_offers_pay_now_and_at_the_studio_and_the_webhook_confirms(
    either: Desk,
) -> None:
    ana = await either.chat()
    await _to_summary(ana)
    assert "Price: £40.00: pay now online, or at the studio." in ana.text
    assert _choices(ana) == ["💳 Pay now", "Pay at the studio", "⬅ Back", "✖ Cancel"]

    await ana.press("💳 Pay now")

    link = _link(ana.last)
    payment = await either.payment()
    assert link.label == "💳 Pay £40.00"
    assert link.url == payment["checkout_url"]
    assert (payment["status"], payment["amount_minor"], payment["purpose"]) == (
        "pending",
        4000,
        "full",
    )
    expires = instant(payment["expires_at"])
    until = expires.astimezone(zone("Europe/London"))
    held = "I'll confirm here when the payment arrives; the time is held until {:%H:%M}."
    assert held.format(until) in ana.text
    # Leaving the summary for the link kept the slot, now until the link's end.
    assert [(s, instant(u)) for s, u in await either.appointments()] == [("held", expires)]

    await either.deliver(either.standin.pay(payment["stripe_session_id"]))

    assert await either.statuses() == ["confirmed"]
    receipts = await either.outbox("payment_receipt")
    assert len(receipts) == 1
    text = render("payment_receipt", receipts[0]["params"], translator("en"), "Europe/London")
    assert text.startswith("Payment received: £40.00. Thank you!")
    assert "Wheel lesson" in text
    await ana.press("🔄 I have paid")
    assert "✅ Payment received: your appointment is confirmed." in ana.text


async def test_either_paying_at_the_studio_books_as_before(either: Desk) -> None:
    ana = await either.chat()
    await _to_summary(ana)
    await ana.press("Pay at the studio")
    assert "✅ Booked!" in ana.text
    assert await either.statuses() == ["confirmed"]
    assert await either.db.scalar("SELECT COUNT(*) FROM payments") == 0


async def test_online_only_offers_pay_now_alone(online: Desk) -> None:
    ana = await online.chat()
    await _to_summary(ana)
    assert "Price: £40.00, paid online now." in ana.text
    assert _choices(ana) == ["💳 Pay now", "⬅ Back", "✖ Cancel"]


async def test_without_a_gateway_the_lesson_is_paid_at_the_studio_as_today(
    db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await _lesson(db, studio_id, "online")
    ana = Chat(Dialogues(db, clock))
    await ana.say("/start")
    await _to_summary(ana)
    assert "Price: £40.00, paid at the studio." in ana.text
    assert _choices(ana) == ["✅ Confirm appointment", "⬅ Back", "✖ Cancel"]
    await ana.press("✅ Confirm appointment")
    assert "Pay £40.00 at the studio." in ana.text


async def test_an_expired_link_frees_the_time(online: Desk) -> None:
    ana = await online.chat()
    await _to_summary(ana)
    await ana.press("💳 Pay now")
    payment = await online.payment()
    await online.deliver(online.standin.expire(payment["stripe_session_id"]))
    assert await online.statuses() == ["expired"]
    ben = await online.chat("+447700900002", "Ben")
    await ben.press("👤 Book an appointment")
    await ben.press("Wheel lesson")
    await ben.press(TOM)
    await ben.press("Mon 23 Nov")
    assert ben.labels[0] == "10:00"


async def test_back_from_the_link_calls_it_off_and_holds_the_time_again(online: Desk) -> None:
    ana = await online.chat()
    await _to_summary(ana)
    await ana.press("💳 Pay now")
    first = await online.payment()

    await ana.press("⬅ Back")

    assert "Payment cancelled; nothing was charged." in ana.text
    assert "Please check your appointment:" in ana.text
    assert online.standin.objects[first["stripe_session_id"]]["status"] == "expired"
    assert (await online.payment())["status"] == "cancelled"
    assert await online.statuses() == ["expired", "held"]  # the same time, held afresh
    await ana.press("✖ Cancel")
    assert await online.statuses() == ["expired", "expired"]


async def test_leaving_the_link_by_menu_calls_it_off_and_lets_the_time_go(online: Desk) -> None:
    ana = await online.chat()
    await _to_summary(ana)
    await ana.press("💳 Pay now")
    await ana.say("menu")
    assert (await online.payment())["status"] == "cancelled"
    assert await online.statuses() == ["expired"]


async def test_paid_then_cancelled_before_the_cutoff_is_refunded_in_full(online: Desk) -> None:
    ana = await online.chat()
    await _to_summary(ana)
    await ana.press("💳 Pay now")
    payment = await online.payment()
    await online.deliver(online.standin.pay(payment["stripe_session_id"]))
    await ana.say("menu")
    await ana.press("🗓 My bookings")
    await ana.press(f"Wheel lesson with {TOM}")
    assert "Price: £40.00 · paid" in ana.last.text
    await ana.press("✖ Cancel appointment")
    assert "£40.00 paid online comes back to your card." in ana.last.text
    await ana.press("Yes, cancel it")
    assert "Your appointment is cancelled." in ana.text
    refunds = await online.db.all("SELECT amount_minor, reason, stripe_refund_id FROM refunds")
    assert [(r["amount_minor"], r["reason"]) for r in refunds] == [(4000, "customer_cancel")]
    assert refunds[0]["stripe_refund_id"]  # sent to Stripe at once
    issued = await online.outbox("refund_issued")
    assert [r["params"]["amount"] for r in issued] == [4000]
    assert (await online.payment())["status"] == "refunded"


async def test_the_late_payment_for_a_taken_time_is_refunded(online: Desk) -> None:
    ana = await online.chat()
    await _to_summary(ana)
    await ana.press("💳 Pay now")
    payment = await online.payment()
    paid = online.standin.pay(payment["stripe_session_id"])  # the webhook is late...
    online.clock.advance(timedelta(minutes=32))
    ben = await online.chat("+447700900002", "Ben")
    await _to_summary(ben)
    await ben.press("💳 Pay now")
    await online.deliver(online.standin.pay((await online.payment())["stripe_session_id"]))
    await online.deliver(paid)  # ...and finds Ben in the slot
    assert await online.statuses() == ["expired", "confirmed"]
    told = await online.outbox("payment_refunded_late")
    assert len(told) == 1
    refunds = await online.db.all("SELECT amount_minor, reason FROM refunds")
    assert [(r["amount_minor"], r["reason"]) for r in refunds] == [(4000, "late_payment")]


async def test_pay_now_after_the_summary_outlived_its_hold_holds_the_time_afresh(
    online: Desk,
) -> None:
    ana = await online.chat()
    await _to_summary(ana)
    minutes = await online.db.scalar(
        "SELECT hold_minutes FROM studios WHERE id = :s", {"s": online.studio_id}
    )
    online.clock.advance(timedelta(minutes=int(minutes) + 1))
    await ana.press("💳 Pay now")
    assert _link(ana.last).label == "💳 Pay £40.00"
    assert await online.statuses() == ["expired", "held"]
    assert (await online.payment())["appointment_id"] == int(
        await online.db.scalar("SELECT MAX(id) FROM appointments")
    )


async def test_a_staff_cancel_of_a_paid_lesson_refunds_it_and_says_so(online: Desk) -> None:
    ana = await online.chat()
    await _to_summary(ana)
    await ana.press("💳 Pay now")
    await online.deliver(online.standin.pay((await online.payment())["stripe_session_id"]))
    async with online.db.transaction() as tx:
        await tx.execute("UPDATE staff SET telegram_user_id = 7007 WHERE key = 'tom'", {})
    tom = Chat(online.dialogues, address="7007", name="Tom", channel=Channel.TELEGRAM)
    await tom.say("/upcoming")
    await tom.press("Mon 23 Nov, 10:00")
    await tom.press("✖ Cancel with a reason")
    await tom.say("The wheel is broken")

    assert "It was paid online: £40.00 is refunded to the customer." in tom.text
    assert "nothing to refund" not in tom.text
    refunds = await online.db.all("SELECT amount_minor, reason, stripe_refund_id FROM refunds")
    assert [(r["amount_minor"], r["reason"]) for r in refunds] == [(4000, "staff_cancel")]
    assert refunds[0]["stripe_refund_id"]  # sent to Stripe at once
