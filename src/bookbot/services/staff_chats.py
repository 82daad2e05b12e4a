"""The Telegram chats where staff talk to the bot: their own chats and the studios' staff
groups (the bot shows them the staff commands there)."""

from __future__ import annotations

from bookbot.store.db import Reads


async def telegram_staff_chats(reads: Reads, studio_id: int | None = None) -> list[int]:
    """Every studio's staff members' Telegram ids and its staff chat, each once; with
    `studio_id` (a studio's own bot), that studio's alone."""
    chats: set[int] = set()
    studios = await reads.all("SELECT id FROM studios ORDER BY id")
    for studio in [s for s in studios if studio_id is None or s["id"] == studio_id]:
        rows = await reads.all(
            "SELECT telegram_user_id AS chat FROM staff"
            " WHERE studio_id = :s AND telegram_user_id IS NOT NULL"
            " UNION SELECT staff_chat_id AS chat FROM studios"
            " WHERE id = :s AND staff_chat_id IS NOT NULL",
            {"s": studio["id"]},
        )
        chats.update(int(row["chat"]) for row in rows)
    return sorted(chats)
