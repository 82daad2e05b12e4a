"""Where a customer can be reached: their channels, the one they prefer, when they last wrote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import errors
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


async def last_written(
    db: Database, channel: str, address: str, *, endpoint: str = ""
) -> datetime | None:
    """When this address last wrote to our `endpoint` (a number of ours, '' the default) on
    `channel` (its conversation's last update)."""
    last = await db.scalar(
        "SELECT updated_at FROM conversations WHERE channel = :ch AND endpoint = :e"
        " AND address = :a",
        {"ch": channel, "e": endpoint, "a": address},
    )
    return last if isinstance(last, datetime) else None


@dataclass(frozen=True)
class Voice:
    """How a notice speaks to a customer: their language and time zone, else the studio's."""

    language: str
    timezone: str


# One read for both: the studio always, the customer where there is one.
_VOICE = """SELECT c.language AS customer_language, c.timezone AS customer_timezone,
    st.default_language, st.timezone
FROM studios st LEFT JOIN customers c ON c.studio_id = st.id AND c.id = :c
WHERE st.id = :s"""


async def voice(db: Database, studio_id: int, customer_id: int | None) -> Voice:
    """The language and time zone to write to the customer in (the studio's for no one)."""
    row = await db.one(_VOICE, {"s": studio_id, "c": customer_id or 0})
    if row is None:
        raise errors.NotFound(what="studio", ident=studio_id)
    return Voice(
        row["customer_language"] or row["default_language"],
        row["customer_timezone"] or row["timezone"],
    )
