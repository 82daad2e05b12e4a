"""Appointments paid online, through the real StripeGateway against the local Stripe
stand-in, on SQLite and PostgreSQL: pay now and the webhook confirms; an expired link frees
the slot; money that comes after the slot was taken is refunded; cancellations refund by
the service's policy; a reschedule keeps the payment; reports name the service."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bookbot.cli import build_parser
from bookbot.config import Settings
from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.services import appointment_payments, appointments, holds, payment_reports, payments
from bookbot.services.payments import Outcome, ReturnUrls, StripeEvent
from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_file
from tests import builders
from tests.services.test_appointments_world import TUE, at
from tests.services.test_appointments_world import world as make_world
from tests.stripe_standin import StripeStandIn

KEY = "sk_test_appointments"
URLS = ReturnUrls("https://bot.example/paid", "https://bot.example/cancelled")
EXAMPLES = Path(__file__).parents[2] / "src" / "bookbot" / "examples"
TEN = at(TUE, 10)  # Tuesday 10:00 London: 25 hours after the conftest clock


@pytest.fixture
async def standin(clock: FrozenClock) -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret="whsec_a") as running:
        running.clock = lambda: clock.now().timestamp()
        yield running


@pytest.fixture
async def gateway(standin: StripeStandIn) -> AsyncIterator[StripeGateway]:
    made = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    yield made
    await made.close()


class Desk:
    """The tutor's desk: Maya's wheel lesson (40.00) paid online, the trial at the studio."""

    def __init__(
        self, db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
    ) -> None:
        self.db, self.clock, self.gateway, self.standin = db, clock, gateway, standin

    async def setup(self, payment: str = "online", **policy: Any) -> None:
        self.w = await make_world(self.db)
        sets = {"payment": payment, **policy}
        assignments = ", ".join(f"{k} = :{k}" for k in sets)
        async with self.db.transaction() as tx:
            await tx.execute(
                f"UPDATE services SET {assignments} WHERE id = :id",  # noqa: S608
                {"id": self.w["lesson_service"], **sets},
            )

    async def hold(self, who: str = "ana", starts_at: datetime = TEN) -> int:
        held = await appointments.hold(
            self.db,
            self.clock,
            self.w.studio_id,
            customer_id=self.w[who],
            service_id=self.w["lesson_service"],
            staff_id=self.w["maya"],
            starts_at=starts_at,
        )
        return held.id

    async def checkout(self, appointment_id: int, who: str = "ana") -> payments.Checkout:
        return await payments.start_appointment_checkout(
            self.db,
            self.clock,
            self.gateway,
            studio_id=self.w.studio_id,
            customer_id=self.w[who],
            appointment_id=appointment_id,
            urls=URLS,
        )

    async def paid(self, who: str = "ana") -> tuple[int, int]:
        """An appointment held, paid and confirmed: (appointment, payment)."""
        appointment_id = await self.hold(who)
        link = await self.checkout(appointment_id, who)
        assert await self.apply(self.standin.pay(await self.session_id(link.payment_id))) is (
            Outcome.PAID
        )
        return appointment_id, link.payment_id

    async def apply(self, event: dict[str, Any]) -> Outcome:
        return await payments.apply_event(
            self.db, self.clock, self.gateway, StripeEvent.from_payload(event)
        )

    async def payment(self, payment_id: int) -> dict[str, Any]:
        row = await self.db.one("SELECT * FROM payments WHERE id = :id", {"id": payment_id})
        assert row is not None
        return dict(row)

    async def session_id(self, payment_id: int) -> str:
        return str((await self.payment(payment_id))["stripe_session_id"])

    async def status(self, appointment_id: int) -> str:
        return str(
            await self.db.scalar(
                "SELECT status FROM appointments WHERE id = :id", {"id": appointment_id}
            )
        )

    async def outbox(self, template: str) -> list[dict[str, Any]]:
        rows = await self.db.all(
            "SELECT customer_id, params FROM outbox WHERE template = :t ORDER BY id",
            {"t": template},
        )
        return [{**dict(r), "params": json.loads(r["params"])} for r in rows]

    async def refunds(self) -> list[tuple[int, str, bool]]:
        """(amount, reason, asked of Stripe) per refund."""
        rows = await self.db.all(
            "SELECT amount_minor, reason, stripe_refund_id FROM refunds ORDER BY id"
        )
        return [
            (int(r["amount_minor"]), str(r["reason"]), bool(r["stripe_refund_id"])) for r in rows
        ]

    async def free_at_ten(self) -> bool:
        found = await appointments.free_slots(
            self.db,
            self.w.studio_id,
            service_id=self.w["lesson_service"],
            staff_id=self.w["maya"],
            now=self.clock.now(),
            start=TEN,
            end=TEN + timedelta(minutes=1),
        )
        return [s.start for s in found] == [TEN]


@pytest.fixture
async def desk(
    db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
) -> Desk:
    return Desk(db, clock, gateway, standin)


async def test_pay_now_then_the_webhook_confirms_once(desk: Desk) -> None:
    await desk.setup()
    appointment_id = await desk.hold()
    link = await desk.checkout(appointment_id)
    assert (link.amount_minor, link.currency) == (4000, "GBP")
    row = await desk.payment(link.payment_id)
    assert (row["status"], row["purpose"], row["appointment_id"]) == (
        "pending",
        "full",
        appointment_id,
    )
    assert row["registration_id"] is None
    held_until = await desk.db.scalar(
        "SELECT held_until FROM appointments WHERE id = :id", {"id": appointment_id}
    )
    assert held_until is not None
    assert abs(link.expires_at - held_until.replace(tzinfo=link.expires_at.tzinfo)) < timedelta(
        seconds=1
    )  # the slot is kept for the link's life
    desk.clock.advance(timedelta(minutes=20))  # past the plain hold, inside the link
    assert not await desk.free_at_ten()
    create = next(c for c in desk.standin.calls if c.path == "/v1/checkout/sessions")
    assert create.idempotency_key == f"checkout:{link.payment_id}:1"
    assert create.params["client_reference_id"] == str(link.payment_id)
    assert create.params["metadata"]["appointment_id"] == str(appointment_id)
    event = desk.standin.pay(await desk.session_id(link.payment_id))
    assert await desk.apply(event) is Outcome.PAID
    assert await desk.apply(event) is Outcome.UNCHANGED
    assert await desk.status(appointment_id) == "confirmed"
    assert (await desk.payment(link.payment_id))["status"] == "paid"
    receipts = await desk.outbox("payment_receipt")
    assert len(receipts) == 1
    assert receipts[0]["params"]["booking"] == appointment_id
    assert receipts[0]["params"]["class_name"] == "Wheel lesson"
    assert len(await desk.outbox("staff_appointment_booked")) == 1  # as appointments.confirm
    reminders = await desk.db.scalar(
        "SELECT COUNT(*) FROM outbox WHERE template LIKE 'appointment_reminder%'"
    )
    assert int(reminders) == 2


async def test_an_expired_link_frees_the_slot(desk: Desk) -> None:
    await desk.setup()
    appointment_id = await desk.hold()
    link = await desk.checkout(appointment_id)
    assert not await desk.free_at_ten()
    event = desk.standin.expire(await desk.session_id(link.payment_id))
    assert await desk.apply(event) is Outcome.EXPIRED
    assert await desk.apply(event) is Outcome.UNCHANGED
    assert (await desk.payment(link.payment_id))["status"] == "expired"
    assert await desk.status(appointment_id) == "expired"
    assert await desk.free_at_ten()


async def test_reconcile_expires_a_lost_link_and_frees_the_slot(desk: Desk) -> None:
    await desk.setup()
    appointment_id = await desk.hold()
    link = await desk.checkout(appointment_id)
    desk.clock.advance(timedelta(minutes=32))
    assert await payments.reconcile(desk.db, desk.clock, desk.gateway) == 1
    assert (await desk.payment(link.payment_id))["status"] == "expired"
    assert await desk.status(appointment_id) == "expired"


async def test_paid_after_the_slot_was_taken_is_refunded_in_full(desk: Desk) -> None:
    await desk.setup()
    appointment_id = await desk.hold()
    link = await desk.checkout(appointment_id)
    event = desk.standin.pay(await desk.session_id(link.payment_id))  # paid on Stripe's page...
    desk.clock.advance(timedelta(minutes=32))  # ...the webhook comes after the link's end
    await appointments.expire_holds(desk.db, desk.clock)
    ben = await desk.hold("ben")
    await appointments.confirm(
        desk.db, desk.clock, desk.w.studio_id, appointment_id=ben, customer_id=desk.w["ben"]
    )
    assert await desk.apply(event) is Outcome.REFUNDED
    assert await desk.apply(event) is Outcome.UNCHANGED
    assert await desk.refunds() == [(4000, "late_payment", True)]
    assert (await desk.payment(link.payment_id))["status"] == "refunded"
    told = await desk.outbox("payment_refunded_late")
    assert len(told) == 1
    assert told[0]["customer_id"] == desk.w["ana"]
    assert told[0]["params"]["class_name"] == "Wheel lesson"
    assert await desk.status(appointment_id) == "expired"
    assert await desk.status(ben) == "confirmed"  # nobody double-booked


async def test_paid_late_with_the_slot_still_free_books_it(desk: Desk) -> None:
    await desk.setup()
    appointment_id = await desk.hold()
    link = await desk.checkout(appointment_id)
    event = desk.standin.pay(await desk.session_id(link.payment_id))
    desk.clock.advance(timedelta(minutes=32))
    await appointments.expire_holds(desk.db, desk.clock)
    assert await desk.apply(event) is Outcome.PAID
    assert await desk.status(appointment_id) == "confirmed"


async def test_backing_out_expires_the_session_and_lets_the_slot_go(desk: Desk) -> None:
    await desk.setup()
    appointment_id = await desk.hold()
    link = await desk.checkout(appointment_id)
    sid = await desk.session_id(link.payment_id)
    payment = await payments.read_payment(desk.db, link.payment_id)
    assert payment is not None
    assert await payments.call_off(desk.db, desk.clock, desk.gateway, payment) is Outcome.EXPIRED
    assert desk.standin.objects[sid]["status"] == "expired"
    assert (await desk.payment(link.payment_id))["status"] == "cancelled"
    assert await desk.status(appointment_id) == "expired"
    assert await desk.free_at_ten()


async def test_a_second_link_calls_off_the_first(desk: Desk) -> None:
    await desk.setup()
    appointment_id = await desk.hold()
    first = await desk.checkout(appointment_id)
    second = await desk.checkout(appointment_id)
    assert (await desk.payment(first.payment_id))["status"] == "cancelled"
    assert (await desk.payment(second.payment_id))["status"] == "pending"


async def test_a_service_paid_at_the_studio_offers_no_link(desk: Desk) -> None:
    await desk.setup(payment="at_studio")
    appointment_id = await desk.hold()
    with pytest.raises(rules.PaymentNotOffered):
        await desk.checkout(appointment_id)
    assert await desk.db.scalar("SELECT COUNT(*) FROM payments") == 0


async def test_only_the_customers_own_live_hold_can_be_paid(desk: Desk) -> None:
    await desk.setup()
    appointment_id = await desk.hold()
    with pytest.raises(errors.NotFound):
        await desk.checkout(appointment_id, who="ben")
    desk.clock.advance(timedelta(minutes=20))  # the plain hold lapsed
    with pytest.raises(errors.AppointmentNotActive):
        await desk.checkout(appointment_id)


async def test_cancelled_before_the_cutoff_is_refunded_in_full(desk: Desk) -> None:
    await desk.setup()
    appointment_id, payment_id = await desk.paid()
    await appointments.cancel_by_customer(
        desk.db,
        desk.clock,
        desk.w.studio_id,
        appointment_id=appointment_id,
        customer_id=desk.w["ana"],
    )
    await appointment_payments.submit_refunds(desk.db, desk.clock, desk.gateway, appointment_id)
    assert await desk.refunds() == [(4000, "customer_cancel", True)]
    assert (await desk.payment(payment_id))["status"] == "refunded"
    issued = await desk.outbox("refund_issued")
    assert [(r["customer_id"], r["params"]["amount"]) for r in issued] == [(desk.w["ana"], 4000)]


async def test_cancelled_by_staff_inside_the_cutoff_is_refunded_in_full(desk: Desk) -> None:
    await desk.setup(refund_after_cutoff_percent=0)
    appointment_id, payment_id = await desk.paid()
    desk.clock.advance(timedelta(hours=20))  # inside the customer's 24-hour cutoff
    await appointments.cancel_by_staff(
        desk.db,
        desk.clock,
        desk.w.studio_id,
        appointment_id=appointment_id,
        staff_id=desk.w["maya"],
        reason="Kiln broken",
    )
    await appointment_payments.submit_refunds(desk.db, desk.clock, desk.gateway, appointment_id)
    assert await desk.refunds() == [(4000, "staff_cancel", True)]
    assert await appointment_payments.refunded_for(desk.db, appointment_id, "staff_cancel") == 4000
    assert (await desk.payment(payment_id))["status"] == "refunded"
    assert len(await desk.outbox("refund_issued")) == 1
    assert len(await desk.outbox("appointment_cancelled_by_staff")) == 1


async def test_after_the_cutoff_the_services_percentage_comes_back(desk: Desk) -> None:
    """Customers cannot cancel inside the cutoff today; should a cancellation after it be
    written, it refunds the service's `refund_after_cutoff_percent` (the class rule)."""
    await desk.setup(refund_after_cutoff_percent=25)
    appointment_id, _payment = await desk.paid()
    async with desk.db.transaction() as tx:
        found = await appointments.appointment_for_customer(
            tx, desk.w.studio_id, desk.w["ana"], appointment_id
        )
        late = await appointment_payments.refund_terms(
            tx, found, before_cutoff=False, by_staff=False
        )
        in_time = await appointment_payments.refund_terms(
            tx, found, before_cutoff=True, by_staff=False
        )
    assert (late.total, late.late, late.percent) == (1000, True, 25)
    assert (in_time.total, in_time.late) == (4000, False)


async def test_a_reschedule_carries_the_payment_over(desk: Desk) -> None:
    await desk.setup()
    appointment_id, payment_id = await desk.paid()
    moved = await appointments.reschedule(
        desk.db,
        desk.clock,
        desk.w.studio_id,
        appointment_id=appointment_id,
        customer_id=desk.w["ana"],
        starts_at=at(TUE, 14),
    )
    assert (moved.id, moved.status, moved.starts_at) == (appointment_id, "confirmed", at(TUE, 14))
    row = await desk.payment(payment_id)
    assert (row["status"], row["appointment_id"]) == ("paid", appointment_id)
    assert (
        await appointment_payments.payment_status(desk.db, desk.w.studio_id, appointment_id)
        == "paid"
    )
    assert await desk.db.scalar("SELECT COUNT(*) FROM payments") == 1  # nothing asked again
    await appointments.cancel_by_customer(
        desk.db,
        desk.clock,
        desk.w.studio_id,
        appointment_id=appointment_id,
        customer_id=desk.w["ana"],
    )
    await appointment_payments.submit_refunds(desk.db, desk.clock, desk.gateway, appointment_id)
    assert await desk.refunds() == [(4000, "customer_cancel", True)]


async def test_staff_views_name_the_service(desk: Desk) -> None:
    await desk.setup()
    appointment_id, payment_id = await desk.paid()
    lines = await payment_reports.customer_payments(desk.db, desk.w.studio_id, desk.w["ana"])
    assert [(p.id, p.class_name, p.appointment_id) for p in lines] == [
        (payment_id, "Wheel lesson", appointment_id)
    ]
    today = await payment_reports.staff_today(
        desk.db,
        desk.w.studio_id,
        start=desk.clock.now() - timedelta(hours=1),
        end=desk.clock.now() + timedelta(hours=1),
    )
    assert [p.class_name for p in today] == ["Wheel lesson"]
    money = await payment_reports.money_by_class(
        desk.db,
        desk.w.studio_id,
        start=desk.clock.now() - timedelta(days=1),
        end=desk.clock.now() + timedelta(days=1),
    )
    assert [(m.class_name, m.paid_minor) for m in money] == [("Wheel lesson", 4000)]


async def test_a_payment_has_at_most_one_owner(desk: Desk) -> None:
    await desk.setup()
    appointment_id, payment_id = await desk.paid()
    w = desk.w
    starts = desk.clock.now() + timedelta(days=3)
    await builders.session(desk.db, w, "s1", "taster", starts)
    await builders.customer(desk.db, w, "cy")
    reg = await holds.hold(
        desk.db,
        desk.clock,
        w.studio_id,
        w["cy"],
        RegistrationKind.SINGLE,
        guests=1,
        session_ids=[w["s1"]],
    )
    with pytest.raises(Exception, match=r"(?i)one_owner|check constraint"):
        await desk.db.execute(
            "UPDATE payments SET registration_id = :r WHERE id = :id",
            {"r": reg.id, "id": payment_id},
        )
    assert (await desk.payment(payment_id))["appointment_id"] == appointment_id


async def test_the_tutor_example_pays_coaching_online_or_at_the_studio(db: Database) -> None:
    await load_studio(db, parse_studio_file(EXAMPLES / "tutor-studio.toml"))
    rows = await db.all(
        "SELECT key, payment, refund_after_cutoff_percent FROM services ORDER BY key"
    )
    found = {r["key"]: (r["payment"], r["refund_after_cutoff_percent"]) for r in rows}
    assert found["coaching-session"] == ("either", 0)
    assert found["trial"] == ("at_studio", 0)


async def test_bookbot_payments_list_names_the_service(
    desk: Desk, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await desk.setup()
    _appointment, payment_id = await desk.paid()
    args = build_parser().parse_args(["--database", database_url, "payments", "list"])
    assert int(await args.run(Settings(database_url=database_url), args)) == 0
    listed = capsys.readouterr().out
    assert f"#{payment_id} " in listed
    assert "£40.00  Wheel lesson  ana" in listed  # the class column names the service
