"""The terminal shell in-process: an explicit --lang wins over a saved language, and is saved."""

from __future__ import annotations

import io

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.console import Shell, ShellCustomer
from bookbot.store.db import Database
from tests.examples import NOW, load_example_studio

PHONE = "+447700900888"


async def session(dialogues: Dialogues, language: str | None, *lines: str) -> str:
    out = io.StringIO()
    shell = Shell(dialogues, ShellCustomer(PHONE, "Ana", language), out, studio="clay-studio")
    await shell.run(io.StringIO("".join(f"{line}\n" for line in lines)), echo=True)
    return out.getvalue()


async def test_an_explicit_language_wins_and_is_saved(db: Database) -> None:
    clock = FrozenClock(NOW)
    await load_example_studio(db, clock)
    dialogues = Dialogues(db, clock)

    assert "Hi Ana! I'm the booking assistant" in await session(dialogues, None)
    spanish = await session(dialogues, "es", "help")
    assert spanish.startswith("¡Hola, Ana! Soy el asistente de reservas")
    assert "1. 📅 Reservar una clase" in spanish
    assert "Hecho:" not in spanish  # set quietly, before the welcome
    # Saved: the next session without --lang is still in Spanish, and --lang en switches back.
    assert (await session(dialogues, None)).startswith("¡Hola, Ana!")
    assert (await session(dialogues, "en")).startswith("Hi Ana! I'm the booking assistant")
    assert (await session(dialogues, None)).startswith("Hi Ana! I'm the booking assistant")
