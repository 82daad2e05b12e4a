"""Wording that depends on the channel, and commands after a pause (issue 16)."""

from __future__ import annotations

from datetime import timedelta

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from tests.conversations.chat import Chat


async def test_help_says_tapping_only_where_there_is_something_to_tap(
    dialogues: Dialogues,
) -> None:
    said = {}
    for channel in (Channel.CONSOLE, Channel.TELEGRAM, Channel.SMS, Channel.WHATSAPP):
        person = Chat(dialogues, address=f"help-{channel.value}", channel=channel)
        if channel in (Channel.SMS, Channel.WHATSAPP):
            person.address = "+4477009005" + str(len(said) + 10)
        await person.say("/start")
        await person.say("help")
        said[channel] = person.text
    assert "tapping" in said[Channel.TELEGRAM]
    for channel in (Channel.CONSOLE, Channel.SMS, Channel.WHATSAPP):
        assert "tap" not in said[channel].lower(), said[channel]
    assert "typing its number or its words" in said[Channel.CONSOLE]


async def test_a_command_after_a_pause_is_done_not_swallowed(
    chat: Chat, clock: FrozenClock
) -> None:
    await chat.say("1")  # the class list
    clock.advance(timedelta(minutes=31))
    await chat.say("/my")
    assert "nothing was booked" not in chat.text
    assert "You have no upcoming bookings." in chat.text


async def test_a_keyword_after_a_pause_is_done_too(chat: Chat, clock: FrozenClock) -> None:
    await chat.say("1")
    clock.advance(timedelta(minutes=31))
    await chat.say("help")
    assert "nothing was booked" not in chat.text
    assert "I can book classes at Clay & Kiln" in chat.text


async def test_anything_else_after_a_pause_gets_the_menu(chat: Chat, clock: FrozenClock) -> None:
    await chat.say("1")
    clock.advance(timedelta(minutes=31))
    await chat.say("/nonsense")
    assert "nothing was booked" in chat.text
