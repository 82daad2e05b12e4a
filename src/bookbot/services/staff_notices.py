"""Telling staff what customers did, through the outbox, in the transaction that did it.

A notice goes to the staff member concerned on Telegram (their own telegram_user_id), else
to the studio's staff chat; with neither, nothing is queued (they see it in their lists and
their calendar feed). Appointments tell their staff member (`appointment_notices`); a class
booking moved to another date tells the new session's instructor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookbot.services import outbox
from bookbot.store.db import Tx


async def staff_chat(tx: Tx, studio_id: int, staff_id: int | None) -> int | None:
    """Where a notice for `staff_id` goes: their Telegram, else the studio's staff chat."""
    row = await tx.one(
        "SELECT st.staff_chat_id, sf.telegram_user_id FROM studios st"
        " LEFT JOIN staff sf ON sf.studio_id = st.id AND sf.id = :staff_id"
        " WHERE st.id = :studio_id",
        {"studio_id": studio_id, "staff_id": staff_id or 0},
    )
    if row is None:
        return None
    chat = row["telegram_user_id"] or row["staff_chat_id"]
    return None if chat is None else int(chat)


async def tell_staff(
    tx: Tx,
    now: datetime,
    *,
    studio_id: int,
    staff_id: int | None,
    template: str,
    params: dict[str, Any],
    dedupe_key: str,
) -> bool:
    """Queue `template` for `staff_id` (or the staff chat); False if nobody can be reached."""
    chat = await staff_chat(tx, studio_id, staff_id)
    if chat is None:
        return False
    return await outbox.enqueue(
        tx,
        now=now,
        studio_id=studio_id,
        customer_id=None,
        template=template,
        params=params,
        due_at=now,
        dedupe_key=dedupe_key,
        channel="telegram",
        address=str(chat),
    )
