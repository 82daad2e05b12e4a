"""The summary says how long the seats are held in the number of the party: "Your place is
held" for one, "Your places are held" for more, in English and Spanish."""

from __future__ import annotations

import pytest

from bookbot.conversations.dialogue import Dialogues
from tests.conversations.chat import Chat


@pytest.mark.parametrize(
    ("guests", "held"),
    [
        ("1", "Your place is held until 09:10."),
        ("2", "Your places are held until 09:10."),
    ],
)
async def test_the_hold_is_said_for_one_or_many(chat: Chat, guests: str, held: str) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1", guests):
        await chat.say(reply)
    assert held in chat.text.splitlines()  # 10 minutes, London time


@pytest.mark.parametrize("guests", ["1", "2"])
async def test_the_hold_in_spanish(dialogues: Dialogues, guests: str) -> None:
    chat = Chat(dialogues, language="es")
    await chat.say("/start")
    for reply in ("1", "Wheel Throwing Taster", "1", guests):
        await chat.say(reply)
    held = [line for line in chat.text.splitlines() if "09:10" in line]
    assert len(held) == 1, chat.text
    assert "{" not in held[0]
