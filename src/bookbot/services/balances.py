"""Balances after a deposit: the link goes out when the balance falls due, and once more.

A paid deposit schedules its balance (a `balance` payments row, status `scheduled`, `due_at`
= `balance_due_days` before the first session). `send_due_balances` opens a Checkout Session
for each one due (24 hours, Stripe's longest) and sends its link through the outbox. If that
link lapses unpaid, the balance is scheduled once more for the reminder: 48 hours before the
first session (or at once, if that has passed), with a fresh link. If the reminder's link
lapses too, the balance is marked expired and staff are told; the booking stands (the
studio decides: nothing is cancelled automatically).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bookbot.engine.clock import Clock
from bookbot.services.payment_gateway import GatewayError, PaymentGateway
from bookbot.services.payment_rows import (
    COLUMNS,
    Payment,
    notify_customer,
    notify_staff,
    payment_of,
)
from bookbot.services.payments import ReturnUrls, open_session
from bookbot.store.db import Database, Tx, instant, retrying

log = logging.getLogger(__name__)
LINK_LIFETIME = timedelta(hours=24)  # Stripe's longest
REMINDER_BEFORE = timedelta(hours=48)
BATCH = 100

# `ix_payments_scheduled`: only balances not yet asked for, by when they fall due.
DUE_SQL = """SELECT id FROM payments WHERE status = 'scheduled' AND due_at <= :now
ORDER BY due_at, id LIMIT :limit"""


async def send_due_balances(
    db: Database, clock: Clock, gateway: PaymentGateway, urls: ReturnUrls, *, batch: int = BATCH
) -> int:
    """Open a link for each balance due and queue it to the customer; how many went."""
    rows = await db.all(DUE_SQL, {"now": clock.now(), "limit": batch})
    sent = 0
    for row in rows:
        payment_id = int(row["id"])
        opened = await _open(db, clock, payment_id)
        if opened is None:
            continue
        payment, name = opened
        try:
            session = await open_session(db, clock, gateway, payment, description=name, urls=urls)
        except GatewayError as error:
            log.warning("balance %s: %s; scheduled again", payment_id, error)
            await _reschedule_failed(db, clock, payment_id)
            continue
        await _send_link(db, clock, payment, session.url)
        sent += 1
        await asyncio.sleep(0)
    return sent


async def _open(db: Database, clock: Clock, payment_id: int) -> tuple[Payment, str] | None:
    """scheduled -> pending with its link's expiry: the payment as it now is, and the class
    name for the payment page (None if it was not scheduled any more)."""

    async def attempt() -> tuple[Payment, str] | None:
        now = clock.now()
        async with db.transaction() as tx:
            moved = await tx.execute(
                "UPDATE payments SET status = 'pending', expires_at = :expires, updated_at = :now"
                " WHERE id = :id AND status = 'scheduled'",
                {"id": payment_id, "expires": now + LINK_LIFETIME, "now": now},
            )
            if not moved:
                return None
            row = await tx.one(
                f"SELECT {COLUMNS}, k.name AS class_name FROM payments p"  # noqa: S608
                " LEFT JOIN registrations r ON r.id = p.registration_id"
                " LEFT JOIN classes k ON k.id = r.class_id WHERE p.id = :id",
                {"id": payment_id},
            )
            if row is None:
                return None
            return payment_of(row), str(row["class_name"] or "")

    result: tuple[Payment, str] | None = await retrying(attempt)
    return result


async def _reschedule_failed(db: Database, clock: Clock, payment_id: int) -> None:
    now = clock.now()
    await db.execute(
        "UPDATE payments SET status = 'scheduled', due_at = :later, attempt = attempt + 1,"
        " updated_at = :now WHERE id = :id AND status IN ('pending', 'failed')"
        " AND stripe_session_id IS NULL",
        {"id": payment_id, "later": now + timedelta(minutes=15), "now": now},
    )


async def _send_link(db: Database, clock: Clock, payment: Payment, url: str | None) -> None:
    async def attempt() -> None:
        now = clock.now()
        async with db.transaction() as tx:
            await notify_customer(
                tx,
                now,
                payment,
                "balance_link",
                {
                    "amount": payment.amount_minor,
                    "currency": payment.currency,
                    "url": url,
                    "booking": payment.registration_id,
                    "reminder": payment.attempt > 1,
                    "expires_at": (now + LINK_LIFETIME).isoformat(),
                },
                key=f"{payment.id}-{payment.attempt}",
            )

    await retrying(attempt)


async def lapsed(tx: Tx, now: datetime, payment: Payment, *, to: str) -> None:
    """A balance link ended unpaid (called with the payment locked): the first time, the
    reminder is scheduled with a fresh attempt; the second, it is marked and staff told."""
    if payment.attempt == 1 and to != "cancelled":
        starts = await tx.scalar(
            "SELECT MIN(s.starts_at) FROM registration_sessions rs JOIN sessions s"
            " ON s.id = rs.session_id WHERE rs.registration_id = :r",
            {"r": payment.registration_id},
        )
        when = max(instant(starts) - REMINDER_BEFORE, now) if starts is not None else now
        await tx.execute(
            "UPDATE payments SET status = 'scheduled', attempt = attempt + 1, due_at = :due,"
            " reminded_at = :due, stripe_session_id = NULL, checkout_url = NULL,"
            " expires_at = NULL, updated_at = :now WHERE id = :id AND status = 'pending'",
            {"id": payment.id, "due": when, "now": now},
        )
        return
    await tx.execute(
        "UPDATE payments SET status = :to, updated_at = :now WHERE id = :id AND status = 'pending'",
        {"id": payment.id, "to": to, "now": now},
    )
    if to != "cancelled":
        await notify_staff(
            tx,
            now,
            payment.studio_id,
            "payment_staff_balance_unpaid",
            {
                "payment": payment.id,
                "booking": payment.registration_id,
                "amount": payment.amount_minor,
                "currency": payment.currency,
            },
            key=str(payment.id),
        )
