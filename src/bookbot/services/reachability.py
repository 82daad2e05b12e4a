"""Where a customer can be reached: their channels, the one they prefer, when they last wrote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.store.db import Database


@dataclass(frozen=True)
class Contacts:
    preferred: str | None  # the channel they last wrote from
    addresses: dict[str, str]  # channel -> address


async def contacts(db: Database, studio_id: int, customer_id: int) -> Contacts:
    """The customer's channel addresses and preferred channel (nothing for another studio's id)."""
    async with db.transaction(write=False) as tx:
        preferred = await tx.scalar(
            "SELECT preferred_channel FROM customers WHERE studio_id = :s AND id = :c",
            {"s": studio_id, "c": customer_id},
        )
        rows = await tx.all(
            "SELECT channel, address FROM channel_identities WHERE studio_id = :s"
            " AND customer_id = :c",
            {"s": studio_id, "c": customer_id},
        )
    return Contacts(preferred, {row["channel"]: row["address"] for row in rows})


async def last_written(db: Database, channel: str, address: str) -> datetime | None:
    """When this address last wrote to us on `channel` (its conversation's last update)."""
    async with db.transaction(write=False) as tx:
        last = await tx.scalar(
            "SELECT updated_at FROM conversations WHERE channel = :ch AND address = :a",
            {"ch": channel, "a": address},
        )
    return last if isinstance(last, datetime) else None
