"""Payments end to end through the services: the real StripeGateway against the local
Stripe stand-in (real HTTP, the real `stripe` library), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.engine.payments import Choice
from bookbot.engine.pricing import RegistrationKind
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.services import balances, cancellation, holds, payment_reports, payments
from bookbot.services.payments import Outcome, ReturnUrls, StripeEvent
from bookbot.store.db import Database
from tests import builders
from tests.stripe_standin import StripeStandIn

KEY = "sk_test_payments"
URLS = ReturnUrls("https://bot.example/paid", "https://bot.example/cancelled")


@pytest.fixture
async def standin(clock: FrozenClock) -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret="whsec_p") as running:
        running.clock = lambda: clock.now().timestamp()  # Stripe's time is the test's
        yield running


@pytest.fixture
async def gateway(standin: StripeStandIn) -> AsyncIterator[StripeGateway]:
    made = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    yield made
    await made.close()


def _dict(row: Any) -> dict[str, Any]:
    return dict(row)


class Shop:
    def __init__(
        self, db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
    ) -> None:
        self.db, self.clock, self.gateway, self.standin = db, clock, gateway, standin

    async def setup(self, *, capacity: int = 8, days: int = 20, **policy: Any) -> None:
        self.w = await builders.studio(self.db, cancellation_cutoff_hours=48)
        sets = {"payment": "online", **policy}
        assignments = ", ".join(f"{k} = :{k}" for k in sets)
        async with self.db.transaction() as tx:
            await tx.execute(
                f"UPDATE classes SET {assignments} WHERE id = :id",  # noqa: S608
                {"id": self.w["taster"], **sets},
            )
        self.starts = self.clock.now() + timedelta(days=days)
        await builders.session(self.db, self.w, "s1", "taster", self.starts, capacity=capacity)
        await builders.customer(self.db, self.w, "ann")
        await builders.customer(self.db, self.w, "bob")

    async def hold(self, who: str = "ann", guests: int = 2) -> int:
        reg = await holds.hold(
            self.db,
            self.clock,
            self.w.studio_id,
            self.w[who],
            RegistrationKind.SINGLE,
            guests=guests,
            session_ids=[self.w["s1"]],
        )
        return reg.id

    async def checkout(
        self, reg: int, who: str = "ann", choice: Choice = Choice.FULL
    ) -> payments.Checkout:
        return await payments.start_checkout(
            self.db,
            self.clock,
            self.gateway,
            studio_id=self.w.studio_id,
            customer_id=self.w[who],
            registration_id=reg,
            choice=choice,
            urls=URLS,
        )

    async def apply(self, event: dict[str, Any]) -> Outcome:
        return await payments.apply_event(
            self.db, self.clock, self.gateway, StripeEvent.from_payload(event)
        )

    async def payment(self, payment_id: int) -> dict[str, Any]:
        row = await self.db.one("SELECT * FROM payments WHERE id = :id", {"id": payment_id})
        assert row is not None
        return _dict(row)

    async def session_id(self, payment_id: int) -> str:
        return str((await self.payment(payment_id))["stripe_session_id"])

    async def reg_status(self, reg: int) -> str:
        return str(
            await self.db.scalar("SELECT status FROM registrations WHERE id = :id", {"id": reg})
        )

    async def outbox(self, template: str) -> list[dict[str, Any]]:
        rows = await self.db.all(
            "SELECT customer_id, params FROM outbox WHERE template = :t ORDER BY id",
            {"t": template},
        )
        return [_dict(r) for r in rows]

    async def refunds(self) -> list[dict[str, Any]]:
        rows = await self.db.all(
            "SELECT payment_id, amount_minor, reason, status, stripe_refund_id FROM refunds ORDER BY id"
        )
        return [_dict(r) for r in rows]

    async def seats_taken(self) -> int:
        return int(
            await self.db.scalar(
                "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions WHERE session_id = :s"
                " AND (status = 'booked' OR (status = 'held' AND held_until > :now))",
                {"s": self.w["s1"], "now": self.clock.now()},
            )
        )


@pytest.fixture
async def shop(
    db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
) -> Shop:
    return Shop(db, clock, gateway, standin)


async def test_pay_confirms_once_with_a_receipt(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold(guests=2)
    link = await shop.checkout(reg)
    assert link.amount_minor == 9000  # 2 x 45.00, from the engine
    assert link.url
    row = await shop.payment(link.payment_id)
    assert row["status"] == "pending"
    assert row["expires_at"] is not None
    held_until = await shop.db.scalar(
        "SELECT held_until FROM registrations WHERE id = :id", {"id": reg}
    )
    assert held_until is not None
    create = next(c for c in shop.standin.calls if c.path == "/v1/checkout/sessions")
    assert create.params["client_reference_id"] == str(link.payment_id)
    assert create.idempotency_key == f"checkout:{link.payment_id}:1"
    event = shop.standin.pay(await shop.session_id(link.payment_id))
    assert await shop.apply(event) is Outcome.PAID
    assert await shop.apply(event) is Outcome.UNCHANGED  # the same event again
    assert await shop.reg_status(reg) == "confirmed"
    row = await shop.payment(link.payment_id)
    assert row["status"] == "paid"
    assert row["stripe_payment_intent"]
    receipts = await shop.outbox("payment_receipt")
    assert len(receipts) == 1
    assert f'"booking": {reg}' in receipts[0]["params"]


async def test_out_of_order_expired_after_completed_changes_nothing(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold()
    link = await shop.checkout(reg)
    sid = await shop.session_id(link.payment_id)
    paid = shop.standin.pay(sid)
    assert await shop.apply(paid) is Outcome.PAID
    fake_expired = {**paid, "id": "evt_late", "type": "checkout.session.expired"}
    assert await shop.apply(fake_expired) is Outcome.UNCHANGED
    assert (await shop.payment(link.payment_id))["status"] == "paid"
    assert await shop.reg_status(reg) == "confirmed"


async def test_an_expired_link_releases_the_seats(shop: Shop) -> None:
    await shop.setup(capacity=2)
    reg = await shop.hold(guests=2)
    link = await shop.checkout(reg)
    assert await shop.seats_taken() == 2
    event = shop.standin.expire(await shop.session_id(link.payment_id))
    assert await shop.apply(event) is Outcome.EXPIRED
    assert await shop.apply(event) is Outcome.UNCHANGED
    assert (await shop.payment(link.payment_id))["status"] == "expired"
    assert await shop.reg_status(reg) == "expired"
    assert await shop.seats_taken() == 0


async def test_backing_out_expires_the_session(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold()
    link = await shop.checkout(reg)
    sid = await shop.session_id(link.payment_id)
    outcome = await payments.cancel_checkout(
        shop.db,
        shop.clock,
        shop.gateway,
        studio_id=shop.w.studio_id,
        customer_id=shop.w["ann"],
        registration_id=reg,
    )
    assert outcome is Outcome.EXPIRED
    assert shop.standin.objects[sid]["status"] == "expired"
    assert (await shop.payment(link.payment_id))["status"] == "cancelled"
    assert await shop.reg_status(reg) == "cancelled"


async def test_late_payment_books_when_seats_are_free(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold()
    link = await shop.checkout(reg)
    sid = await shop.session_id(link.payment_id)
    event = shop.standin.pay(sid)  # paid on Stripe's page...
    shop.clock.advance(timedelta(minutes=31))  # ...but the webhook comes after the hold lapsed
    await holds.expire_holds(shop.db, shop.clock)
    assert await shop.apply(event) is Outcome.PAID
    row = await shop.payment(link.payment_id)
    assert row["status"] == "paid"
    assert row["registration_id"] != reg  # booked afresh
    assert await shop.reg_status(int(row["registration_id"])) == "confirmed"


async def test_late_payment_refunds_when_the_seats_are_gone(shop: Shop) -> None:
    await shop.setup(capacity=2)
    reg = await shop.hold(guests=2)
    link = await shop.checkout(reg)
    event = shop.standin.pay(await shop.session_id(link.payment_id))
    shop.clock.advance(timedelta(minutes=31))
    await holds.expire_holds(shop.db, shop.clock)
    other = await shop.hold("bob", guests=2)
    await holds.confirm_hold(shop.db, shop.clock, shop.w.studio_id, shop.w["bob"], other)
    assert await shop.apply(event) is Outcome.REFUNDED
    assert await shop.apply(event) is Outcome.UNCHANGED
    refunds = await shop.refunds()
    assert [(r["amount_minor"], r["reason"]) for r in refunds] == [(9000, "late_payment")]
    assert refunds[0]["stripe_refund_id"]
    assert (await shop.payment(link.payment_id))["status"] == "refunded"
    assert len(await shop.outbox("payment_refunded_late")) == 1
    assert await shop.seats_taken() == 2  # bob's, nobody oversold


async def test_an_amount_mismatch_is_not_confirmed(shop: Shop) -> None:
    await shop.setup()
    async with shop.db.transaction() as tx:
        await tx.execute(
            "UPDATE studios SET staff_chat_id = -100 WHERE id = :s", {"s": shop.w.studio_id}
        )
    reg = await shop.hold()
    link = await shop.checkout(reg)
    event = shop.standin.pay(await shop.session_id(link.payment_id), amount=100)
    assert await shop.apply(event) is Outcome.MISMATCH
    assert (await shop.payment(link.payment_id))["status"] == "failed"
    assert await shop.reg_status(reg) == "held"
    staff = await shop.outbox("payment_staff_mismatch")
    assert len(staff) == 1
    assert staff[0]["customer_id"] is None


async def test_reconcile_applies_a_lost_payment_once(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold()
    link = await shop.checkout(reg)
    event = shop.standin.pay(await shop.session_id(link.payment_id))  # webhook lost
    shop.clock.advance(timedelta(minutes=31))
    assert await payments.reconcile(shop.db, shop.clock, shop.gateway) == 1
    assert await payments.reconcile(shop.db, shop.clock, shop.gateway) == 0
    assert (await shop.payment(link.payment_id))["status"] == "paid"
    assert await shop.apply(event) is Outcome.UNCHANGED  # the webhook, late
    assert len(await shop.outbox("payment_receipt")) == 1


async def test_reconcile_expires_an_unpaid_link_and_frees_the_seats(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold()
    link = await shop.checkout(reg)
    shop.clock.advance(timedelta(minutes=31))
    assert await payments.reconcile(shop.db, shop.clock, shop.gateway) == 1
    assert (await shop.payment(link.payment_id))["status"] == "expired"
    assert await shop.reg_status(reg) == "expired"


async def test_deposit_then_balance(shop: Shop) -> None:
    await shop.setup(deposit_percent=30, balance_due_days=7)
    reg = await shop.hold(guests=2)
    link = await shop.checkout(reg, choice=Choice.DEPOSIT)
    assert link.amount_minor == 2700
    assert (
        await shop.apply(shop.standin.pay(await shop.session_id(link.payment_id))) is Outcome.PAID
    )
    assert await shop.reg_status(reg) == "confirmed"
    balance = await shop.db.one(
        "SELECT id, amount_minor, status FROM payments WHERE purpose = 'balance'"
    )
    assert balance is not None
    assert (balance["amount_minor"], balance["status"]) == (6300, "scheduled")
    assert await balances.send_due_balances(shop.db, shop.clock, shop.gateway, URLS) == 0  # not due
    shop.clock.advance(timedelta(days=13))
    assert await balances.send_due_balances(shop.db, shop.clock, shop.gateway, URLS) == 1
    assert len(await shop.outbox("balance_link")) == 1
    sid = await shop.session_id(int(balance["id"]))
    assert await shop.apply(shop.standin.pay(sid)) is Outcome.PAID
    assert (await shop.payment(int(balance["id"])))["status"] == "paid"


async def test_an_unpaid_balance_gets_one_reminder(shop: Shop) -> None:
    await shop.setup(deposit_percent=30, balance_due_days=7)
    reg = await shop.hold(guests=2)
    link = await shop.checkout(reg, choice=Choice.DEPOSIT)
    await shop.apply(shop.standin.pay(await shop.session_id(link.payment_id)))
    shop.clock.advance(timedelta(days=13))
    await balances.send_due_balances(shop.db, shop.clock, shop.gateway, URLS)
    shop.clock.advance(timedelta(hours=25))
    await payments.reconcile(shop.db, shop.clock, shop.gateway)  # the first link lapsed
    shop.clock.advance(timedelta(days=5))
    assert await balances.send_due_balances(shop.db, shop.clock, shop.gateway, URLS) == 1
    links = await shop.outbox("balance_link")
    assert len(links) == 2
    assert '"reminder": true' in links[1]["params"]
    assert await shop.reg_status(reg) == "confirmed"  # never cancelled automatically


async def test_company_invoice_paid(shop: Shop) -> None:
    await shop.setup(company_billing=True)
    reg = await shop.hold(guests=2)
    payment_id = await payments.start_invoice(
        shop.db,
        shop.clock,
        shop.gateway,
        studio_id=shop.w.studio_id,
        customer_id=shop.w["ann"],
        registration_id=reg,
        company=payments.Company("Acme Ltd", "ap@acme.example", "PO-7"),
    )
    assert await shop.reg_status(reg) == "confirmed"
    row = await shop.payment(payment_id)
    assert (row["status"], row["amount_minor"]) == ("invoiced", 9000)
    event = shop.standin.pay_invoice(str(row["stripe_invoice_id"]))
    assert await shop.apply(event) is Outcome.PAID
    assert await shop.apply(event) is Outcome.UNCHANGED
    assert (await shop.payment(payment_id))["status"] == "paid"


async def _paid_booking(
    shop: Shop, who: str = "ann", choice: Choice = Choice.FULL
) -> tuple[int, int]:
    reg = await shop.hold(who, guests=2)
    link = await shop.checkout(reg, who=who, choice=choice)
    await shop.apply(shop.standin.pay(await shop.session_id(link.payment_id)))
    return reg, link.payment_id


async def test_customer_cancel_before_cutoff_refunds_everything(shop: Shop) -> None:
    await shop.setup(refund_after_cutoff_percent=50)
    reg, payment_id = await _paid_booking(shop)
    done = await cancellation.cancel_registration(
        shop.db, shop.clock, shop.w.studio_id, reg, customer_id=shop.w["ann"], gateway=shop.gateway
    )
    assert len(done.refund_ids) == 1
    refunds = await shop.refunds()
    assert [(r["amount_minor"], r["reason"]) for r in refunds] == [(9000, "customer_cancel")]
    assert (await shop.payment(payment_id))["status"] == "refunded"
    assert len(await shop.outbox("refund_issued")) == 1
    if refunds[0]["status"] == "pending":  # the card network confirms it later
        event = shop.standin.refund_succeeds(str(refunds[0]["stripe_refund_id"]))
        assert await shop.apply(event) is Outcome.PAID
        assert await shop.apply(event) is Outcome.UNCHANGED
    assert [r["status"] for r in await shop.refunds()] == ["succeeded"]
    charge = shop.standin.last_event("charge.refunded")
    assert await shop.apply(charge) is Outcome.UNCHANGED  # already counted


async def test_a_deposit_that_is_not_refundable_stays_after_the_cutoff(shop: Shop) -> None:
    await shop.setup(
        days=20, deposit_percent=30, deposit_refundable=False, refund_after_cutoff_percent=50
    )
    reg, _payment = await _paid_booking(shop, choice=Choice.DEPOSIT)
    shop.clock.advance(timedelta(days=19))  # inside the 48 h cutoff: staff cancel only
    await cancellation.cancel_registration(
        shop.db, shop.clock, shop.w.studio_id, reg, by_staff=True, gateway=shop.gateway
    )
    # staff cancelling refunds everything, deposit included
    assert [(r["amount_minor"], r["reason"]) for r in await shop.refunds()] == [
        (2700, "staff_cancel")
    ]


async def test_staff_cancelling_the_class_refunds_everyone(shop: Shop) -> None:
    await shop.setup()
    _ann, ann_pay = await _paid_booking(shop, "ann")
    _bob, bob_pay = await _paid_booking(shop, "bob")
    done = await cancellation.cancel_session(
        shop.db, shop.clock, shop.w.studio_id, shop.w["s1"], reason="flood", gateway=shop.gateway
    )
    assert len(done.bookings) == 2
    refunds = await shop.refunds()
    assert sorted((r["payment_id"], r["amount_minor"], r["reason"]) for r in refunds) == [
        (ann_pay, 9000, "staff_cancel"),
        (bob_pay, 9000, "staff_cancel"),
    ]
    # asking again refunds nothing twice
    again = await cancellation.cancel_session(
        shop.db, shop.clock, shop.w.studio_id, shop.w["s1"], reason="flood"
    )
    assert again.bookings == ()
    assert len(await shop.refunds()) == 2


async def test_concurrent_duplicate_events_confirm_once(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold()
    link = await shop.checkout(reg)
    event = shop.standin.pay(await shop.session_id(link.payment_id))
    outcomes = await asyncio.gather(*(shop.apply(event) for _ in range(4)))
    assert sorted(outcomes) == sorted([Outcome.PAID] + [Outcome.UNCHANGED] * 3)
    assert len(await shop.outbox("payment_receipt")) == 1
    assert await shop.reg_status(reg) == "confirmed"


async def test_the_queries_staff_and_chat_read(shop: Shop) -> None:
    await shop.setup(deposit_percent=30, balance_due_days=7)
    day_start = shop.clock.now() - timedelta(hours=1)
    reg, _pay = await _paid_booking(shop, "ann", choice=Choice.DEPOSIT)
    full, _full = await _paid_booking(shop, "bob")
    sid = shop.w.studio_id
    assert await payment_reports.registration_status(shop.db, sid, reg) == "deposit_paid"
    assert await payment_reports.registration_status(shop.db, sid, full) == "paid"
    mine = await payment_reports.customer_payments(shop.db, sid, shop.w["ann"])
    assert [(p.purpose, p.status) for p in mine] == [("balance", "scheduled"), ("deposit", "paid")]
    end = day_start + timedelta(days=1)
    today = await payment_reports.staff_today(shop.db, sid, start=day_start, end=end)
    assert sorted(p.amount_minor for p in today) == [2700, 9000]
    owed = await payment_reports.outstanding(shop.db, sid, shop.clock.now())
    assert [(p.purpose, p.amount_minor) for p in owed] == [("balance", 6300)]
    revenue = await payment_reports.revenue_by_class(shop.db, sid, start=day_start, end=end)
    assert [(r.class_name, r.paid_minor, r.payments) for r in revenue] == [("Taster", 11700, 2)]
    await cancellation.cancel_registration(
        shop.db, shop.clock, sid, full, by_staff=True, gateway=shop.gateway
    )
    assert await payment_reports.registration_status(shop.db, sid, full) == "refunded"
    refunds = await payment_reports.refunds_between(shop.db, sid, start=day_start, end=end)
    assert [(r.amount_minor, r.reason) for r in refunds] == [(9000, "staff_cancel")]
