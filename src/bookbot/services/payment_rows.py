"""A payments row as the payment services read it, and the notices they queue about one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bookbot.services import outbox
from bookbot.store.db import Row, Tx, instant, record

COLUMNS = """p.id, p.studio_id, p.customer_id, p.registration_id, p.pass_id, p.appointment_id,
    p.package_id, p.purpose,
    p.amount_minor, p.currency, p.status, p.refunded_minor, p.attempt, p.due_at, p.expires_at,
    p.stripe_session_id, p.stripe_payment_intent, p.stripe_invoice_id, p.checkout_url,
    p.receipt_url, p.paid_at"""

# A payment whose money is in (or asked for by invoice): nothing about it is pending.
SETTLED = ("paid", "refunded", "partially_refunded")
# What a "paid" from Stripe may move: a Session is the truth even after we gave up on it
# (a payment that completed while we were expiring it is still money received).
PAYABLE = ("pending", "expired", "cancelled", "failed")


@dataclass(frozen=True)
class Payment:
    id: int
    studio_id: int
    customer_id: int
    registration_id: int | None
    pass_id: int | None
    appointment_id: int | None
    package_id: int | None  # a lesson package bought online (purpose 'package')
    purpose: str
    amount_minor: int
    currency: str
    status: str
    refunded_minor: int
    attempt: int
    due_at: datetime | None
    expires_at: datetime | None
    stripe_session_id: str | None
    stripe_payment_intent: str | None
    stripe_invoice_id: str | None
    checkout_url: str | None
    receipt_url: str | None
    paid_at: datetime | None


def payment_of(row: Row) -> Payment:
    return record(Payment, row)


async def lock_payment(tx: Tx, payment_id: int) -> Payment | None:
    """The payment, locked for the rest of the transaction (PostgreSQL; SQLite's write
    transaction holds the database): decide on its status here, never before."""
    row = await tx.one(
        f"SELECT {COLUMNS} FROM payments p WHERE p.id = :id" + tx.for_update("p"),  # noqa: S608
        {"id": payment_id},
    )
    return None if row is None else payment_of(row)


async def move(tx: Tx, payment_id: int, *, to: str, was: tuple[str, ...], now: datetime) -> bool:
    """A guarded transition: True if this call moved it (a repeat finds it moved already)."""
    marks = ", ".join(f":w{i}" for i in range(len(was)))
    changed = await tx.execute(
        f"UPDATE payments SET status = :to, updated_at = :now"  # noqa: S608 - placeholders
        f" WHERE id = :id AND status IN ({marks})",
        {"id": payment_id, "to": to, "now": now, **{f"w{i}": w for i, w in enumerate(was)}},
    )
    return changed == 1


async def notify_customer(
    tx: Tx, now: datetime, payment: Payment, template: str, params: dict[str, Any], *, key: str
) -> None:
    """A message to the payment's customer, in their language when it is sent; once per key."""
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=payment.studio_id,
        customer_id=payment.customer_id,
        template=template,
        params=params,
        due_at=now,
        dedupe_key=f"{template}:{key}",
    )


async def notify_staff(
    tx: Tx, now: datetime, studio_id: int, template: str, params: dict[str, Any], *, key: str
) -> bool:
    """A message to the studio's staff chat, if it has one (False if not: staff see it in
    their payment lists instead)."""
    chat = await tx.scalar("SELECT staff_chat_id FROM studios WHERE id = :s", {"s": studio_id})
    if chat is None:
        return False
    return await outbox.enqueue(
        tx,
        now=now,
        studio_id=studio_id,
        customer_id=None,
        template=template,
        params=params,
        due_at=now,
        dedupe_key=f"{template}:{key}",
        channel="telegram",
        address=str(chat),
    )


async def move_scheduled_balance(
    tx: Tx, now: datetime, registration_id: int, shift: timedelta
) -> None:
    """A balance not asked for yet is due a fixed time before the start: when the booking's
    date moves (the booking rescheduled, or its session moved by staff), it moves with it,
    never before now. Computed here, not in SQL: interval arithmetic differs between the
    two databases."""
    if not shift:
        return
    rows = await tx.all(
        "SELECT id, due_at FROM payments WHERE registration_id = :r AND purpose = 'balance'"
        " AND status = 'scheduled' AND due_at IS NOT NULL",
        {"r": registration_id},
    )
    for r in rows:
        await tx.execute(
            "UPDATE payments SET due_at = :due, updated_at = :now"
            " WHERE id = :id AND status = 'scheduled'",
            {"id": r["id"], "due": max(instant(r["due_at"]) + shift, now), "now": now},
        )
