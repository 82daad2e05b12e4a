"""The Telegram chats where staff talk to the bot: their own chats and the studios' staff
groups (the bot shows them the staff commands there)."""

from __future__ import annotations

from bookbot.store.db import Reads


async def telegram_staff_chats(reads: Reads) -> list[int]:
    """Every studio's staff members' Telegram ids and its staff chat, each once."""
    chats: set[int] = set()
    for studio in await reads.all("SELECT id FROM studios ORDER BY id"):
        rows = await reads.all(
            "SELECT telegram_user_id AS chat FROM staff"
            " WHERE studio_id = :s AND telegram_user_id IS NOT NULL"
            " UNION SELECT staff_chat_id AS chat FROM studios"
            " WHERE id = :s AND staff_chat_id IS NOT NULL",
            {"s": studio["id"]},
        )
        chats.update(int(row["chat"]) for row in rows)
    return sorted(chats)
