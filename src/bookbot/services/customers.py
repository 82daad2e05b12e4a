"""Customers and the channel identities (Telegram id, phone) that lead to them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.phones import phone_key
from bookbot.store.db import Database, Reads, Row, Tx, record


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    phone: str | None
    language: str | None
    timezone: str | None
    preferred_channel: str | None = None


def customer_columns(table: str = "", prefix: str = "") -> str:
    """The select list `customer_from` reads: the columns of `table` (an alias, or none), each
    named `prefix` + its name."""
    source = f"{table}." if table else ""
    return ", ".join(f"{source}{f.name} AS {prefix}{f.name}" for f in fields(Customer))


def customer_from(row: Row, prefix: str = "") -> Customer | None:
    """The customer in a row read with `customer_columns(..., prefix)`; None where an outer
    join found none."""
    return None if row[f"{prefix}id"] is None else record(Customer, row, prefix)


async def _by_identity(tx: Tx, studio_id: int, channel: str, address: str) -> Customer | None:
    row = await tx.one(
        f"SELECT {customer_columns('c')} FROM channel_identities i"  # noqa: S608 - fixed names
        " JOIN customers c ON c.id = i.customer_id AND c.studio_id = i.studio_id"
        " WHERE i.studio_id = :studio_id AND i.channel = :channel AND i.address = :address",
        {"studio_id": studio_id, "channel": channel, "address": address},
    )
    return None if row is None else customer_from(row)


async def customer_by_id(reads: Reads, studio_id: int, customer_id: int) -> Customer | None:
    row = await reads.one(
        f"SELECT {customer_columns()} FROM customers"  # noqa: S608 - fixed names
        " WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": studio_id, "id": customer_id},
    )
    return None if row is None else customer_from(row)


async def customer_for(
    db: Database,
    clock: Clock,
    studio_id: int,
    channel: str,
    address: str,
    *,
    name: str,
    phone: str | None = None,
    language: str | None = None,
) -> Customer:
    """The customer behind a channel identity, created on first contact with that channel as
    their preferred one (where notices go until they write from another).

    A phone number is an identity of its own: a new SMS identity whose phone matches an
    existing customer joins that customer instead of creating a second one. The phone is
    stored and compared in E.164, so "+44 7700 900123" and Twilio's "+447700900123" are
    one customer (callers at the edges refuse invalid numbers; this never does).
    """
    if not address:
        raise errors.InvalidRequest(reason="a channel address is required")
    phone = phone_key(phone) if phone else None
    identity = {"studio_id": studio_id, "channel": channel, "address": address}
    async with db.transaction() as tx:
        found = await _by_identity(tx, studio_id, channel, address)
        if found is not None:
            return found
        new = _NewCustomer(studio_id, name, phone, language, clock.now(), channel)
        customer = await _customer(tx, new)
        added = await tx.execute(
            "INSERT INTO channel_identities (studio_id, customer_id, channel, address)"
            " VALUES (:studio_id, :customer_id, :channel, :address) ON CONFLICT DO NOTHING",
            {**identity, "customer_id": customer.id},
        )
        if added == 1:
            return customer
        # A racing first contact wrote the identity first: its customer is the one.
        found = await _by_identity(tx, studio_id, channel, address)
        if found is None:  # pragma: no cover - inserted by the racer
            raise errors.NotFound(what="customer", ident=address)
        if found.id != customer.id and new.phone is None:
            # The customer row made for it here is nobody's.
            await tx.execute("DELETE FROM customers WHERE id = :id", {"id": customer.id})
    return found


@dataclass(frozen=True)
class _NewCustomer:
    studio_id: int
    name: str
    phone: str | None
    language: str | None
    created_at: datetime
    preferred_channel: str


async def _customer(tx: Tx, new: _NewCustomer) -> Customer:
    """The customer with the new contact's phone, or a new one.

    Race-safe: two first contacts with one new phone at once both insert, the unique
    (studio_id, phone) makes the second wait for the first and then do nothing (ON CONFLICT
    DO NOTHING), and it reads the first one's row, committed by then. Without a phone there
    is nothing to share, so each contact gets its own row.
    """
    params = {
        "studio_id": new.studio_id,
        "name": new.name,
        "phone": new.phone,
        "language": new.language,
        "now": new.created_at,
        "channel": new.preferred_channel,
    }
    if new.phone is None:
        row = await tx.one(_INSERT_CUSTOMER + _RETURNING, params)
    else:
        row = await tx.one(_BY_PHONE, params)
        if row is None:
            row = await tx.one(_INSERT_CUSTOMER + " ON CONFLICT DO NOTHING" + _RETURNING, params)
        if row is None:  # a racing first contact inserted it first: read theirs
            row = await tx.one(_BY_PHONE, params)
    customer = None if row is None else customer_from(row)
    if customer is None:  # pragma: no cover - the conflict means the row exists
        raise errors.NotFound(what="customer", ident=new.phone)
    return customer


_INSERT_CUSTOMER = """INSERT INTO customers
    (studio_id, name, phone, language, created_at, preferred_channel)
    VALUES (:studio_id, :name, :phone, :language, :now, :channel)"""
_RETURNING = f" RETURNING {customer_columns()}"
_BY_PHONE = (
    f"SELECT {customer_columns()} FROM customers"  # noqa: S608 - fixed names
    " WHERE studio_id = :studio_id AND phone = :phone"
)


async def set_language(db: Database, studio_id: int, customer_id: int, language: str) -> None:
    await db.execute(
        "UPDATE customers SET language = :language WHERE studio_id = :studio_id AND id = :id",
        {"language": language, "studio_id": studio_id, "id": customer_id},
    )


async def set_preferred_channel(
    db: Database, studio_id: int, customer_id: int, channel: str
) -> None:
    """Notices go where the customer last wrote from."""
    await db.execute(
        "UPDATE customers SET preferred_channel = :channel WHERE studio_id = :studio_id"
        " AND id = :id",
        {"channel": channel, "studio_id": studio_id, "id": customer_id},
    )


async def set_timezone(db: Database, studio_id: int, customer_id: int, zone: str | None) -> None:
    """The customer's IANA zone for every time shown and every reminder (None: the
    studio's). InvalidRequest for a name that is no zone."""
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise errors.InvalidRequest(reason=f"Unknown time zone: {zone}") from error
    await db.execute(
        "UPDATE customers SET timezone = :zone WHERE studio_id = :studio_id AND id = :id",
        {"zone": zone, "studio_id": studio_id, "id": customer_id},
    )
