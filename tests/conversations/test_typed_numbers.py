"""Numbers typed in chat: whatever their length or script, an answer, never a crash.

Python's int() refuses strings of more than 4,300 digits, and str.isdigit() admits '²',
which int() refuses too; a party size, an option number or a button is checked first.
"""

from __future__ import annotations

import pytest

from bookbot.conversations.matching import numbers, whole_number
from tests.conversations.chat import Chat

HUGE = "7" * 5000


@pytest.mark.parametrize(
    ("typed", "most", "expected"),
    [
        ("3", 50, 3),
        ("0003", 50, 3),
        ("0", 50, 0),
        ("51", 50, 51),
        ("999999999999", 50, 51),
        (HUGE, 50, 51),
        ("0" * 5000 + "2", 50, 2),
        ("٣", 50, 3),  # Arabic-Indic three: int() reads it, so do we
        ("²", 50, None),  # a digit to isdigit(), not to int()
        ("3.5", 50, None),
        ("-2", 50, None),
        ("", 50, None),
    ],
)
def test_a_whole_number_is_read_without_converting_what_is_too_long(
    typed: str, most: int, expected: int | None
) -> None:
    assert whole_number(typed, most) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1 3", [0, 2]), ("2, 3", [1, 2]), (HUGE, None), (f"1 {HUGE}", None), ("1 ²", None)],
)
def test_option_numbers_beyond_the_list_are_not_understood(
    typed: str, expected: list[int] | None
) -> None:
    assert numbers(typed, 3) == expected


async def choose_taster(chat: Chat) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1"):
        await chat.say(reply)
    assert chat.text.startswith("How many people")


@pytest.mark.parametrize("typed", [HUGE, "99999999999999999999", "51"])
async def test_a_huge_party_size_gets_the_ordinary_answer(chat: Chat, typed: str) -> None:
    await choose_taster(chat)
    await chat.say(typed)
    assert "Please send a number from 1 to 50." in chat.text
    assert "digits" not in chat.text
    await chat.say("2")  # and the conversation goes on
    assert "Please check your booking" in chat.text


async def test_a_superscript_party_size_is_read_as_its_option(chat: Chat) -> None:
    await choose_taster(chat)
    await chat.say("²")  # not a number to int(); folded, it names the option "2"
    assert "2 people" in chat.text


@pytest.mark.parametrize("typed", [HUGE, f"1 {HUGE}", "0" * 5000 + "99"])
async def test_a_huge_option_number_is_not_understood(chat: Chat, typed: str) -> None:
    await chat.say("1")
    await chat.say("Open Studio Drop-in")  # a list of dates that takes several numbers
    before = chat.labels
    await chat.say(typed)
    assert "Sorry, I did not understand that." in chat.text
    assert chat.labels == before
    await chat.say(HUGE)  # also at the menu's single choice
    assert "Sorry, I did not understand that." in chat.text


@pytest.mark.parametrize("index", [HUGE[:60], "²", "-1", "99"])
async def test_a_forged_button_index_has_expired(chat: Chat, index: str) -> None:
    step = chat.token("📅").partition(":")[0]
    await chat.press_token(f"{step}:{index}")
    assert chat.last.notice == "That option has expired. Please use the latest message."
    assert chat.last.toast
