"""Refunds at the provider: `submit` asks for a pending refund with its row's key as the
Idempotency-Key and records the answer (the customer told once it is accepted);
`submit_pending` asks again for those left pending; Stripe's refund and charge events
update them. The rows are decided in `refunds`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bookbot.engine.clock import Clock
from bookbot.services.payment_gateway import GatewayError, PaymentGateway
from bookbot.services.payment_rows import (
    COLUMNS,
    Payment,
    notify_customer,
    notify_staff,
    payment_of,
)
from bookbot.store.db import Database, Tx, retrying

log = logging.getLogger(__name__)


_PENDING = f"""SELECT r.id AS refund_id, r.amount_minor AS refund_minor, r.reason,
    r.idempotency_key, {COLUMNS}
FROM refunds r JOIN payments p ON p.id = r.payment_id
WHERE r.id = :id AND r.status = 'pending' AND r.stripe_refund_id IS NULL"""  # noqa: S608


async def submit(db: Database, clock: Clock, gateway: PaymentGateway, refund_id: int) -> str | None:
    """Ask the provider for a pending refund not yet asked for; its status afterwards (None
    when there was nothing to ask, e.g. it was submitted already)."""
    row = await db.one(_PENDING, {"id": refund_id})
    if row is None:
        return None
    payment = payment_of(row)
    amount, key = int(row["refund_minor"]), str(row["idempotency_key"])
    if payment.stripe_payment_intent is None:
        await _record(db, clock, payment, refund_id, amount, stripe_id=None, status="failed")
        return "failed"
    try:
        result = await gateway.refund(payment.stripe_payment_intent, amount, idempotency_key=key)
    except GatewayError as error:
        if error.retryable:
            log.warning("refund %s: %s; left pending for reconciliation", refund_id, error)
            return "pending"
        log.error("refund %s refused: %s", refund_id, error)
        await _record(db, clock, payment, refund_id, amount, stripe_id=None, status="failed")
        return "failed"
    status = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}.get(
        result.status, "pending"
    )
    await _record(db, clock, payment, refund_id, amount, stripe_id=result.id, status=status)
    return status


async def _record(
    db: Database,
    clock: Clock,
    payment: Payment,
    refund_id: int,
    amount: int,
    *,
    stripe_id: str | None,
    status: str,
) -> None:
    async def attempt() -> None:
        now = clock.now()
        async with db.transaction() as tx:
            moved = await tx.execute(
                "UPDATE refunds SET stripe_refund_id = :rid, status = :status, updated_at = :now"
                " WHERE id = :id AND status = 'pending' AND stripe_refund_id IS NULL",
                {"rid": stripe_id, "status": status, "now": now, "id": refund_id},
            )
            if not moved:
                return  # recorded by another submit meanwhile
            params: dict[str, Any] = {"amount": amount, "currency": payment.currency}
            if status == "failed":
                await notify_staff(
                    tx,
                    now,
                    payment.studio_id,
                    "payment_staff_refund_failed",
                    {**params, "payment": payment.id},
                    key=f"refund-{refund_id}",
                )
                return
            await _count_accepted(tx, now, payment.id)
            await notify_customer(
                tx, now, payment, "refund_issued", params, key=f"refund-{refund_id}"
            )

    await retrying(attempt)


async def _count_accepted(tx: Tx, now: datetime, payment_id: int) -> None:
    """Count the refunds Stripe has accepted against their payment. Not `+ amount`: Stripe's
    charge.refunded (its running total, ours included) may have been applied first, when our
    request's answer was lost and reconciliation records the refund later; adding to that
    total would count the refund twice. So: the larger of the recorded total and ours."""
    ours = await tx.scalar(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM refunds WHERE payment_id = :id"
        " AND stripe_refund_id IS NOT NULL AND status <> 'failed'",
        {"id": payment_id},
    )
    await tx.execute(
        "UPDATE payments SET refunded_minor = :ours, updated_at = :now,"
        " status = CASE WHEN :ours >= amount_minor THEN 'refunded' ELSE 'partially_refunded' END"
        " WHERE id = :id AND refunded_minor < :ours"
        " AND status IN ('paid', 'refunded', 'partially_refunded')",
        {"id": payment_id, "ours": int(ours or 0), "now": now},
    )


async def _add_refunded(tx: Tx, now: datetime, payment_id: int, delta: int) -> None:
    """Count a refund against its payment (negative: one that bounced) and restate its
    status from the total: refunded, partially_refunded, or paid again."""
    # Every right-hand side reads the row as it was, so the status follows the new total.
    await tx.execute(
        "UPDATE payments SET refunded_minor = refunded_minor + :d, updated_at = :now,"
        " status = CASE WHEN refunded_minor + :d >= amount_minor THEN 'refunded'"
        " WHEN refunded_minor + :d > 0 THEN 'partially_refunded' ELSE 'paid' END"
        " WHERE id = :id AND status IN ('paid', 'refunded', 'partially_refunded')",
        {"id": payment_id, "d": delta, "now": now},
    )


async def submit_pending(
    db: Database, clock: Clock, gateway: PaymentGateway, *, batch: int = 100
) -> int:
    """Refunds decided but never accepted by the provider (a crash or an outage after the
    decision): ask again, with the same key. How many were asked."""
    rows = await db.all(
        "SELECT id FROM refunds WHERE status = 'pending' AND stripe_refund_id IS NULL"
        " ORDER BY id LIMIT :limit",
        {"limit": batch},
    )
    asked = 0
    for row in rows:
        if await submit(db, clock, gateway, int(row["id"])) not in (None, "pending"):
            asked += 1
    return asked


async def apply_refund_update(tx: Tx, now: datetime, refund: dict[str, Any]) -> bool:
    """`refund.updated`: a pending refund succeeded, or bounced (then the money is the
    customer's no more: it counts off the payment again and staff are told)."""
    status = refund.get("status")
    rid = refund.get("id")
    if status == "succeeded":
        moved = await tx.execute(
            "UPDATE refunds SET status = 'succeeded', updated_at = :now"
            " WHERE stripe_refund_id = :rid AND status = 'pending'",
            {"rid": rid, "now": now},
        )
        return moved == 1
    if status not in ("failed", "canceled"):
        return False
    row = await tx.one(
        "SELECT r.id, r.payment_id, r.amount_minor, r.currency, r.studio_id FROM refunds r"
        " WHERE r.stripe_refund_id = :rid AND r.status IN ('pending', 'succeeded')",
        {"rid": rid},
    )
    if row is None:
        return False
    moved = await tx.execute(
        "UPDATE refunds SET status = 'failed', updated_at = :now"
        " WHERE id = :id AND status IN ('pending', 'succeeded')",
        {"id": row["id"], "now": now},
    )
    if not moved:
        return False
    await _add_refunded(tx, now, int(row["payment_id"]), -int(row["amount_minor"]))
    await notify_staff(
        tx,
        now,
        int(row["studio_id"]),
        "payment_staff_refund_failed",
        {"amount": row["amount_minor"], "currency": row["currency"], "payment": row["payment_id"]},
        key=f"refund-{row['id']}",
    )
    return True


async def apply_charge_refunded(tx: Tx, now: datetime, charge: dict[str, Any]) -> bool:
    """`charge.refunded`: Stripe's running total of what was refunded on the charge. Ours
    already count when the provider accepts them; this catches refunds made elsewhere (the
    dashboard). The total only ever raises ours, so a stale event changes nothing."""
    intent, total = charge.get("payment_intent"), charge.get("amount_refunded")
    if not isinstance(intent, str) or not isinstance(total, int):
        return False
    moved = await tx.execute(
        "UPDATE payments SET refunded_minor = :total, updated_at = :now,"
        " status = CASE WHEN :total >= amount_minor THEN 'refunded' ELSE 'partially_refunded' END"
        " WHERE stripe_payment_intent = :intent AND refunded_minor < :total"
        " AND status IN ('paid', 'refunded', 'partially_refunded')",
        {"intent": intent, "total": total, "now": now},
    )
    return moved > 0


async def submit_all(
    db: Database, clock: Clock, gateway: PaymentGateway | None, refund_ids: list[int]
) -> None:
    """After the deciding transaction: ask for each refund now when a provider is at hand
    (otherwise, and on failure, reconciliation asks later)."""
    if gateway is None:
        return
    for refund_id in refund_ids:
        await submit(db, clock, gateway, refund_id)
