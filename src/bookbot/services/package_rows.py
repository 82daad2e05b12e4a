"""Package rows as the services read them: a customer's `Package`, a studio's
`PackageOffer`, the SQL that maps rows to them by column name, and the reads of them
(issue 15). `services.packages` re-exports the reads; the writes live there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.services.common import studio_by_id
from bookbot.store.db import Database, Reads, Row, record


@dataclass(frozen=True)
class Package:
    """A balance of sessions or of minutes (exactly one kind) of one service, usable
    through `expires_on`, a studio-local date, inclusive."""

    id: int
    studio_id: int
    customer_id: int
    customer_name: str
    customer_phone: str | None
    offer_id: int | None
    service_id: int
    service_name: str
    name: str
    sessions_total: int | None
    sessions_remaining: int | None
    minutes_total: int | None
    minutes_remaining: int | None
    expires_on: date
    status: str
    payment: str
    price_minor: int
    created_at: datetime

    @property
    def in_minutes(self) -> bool:
        return self.minutes_total is not None

    @property
    def remaining(self) -> int:
        """What is left, in the package's own unit (sessions or minutes)."""
        value = self.minutes_remaining if self.in_minutes else self.sessions_remaining
        return value or 0

    @property
    def total(self) -> int:
        value = self.minutes_total if self.in_minutes else self.sessions_total
        return value or 0

    def needs(self, duration_minutes: int) -> int:
        """What one appointment of `duration_minutes` takes from it: one session (whatever
        the party size), or its minutes."""
        return duration_minutes if self.in_minutes else 1

    def covers(self, duration_minutes: int, day: date) -> bool:
        """Could it pay for an appointment of that length on `day` (studio-local)?"""
        return (
            self.status == "active"
            and self.expires_on >= day
            and self.remaining >= self.needs(duration_minutes)
        )


@dataclass(frozen=True)
class PackageOffer:
    id: int
    key: str
    name: str
    service_id: int
    service_name: str
    sessions: int | None
    minutes: int | None
    price_minor: int
    currency: str
    valid_days: int
    payment: str  # online, at_studio, either


PACKAGE_SELECT = """SELECT p.id, p.studio_id, p.customer_id, c.name AS customer_name,
    c.phone AS customer_phone, p.offer_id, p.service_id, sv.name AS service_name, p.name,
    p.sessions_total, p.sessions_remaining, p.minutes_total, p.minutes_remaining,
    p.expires_on, p.status, p.payment, p.price_minor, p.created_at
FROM packages p JOIN customers c ON c.id = p.customer_id
JOIN services sv ON sv.id = p.service_id"""

OFFER_SELECT = """SELECT o.id, o.key, o.name, o.service_id, sv.name AS service_name, o.sessions,
    o.minutes, o.price_minor, st.currency, o.valid_days, o.payment
FROM package_offers o JOIN services sv ON sv.id = o.service_id
JOIN studios st ON st.id = o.studio_id"""


def package_from(row: Row) -> Package:
    return record(Package, row)


def offer_from(row: Row) -> PackageOffer:
    return record(PackageOffer, row)


async def package_by_id(reads: Reads, studio_id: int, package_id: int) -> Package:
    row = await reads.one(
        PACKAGE_SELECT + " WHERE p.studio_id = :s AND p.id = :id",
        {"s": studio_id, "id": package_id},
    )
    if row is None:
        raise errors.NotFound(what="package", ident=package_id)
    return package_from(row)


async def studio_zone(reads: Reads, studio_id: int) -> str:
    """The studio's IANA zone: package expiry dates are studio-local."""
    return (await studio_by_id(reads, studio_id)).timezone


async def studio_today(reads: Reads, studio_id: int, now: datetime) -> date:
    """Today on the studio's calendar."""
    return local_day(now, await studio_zone(reads, studio_id))


def local_day(instant: datetime, zone_name: str) -> date:
    return instant.astimezone(zone(zone_name)).date()


# --- reading ------------------------------------------------------------------------------


async def redemption_of(reads: Reads, studio_id: int, appointment_id: int) -> Package | None:
    """The package paying for the appointment (a live redemption), if any."""
    row = await reads.one(
        PACKAGE_SELECT + " JOIN package_redemptions r ON r.package_id = p.id"
        " WHERE r.studio_id = :s AND r.appointment_id = :a AND r.status = 'redeemed'",
        {"s": studio_id, "a": appointment_id},
    )
    return None if row is None else package_from(row)


async def credited_package(reads: Reads, studio_id: int, appointment_id: int) -> Package | None:
    """The package a cancelled appointment's credit went back to, if any. Read through the
    customer's packages (ix_packages_customer, then each one's redemptions): the live-only
    unique index on appointment_id does not hold restored rows."""
    row = await reads.one(
        PACKAGE_SELECT + " JOIN package_redemptions r ON r.package_id = p.id"  # noqa: S608
        " WHERE p.studio_id = :s AND p.customer_id = (SELECT customer_id FROM appointments"
        " WHERE id = :a AND studio_id = :s) AND r.appointment_id = :a AND r.status = 'restored'"
        " ORDER BY r.id DESC LIMIT 1",
        {"s": studio_id, "a": appointment_id},
    )
    return None if row is None else package_from(row)


async def customer_packages(
    db: Database, studio_id: int, customer_id: int, now: datetime
) -> list[Package]:
    """What "My passes" shows: the customer's packages not yet expired, active or waiting
    for their payment, soonest expiry first (through ix_packages_customer)."""
    today = await studio_today(db, studio_id, now)
    rows = await db.all(
        PACKAGE_SELECT + " WHERE p.studio_id = :s AND p.customer_id = :c"
        " AND p.status IN ('active', 'pending_payment') AND p.expires_on >= :today"
        " ORDER BY p.expires_on, p.id",
        {"s": studio_id, "c": customer_id, "today": today},
    )
    return [package_from(r) for r in rows]


async def packages_for_service(
    db: Database, studio_id: int, customer_id: int, service_id: int, *, limit: int = 3
) -> list[Package]:
    """The customer's active packages of a service, the latest expiry first, expired ones
    included (the summary says why one of those cannot pay)."""
    rows = await db.all(
        PACKAGE_SELECT + " WHERE p.studio_id = :s AND p.customer_id = :c AND p.status = 'active'"
        " AND p.service_id = :sv ORDER BY p.expires_on DESC, p.id LIMIT :limit",
        {"s": studio_id, "c": customer_id, "sv": service_id, "limit": limit},
    )
    return [package_from(r) for r in rows]


async def list_packages(
    db: Database, studio_id: int, *, customer_id: int | None = None, limit: int = 200
) -> list[Package]:
    """Staff's list: every package of the studio (or of one customer), newest first."""
    where = " AND p.customer_id = :c" if customer_id is not None else ""
    rows = await db.all(
        PACKAGE_SELECT + " WHERE p.studio_id = :s" + where + " ORDER BY p.id DESC LIMIT :limit",
        {"s": studio_id, "c": customer_id, "limit": limit},
    )
    return [package_from(r) for r in rows]


async def offers_for_service(db: Reads, studio_id: int, service_id: int) -> list[PackageOffer]:
    rows = await db.all(
        OFFER_SELECT + " WHERE o.studio_id = :s AND o.service_id = :sv AND o.active"
        " ORDER BY o.price_minor, o.id",
        {"s": studio_id, "sv": service_id},
    )
    return [offer_from(r) for r in rows]


async def offer_by_id(db: Reads, studio_id: int, offer_id: int) -> PackageOffer:
    row = await db.one(
        OFFER_SELECT + " WHERE o.studio_id = :s AND o.id = :id AND o.active",
        {"s": studio_id, "id": offer_id},
    )
    if row is None:
        raise errors.NotFound(what="package offer", ident=offer_id)
    return offer_from(row)


async def offer_by_key(db: Reads, studio_id: int, key: str) -> PackageOffer:
    row = await db.one(
        OFFER_SELECT + " WHERE o.studio_id = :s AND o.key = :key AND o.active",
        {"s": studio_id, "key": key},
    )
    if row is None:
        raise errors.NotFound(what="package offer", ident=key)
    return offer_from(row)
