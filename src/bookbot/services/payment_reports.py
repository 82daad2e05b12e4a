"""What the chat and staff views read about payments: a booking's payment status, a
customer's payments, today's and outstanding items, revenue, balances and refunds."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bookbot.store.db import Reads, record


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
    class_name: str | None  # the class's, or for an appointment its service's
    appointment_id: int | None = None


_LINE = """SELECT p.id, p.registration_id, p.pass_id, p.appointment_id, p.purpose,
    p.amount_minor, p.refunded_minor, p.currency, p.status, p.due_at, p.paid_at, p.created_at,
    COALESCE(k.name, sv.name) AS class_name
FROM payments p LEFT JOIN registrations r ON r.id = p.registration_id
LEFT JOIN classes k ON k.id = r.class_id
LEFT JOIN appointments a ON a.id = p.appointment_id
LEFT JOIN services sv ON sv.id = a.service_id"""


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
    return [record(PaymentLine, r) for r in rows]


async def staff_today(
    db: Reads, studio_id: int, *, start: datetime, end: datetime
) -> list[PaymentLine]:
    """Payments paid between `start` and `end` (the studio's day), newest first."""
    rows = await db.all(
        _LINE + " WHERE p.studio_id = :s AND p.created_at >= :early AND p.paid_at >= :start"
        " AND p.paid_at < :end ORDER BY p.paid_at DESC, p.id DESC",
        {"s": studio_id, "start": start, "end": end, "early": _early(start)},
    )
    return [record(PaymentLine, r) for r in rows]


async def outstanding(db: Reads, studio_id: int, now: datetime) -> list[PaymentLine]:
    """What is still owed: balances scheduled or sent, invoices unpaid or not yet made at
    Stripe (pending: an outage, retried by reconciliation), payments that did not match,
    unpaid balances past their deadline (`expired` balances)."""
    rows = await db.all(
        _LINE + " WHERE p.studio_id = :s AND ("
        " p.status IN ('scheduled', 'invoiced')"
        " OR (p.status = 'pending' AND p.purpose IN ('balance', 'invoice'))"
        " OR (p.status = 'expired' AND p.purpose = 'balance')"
        " OR (p.status = 'failed' AND p.stripe_payment_intent IS NOT NULL))"
        " ORDER BY COALESCE(p.due_at, p.created_at), p.id",
        {"s": studio_id},
    )
    del now  # kept for the staff view's signature: what is overdue is shown by due_at
    return [record(PaymentLine, r) for r in rows]


def _early(start: datetime) -> datetime:
    """The oldest creation a payment made from `start` on is read from: created_at bounds
    the (studio_id, created_at) index range, since nothing is paid before it is created and
    a link, a balance or an invoice is paid within weeks (a balance: months) of it."""
    return start - timedelta(days=400)


# What a payment is for, by name: its class (a booking's or a pass's), or its appointment's
# service (reports group an appointment's money under the service's name, as a class's).
_CLASS_OF = """LEFT JOIN registrations g ON g.id = p.registration_id
LEFT JOIN passes ps ON ps.id = p.pass_id
LEFT JOIN classes k ON k.id = COALESCE(g.class_id, ps.class_id)
LEFT JOIN appointments ap ON ap.id = p.appointment_id
LEFT JOIN services sv ON sv.id = ap.service_id"""
_NAME = "COALESCE(k.name, sv.name, '')"


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
        f"SELECT {_NAME} AS class_name, p.currency,"  # noqa: S608 - constants
        " SUM(p.amount_minor) AS paid_minor, SUM(p.refunded_minor) AS refunded_minor,"
        f" COUNT(*) AS payments FROM payments p {_CLASS_OF}"
        " WHERE p.studio_id = :s AND p.created_at >= :early AND p.created_at < :end"
        " AND p.paid_at >= :start AND p.paid_at < :end"
        " AND p.status IN ('paid', 'refunded', 'partially_refunded')"
        f" GROUP BY {_NAME}, p.currency ORDER BY {_NAME}, p.currency",
        {"s": studio_id, "start": start, "end": end, "early": _early(start)},
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
    return [record(RefundLine, r) for r in rows]


async def has_payments(db: Reads, studio_id: int) -> bool:
    """Whether the studio ever asked for a payment online (its reports then show money)."""
    found = await db.one("SELECT id FROM payments WHERE studio_id = :s LIMIT 1", {"s": studio_id})
    return found is not None


@dataclass(frozen=True)
class ClassMoney:
    """One class's money in a report: what came in and went back over the period, and what
    is owed now. `class_name` is '' for payments of no class."""

    class_name: str
    currency: str
    paid_minor: int = 0  # payments made in the period (before any refund)
    refunded_minor: int = 0  # refunds asked in the period (not those that failed)
    refunds: int = 0
    balances_minor: int = 0  # balances not paid yet: scheduled, sent, or past their deadline
    invoices_minor: int = 0  # invoices sent and not paid

    @property
    def owed_minor(self) -> int:
        return self.balances_minor + self.invoices_minor


# Refunds asked in the period, by their created_at (ix_refunds_studio_created's range).
_REFUNDS_BY_CLASS = f"""SELECT {_NAME} AS class_name, r.currency,
    SUM(r.amount_minor) AS refunded_minor, COUNT(*) AS refunds
FROM refunds r JOIN payments p ON p.id = r.payment_id {_CLASS_OF}
WHERE r.studio_id = :s AND r.created_at >= :start AND r.created_at < :end
    AND r.status <> 'failed'
GROUP BY {_NAME}, r.currency"""  # noqa: S608 - constants
# Owed now, whatever the period: scheduled balances are the only scheduled payments.
_OWED_BY_CLASS = f"""SELECT {_NAME} AS class_name, p.currency,
    SUM(CASE WHEN p.status = 'invoiced' THEN 0 ELSE p.amount_minor END) AS balances,
    SUM(CASE WHEN p.status = 'invoiced' THEN p.amount_minor ELSE 0 END) AS invoices
FROM payments p {_CLASS_OF}
WHERE p.studio_id = :s AND (p.status IN ('scheduled', 'invoiced')
    OR (p.purpose = 'balance' AND p.status IN ('pending', 'expired')))
GROUP BY {_NAME}, p.currency"""  # noqa: S608 - constants


async def money_by_class(
    db: Reads, studio_id: int, *, start: datetime, end: datetime
) -> list[ClassMoney]:
    """Per class and currency: paid and refunded in [start, end), owed now; by class name
    (payments of no class last)."""
    found: dict[tuple[str, str], ClassMoney] = {}

    def add(name: str, currency: str, **amounts: int) -> None:
        key = (name, currency)
        was = found.get(key, ClassMoney(name, currency))
        found[key] = replace(was, **{k: getattr(was, k) + v for k, v in amounts.items()})

    for paid in await revenue_by_class(db, studio_id, start=start, end=end):
        add(paid.class_name, paid.currency, paid_minor=paid.paid_minor)
    refunds = await db.all(_REFUNDS_BY_CLASS, {"s": studio_id, "start": start, "end": end})
    for row in refunds:
        add(
            str(row["class_name"]),
            str(row["currency"]),
            refunded_minor=int(row["refunded_minor"]),
            refunds=int(row["refunds"]),
        )
    owed = await db.all(_OWED_BY_CLASS, {"s": studio_id})
    for row in owed:
        add(
            str(row["class_name"]),
            str(row["currency"]),
            balances_minor=int(row["balances"]),
            invoices_minor=int(row["invoices"]),
        )
    return sorted(
        found.values(), key=lambda m: (m.class_name == "", m.class_name.casefold(), m.currency)
    )
