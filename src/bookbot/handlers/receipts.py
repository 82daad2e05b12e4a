"""Inbound ids seen before (Telegram update_id, Twilio MessageSid): each is handled once."""

from __future__ import annotations

from datetime import datetime

from bookbot.store.db import Database


async def first_time(db: Database, source: str, external_id: str, now: datetime) -> bool:
    """Record `external_id`; False if it was recorded already (a redelivery)."""
    async with db.transaction() as tx:
        inserted = await tx.execute(
            "INSERT INTO inbound_receipts (source, external_id, received_at)"
            " VALUES (:source, :external_id, :now) ON CONFLICT DO NOTHING",
            {"source": source, "external_id": external_id, "now": now},
        )
    return inserted == 1
