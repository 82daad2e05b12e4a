"""Delivery status callbacks: the latest known state of each message we sent."""

from __future__ import annotations

from datetime import datetime

from bookbot.store.db import Database

# Twilio reports these in order; a late "sent" must not overwrite "delivered".
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "receiving": 3,
    "received": 4,
    "delivered": 5,
    "read": 6,
    "undelivered": 7,
    "failed": 7,
    "canceled": 7,
}


async def record_status(
    db: Database,
    message_sid: str,
    address: str,
    *,
    status: str,
    error_code: int | None,
    now: datetime,
) -> None:
    """Keep the most advanced status seen for `message_sid` (callbacks arrive out of order)."""
    params = {
        "sid": message_sid,
        "address": address,
        "status": status,
        "error_code": error_code,
        "now": now,
    }
    async with db.transaction() as tx:
        inserted = await tx.execute(
            "INSERT INTO delivery_statuses (message_sid, address, status, error_code, updated_at)"
            " VALUES (:sid, :address, :status, :error_code, :now) ON CONFLICT DO NOTHING",
            params,
        )
        if inserted:
            return
        current = await tx.scalar(
            "SELECT status FROM delivery_statuses WHERE message_sid = :sid"  # noqa: S608
            + tx.for_update("delivery_statuses"),
            {"sid": message_sid},
        )
        if _RANK.get(str(current), 0) <= _RANK.get(status, 0):
            await tx.execute(
                "UPDATE delivery_statuses SET status = :status, error_code = :error_code,"
                " updated_at = :now WHERE message_sid = :sid",
                params,
            )
