"""Customers and the channel identities (Telegram id, phone) that lead to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.phones import phone_key
from bookbot.store.db import Database, Tx


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    phone: str | None
    language: str | None
    timezone: str | None
    preferred_channel: str | None = None


async def _by_identity(tx: Tx, studio_id: int, channel: str, address: str) -> Customer | None:
    row = await tx.one(
        "SELECT c.id, c.name, c.phone, c.language, c.timezone, c.preferred_channel"
        " FROM channel_identities i"
        " JOIN customers c ON c.id = i.customer_id AND c.studio_id = i.studio_id"
        " WHERE i.studio_id = :studio_id AND i.channel = :channel AND i.address = :address",
        {"studio_id": studio_id, "channel": channel, "address": address},
    )
    return None if row is None else Customer(*row)


async def customer_by_id(db: Database, studio_id: int, customer_id: int) -> Customer | None:
    async with db.transaction(write=False) as tx:
        row = await tx.one(
            "SELECT id, name, phone, language, timezone, preferred_channel FROM customers"
            " WHERE studio_id = :studio_id AND id = :id",
            {"studio_id": studio_id, "id": customer_id},
        )
    return None if row is None else Customer(*row)


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
    """The customer behind a channel identity, created on first contact.

    A phone number is an identity of its own: a new SMS identity whose phone matches an
    existing customer joins that customer instead of creating a second one. The phone is
    stored and compared in E.164, so "+44 7700 900123" and Twilio's "+447700900123" are
    one customer (callers at the edges refuse invalid numbers; this never does).
    """
    if not address:
        raise errors.InvalidRequest(reason="a channel address is required")
    phone = phone_key(phone) if phone else None
    async with db.transaction() as tx:
        found = await _by_identity(tx, studio_id, channel, address)
        if found is not None:
            return found
        new = _NewCustomer(studio_id, name, phone, language, clock.now())
        customer_id = await _customer_id(tx, new)
        await tx.execute(
            "INSERT INTO channel_identities (studio_id, customer_id, channel, address)"
            " VALUES (:studio_id, :customer_id, :channel, :address) ON CONFLICT DO NOTHING",
            {
                "studio_id": studio_id,
                "customer_id": customer_id,
                "channel": channel,
                "address": address,
            },
        )
        # Ours, or the one a racing first contact wrote (its customer then is the one).
        found = await _by_identity(tx, studio_id, channel, address)
        if found is None:  # pragma: no cover - inserted, or inserted by the racer
            raise errors.NotFound(what="customer", ident=address)
        if found.id != customer_id and new.phone is None:
            # The racer won the identity; the customer row made for it here is nobody's.
            await tx.execute("DELETE FROM customers WHERE id = :id", {"id": customer_id})
    return found


@dataclass(frozen=True)
class _NewCustomer:
    studio_id: int
    name: str
    phone: str | None
    language: str | None
    created_at: datetime


async def _customer_id(tx: Tx, new: _NewCustomer) -> int:
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
    }
    if new.phone is None:
        return int(await tx.scalar(_INSERT_CUSTOMER + " RETURNING id", params))
    by_phone = "SELECT id FROM customers WHERE studio_id = :studio_id AND phone = :phone"
    found = await tx.scalar(by_phone, params)
    if found is None:
        found = await tx.scalar(_INSERT_CUSTOMER + " ON CONFLICT DO NOTHING RETURNING id", params)
    if found is None:  # a racing first contact inserted it first: read theirs
        found = await tx.scalar(by_phone, params)
    if found is None:  # pragma: no cover - the conflict means the row exists
        raise errors.NotFound(what="customer", ident=new.phone)
    return int(found)


_INSERT_CUSTOMER = """INSERT INTO customers (studio_id, name, phone, language, created_at)
    VALUES (:studio_id, :name, :phone, :language, :now)"""


async def set_language(db: Database, studio_id: int, customer_id: int, language: str) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE customers SET language = :language WHERE studio_id = :studio_id AND id = :id",
            {"language": language, "studio_id": studio_id, "id": customer_id},
        )


async def set_preferred_channel(
    db: Database, studio_id: int, customer_id: int, channel: str
) -> None:
    """Notices go where the customer last wrote from."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE customers SET preferred_channel = :channel WHERE studio_id = :studio_id"
            " AND id = :id",
            {"channel": channel, "studio_id": studio_id, "id": customer_id},
        )
