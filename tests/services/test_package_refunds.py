"""A staff refund of a lesson package's payment (issue 15), through the real StripeGateway
against the local Stripe stand-in, on both databases: a refund of all that is left cancels
the package (its credit was paid back; appointments it already paid for keep their
redemptions), a partial refund leaves it usable (staff adjust the balance if they mean to)."""

from __future__ import annotations

from bookbot.engine.clock import FrozenClock
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.services import packages, refunds
from bookbot.services.payments import Outcome
from bookbot.store.db import Database
from tests.services.test_appointments_world import world
from tests.services.test_packages_online import apply, bought, gateway, offer, standin
from tests.stripe_standin import StripeStandIn

__all__ = ["gateway", "standin"]  # fixtures, used by name


async def paid_package(
    db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
) -> tuple[int, int, int]:
    w = await world(db)
    link, package_id, session = await bought(db, clock, gateway, w, await offer(db, w))
    assert await apply(db, clock, gateway, standin.pay(session)) is Outcome.PAID
    return w.studio_id, package_id, link.payment_id


async def test_a_full_staff_refund_of_a_package_cancels_it(
    db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
) -> None:
    studio_id, package_id, payment_id = await paid_package(db, clock, gateway, standin)

    made = await refunds.staff_refund(
        db, clock, gateway, payment_id, amount_minor=None, note="changed her mind"
    )

    assert made is not None
    assert (made.amount_minor, made.repeated, made.package_cancelled) == (18000, False, True)
    package = await packages.package_by_id(db, studio_id, package_id)
    assert package.status == "cancelled"
    # The same request again is recognised as made, and changes nothing.
    again = await refunds.staff_refund(
        db, clock, gateway, payment_id, amount_minor=None, note="changed her mind"
    )
    assert again is not None
    assert again.repeated


async def test_a_partial_staff_refund_of_a_package_leaves_it_usable(
    db: Database, clock: FrozenClock, gateway: StripeGateway, standin: StripeStandIn
) -> None:
    studio_id, package_id, payment_id = await paid_package(db, clock, gateway, standin)

    made = await refunds.staff_refund(
        db, clock, gateway, payment_id, amount_minor=3600, note="one lesson missed"
    )

    assert made is not None
    assert (made.amount_minor, made.repeated, made.package_cancelled) == (3600, False, False)
    package = await packages.package_by_id(db, studio_id, package_id)
    assert (package.status, package.remaining) == ("active", 5)
