"""Who is staff: a Telegram user id or a phone number on the studio's staff list.

Every use of a staff tool is recorded in `staff_audit`, allowed or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from bookbot.phones import phone_key
from bookbot.store.db import Database, Reads


def identity(channel: str, address: str) -> dict[str, Any]:
    """The parameters `staff_id_query` compares: a Telegram user id, else a phone (E.164)."""
    if channel == "telegram":
        user_id = int(address) if address.isascii() and address.isdigit() else None
        return {"staff_user": user_id, "staff_phone": None}
    return {"staff_user": None, "staff_phone": _phone_key(address)}


# Every message by SMS or WhatsApp asks, and parsing a number costs more than the claim's
# own Python; the same people write again and again.
_phone_key = lru_cache(maxsize=4096)(phone_key)


def staff_id_query(studio_id: str) -> str:
    """A one-value subquery: the staff id behind the `identity` parameters in the studio
    `studio_id` (an SQL expression), for a statement that reads more than this. Phones
    compare as stored; `staff_for` also finds one stored before phones were E.164."""
    return (
        "SELECT st.id FROM staff st"  # noqa: S608 - `studio_id` is an expression of ours
        f" WHERE st.studio_id = {studio_id}"
        " AND (st.telegram_user_id = :staff_user OR st.phone = :staff_phone)"
        " ORDER BY st.id LIMIT 1"
    )


async def staff_for(reads: Reads, studio_id: int, channel: str, address: str) -> int | None:
    """The staff id behind this chat identity in this studio, or None."""
    if channel == "telegram":
        params = {"studio_id": studio_id, **identity(channel, address)}
        found = await reads.scalar(
            "SELECT id FROM staff WHERE studio_id = :studio_id AND telegram_user_id = :staff_user",
            params,
        )
        return None if found is None else int(found)
    return await _staff_by_phone(reads, studio_id, address)


async def _staff_by_phone(reads: Reads, studio_id: int, address: str) -> int | None:
    """Compared in E.164 on both sides.

    The studio loader stores E.164, but a database loaded before it did may still hold
    "+44 20 7946 0101"; a staff list is short, so each stored phone is normalised here.
    """
    wanted = phone_key(address)
    rows = await reads.all(
        "SELECT id, phone FROM staff WHERE studio_id = :studio_id AND phone IS NOT NULL"
        " ORDER BY id",
        {"studio_id": studio_id},
    )
    for row in rows:
        if phone_key(row["phone"]) == wanted:
            return int(row["id"])
    return None


@dataclass(frozen=True)
class StaffUse:
    """One attempt at a staff tool: in which studio, from which chat, what, and whether the
    person was staff there."""

    studio_id: int
    channel: str
    address: str
    command: str
    allowed: bool


async def audit(db: Database, now: datetime, use: StaffUse) -> None:
    await db.execute(
        "INSERT INTO staff_audit (studio_id, channel, address, command, allowed, at)"
        " VALUES (:studio_id, :channel, :address, :command, :allowed, :now)",
        {
            "studio_id": use.studio_id,
            "channel": use.channel,
            "address": use.address,
            "command": use.command[:200],
            "allowed": use.allowed,
            "now": now,
        },
    )
