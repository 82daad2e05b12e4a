"""The terminal shell: the chat flows on stdin/stdout, as one customer."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.handlers.text import numbered
from bookbot.presentation.i18n import translator
from bookbot.services import handoff


@dataclass(frozen=True)
class ShellCustomer:
    phone: str
    name: str
    language: str | None


class Shell:
    """Reads one line per message; prints replies with options numbered."""

    def __init__(
        self,
        dialogues: Dialogues,
        who: ShellCustomer,
        out: TextIO,
        save_dir: Path | None = None,
        *,
        studio: str | None = None,
    ) -> None:
        self._dialogues = dialogues
        self._who = who
        self._out = out
        self._save_dir = save_dir
        self._studio = studio  # opened at start, as a deep link would: --studio, or the default

    def _inbound(self, text: str) -> Inbound:
        return Inbound(
            Channel.CONSOLE,
            self._who.phone,
            text=text,
            display_name=self._who.name,
            language_hint=self._who.language,
            phone=self._who.phone,
        )

    def _show(self, replies: list[Reply]) -> None:
        for reply in replies:
            if reply.text or reply.options:
                print(numbered(reply), file=self._out)
            if reply.attachment is not None:
                print(self._attachment(reply), file=self._out)
            print(file=self._out)

    def _attachment(self, reply: Reply) -> str:
        attachment = reply.attachment
        assert attachment is not None  # noqa: S101 - checked by the caller
        _ = translator(self._who.language)._
        if self._save_dir is None:
            return "📎 " + _("{file} (use --save-to DIR to keep it)").format(
                file=attachment.filename
            )
        path = self._save_dir / attachment.filename
        path.write_bytes(attachment.content)
        return "📎 " + _("{file} saved to {path}").format(file=attachment.filename, path=path)

    async def say(self, text: str) -> None:
        await self.show_waiting()
        self._show(await self._dialogues.handle(self._inbound(text)))

    async def show_waiting(self) -> None:
        """Print what staff answered while the customer talks to a person (human handoff):
        nothing can push into a terminal, so it waits until the next line (Enter will do)."""
        dialogues = self._dialogues
        for text in await handoff.take_waiting(
            dialogues.db,
            dialogues.clock.now(),
            channel=Channel.CONSOLE.value,
            address=self._who.phone,
        ):
            print(text, file=self._out)
            print(file=self._out)

    async def run(self, lines: TextIO, *, echo: bool) -> None:
        """Start with the welcome, then one message per line until end of input.

        An explicit language (--lang) wins over the one saved for this customer, and is saved,
        as sending LANG would: it is set first, quietly (the studio opened, then LANG), so the
        welcome is already in it."""
        start = self._inbound("/start")
        if self._who.language:
            await self._dialogues.handle(start, studio_slug=self._studio)
            await self._dialogues.handle(self._inbound(f"LANG {self._who.language}"))
        self._show(await self._dialogues.handle(start, studio_slug=self._studio))
        while True:
            if not echo:
                print("> ", end="", file=self._out, flush=True)
            line = await asyncio.to_thread(lines.readline)
            if not line:
                break
            text = line.rstrip("\n")
            if echo:
                print(f"> {text}", file=self._out)
            if text.strip().lower() in {"/quit", "/exit"}:
                break
            if text.strip():
                await self.say(text)
            else:
                await self.show_waiting()


def interactive(stream: TextIO = sys.stdin) -> bool:
    return stream.isatty()
