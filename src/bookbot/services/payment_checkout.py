"""Starting and calling off a payment in chat: a Checkout Session per payment, and its hold.

Starting a payment never leaves anything half-written: the payments row is written first
(pending, no Session, amounts from the engine, never the client), with the hold extended to
the Session's expiry; then the provider is asked (Idempotency-Key from the row and attempt);
then the Session is stored. A crash between leaves a pending row with no Session, which
nobody can pay (its link was never shown): reconciliation cancels it at its expiry, and lets
its hold go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import Clock
from bookbot.services import appointment_payments, holds, passes, refunds
from bookbot.services.payment_gateway import (
    CheckoutRequest,
    CheckoutSession,
    GatewayError,
    PaymentGateway,
)
from bookbot.services.payment_paid import settle_paid
from bookbot.services.payment_rows import COLUMNS, Payment, payment_of
from bookbot.services.payment_settling import Outcome, Paid, read_payment, settle_unpaid
from bookbot.services.registration_rows import lock_registration
from bookbot.store.db import Database, Tx, instant, retrying

# Stripe refuses a Session expiring less than 30 minutes after it creates it, by its own
# clock, which reads a little later than ours did (the request's way there, a retry, clock
# skew): the shortest link gets 45 seconds more, so a 30-minute policy is not refused, and
# the time the customer is told (to the minute) is still the policy's.
SHORTEST_LINK = timedelta(minutes=30, seconds=45)


def link_expiry(now: datetime, hold_minutes: int) -> datetime:
    """When a new payment link (and the hold it keeps) ends."""
    return now + max(timedelta(minutes=hold_minutes), SHORTEST_LINK)


@dataclass(frozen=True)
class ReturnUrls:
    """Where the Checkout page sends the customer back to (our small return pages)."""

    success: str
    cancel: str


@dataclass(frozen=True)
class Checkout:
    payment_id: int
    url: str | None
    amount_minor: int
    currency: str
    expires_at: datetime


HELD_SQL = f"""SELECT r.id, r.customer_id, r.status, r.price_minor, r.currency,
    k.name AS class_name, {refunds.POLICY_COLUMNS}, st.payment_hold_minutes,
    (SELECT MIN(s.starts_at) FROM registration_sessions rs JOIN sessions s
     ON s.id = rs.session_id WHERE rs.registration_id = r.id) AS first_start
FROM registrations r JOIN classes k ON k.id = r.class_id JOIN studios st ON st.id = r.studio_id
WHERE r.studio_id = :s AND r.id = :r"""  # noqa: S608 - constants

_INSERT = """INSERT INTO payments (studio_id, customer_id, registration_id, pass_id,
    appointment_id, package_id, purpose, amount_minor, currency, status, expires_at,
    company_name, billing_email, po_number, created_at, updated_at)
VALUES (:s, :c, :r, :pass, :appointment, :package, :purpose, :amount, :currency, 'pending',
    :expires, :company, :email, :po, :now, :now) RETURNING id"""


async def insert_payment(  # noqa: PLR0913 - one keyword per column
    tx: Tx,
    *,
    studio_id: int,
    customer_id: int,
    purpose: str,
    amount: int,
    currency: str,
    now: datetime,
    expires: datetime | None,
    registration_id: int | None = None,
    pass_id: int | None = None,
    appointment_id: int | None = None,
    package_id: int | None = None,
    company: tuple[str, str, str | None] | None = None,
) -> int:
    """A new pending payment's id (for one owner: a registration, pass, appointment or
    package)."""
    name, email, po = company or (None, None, None)
    params = {
        "s": studio_id,
        "c": customer_id,
        "r": registration_id,
        "pass": pass_id,
        "appointment": appointment_id,
        "package": package_id,
        "purpose": purpose,
        "amount": amount,
        "currency": currency,
        "expires": expires,
        "company": name,
        "email": email,
        "po": po,
        "now": now,
    }
    return int(await tx.scalar(_INSERT, params))


async def start_checkout(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    studio_id: int,
    customer_id: int,
    registration_id: int,
    choice: rules.Choice,
    urls: ReturnUrls,
) -> Checkout:
    """A payment link for the customer's held registration (in full or the deposit).

    BookingError if the hold is not theirs or no longer held, or the choice is not offered
    (`PaymentNotOffered`); GatewayError if the provider could not be reached (the payment is
    then failed and the hold stays as it was: asking again makes a fresh one)."""

    async def write() -> tuple[int, datetime, str]:
        now = clock.now()
        async with db.transaction() as tx:
            reg = await lock_registration(tx, studio_id, registration_id)
            if reg is None or reg["customer_id"] != customer_id:
                raise errors.NotFound(what="booking", ident=registration_id)
            row = await tx.one(HELD_SQL, {"s": studio_id, "r": registration_id})
            if reg["status"] != "held" or row is None or row["first_start"] is None:
                raise errors.AlreadyCancelled()
            policy = refunds.policy_of(row)
            due = rules.amount_due(
                policy,
                int(row["price_minor"]),
                choice,
                now=now,
                first_start=instant(row["first_start"]),
            )
            expires = link_expiry(now, int(row["payment_hold_minutes"]))
            # One open link per hold: an earlier one is called off (its Session expires too,
            # at the latest at its own expiry; reconciliation marks it).
            await tx.execute(
                "UPDATE payments SET status = 'cancelled', updated_at = :now"
                " WHERE registration_id = :r AND status = 'pending'",
                {"r": registration_id, "now": now},
            )
            payment_id = await insert_payment(
                tx,
                studio_id=studio_id,
                customer_id=customer_id,
                registration_id=registration_id,
                purpose=due.purpose,
                amount=due.now,
                currency=str(row["currency"]),
                now=now,
                expires=expires,
            )
            await holds.extend_in(tx, now, studio_id, registration_id, expires)
            return payment_id, expires, str(row["class_name"])

    payment_id, expires, name = await retrying(write)
    missing = errors.NotFound(what="booking", ident=registration_id)
    return await _opened(
        db, clock, gateway, payment_id, name=name, urls=urls, expires=expires, missing=missing
    )


async def start_appointment_checkout(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    studio_id: int,
    customer_id: int,
    appointment_id: int,
    urls: ReturnUrls,
) -> Checkout:
    """A payment link for the customer's held appointment, in full (as `start_checkout`:
    the row first, the hold kept until the link's expiry, then the Session).

    NotFound if the hold is not theirs, AppointmentNotActive if it is no live hold,
    PaymentNotOffered if its service is paid at the studio; GatewayError as for a class."""

    async def write() -> tuple[int, datetime, str]:
        now = clock.now()
        async with db.transaction() as tx:
            held = await appointment_payments.held_for_payment(
                tx, now, studio_id, customer_id=customer_id, appointment_id=appointment_id
            )
            found = held.appointment
            expires = link_expiry(now, held.hold_minutes)
            # One open link per hold, as for a class.
            await tx.execute(
                "UPDATE payments SET status = 'cancelled', updated_at = :now"
                " WHERE appointment_id = :a AND status = 'pending'",
                {"a": appointment_id, "now": now},
            )
            payment_id = await insert_payment(
                tx,
                studio_id=studio_id,
                customer_id=customer_id,
                appointment_id=appointment_id,
                purpose=rules.FULL,
                amount=found.price_minor,
                currency=found.currency,
                now=now,
                expires=expires,
            )
            await appointment_payments.extend_hold_in(tx, appointment_id, expires, now)
            return payment_id, expires, found.service_name

    payment_id, expires, name = await retrying(write)
    missing = errors.NotFound(what="appointment", ident=appointment_id)
    return await _opened(
        db, clock, gateway, payment_id, name=name, urls=urls, expires=expires, missing=missing
    )


async def _opened(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    payment_id: int,
    *,
    name: str,
    urls: ReturnUrls,
    expires: datetime,
    missing: errors.NotFound,
) -> Checkout:
    """The Checkout of a pending payment row just written: its provider Session opened;
    `missing` if the row went meanwhile (deleted with its studio)."""
    payment = await read_payment(db, payment_id)
    if payment is None:
        raise missing
    session = await open_session(db, clock, gateway, payment, description=name, urls=urls)
    return Checkout(payment_id, session.url, payment.amount_minor, payment.currency, expires)


async def open_session(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    payment: Payment,
    *,
    description: str,
    urls: ReturnUrls,
) -> CheckoutSession:
    """Ask the provider for the payment's Session and store it on the (pending) row."""
    if payment.expires_at is None:
        raise ValueError(f"payment {payment.id} has no expiry")
    request = CheckoutRequest(
        payment_id=payment.id,
        attempt=payment.attempt,
        amount_minor=payment.amount_minor,
        currency=payment.currency.lower(),
        description=description,
        expires_at=payment.expires_at,
        success_url=urls.success,
        cancel_url=urls.cancel,
        metadata={
            "studio_id": str(payment.studio_id),
            "purpose": payment.purpose,
            **(
                {"registration_id": str(payment.registration_id)} if payment.registration_id else {}
            ),
            **({"appointment_id": str(payment.appointment_id)} if payment.appointment_id else {}),
        },
    )
    try:
        session = await gateway.create_checkout(request)
    except GatewayError:
        await db.execute(
            "UPDATE payments SET status = 'failed', updated_at = :now"
            " WHERE id = :id AND status = 'pending' AND stripe_session_id IS NULL",
            {"id": payment.id, "now": clock.now()},
        )
        raise
    stored = await db.execute(
        "UPDATE payments SET stripe_session_id = :sid, checkout_url = :url, updated_at = :now"
        " WHERE id = :id AND status = 'pending' AND stripe_session_id IS NULL",
        {"sid": session.id, "url": session.url, "id": payment.id, "now": clock.now()},
    )
    if not stored:
        # Called off meanwhile (backed out, or a newer link): nobody may pay this one.
        await gateway.expire_checkout(session.id)
        raise errors.AlreadyCancelled()
    return session


async def cancel_checkout(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    studio_id: int,
    customer_id: int,
    registration_id: int,
) -> Outcome:
    """The customer backed out of paying: the Session is expired at the provider first (so
    nobody can pay for seats about to go), then the payment is cancelled and the hold let
    go. A Session that turns out to be paid already is honoured as paid instead."""
    row = await db.one(
        f"SELECT {COLUMNS} FROM payments p WHERE p.registration_id = :r"  # noqa: S608
        " AND p.studio_id = :s AND p.customer_id = :c AND p.status = 'pending'"
        " ORDER BY p.id DESC LIMIT 1",
        {"r": registration_id, "s": studio_id, "c": customer_id},
    )
    if row is None:
        await holds.release_hold(db, clock, studio_id, customer_id, registration_id)
        return Outcome.UNCHANGED
    return await call_off(db, clock, gateway, payment_of(row))


async def call_off(
    db: Database, clock: Clock, gateway: PaymentGateway, payment: Payment
) -> Outcome:
    """Expire the payment's Session at the provider first (so nobody can pay for what is
    about to be let go), then cancel the payment and let what it held go. A Session that
    turns out to be paid already is honoured as paid instead."""
    if payment.stripe_session_id is not None:
        session = await gateway.expire_checkout(payment.stripe_session_id)
        if session.payment_status == "paid":
            return await settle_paid(db, clock, gateway, payment.id, paid_of_session(session))
    return await settle_unpaid(db, clock, payment.id, to="cancelled")


def paid_of_session(session: CheckoutSession) -> Paid:
    return Paid(
        amount_minor=session.amount_total,
        currency=session.currency,
        payment_intent=session.payment_intent,
        session_id=session.id,
        receipt_url=session.receipt_url,
    )


async def start_pass_checkout(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway,
    *,
    studio_id: int,
    customer_id: int,
    class_id: int,
    terms: passes.PassTerms,
    urls: ReturnUrls,
) -> Checkout:
    """A pass paid online: issued `pending_payment` (unusable: only active passes are), and
    made active by its payment; an expired or cancelled link cancels it."""
    now = clock.now()
    pass_id = await passes.issue_pass(
        db,
        now,
        studio_id,
        customer_id,
        class_id,
        terms=terms,
        payment="online",
        valid_from=now.date(),
    )

    async def write() -> tuple[int, datetime, str]:
        async with db.transaction() as tx:
            row = await tx.one(
                "SELECT st.currency, st.payment_hold_minutes, k.name FROM studios st"
                " JOIN classes k ON k.studio_id = st.id WHERE st.id = :s AND k.id = :k",
                {"s": studio_id, "k": class_id},
            )
            if row is None:
                raise errors.NotFound(what="class", ident=class_id)
            expires = link_expiry(now, int(row["payment_hold_minutes"]))
            payment_id = await insert_payment(
                tx,
                studio_id=studio_id,
                customer_id=customer_id,
                pass_id=pass_id,
                purpose=rules.PASS,
                amount=terms.price_minor,
                currency=str(row["currency"]),
                now=now,
                expires=expires,
            )
            return payment_id, expires, str(row["name"])

    payment_id, expires, name = await retrying(write)
    missing = errors.NotFound(what="class", ident=class_id)
    return await _opened(
        db, clock, gateway, payment_id, name=name, urls=urls, expires=expires, missing=missing
    )
