"""Company invoices: a booking billed to a company is confirmed as invoiced, and a Stripe
invoice goes to its billing email; one the provider never made is asked for again, then
given up on (staff told once)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import Clock
from bookbot.services import holds
from bookbot.services.payment_checkout import HELD_SQL, insert_payment
from bookbot.services.payment_gateway import GatewayError, InvoiceRequest, PaymentGateway
from bookbot.services.payment_rows import notify_staff
from bookbot.store.db import Database, instant, retrying

log = logging.getLogger(__name__)
BATCH = 100


@dataclass(frozen=True)
class Company:
    name: str
    billing_email: str
    po_number: str | None = None


async def start_invoice(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    studio_id: int,
    customer_id: int,
    registration_id: int,
    company: Company,
) -> int:
    """Bill a company for the customer's held registration: the booking is confirmed as
    invoiced, and a Stripe invoice (send_invoice) goes to the billing email. Confirming comes
    first, so no invoice is ever sent for seats that are gone; a provider failure leaves the
    payment pending and asking again reuses it (the invoice requests are idempotent)."""

    async def write() -> int:
        now = clock.now()
        async with db.transaction() as tx:
            existing = await tx.one(
                "SELECT id FROM payments WHERE registration_id = :r AND purpose = 'invoice'"
                " AND status IN ('pending', 'invoiced', 'paid')",
                {"r": registration_id},
            )
            row = await tx.one(HELD_SQL, {"s": studio_id, "r": registration_id})
            if row is None or row["customer_id"] != customer_id:
                raise errors.NotFound(what="booking", ident=registration_id)
            if existing is not None:
                return int(existing["id"])
            if not row["company_billing"]:
                raise rules.PaymentNotOffered()
            booked = await holds.confirm_in(tx, now, studio_id, customer_id, registration_id)
            return await insert_payment(
                tx,
                studio_id=studio_id,
                customer_id=customer_id,
                registration_id=booked.id,
                purpose=rules.INVOICE,
                amount=booked.price_minor,
                currency=booked.currency,
                now=now,
                expires=None,
                company=(company.name, company.billing_email, company.po_number),
            )

    payment_id: int = await retrying(write)
    await send_invoice(db, clock, gateway, payment_id)
    return payment_id


# The invoice requests reuse their idempotency keys on every attempt (see StripeGateway), so a
# retry after a lost answer replays the invoice rather than making a second one. Stripe keeps
# keys for 24 hours: past that a retry could bill the company twice, so retrying stops there,
# or sooner after INVOICE_ATTEMPTS failures, and staff are told once to invoice it by hand.
INVOICE_ATTEMPTS = 8
INVOICE_RETRY_WINDOW = timedelta(hours=23)
_FIRST_RETRY = timedelta(minutes=5)
_LONGEST_WAIT = timedelta(hours=4)

_INVOICE = """SELECT p.id, p.status, p.amount_minor, p.currency, p.attempt, p.company_name,
    p.billing_email, p.po_number, k.name AS class_name, k.invoice_days_until_due
FROM payments p JOIN registrations r ON r.id = p.registration_id JOIN classes k ON k.id = r.class_id
WHERE p.id = :id AND p.purpose = 'invoice'"""


def invoice_retry_at(failures: int, last_try: datetime) -> datetime:
    """When to ask again after `failures` failed attempts: 5 min, doubling, at most 4 h."""
    wait: timedelta = _FIRST_RETRY * 2 ** max(failures - 1, 0)
    return last_try + min(wait, _LONGEST_WAIT)


async def send_invoice(
    db: Database, clock: Clock, gateway: PaymentGateway, payment_id: int
) -> bool:
    """Ask the provider for a pending invoice payment's invoice (same keys every time); True
    once it is invoiced. A failure is counted on the payment (`attempt`: the next attempt's
    number) and raised, for reconciliation to try again later."""
    row = await db.one(_INVOICE, {"id": payment_id})
    if row is None or row["status"] != "pending":
        return False
    request = InvoiceRequest(
        payment_id=int(row["id"]),
        amount_minor=int(row["amount_minor"]),
        currency=str(row["currency"]).lower(),
        description=str(row["class_name"]),
        company_name=str(row["company_name"] or ""),
        billing_email=str(row["billing_email"] or ""),
        days_until_due=int(row["invoice_days_until_due"]),
        po_number=row["po_number"],
    )
    try:
        invoice = await gateway.create_invoice(request)
    except GatewayError:
        await db.execute(
            "UPDATE payments SET attempt = attempt + 1, updated_at = :now"
            " WHERE id = :id AND status = 'pending' AND stripe_invoice_id IS NULL",
            {"id": payment_id, "now": clock.now()},
        )
        raise
    moved = await db.execute(
        "UPDATE payments SET status = 'invoiced', stripe_invoice_id = :inv, updated_at = :now"
        " WHERE id = :id AND status = 'pending'",
        {"inv": invoice.id, "id": payment_id, "now": clock.now()},
    )
    return moved == 1


# Invoice payments are pending with no expiry (nothing lapses: the booking is confirmed);
# `reminded_at` marks one given up on, staff told.
_UNSENT_INVOICES = """SELECT id, attempt, created_at, updated_at FROM payments
WHERE status = 'pending' AND expires_at IS NULL AND purpose = 'invoice'
AND stripe_invoice_id IS NULL AND reminded_at IS NULL ORDER BY id LIMIT :limit"""


async def retry_invoices(
    db: Database, clock: Clock, gateway: PaymentGateway, *, batch: int = BATCH
) -> int:
    """Invoices the provider never made (an outage, a lost answer): asked again when their
    wait is over, with the same keys; given up on (staff told once) after INVOICE_ATTEMPTS
    failures or INVOICE_RETRY_WINDOW. How many were sent."""
    now = clock.now()
    sent = 0
    for row in await db.all(_UNSENT_INVOICES, {"limit": batch}):
        failures = int(row["attempt"]) - 1
        if failures >= INVOICE_ATTEMPTS or now - instant(row["created_at"]) >= INVOICE_RETRY_WINDOW:
            await _give_up_invoice(db, clock, int(row["id"]), failures)
            continue
        if failures and invoice_retry_at(failures, instant(row["updated_at"])) > now:
            continue
        try:
            sent += await send_invoice(db, clock, gateway, int(row["id"]))
        except GatewayError as error:
            log.warning("invoice for payment %s (attempt %s): %s", row["id"], row["attempt"], error)
        await asyncio.sleep(0)
    return sent


async def _give_up_invoice(db: Database, clock: Clock, payment_id: int, failures: int) -> None:
    async def attempt() -> None:
        now = clock.now()
        async with db.transaction() as tx:
            row = await tx.one(
                "SELECT p.studio_id, p.amount_minor, p.currency, p.company_name FROM payments p"  # noqa: S608
                " WHERE p.id = :id AND p.status = 'pending' AND p.stripe_invoice_id IS NULL"
                " AND p.reminded_at IS NULL" + tx.for_update("p"),
                {"id": payment_id},
            )
            if row is None:
                return
            await tx.execute(
                "UPDATE payments SET reminded_at = :now, updated_at = :now WHERE id = :id",
                {"id": payment_id, "now": now},
            )
            await notify_staff(
                tx,
                now,
                int(row["studio_id"]),
                "payment_staff_invoice_unsent",
                {
                    "amount": int(row["amount_minor"]),
                    "currency": str(row["currency"]),
                    "payment": payment_id,
                    "company": row["company_name"],
                    "attempts": failures,
                },
                key=str(payment_id),
            )

    await retrying(attempt)
