"""The Telegram chats where staff talk to the bot: their own chats and the studios' staff
groups (the bot shows them the staff commands there)."""

from __future__ import annotations

from bookbot.store.db import Reads


async def telegram_staff_chats_by_studio(reads: Reads) -> dict[int, set[int]]:
    """Each studio's staff members' Telegram ids and its staff chat (a chat may be
    several studios' staff chat: one person on two studios' staff)."""
    chats: dict[int, set[int]] = {}
    studios = await reads.all("SELECT id FROM studios ORDER BY id")
    for studio in studios:
        rows = await reads.all(
            "SELECT telegram_user_id AS chat FROM staff"
            " WHERE studio_id = :s AND telegram_user_id IS NOT NULL"
            " UNION SELECT staff_chat_id AS chat FROM studios"
            " WHERE id = :s AND staff_chat_id IS NOT NULL",
            {"s": studio["id"]},
        )
        chats[int(studio["id"])] = {int(row["chat"]) for row in rows}
    return chats
