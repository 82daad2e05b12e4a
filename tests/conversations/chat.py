"""A test client for the conversation layer: one person typing and pressing."""

from __future__ import annotations

from dataclasses import dataclass, field

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound, Reply


@dataclass
class Chat:
    dialogues: Dialogues
    address: str = "+447700900001"
    name: str = "Ana"
    language: str | None = "en"
    channel: Channel = Channel.CONSOLE
    replies: list[Reply] = field(default_factory=list)
    sent: int = 0

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def labels(self) -> list[str]:
        return [o.label for o in self.last.options]

    def token(self, label_start: str) -> str:
        matches = [o.token for o in self.last.options if o.label.startswith(label_start)]
        assert len(matches) == 1, f"{label_start!r} in {self.labels}"
        return matches[0]

    async def say(self, text: str) -> list[Reply]:
        self.sent += 1
        return await self._send(
            Inbound(
                self.channel,
                self.address,
                text=text,
                display_name=self.name,
                language_hint=self.language,
            )
        )

    async def press(self, label_start: str) -> list[Reply]:
        return await self.press_token(self.token(label_start))

    async def press_token(self, token: str) -> list[Reply]:
        return await self._send(
            Inbound(
                self.channel,
                self.address,
                token=token,
                display_name=self.name,
                language_hint=self.language,
            )
        )

    async def _send(self, inbound: Inbound) -> list[Reply]:
        self.replies = await self.dialogues.handle(inbound)
        return self.replies
