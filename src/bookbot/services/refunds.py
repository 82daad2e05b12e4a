"""Refunds: asked for in the transaction that decides them, sent to the provider after it.

A refund is first a `refunds` row (status pending, no provider id) written with whatever
decided it (a cancellation, a late payment), keyed by payment and reason so that deciding
twice asks once; staff refunds, of which a payment may have several, are numbered per
payment instead (`staff_refund`). `submit` then calls the provider with that key as its Idempotency-Key and
records the answer; if the call fails the row stays pending and `submit_pending` (run by the
reconciliation job) tries again, so a crash or an outage between the two loses nothing and
refunds nothing twice. The customer is told the amount once the provider has accepted it.
The provider side (`submit`, `submit_pending`, Stripe's refund events) is in
`refund_provider`, re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bookbot.engine import payments as rules
from bookbot.engine.clock import Clock
from bookbot.services import packages
from bookbot.services.payment_gateway import PaymentGateway
from bookbot.services.payment_rows import (
    COLUMNS,
    Payment,
    lock_payment,
    payment_of,
)
from bookbot.services.refund_provider import (
    apply_charge_refunded,
    apply_refund_update,
    submit,
    submit_all,
    submit_pending,
)
from bookbot.store.db import Database, Row, Tx, record, retrying

__all__ = [
    "NOTE_LENGTH",
    "POLICY_COLUMNS",
    "REFUNDABLE_PURPOSES",
    "RefundRefused",
    "StaffRefund",
    "apply_charge_refunded",
    "apply_refund_update",
    "class_policy",
    "one_line",
    "paid_towards",
    "plan_cancellation",
    "policy_of",
    "refund_key",
    "refundable",
    "request_refund",
    "staff_key",
    "staff_refund",
    "submit",
    "submit_all",
    "submit_pending",
    "unsent",
]

REFUNDABLE_PURPOSES = (rules.FULL, rules.DEPOSIT, rules.BALANCE, rules.PASS)


def refund_key(payment_id: int, reason: str) -> str:
    return f"refund:{payment_id}:{reason}"


async def request_refund(
    tx: Tx, now: datetime, payment: Payment, amount_minor: int, *, reason: str
) -> int | None:
    """Write a pending refund of `payment` (in the caller's transaction); None when this
    payment was already refunded for this reason, or there is nothing to refund."""
    if amount_minor <= 0:
        return None
    row = await tx.one(
        "INSERT INTO refunds (studio_id, payment_id, amount_minor, currency, reason, status,"
        " idempotency_key, created_at, updated_at) VALUES (:s, :p, :amount, :currency, :reason,"
        " 'pending', :key, :now, :now) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        {
            "s": payment.studio_id,
            "p": payment.id,
            "amount": amount_minor,
            "currency": payment.currency,
            "reason": reason,
            "key": refund_key(payment.id, reason),
            "now": now,
        },
    )
    return None if row is None else int(row["id"])


async def paid_towards(tx: Tx, studio_id: int, registration_id: int) -> list[Payment]:
    """The settled payments of a registration that money could come back from."""
    rows = await tx.all(
        f"SELECT {COLUMNS} FROM payments p WHERE p.registration_id = :r"  # noqa: S608
        " AND p.studio_id = :s AND p.status IN ('paid', 'partially_refunded') ORDER BY p.id",
        {"r": registration_id, "s": studio_id},
    )
    return [p for p in map(payment_of, rows) if p.purpose in REFUNDABLE_PURPOSES]


async def unsent(tx: Tx, payment_id: int) -> int:
    """Refunds of this payment written but not yet accepted by the provider: money already
    promised back, so nothing may promise it a second time."""
    total = await tx.scalar(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM refunds WHERE payment_id = :p"
        " AND status = 'pending' AND stripe_refund_id IS NULL",
        {"p": payment_id},
    )
    return int(total or 0)


async def refundable(tx: Tx, studio_id: int, registration_id: int) -> list[rules.Paid]:
    """What a cancellation may give back, per settled payment: refunds accepted and refunds
    still unsent both count as refunded (a late-payment refund waiting for Stripe, say)."""
    return [
        rules.Paid(p.id, p.purpose, p.amount_minor, p.refunded_minor + await unsent(tx, p.id))
        for p in await paid_towards(tx, studio_id, registration_id)
    ]


async def plan_cancellation(
    tx: Tx,
    now: datetime,
    studio_id: int,
    registration_id: int,
    *,
    before_cutoff: bool,
    by_staff: bool,
) -> list[int]:
    """In a cancellation's transaction: refunds by the class's policy (written pending),
    and payments not made yet (a scheduled balance, an open link) called off. The refunds'
    ids, for `submit` after the transaction commits."""
    policy = await class_policy(tx, studio_id, registration_id)
    paid = await paid_towards(tx, studio_id, registration_id)
    lines = rules.cancellation_refunds(
        policy,
        await refundable(tx, studio_id, registration_id),
        before_cutoff=before_cutoff,
        by_staff=by_staff,
    )
    reason = "staff_cancel" if by_staff else "customer_cancel"
    by_id = {p.id: p for p in paid}
    ids = []
    for line in lines:
        made = await request_refund(
            tx, now, by_id[line.payment_id], line.amount_minor, reason=reason
        )
        if made is not None:
            ids.append(made)
    await tx.execute(
        "UPDATE payments SET status = 'cancelled', updated_at = :now WHERE registration_id = :r"
        " AND studio_id = :s AND status IN ('scheduled', 'pending')",
        {"r": registration_id, "s": studio_id, "now": now},
    )
    return ids


# A class's payment terms, read as `policy_of` builds them (the classes table as `k`).
POLICY_COLUMNS = """k.payment, k.deposit_percent, k.balance_due_days, k.company_billing,
    k.invoice_days_until_due, k.refund_after_cutoff_percent, k.deposit_refundable"""


async def class_policy(tx: Tx, studio_id: int, registration_id: int) -> rules.PaymentPolicy:
    row = await tx.one(
        f"SELECT {POLICY_COLUMNS} FROM registrations r"  # noqa: S608 - constants
        " JOIN classes k ON k.id = r.class_id WHERE r.studio_id = :s AND r.id = :r",
        {"s": studio_id, "r": registration_id},
    )
    if row is None:
        return rules.PaymentPolicy()
    return policy_of(row)


def policy_of(row: Row) -> rules.PaymentPolicy:
    return record(rules.PaymentPolicy, row)


NOTE_LENGTH = 500


@dataclass(frozen=True)
class StaffRefund:
    refund_id: int
    amount_minor: int
    currency: str
    status: str  # the refund's status after asking the provider (or as found)
    repeated: bool = False  # the same request was made before: nothing new was asked
    package_cancelled: bool = False  # it refunded all of a lesson package's payment


class RefundRefused(Exception):
    """Staff asked for a refund the payment cannot give: `left_minor` is what it still can."""

    def __init__(self, payment_id: int, status: str, left_minor: int, currency: str) -> None:
        super().__init__(f"payment {payment_id} ({status}) has {left_minor} left to refund")
        self.payment_id = payment_id
        self.status = status
        self.left_minor = left_minor
        self.currency = currency


def staff_key(payment_id: int, sequence: int) -> str:
    return f"refund:{payment_id}:staff:{sequence}"


def one_line(note: str) -> str:
    return " ".join(note.split())[:NOTE_LENGTH]


async def staff_refund(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway | None,
    payment_id: int,
    *,
    amount_minor: int | None,
    note: str,
) -> StaffRefund | None:
    """A refund staff ask for (`amount_minor`, or all that is left), with the reason they
    typed; None when there is no such payment.

    A payment may be refunded by staff any number of times while money is left; the n-th
    gets the key `refund:{payment}:staff:{n}`, n decided under the payment's lock. A request
    is the payment, the amount and the note: asking again for one already made (a command
    run twice, a retry after a lost answer) returns that refund (asked of the provider again
    with its own key if it never got there), never a second one. A refund that failed
    refunded nothing, so asking again makes a new one. What is left counts refunds written
    but not yet accepted by the provider. Raises `RefundRefused` when the payment is not
    paid or the amount is more than is left.
    """
    text = one_line(note)

    async def attempt() -> StaffRefund | None:
        now = clock.now()
        async with db.transaction() as tx:
            payment = await lock_payment(tx, payment_id)
            if payment is None:
                return None
            made = await tx.all(
                "SELECT id, amount_minor, note, status FROM refunds"
                " WHERE payment_id = :p AND reason = 'staff' ORDER BY id",
                {"p": payment.id},
            )
            for row in made:
                same = amount_minor is None or int(row["amount_minor"]) == amount_minor
                if same and row["note"] == text and row["status"] != "failed":
                    return StaffRefund(
                        int(row["id"]),
                        int(row["amount_minor"]),
                        payment.currency,
                        str(row["status"]),
                        repeated=True,
                    )
            left = payment.amount_minor - payment.refunded_minor - await unsent(tx, payment.id)
            if payment.status not in ("paid", "partially_refunded") or (
                payment.stripe_payment_intent is None
            ):
                left = 0
            amount = left if amount_minor is None else amount_minor
            if amount <= 0 or amount > left:
                raise RefundRefused(payment.id, payment.status, max(left, 0), payment.currency)
            # All of a package's money back: its credit goes with it (a partial refund leaves
            # it usable; staff adjust its balance if they mean to).
            void = payment.package_id is not None and amount == left
            if void and payment.package_id is not None:
                void = await packages.cancel_refunded_in(
                    tx, now, payment.studio_id, payment.package_id
                )
            refund_id = await tx.scalar(
                "INSERT INTO refunds (studio_id, payment_id, amount_minor, currency, reason,"
                " status, idempotency_key, note, created_at, updated_at) VALUES (:s, :p, :amount,"
                " :currency, 'staff', 'pending', :key, :note, :now, :now) RETURNING id",
                {
                    "s": payment.studio_id,
                    "p": payment.id,
                    "amount": amount,
                    "currency": payment.currency,
                    "key": staff_key(payment.id, len(made) + 1),
                    "note": text,
                    "now": now,
                },
            )
            return StaffRefund(
                int(refund_id), amount, payment.currency, "pending", package_cancelled=void
            )

    made = await retrying(attempt)
    if made is None or made.status != "pending" or gateway is None:
        return made
    # A repeat of a request whose refund never reached the provider sends it now, with its
    # key; one that did is left alone (submit finds nothing to ask).
    await submit(db, clock, gateway, made.refund_id)
    status = await db.scalar("SELECT status FROM refunds WHERE id = :id", {"id": made.refund_id})
    return replace(made, status=str(status or made.status))
