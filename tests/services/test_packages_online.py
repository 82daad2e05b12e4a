"""A lesson package bought online (issue 15), through the real StripeGateway against the
local Stripe stand-in, on both databases: issued `pending_payment` and unusable until the
payment's event makes it active (once, however often the event comes); an expired link
cancels it; an offer paid at the studio only is not sold online."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.services import appointments, packages, payments
from bookbot.services.package_checkout import start_package_checkout
from bookbot.services.payments import Outcome, ReturnUrls, StripeEvent
from bookbot.store.db import Database
from tests import builders
from tests.services.test_appointments_world import NOW, TUE, at, world
from tests.stripe_standin import StripeStandIn

KEY = "sk_test_packages"
URLS = ReturnUrls("https://bot.example/paid", "https://bot.example/cancelled")


@pytest.fixture
async def standin(clock: FrozenClock) -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret="whsec_p") as running:
        running.clock = lambda: clock.now().timestamp()
        yield running


@pytest.fixture
async def gateway(standin: StripeStandIn) -> AsyncIterator[StripeGateway]:
    made = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    yield made
    await made.close()


async def offer(db: Database, w: builders.World, payment: str = "either") -> int:
    return int(
        await db.scalar(
            "INSERT INTO package_offers (studio_id, key, name, service_id, sessions, price_minor,"
            " valid_days, payment, active) VALUES (:s, 'five', '5 wheel lessons', :sv, 5, 18000,"
            " 90, :payment, :on) RETURNING id",
            {"s": w.studio_id, "sv": w["lesson_service"], "payment": payment, "on": True},
        )
    )


async def apply(db: Database, clock: FrozenClock, gateway: StripeGateway, event: Any) -> Outcome:
    return await payments.apply_event(db, clock, gateway, StripeEvent.from_payload(event))


async def bought(
    db: Database, clock: FrozenClock, gateway: StripeGateway, w: builders.World, offer_id: int
) -> tuple[payments.Checkout, int, str]:
    link = await start_package_checkout(
        db, clock, gateway, studio_id=w.studio_id, customer_id=w["ana"], offer_id=offer_id,
        urls=URLS,
    )  # fmt: skip
    row = await db.one(
        "SELECT package_id, stripe_session_id, purpose FROM payments WHERE id = :id",
        {"id": link.payment_id},
    )
    assert row is not None
    assert row["purpose"] == "package"
    return link, int(row["package_id"]), str(row["stripe_session_id"])


async def test_a_package_bought_online_is_usable_only_once_paid(
    db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
) -> None:
    w = await world(db)
    link, package_id, session = await bought(db, clock, gateway, w, await offer(db, w))
    assert (link.amount_minor, link.currency, link.url is not None) == (18000, "GBP", True)
    held = await appointments.hold(
        db, clock, w.studio_id, customer_id=w["ana"], service_id=w["lesson_service"],
        staff_id=w["maya"], starts_at=at(TUE, 10),
    )  # fmt: skip

    async def confirm() -> appointments.Appointment:
        return await appointments.confirm(
            db, clock, w.studio_id, appointment_id=held.id, customer_id=w["ana"],
            package_id=package_id,
        )  # fmt: skip

    with pytest.raises(errors.PackageNotActive):
        await confirm()

    event = standin.pay(session)
    assert await apply(db, clock, gateway, event) is Outcome.PAID
    assert await apply(db, clock, gateway, event) is Outcome.UNCHANGED
    package = await packages.package_by_id(db, w.studio_id, package_id)
    assert (package.status, package.payment, package.remaining) == ("active", "online", 5)
    assert (await confirm()).status == "confirmed"
    assert (await packages.package_by_id(db, w.studio_id, package_id)).remaining == 4
    receipt = await db.scalar(
        "SELECT params FROM outbox WHERE template = 'payment_receipt' AND customer_id = :c",
        {"c": w["ana"]},
    )
    assert f'"package": {package_id}' in str(receipt)


async def test_a_package_whose_link_expires_is_cancelled(
    db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
) -> None:
    w = await world(db)
    _link, package_id, session = await bought(db, clock, gateway, w, await offer(db, w))

    assert await apply(db, clock, gateway, standin.expire(session)) is Outcome.EXPIRED

    package = await packages.package_by_id(db, w.studio_id, package_id)
    assert package.status == "cancelled"
    assert await packages.customer_packages(db, w.studio_id, w["ana"], NOW) == []


async def test_an_offer_paid_at_the_studio_is_not_sold_online(
    db: Database, clock: FrozenClock, gateway: StripeGateway
) -> None:
    w = await world(db)
    with pytest.raises(rules.PaymentNotOffered):
        await bought(db, clock, gateway, w, await offer(db, w, payment="at_studio"))
    assert await db.scalar("SELECT COUNT(*) FROM packages") == 0
