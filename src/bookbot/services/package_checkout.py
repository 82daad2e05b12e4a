"""Buying a lesson package online (issue 15), as a pass is bought: the package is issued
`pending_payment` (unusable) with its payments row (purpose 'package') in one transaction,
then the Checkout Session is opened. `payment_events` makes it active when the payment
arrives, and cancels it when the link expires or fails unpaid."""

from __future__ import annotations

from datetime import datetime

from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import Clock
from bookbot.services import packages, payments
from bookbot.services.payment_events import read_payment
from bookbot.services.payment_gateway import GatewayError, PaymentGateway
from bookbot.store.db import Database, retrying

PACKAGE = "package"  # payments.purpose


async def start_package_checkout(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    studio_id: int,
    customer_id: int,
    offer_id: int,
    urls: payments.ReturnUrls,
) -> payments.Checkout:
    """A payment link for a package of the offer. NotFound if the offer is not sold (any
    more); PaymentNotOffered if it is paid at the studio only or costs nothing; GatewayError
    if the provider could not be reached (the package is then cancelled: asking again makes
    a fresh one)."""

    async def write() -> tuple[int, int, datetime, str]:
        now = clock.now()
        async with db.transaction() as tx:
            offer = await packages.offer_by_id(tx, studio_id, offer_id)
            if offer.payment == "at_studio" or offer.price_minor <= 0:
                raise rules.PaymentNotOffered()
            package_id = await packages.issue_in(
                tx,
                now,
                studio_id,
                customer_id=customer_id,
                terms=packages.terms_of(offer),
                payment="online",
            )
            minutes = await tx.scalar(
                "SELECT payment_hold_minutes FROM studios WHERE id = :s", {"s": studio_id}
            )
            expires = payments.link_expiry(now, int(minutes))
            payment_id = await payments.insert_payment(
                tx,
                studio_id=studio_id,
                customer_id=customer_id,
                package_id=package_id,
                purpose=PACKAGE,
                amount=offer.price_minor,
                currency=offer.currency,
                now=now,
                expires=expires,
            )
            return payment_id, package_id, expires, offer.name

    payment_id, package_id, expires, name = await retrying(write)
    payment = await read_payment(db, payment_id)
    if payment is None:
        raise errors.NotFound(what="package", ident=package_id)
    try:
        session = await payments.open_session(
            db, clock, gateway, payment, description=name, urls=urls
        )
    except GatewayError:
        async with db.transaction() as tx:
            await packages.cancel_pending_in(tx, clock.now(), package_id)
        raise
    return payments.Checkout(
        payment_id, session.url, payment.amount_minor, payment.currency, expires
    )
