"""Settling a payment once: the outcomes, finding and locking the payment an event is about,
and the settlements that need no money moved (a dead link, an invoice paid or failed).

Each outcome is a guarded transition of the payments row (`UPDATE ... WHERE status IN (...)`)
taken under the row's lock, so a duplicate event, two deliveries at once, or an event older
than what we know moves nothing: `expired` after `paid` finds it paid, a second `paid` finds
it paid. Locks are taken registration first, then payment (the order a cancellation takes
them in), so the two never wait on each other in a circle.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import Clock
from bookbot.services import appointment_payments, holds, packages
from bookbot.services.payment_rows import (
    COLUMNS,
    Payment,
    lock_payment,
    move,
    notify_customer,
    notify_staff,
    payment_of,
)
from bookbot.services.registration_rows import lock_registration
from bookbot.store.db import Database, Tx, retrying


class Outcome(StrEnum):
    PAID = "paid"  # booking confirmed (or pass active, balance or invoice paid)
    REFUNDED = "refunded"  # paid too late: the seats were gone; all of it refunded
    MISMATCH = "mismatch"  # not what we asked for: not confirmed, staff told
    EXPIRED = "expired"
    FAILED = "failed"
    UNCHANGED = "unchanged"  # a duplicate, stale, or not ours


@dataclass(frozen=True)
class Paid:
    """What the provider says was paid."""

    amount_minor: int | None
    currency: str | None
    payment_intent: str | None
    session_id: str | None = None
    receipt_url: str | None = None  # the charge's receipt page, when known


# --- finding the payment an object is about ----------------------------------------------


async def find_payment_id(db: Database, obj: dict[str, Any]) -> int | None:
    """Our payment id from the object's metadata or client_reference_id (the gateway writes
    both), else by the Session's or invoice's id."""
    metadata = obj.get("metadata") or {}
    for candidate in (metadata.get("payment_id"), obj.get("client_reference_id")):
        if isinstance(candidate, str) and candidate.isdigit():
            return int(candidate)
    kind, oid = obj.get("object"), obj.get("id")
    column = {"checkout.session": "stripe_session_id", "invoice": "stripe_invoice_id"}.get(
        str(kind)
    )
    if column is None or not isinstance(oid, str):
        return None
    found = await db.scalar(
        f"SELECT id FROM payments WHERE {column} = :oid",  # noqa: S608 - our column
        {"oid": oid},
    )
    return None if found is None else int(found)


async def read_payment(db: Database, payment_id: int) -> Payment | None:
    sql = f"SELECT {COLUMNS} FROM payments p WHERE p.id = :id"  # noqa: S608 - constants
    row = await db.one(sql, {"id": payment_id})
    return None if row is None else payment_of(row)


async def lock_for_settling(tx: Tx, payment: Payment) -> Payment | None:
    """Registration (if any; for an appointment its staff row, then it) then payment,
    locked; the payment as it is now."""
    if payment.registration_id is not None:
        await lock_registration(tx, payment.studio_id, payment.registration_id)
    if payment.appointment_id is not None:
        with suppress(errors.NotFound):  # deleted meanwhile: the payment alone
            await appointment_payments.lock_for_payment(
                tx, payment.studio_id, payment.appointment_id
            )
    return await lock_payment(tx, payment.id)


# --- expired, failed ------------------------------------------------------------------------


async def settle_unpaid(
    db: Database, clock: Clock, payment_id: int, *, to: str, was: tuple[str, ...] = ("pending",)
) -> Outcome:
    """The link is dead (`expired`, or `failed`, or `cancelled` by us): the payment moves,
    and a hold it was keeping lets its seats go. A balance's first link that lapses is
    asked once more (the reminder); the second time staff are told it is unpaid."""
    first = await read_payment(db, payment_id)
    if first is None or first.status not in was:
        return Outcome.UNCHANGED

    async def attempt() -> Outcome:
        now = clock.now()
        async with db.transaction() as tx:
            payment = await lock_for_settling(tx, first)
            if payment is None or payment.status not in was:
                return Outcome.UNCHANGED
            if payment.purpose == rules.BALANCE:
                return await _balance_lapsed(tx, now, payment, to=to)
            await move(tx, payment.id, to=to, was=was, now=now)
            if payment.registration_id is not None and payment.purpose in (
                rules.FULL,
                rules.DEPOSIT,
            ):
                await holds.free_in(
                    tx,
                    now,
                    payment.studio_id,
                    payment.registration_id,
                    status="cancelled" if to == "cancelled" else "expired",
                )
            if payment.appointment_id is not None:
                await appointment_payments.free_in(tx, now, payment.appointment_id)
            if payment.pass_id is not None:
                await tx.execute(
                    "UPDATE passes SET status = 'cancelled'"
                    " WHERE id = :p AND status = 'pending_payment'",
                    {"p": payment.pass_id},
                )
            if payment.package_id is not None:
                await packages.cancel_pending_in(tx, now, payment.package_id)
            if to == "failed":
                await notify_customer(
                    tx,
                    now,
                    payment,
                    "payment_failed",
                    {"amount": payment.amount_minor, "currency": payment.currency},
                    key=str(payment.id),
                )
            return Outcome.FAILED if to == "failed" else Outcome.EXPIRED

    result: Outcome = await retrying(attempt)
    return result


async def _balance_lapsed(tx: Tx, now: datetime, payment: Payment, *, to: str) -> Outcome:
    from bookbot.services import balances

    await balances.lapsed(tx, now, payment, to=to)
    return Outcome.EXPIRED


# --- invoices --------------------------------------------------------------------------------


async def settle_invoice(
    db: Database, clock: Clock, invoice: dict[str, Any], *, paid: bool
) -> Outcome:
    payment_id = await find_payment_id(db, invoice)
    if payment_id is None:
        return Outcome.UNCHANGED
    first = await read_payment(db, payment_id)
    if first is None:
        return Outcome.UNCHANGED

    async def attempt() -> Outcome:
        now = clock.now()
        async with db.transaction() as tx:
            payment = await lock_for_settling(tx, first)
            if payment is None or payment.status != "invoiced":
                return Outcome.UNCHANGED
            params = {
                "payment": payment.id,
                "amount": payment.amount_minor,
                "currency": payment.currency,
            }
            if not paid:
                await notify_staff(
                    tx,
                    now,
                    payment.studio_id,
                    "payment_staff_invoice_failed",
                    params,
                    key=f"{payment.id}-{invoice.get('attempt_count', 0)}",
                )
                return Outcome.FAILED
            await tx.execute(
                "UPDATE payments SET status = 'paid', paid_at = :now, updated_at = :now"
                " WHERE id = :id AND status = 'invoiced'",
                {"id": payment.id, "now": now},
            )
            await notify_staff(
                tx, now, payment.studio_id, "payment_staff_paid", params, key=str(payment.id)
            )
            return Outcome.PAID

    result: Outcome = await retrying(attempt)
    return result
