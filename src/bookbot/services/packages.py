"""Lesson packages (issue 15): N sessions or M minutes of one service, usable until a
studio-local date (inclusive), issued by staff, bought at the studio, or bought online
(then `pending_payment`, unusable, until its payment makes it active).

Redemption happens inside the transaction that confirms the appointment
(`appointment_booking.confirm_locked`), after the staff and appointment rows are locked:
the package row is locked too (PostgreSQL; SQLite's write transaction holds the database)
and its balance moves by a guarded UPDATE whose WHERE repeats every rule (active, not
expired on the appointment's day, enough left), so a lost race or a stale screen can only
see 0 rows, never a negative balance (the CHECK constraint is the backstop). A refusal is a
BookingError that rolls the whole confirmation back: the caller falls back to paying.

An appointment takes one session whatever its party size, or its own minutes. The package
must still be valid on the appointment's (studio-local) day, not only today.

Cancelling within the policy (the customer before the cutoff; staff at any time) restores
the credit in the cancelling transaction; a reschedule keeps the appointment row and so
its redemption. Hand adjustments are audited rows (who, why, by how much) written with the
balance change, and refused below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bookbot.engine import errors
from bookbot.services.appointment_rows import Appointment
from bookbot.services.package_rows import (
    Package,
    PackageOffer,
    credited_package,
    customer_packages,
    list_packages,
    local_day,
    offer_by_id,
    offer_by_key,
    offers_for_service,
    package_by_id,
    packages_for_service,
    redemption_of,
    studio_today,
    studio_zone,
)
from bookbot.store.db import Database, Tx, retrying

__all__ = [
    "Package",
    "PackageOffer",
    "PackageTerms",
    "adjust",
    "credited_package",
    "customer_packages",
    "issue",
    "list_packages",
    "offer_by_id",
    "offer_by_key",
    "offers_for_service",
    "package_by_id",
    "packages_for_service",
    "redemption_of",
]


@dataclass(frozen=True)
class PackageTerms:
    """What a new package holds: exactly one of `sessions` and `minutes`."""

    name: str
    service_id: int
    sessions: int | None
    minutes: int | None
    valid_days: int
    price_minor: int = 0
    offer_id: int | None = None


def terms_of(offer: PackageOffer) -> PackageTerms:
    return PackageTerms(
        name=offer.name,
        service_id=offer.service_id,
        sessions=offer.sessions,
        minutes=offer.minutes,
        valid_days=offer.valid_days,
        price_minor=offer.price_minor,
        offer_id=offer.id,
    )


def _check_terms(terms: PackageTerms) -> None:
    if (terms.sessions is None) == (terms.minutes is None):
        raise errors.InvalidRequest(reason="A package holds either sessions or minutes.")
    if (terms.sessions or terms.minutes or 0) <= 0 or terms.valid_days <= 0:
        raise errors.InvalidRequest(reason="A package needs a positive balance and validity.")


async def issue_in(
    tx: Tx, now: datetime, studio_id: int, *, customer_id: int, terms: PackageTerms, payment: str
) -> int:
    """A new package; `payment` is 'staff_issued', 'at_studio' or 'online' (the last one is
    `pending_payment` until `activate_in`). Valid from today for `valid_days` days."""
    _check_terms(terms)
    found = await tx.scalar(
        "SELECT COUNT(*) FROM customers c JOIN services sv ON sv.studio_id = c.studio_id"
        " WHERE c.studio_id = :s AND c.id = :c AND sv.id = :sv",
        {"s": studio_id, "c": customer_id, "sv": terms.service_id},
    )
    if not found:
        raise errors.NotFound(what="service", ident=terms.service_id)
    today = await studio_today(tx, studio_id, now)
    new_id = await tx.scalar(
        "INSERT INTO packages (studio_id, customer_id, offer_id, service_id, name,"
        " sessions_total, sessions_remaining, minutes_total, minutes_remaining, expires_on,"
        " status, payment, price_minor, created_at, updated_at) VALUES (:s, :c, :offer, :sv,"
        " :name, :sessions, :sessions, :minutes, :minutes, :expires, :status, :payment, :price,"
        " :now, :now) RETURNING id",
        {
            "s": studio_id,
            "c": customer_id,
            "offer": terms.offer_id,
            "sv": terms.service_id,
            "name": terms.name,
            "sessions": terms.sessions,
            "minutes": terms.minutes,
            "expires": today + timedelta(days=terms.valid_days),
            "status": "pending_payment" if payment == "online" else "active",
            "payment": payment,
            "price": terms.price_minor,
            "now": now,
        },
    )
    return int(new_id)


async def issue(
    db: Database,
    now: datetime,
    studio_id: int,
    *,
    customer_id: int,
    terms: PackageTerms,
    payment: str,
) -> Package:
    """`issue_in` in a transaction of its own; the new package."""

    async def attempt() -> Package:
        async with db.transaction() as tx:
            new_id = await issue_in(
                tx, now, studio_id, customer_id=customer_id, terms=terms, payment=payment
            )
            return await package_by_id(tx, studio_id, new_id)

    result: Package = await retrying(attempt)
    return result


async def activate_in(tx: Tx, now: datetime, package_id: int) -> bool:
    """Its payment arrived: a pending package becomes usable (once). One cancelled because
    its link lapsed is activated too: money that arrives late is still money received."""
    moved = await tx.execute(
        "UPDATE packages SET status = 'active', updated_at = :now"
        " WHERE id = :id AND payment = 'online' AND status IN ('pending_payment', 'cancelled')",
        {"id": package_id, "now": now},
    )
    return moved == 1


async def cancel_pending_in(tx: Tx, now: datetime, package_id: int) -> bool:
    """Its payment link died unpaid: the pending package is cancelled (never usable)."""
    moved = await tx.execute(
        "UPDATE packages SET status = 'cancelled', updated_at = :now"
        " WHERE id = :id AND status = 'pending_payment'",
        {"id": package_id, "now": now},
    )
    return moved == 1


async def cancel_refunded_in(tx: Tx, now: datetime, studio_id: int, package_id: int) -> bool:
    """Staff refunded all of its payment: the package is cancelled, whatever it has left
    (the money for that credit went back). Appointments it already paid for keep their
    redemptions; a booking racing the refund either redeemed first or is refused as
    PackageNotActive by redeem_in's guarded UPDATE."""
    moved = await tx.execute(
        "UPDATE packages SET status = 'cancelled', updated_at = :now WHERE id = :id"
        " AND studio_id = :s AND status IN ('active', 'pending_payment')",
        {"id": package_id, "s": studio_id, "now": now},
    )
    return moved == 1


# --- redemption ---------------------------------------------------------------------------


def _refusal(package: Package, appointment: Appointment, day: date) -> errors.BookingError:
    """Why `package` cannot pay for `appointment` (read under its lock)."""
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    if package.status != "active":
        return errors.PackageNotActive(name=package.name)
    if package.expires_on < day:
        return errors.PackageExpired(name=package.name, expires_on=package.expires_on)
    if package.in_minutes:
        return errors.PackageMinutesShort(name=package.name, left=package.remaining, needed=minutes)
    return errors.PackageUsedUp(name=package.name)


async def redeem_in(
    tx: Tx, now: datetime, studio_id: int, appointment: Appointment, package_id: int
) -> None:
    """Pay for `appointment` (being confirmed in this transaction) with the customer's
    package: its balance moves and a redemption row links the two. BookingError if it
    cannot (not theirs / other service / not active / expired / not enough left): the
    caller's transaction then rolls back, confirmation included."""
    await tx.lock("packages", [package_id])
    package = await package_by_id(tx, studio_id, package_id)
    if package.customer_id != appointment.customer_id:
        raise errors.NotFound(what="package", ident=package_id)
    if package.service_id != appointment.service_id:
        raise errors.PackageOtherService(name=package.name)
    zone_name = await studio_zone(tx, studio_id)
    day = max(local_day(now, zone_name), local_day(appointment.starts_at, zone_name))
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    needed = package.needs(minutes)
    column = "minutes_remaining" if package.in_minutes else "sessions_remaining"
    moved = await tx.execute(
        f"UPDATE packages SET {column} = {column} - :needed, updated_at = :now"  # noqa: S608
        f" WHERE id = :id AND status = 'active' AND expires_on >= :day AND {column} >= :needed",
        {"id": package_id, "needed": needed, "day": day, "now": now},
    )
    if moved != 1:
        raise _refusal(package, appointment, day)
    await tx.execute(
        "INSERT INTO package_redemptions (studio_id, package_id, appointment_id, sessions,"
        " minutes, status, created_at) VALUES (:s, :p, :a, :sessions, :minutes, 'redeemed', :now)",
        {
            "s": studio_id,
            "p": package_id,
            "a": appointment.id,
            "sessions": 0 if package.in_minutes else needed,
            "minutes": needed if package.in_minutes else 0,
            "now": now,
        },
    )


async def restore_in(tx: Tx, now: datetime, studio_id: int, appointment_id: int) -> bool:
    """The appointment was cancelled within the policy: what it took from a package goes
    back (once: the redemption moves to 'restored' by a guarded UPDATE). The caller holds
    the appointment's row lock; the package row is locked after it, as in `redeem_in`."""
    row = await tx.one(
        "SELECT id, package_id, sessions, minutes FROM package_redemptions"
        " WHERE studio_id = :s AND appointment_id = :a AND status = 'redeemed'",
        {"s": studio_id, "a": appointment_id},
    )
    if row is None:
        return False
    await tx.lock("packages", [int(row["package_id"])])
    moved = await tx.execute(
        "UPDATE package_redemptions SET status = 'restored', restored_at = :now"
        " WHERE id = :id AND status = 'redeemed'",
        {"id": row["id"], "now": now},
    )
    if moved != 1:
        return False
    await tx.execute(
        "UPDATE packages SET sessions_remaining = sessions_remaining + :sessions,"
        " minutes_remaining = minutes_remaining + :minutes, updated_at = :now WHERE id = :id",
        {
            "id": row["package_id"],
            "sessions": row["sessions"],
            "minutes": row["minutes"],
            "now": now,
        },
    )
    return True


async def check_move_in(tx: Tx, studio_id: int, appointment_id: int, starts_at: datetime) -> None:
    """A reschedule keeps the appointment's redemption, so the package must still be valid
    on the new day: PackageExpired if not (the move is refused; cancelling gives the
    session back)."""
    used = await redemption_of(tx, studio_id, appointment_id)
    if used is None:
        return
    if local_day(starts_at, await studio_zone(tx, studio_id)) > used.expires_on:
        raise errors.PackageExpired(name=used.name, expires_on=used.expires_on.isoformat())


# --- hand adjustments ---------------------------------------------------------------------


@dataclass(frozen=True)
class Adjustment:
    sessions_delta: int
    minutes_delta: int
    reason: str
    actor: str


async def adjust(
    db: Database, now: datetime, studio_id: int, package_id: int, change: Adjustment
) -> Package:
    """Change a balance by hand, audited: a package_adjustments row (how much, why, who) in
    the same transaction. Refused (PackageBalanceNegative) below zero; the delta must be of
    the package's kind and the reason not empty (InvalidRequest)."""
    reason = change.reason.strip()
    if not reason:
        raise errors.InvalidRequest(reason="Give a reason for the adjustment.")

    async def attempt() -> Package:
        async with db.transaction() as tx:
            await tx.lock("packages", [package_id])
            package = await package_by_id(tx, studio_id, package_id)
            delta = change.minutes_delta if package.in_minutes else change.sessions_delta
            other = change.sessions_delta if package.in_minutes else change.minutes_delta
            if other or not delta:
                unit = "minutes" if package.in_minutes else "sessions"
                raise errors.InvalidRequest(reason=f"This package counts {unit}: adjust those.")
            column = "minutes_remaining" if package.in_minutes else "sessions_remaining"
            moved = await tx.execute(
                f"UPDATE packages SET {column} = {column} + :delta, updated_at = :now"  # noqa: S608
                f" WHERE studio_id = :s AND id = :id AND {column} + :delta >= 0",
                {"s": studio_id, "id": package_id, "delta": delta, "now": now},
            )
            if moved != 1:
                raise errors.PackageBalanceNegative(left=package.remaining)
            await tx.execute(
                "INSERT INTO package_adjustments (studio_id, package_id, sessions_delta,"
                " minutes_delta, reason, actor, created_at) VALUES (:s, :p, :sd, :md, :reason,"
                " :actor, :now)",
                {
                    "s": studio_id,
                    "p": package_id,
                    "sd": change.sessions_delta,
                    "md": change.minutes_delta,
                    "reason": reason[:500],
                    "actor": change.actor[:200],
                    "now": now,
                },
            )
            return await package_by_id(tx, studio_id, package_id)

    result: Package = await retrying(attempt)
    return result


async def adjustments_of(db: Database, studio_id: int, package_id: int) -> list[Adjustment]:
    rows = await db.all(
        "SELECT sessions_delta, minutes_delta, reason, actor FROM package_adjustments"
        " WHERE studio_id = :s AND package_id = :p ORDER BY id",
        {"s": studio_id, "p": package_id},
    )
    return [
        Adjustment(int(r["sessions_delta"]), int(r["minutes_delta"]), r["reason"], r["actor"])
        for r in rows
    ]
