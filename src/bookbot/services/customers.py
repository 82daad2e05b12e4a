"""Customers and the channel identities (Telegram id, phone) that lead to them."""

from __future__ import annotations

from dataclasses import dataclass

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.phones import phone_key
from bookbot.store.db import Database, Tx, UniqueViolation


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
        customer_id = (
            await tx.scalar(
                "SELECT id FROM customers WHERE studio_id = :studio_id AND phone = :phone",
                {"studio_id": studio_id, "phone": phone},
            )
            if phone
            else None
        )
        if customer_id is None:
            customer_id = await tx.scalar(
                "INSERT INTO customers (studio_id, name, phone, language, created_at)"
                " VALUES (:studio_id, :name, :phone, :language, :now) RETURNING id",
                {
                    "studio_id": studio_id,
                    "name": name,
                    "phone": phone,
                    "language": language,
                    "now": clock.now(),
                },
            )
        try:
            await tx.execute(
                "INSERT INTO channel_identities (studio_id, customer_id, channel, address)"
                " VALUES (:studio_id, :customer_id, :channel, :address)",
                {
                    "studio_id": studio_id,
                    "customer_id": customer_id,
                    "channel": channel,
                    "address": address,
                },
            )
        except UniqueViolation as error:  # pragma: no cover - guarded by the lookup above
            raise errors.InvalidRequest(reason="that identity is already registered") from error
        found = await _by_identity(tx, studio_id, channel, address)
    if found is None:  # pragma: no cover - just inserted
        raise errors.NotFound(what="customer", ident=address)
    return found


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
