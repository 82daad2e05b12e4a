"""What a booking costs by SMS: a whole booking of the demo studio's Wheel Throwing Taster for
2 people, in English and in Spanish, through the real webhook, the outbox and a stand-in for
Twilio's API, counting the messages and the segments the customer is billed for.

Run with -s to see each message with its encoding and segments:

    pytest -q -s tests/handlers/test_sms_segments.py
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from bookbot.conversations.model import Channel
from bookbot.handlers.gsm7 import encoding, segments
from bookbot.store.db import Database
from tests.handlers import test_twilio_webhook as twilio_world
from tests.handlers.test_twilio_webhook import Phone

# The SMS world of the webhook tests: the demo studio, the webhooks, the outbox and Twilio.
clock = twilio_world.clock
world = twilio_world.world

# The target: a class for 2 costs at most 16 segments by SMS, in either language.
MOST_SEGMENTS = 16


@dataclass(frozen=True)
class Script:
    language: str
    number: str
    hello: str
    book: str  # the menu option, as the customer types it
    confirm: str  # the summary's confirm option, by the start of its label


ENGLISH = Script("en", "+447700900301", "hi", "Book a class", "Confirm")
SPANISH = Script("es", "+34600000301", "Hola", "Reservar una clase", "Confirmar")


def option_number(body: str, label_start: str) -> str:
    """The number of the option whose label starts with `label_start` in an SMS body."""
    found = re.findall(rf"^(\d+)\. {re.escape(label_start)}", body, flags=re.MULTILINE)
    assert len(found) == 1, f"{label_start!r} in:\n{body}"
    return str(found[0])


async def book_by_sms(phone: Phone, script: Script) -> list[tuple[str, list[str]]]:
    """menu -> class -> date -> party size -> confirm; each message sent with what came back."""
    exchanges: list[tuple[str, list[str]]] = []

    async def say(text: str) -> str:
        before = len(phone.received())
        await phone.text(text)
        exchanges.append((text, phone.received()[before:]))
        return phone.last()

    menu = await say(script.hello)
    await say(option_number(menu, script.book))
    await say("Wheel Throwing Taster")
    await say("1")  # the first date
    summary = await say("2")  # people
    await say(option_number(summary, script.confirm))
    return exchanges


def report(script: Script, exchanges: list[tuple[str, list[str]]]) -> tuple[int, int]:
    bodies = [body for _said, got in exchanges for body in got]
    for said, got in exchanges:
        print(f"\n> {said}")
        for body in got:
            print(f"[{encoding(body)}, {segments(body)} segment(s), {len(body)} characters]")
            print(body)
    total = sum(segments(body) for body in bodies)
    print(f"\n{script.language}: {len(bodies)} messages, {total} segments")
    return len(bodies), total


@pytest.mark.parametrize("script", [ENGLISH, SPANISH], ids=["en", "es"])
async def test_a_class_for_two_costs_at_most_16_segments(
    world: Any, db: Database, script: Script
) -> None:
    phone = Phone(*world, number=script.number)
    exchanges = await book_by_sms(phone, script)
    _messages, total = report(script, exchanges)

    async with db.transaction(write=False) as tx:
        booked = await tx.scalar(
            "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions"
            " WHERE status = 'booked'"
        )
    assert booked == 2
    assert all(encoding(body) == "GSM-7" for _said, got in exchanges for body in got)
    assert total <= MOST_SEGMENTS


async def test_a_studio_that_turns_folding_off_keeps_the_accents(world: Any, db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE studios SET sms_fold_gsm = :no", {"no": False})
    lucia = Phone(*world, number="+34600000302")
    await lucia.text("Hola")
    assert "¿Qué te gustaría hacer?" in lucia.last()
    assert encoding(lucia.last()) == "UCS-2"


async def test_whatsapp_is_never_folded(world: Any) -> None:
    maria = Phone(*world, number="+34600000303", channel=Channel.WHATSAPP)
    await maria.text("Hola")
    assert "¿Qué te gustaría hacer?" in maria.last()


async def test_sms_is_folded_by_default(world: Any) -> None:
    lucia = Phone(*world, number="+34600000304")
    await lucia.text("Hola")
    assert "¿Qué te gustaria hacer?" in lucia.last()  # é is GSM-7, í is not
    assert encoding(lucia.last()) == "GSM-7"
