"""What the chat and staff views read about payments: a booking's payment status, a
customer's payments, today's and outstanding items, revenue, balances and refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.store.db import Reads, Row, instant


@dataclass(frozen=True)
class PaymentLine:
    id: int
    registration_id: int | None
    pass_id: int | None
    purpose: str
    amount_minor: int
    refunded_minor: int
    currency: str
    status: str
    due_at: datetime | None
    paid_at: datetime | None
    created_at: datetime
    class_name: str | None


_LINE = """SELECT p.id, p.registration_id, p.pass_id, p.purpose, p.amount_minor,
    p.refunded_minor, p.currency, p.status, p.due_at, p.paid_at, p.created_at,
    k.name AS class_name
FROM payments p LEFT JOIN registrations r ON r.id = p.registration_id
LEFT JOIN classes k ON k.id = r.class_id"""


def _line(row: Row) -> PaymentLine:
    def at(name: str) -> datetime | None:
        value = row[name]
        return None if value is None else instant(value)

    return PaymentLine(
        id=row["id"],
        registration_id=row["registration_id"],
        pass_id=row["pass_id"],
        purpose=row["purpose"],
        amount_minor=row["amount_minor"],
        refunded_minor=row["refunded_minor"],
        currency=row["currency"],
        status=row["status"],
        due_at=at("due_at"),
        paid_at=at("paid_at"),
        created_at=instant(row["created_at"]),
        class_name=row["class_name"],
    )


async def registration_status(db: Reads, studio_id: int, registration_id: int) -> str | None:
    """One word for "My bookings" and the roster: paid, deposit_paid (a balance is due),
    pending, invoiced, refunded, partially_refunded, failed; None when nothing is online."""
    rows = await db.all(
        "SELECT purpose, status FROM payments WHERE studio_id = :s AND registration_id = :r"
        " ORDER BY id",
        {"s": studio_id, "r": registration_id},
    )
    live = [r for r in rows if r["status"] not in ("cancelled", "expired")]
    if not live:
        return None
    statuses = {(r["purpose"], r["status"]) for r in live}
    if any(s in ("refunded", "partially_refunded") for _, s in statuses):
        return "refunded" if all(s == "refunded" for _, s in statuses) else "partially_refunded"
    if ("deposit", "paid") in statuses and not any(
        p == "balance" and s == "paid" for p, s in statuses
    ):
        return "deposit_paid"
    return str(live[-1]["status"])


async def customer_payments(
    db: Reads, studio_id: int, customer_id: int, *, limit: int = 20
) -> list[PaymentLine]:
    rows = await db.all(
        _LINE + " WHERE p.studio_id = :s AND p.customer_id = :c"
        " ORDER BY p.created_at DESC, p.id DESC LIMIT :limit",
        {"s": studio_id, "c": customer_id, "limit": limit},
    )
    return [_line(r) for r in rows]


async def staff_today(
    db: Reads, studio_id: int, *, start: datetime, end: datetime
) -> list[PaymentLine]:
    """Payments paid between `start` and `end` (the studio's day), newest first."""
    rows = await db.all(
        _LINE + " WHERE p.studio_id = :s AND p.created_at >= :early AND p.paid_at >= :start"
        " AND p.paid_at < :end ORDER BY p.paid_at DESC, p.id DESC",
        # created_at bounds the index range: nothing is paid before it is created, and a
        # link or a balance is paid within weeks of it.
        {"s": studio_id, "start": start, "end": end, "early": start.replace(year=start.year - 1)},
    )
    return [_line(r) for r in rows]


async def outstanding(db: Reads, studio_id: int, now: datetime) -> list[PaymentLine]:
    """What is still owed: balances scheduled or sent, invoices unpaid, payments that did not
    match, unpaid balances past their deadline (`expired` balances)."""
    rows = await db.all(
        _LINE + " WHERE p.studio_id = :s AND ("
        " p.status IN ('scheduled', 'invoiced')"
        " OR (p.status = 'pending' AND p.purpose = 'balance')"
        " OR (p.status = 'expired' AND p.purpose = 'balance')"
        " OR (p.status = 'failed' AND p.stripe_payment_intent IS NOT NULL))"
        " ORDER BY COALESCE(p.due_at, p.created_at), p.id",
        {"s": studio_id},
    )
    del now  # kept for the staff view's signature: what is overdue is shown by due_at
    return [_line(r) for r in rows]


@dataclass(frozen=True)
class Revenue:
    class_name: str
    currency: str
    paid_minor: int
    refunded_minor: int
    payments: int


async def revenue_by_class(
    db: Reads, studio_id: int, *, start: datetime, end: datetime
) -> list[Revenue]:
    """Money in (paid, less refunds) per class, for payments made in [start, end)."""
    rows = await db.all(
        "SELECT COALESCE(k.name, '') AS class_name, p.currency,"
        " SUM(p.amount_minor) AS paid_minor, SUM(p.refunded_minor) AS refunded_minor,"
        " COUNT(*) AS payments"
        " FROM payments p LEFT JOIN registrations r ON r.id = p.registration_id"
        " LEFT JOIN passes ps ON ps.id = p.pass_id"
        " LEFT JOIN classes k ON k.id = COALESCE(r.class_id, ps.class_id)"
        " WHERE p.studio_id = :s AND p.created_at < :end AND p.paid_at >= :start"
        " AND p.paid_at < :end AND p.status IN ('paid', 'refunded', 'partially_refunded')"
        " GROUP BY COALESCE(k.name, ''), p.currency ORDER BY COALESCE(k.name, ''), p.currency",
        {"s": studio_id, "start": start, "end": end},
    )
    return [
        Revenue(
            str(r["class_name"]),
            str(r["currency"]),
            int(r["paid_minor"]),
            int(r["refunded_minor"]),
            int(r["payments"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class RefundLine:
    id: int
    payment_id: int
    amount_minor: int
    currency: str
    reason: str
    status: str
    created_at: datetime


async def refunds_between(
    db: Reads, studio_id: int, *, start: datetime, end: datetime
) -> list[RefundLine]:
    rows = await db.all(
        "SELECT id, payment_id, amount_minor, currency, reason, status, created_at FROM refunds"
        " WHERE studio_id = :s AND created_at >= :start AND created_at < :end"
        " ORDER BY created_at, id",
        {"s": studio_id, "start": start, "end": end},
    )
    return [
        RefundLine(
            int(r["id"]),
            int(r["payment_id"]),
            int(r["amount_minor"]),
            str(r["currency"]),
            str(r["reason"]),
            str(r["status"]),
            instant(r["created_at"]),
        )
        for r in rows
    ]
