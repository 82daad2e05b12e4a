"""A stand-in for Telegram's sendMessage (the outside world), for notices sent as text."""

from __future__ import annotations


class TelegramOutbox:
    """Records every (chat_id, text) the bot sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str) -> object:
        self.sent.append((chat_id, text))
        return None
