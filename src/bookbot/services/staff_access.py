"""Who is staff: a Telegram user id or a phone number on the studio's staff list.

Every use of a staff tool is recorded in `staff_audit`, allowed or not.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.store.db import Database


async def staff_for(db: Database, studio_id: int, channel: str, address: str) -> int | None:
    """The staff id behind this chat identity in this studio, or None."""
    if channel == "telegram":
        where, value = "telegram_user_id = :value", int(address) if address.isdigit() else -1
    else:
        where, value = "phone = :value", address
    async with db.transaction(write=False) as tx:
        found = await tx.scalar(
            f"SELECT id FROM staff WHERE studio_id = :studio_id AND {where}",  # noqa: S608
            {"studio_id": studio_id, "value": value},
        )
    return None if found is None else int(found)


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
