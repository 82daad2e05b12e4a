"""Who is staff: a Telegram user id or a phone number on the studio's staff list.

Every use of a staff tool is recorded in `staff_audit`, allowed or not.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.phones import phone_key
from bookbot.store.db import Database


async def staff_for(db: Database, studio_id: int, channel: str, address: str) -> int | None:
    """The staff id behind this chat identity in this studio, or None."""
    if channel == "telegram":
        user_id = int(address) if address.isascii() and address.isdigit() else -1
        async with db.transaction(write=False) as tx:
            found = await tx.scalar(
                "SELECT id FROM staff WHERE studio_id = :studio_id AND telegram_user_id = :value",
                {"studio_id": studio_id, "value": user_id},
            )
        return None if found is None else int(found)
    return await _staff_by_phone(db, studio_id, address)


async def _staff_by_phone(db: Database, studio_id: int, address: str) -> int | None:
    """Compared in E.164 on both sides.

    The studio loader stores E.164, but a database loaded before it did may still hold
    "+44 20 7946 0101"; a staff list is short, so each stored phone is normalised here.
    """
    wanted = phone_key(address)
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT id, phone FROM staff WHERE studio_id = :studio_id AND phone IS NOT NULL"
            " ORDER BY id",
            {"studio_id": studio_id},
        )
    for row in rows:
        if phone_key(row["phone"]) == wanted:
            return int(row["id"])
    return None


async def audit(
    db: Database,
    now: datetime,
    studio_id: int,
    channel: str,
    address: str,
    command: str,
    allowed: bool,
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO staff_audit (studio_id, channel, address, command, allowed, at)"
            " VALUES (:studio_id, :channel, :address, :command, :allowed, :now)",
            {
                "studio_id": studio_id,
                "channel": channel,
                "address": address,
                "command": command[:200],
                "allowed": allowed,
                "now": now,
            },
        )
