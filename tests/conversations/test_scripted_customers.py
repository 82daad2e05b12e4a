"""Thirty scripted customers per language, replayed over the shell and over SMS (through the
Dialogues, and through the signed Twilio webhook, the inbox, the outbox and the Twilio
stand-in): natural phrasing, typos, digits and words.
Every one completes its booking, cancellation or check-in; the test counts the messages
each one sent for it, and prints the median for booking a class for 2 (the target is 5 or
fewer).

    pytest -q -s tests/conversations/test_scripted_customers.py

A customer's setup (a booking to cancel or check in to; LANG es for a Spanish SMS customer,
whose phone does not say their language) is not counted.
"""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.gsm7 import segments
from bookbot.handlers.sms_text import SMS_MAX_SEGMENTS
from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
from bookbot.handlers.twilio_webhook import TwilioChannel, TwilioWebhooks
from bookbot.handlers.web import make_app
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.examples import NOW, load_example_studio
from tests.handlers.test_twilio_webhook import ACCOUNT, OUR_NUMBER, PUBLIC, TOKEN, Phone
from tests.pipeline import Pipeline, pipeline
from tests.twilio_standin import TwilioStandIn

# Friday 20 Nov 2026 15:00 London: today's 16:00 Open Studio is open for check-in.
CHECK_IN_TIME = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Script:
    lines: tuple[str, ...]
    goal: str = "book"  # book | cancel | check_in
    class_key: str = "wheel-taster"
    guests: int = 2
    setup: tuple[str, ...] = ()


def book(*lines: str, key: str = "wheel-taster", guests: int = 2) -> Script:
    return Script(lines, "book", key, guests)


def cancel(booking: tuple[str, ...], *lines: str) -> Script:
    return Script(lines, "cancel", setup=booking)


def check_in(booking: tuple[str, ...], *lines: str) -> Script:
    return Script(lines, "check_in", "open-studio", setup=booking)


TASTER_5_DEC = ("book wheel taster for 2 on 5 dec", "yes")
TODAY_DROP_IN = ("book open studio for 2 today", "yes")

ENGLISH = [
    book("book wheel taster for 2 on saturday", "yes"),
    book("Hi! Can I book the wheel throwing taster for two people this Saturday?", "yes please"),
    book("book", "wheel taster", "1", "2", "yes"),
    book("2 people wheel taster tomorrow", "yep"),
    book("book a class", "wheel throwng taster", "1", "two", "confirm"),  # a typo
    book("hello", "book", "wheel", "3", "1", "2 people", "ok"),  # wheel: which one?
    book("glazing workshop for 2 next saturday", "ok", key="glazing-workshop"),
    book("I'd like to book mug making for 2 on 6 dec", "yes", key="mug-making"),
    book("mug making", "1", "2 people", "sure", key="mug-making"),
    book("book open studio for 2 on monday", "yes", key="open-studio"),
    book("open studio drop in", "1", "continue", "2", "yes", key="open-studio"),
    book("book", "taster", "sat 28 nov", "2", "yes"),
    book("reserve the saturday glazing workshop", "for 2", "yes", key="glazing-workshop"),
    book("book", "Wheel Throwing Taster", "Sat 5 Dec", "2", "y"),
    book("book wheel tasterr for 2 on 12 dec", "yes"),  # a typo
    book("menu", "1", "3", "1", "2", "yes"),  # numbers only
    book("wheel course for 2", "1", "yes", key="wheel-course"),
    book(
        "can we book the glazing class on saturday? there are 2 of us", "👍", key="glazing-workshop"
    ),
    book("book", "mug making", "sun 6 dec", "me and my partner", "yes", key="mug-making"),
    book("book for 2 on saturday", "wheel throwing taster", "yes"),
    book("taster for two, 28th november", "yes"),
    book("BOOK WHEEL TASTER SAT FOR 2", "YES"),
    book("book wheel taster for 1 tomorrow", "yes", guests=1),
    book("glazing workshop saturday", "just me", "yes", key="glazing-workshop", guests=1),
    book("book open studio on 24 nov for 3 people", "yes", key="open-studio", guests=3),
    book("book", "wheel taster", "1", "4", "nope", "3", "yes", guests=3),  # changes their mind
    cancel(TASTER_5_DEC, "my bookings", "1", "1", "yes"),
    cancel(TASTER_5_DEC, "my", "wheel throwing taster", "cancel this booking", "yes please"),
    check_in(TODAY_DROP_IN, "here"),
    check_in(TODAY_DROP_IN, "check in"),
]

SPANISH = [
    book("reservar wheel taster para dos el sábado", "sí"),
    book("Hola! Quiero reservar el wheel throwing taster para 2 personas este sábado", "vale"),
    book("reservar", "wheel taster", "1", "2", "sí"),
    book("2 personas wheel taster mañana", "claro"),
    book("reservar una clase", "wheel throwng taster", "1", "dos", "confirmar"),  # una errata
    book("hola", "reservar", "wheel", "3", "1", "2 personas", "de acuerdo"),
    book("glazing workshop para 2 el próximo sábado", "sí", key="glazing-workshop"),
    book("quiero reservar mug making para 2 el 6 de diciembre", "si", key="mug-making"),
    book("mug making", "1", "2 personas", "vale", key="mug-making"),
    book("reservar open studio para dos el lunes", "sí", key="open-studio"),
    book("open studio drop in", "1", "continuar", "2", "sí", key="open-studio"),
    book("reservar", "taster", "sáb 28 nov", "2", "sí"),
    book("reservar el saturday glazing workshop", "para 2", "sí", key="glazing-workshop"),
    book("reservar", "Wheel Throwing Taster", "sáb 5 dic", "2", "sí"),
    book("reservar wheel tasterr para 2 el 12 de diciembre", "sí"),  # una errata
    book("menu", "1", "3", "1", "2", "sí"),  # solo números
    book("wheel course para 2", "1", "sí", key="wheel-course"),
    book("podemos reservar glazing el sábado? somos 2", "👍", key="glazing-workshop"),
    book("reservar", "mug making", "dom 6 dic", "yo y mi pareja", "sí", key="mug-making"),
    book("reservar para 2 el sábado", "wheel throwing taster", "sí"),
    book("taster para dos, 28 de noviembre", "sí"),
    book("RESERVAR WHEEL TASTER SABADO PARA 2", "SI"),
    book("reservar wheel taster para 1 mañana", "sí", guests=1),
    book("glazing workshop sabado", "solo yo", "sí", key="glazing-workshop", guests=1),
    book(
        "reservar open studio el 24 de noviembre para 3 personas", "sí", key="open-studio", guests=3
    ),
    book("reservar", "wheel taster", "1", "4", "no", "3", "sí", guests=3),  # cambia de idea
    cancel(
        ("reservar wheel taster para 2 el 5 de diciembre", "sí"), "mis reservas", "1", "1", "sí"
    ),
    cancel(("reservar wheel taster para 2 el 5 de diciembre", "sí"), "mis", "1", "1", "vale"),
    check_in(("reservar open studio para 2 hoy", "sí"), "aqui"),
    check_in(("reservar open studio para 2 hoy", "sí"), "estoy aquí"),
]

CHANNELS = [Channel.CONSOLE, Channel.SMS]


async def _roomy(db: Database) -> None:
    """Room for every customer at once: the scripts do not compete for seats."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE sessions SET capacity = 200")
        await tx.execute("UPDATE resources SET total_quantity = 400")


async def _done(db: Database, address: str, channel: Channel, script: Script) -> bool:
    """Whether the customer's goal is reached, read from the database."""
    async with db.transaction(write=False) as tx:
        customer = await tx.scalar(
            "SELECT customer_id FROM conversations WHERE channel = :channel AND address = :a",
            {"channel": channel.value, "a": address},
        )
        rows = await tx.all(
            "SELECT g.status, g.guest_count, c.key,"
            " (SELECT COUNT(*) FROM registration_sessions rs WHERE rs.registration_id = g.id"
            "  AND rs.attendance = 'checked_in') AS checked_in"
            " FROM registrations g JOIN classes c ON c.id = g.class_id"
            " WHERE g.customer_id = :customer",
            {"customer": customer},
        )
    if script.goal == "cancel":
        return any(r["status"] == "cancelled" for r in rows)
    if script.goal == "check_in":
        return any(r["checked_in"] for r in rows)
    return any(
        r["status"] == "confirmed"
        and r["key"] == script.class_key
        and r["guest_count"] == script.guests
        for r in rows
    )


Say = Callable[[str], Awaitable[object]]


async def _replay(
    say: Say,
    clock: FrozenClock,
    script: Script,
    *,
    spanish_phone: bool,
) -> tuple[int, str]:
    """The customer's setup, then their counted lines; what they typed, for a failure."""
    clock.set(NOW)
    for line in (("LANG es",) if spanish_phone else ()) + script.setup:
        await say(line)
    if script.goal == "check_in":
        clock.set(CHECK_IN_TIME)
    for line in script.lines:
        await say(line)
    return len(script.lines), " / ".join(script.lines)


def _address(language: str, number: int) -> str:
    return f"+4477009{10 if language == 'en' else 20}{number:03d}"


def _check(label: str, results: list[tuple[Script, int, str, bool]]) -> None:
    failed = [f"{script.goal}: {typed}" for script, _, typed, done in results if not done]
    assert len(results) == 30
    assert not failed, "\n".join(failed)
    for_two = [n for script, n, _, _ in results if script.goal == "book" and script.guests == 2]
    median = statistics.median(for_two)
    print(
        f"\n{label}: {len(results)} customers completed; a class for 2 took"
        f" a median of {median} replies (from {min(for_two)} to {max(for_two)})"
    )
    assert median <= 5


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c.value)
@pytest.mark.parametrize(
    ("language", "scripts"), [("en", ENGLISH), ("es", SPANISH)], ids=["en", "es"]
)
async def test_scripted_customers_complete_in_few_replies(
    dialogues: Dialogues,
    clock: FrozenClock,
    channel: Channel,
    language: str,
    scripts: list[Script],
) -> None:
    """Through the Dialogues, as the shell and the Twilio webhook call them."""
    db = dialogues.db
    await _roomy(db)
    texting = channel is Channel.SMS
    results = []
    for number, script in enumerate(scripts):
        address = _address(language, number)
        chat = Chat(
            dialogues,
            address=address,
            name="" if texting else f"Customer {number}",
            language=None if texting else language,
            channel=channel,
        )
        spanish_phone = texting and language == "es"
        replies, typed = await _replay(chat.say, clock, script, spanish_phone=spanish_phone)
        results.append((script, replies, typed, await _done(db, address, channel, script)))
    _check(f"{language}/{channel.value}", results)


@pytest.fixture
async def texting(
    db: Database, clock: FrozenClock
) -> AsyncIterator[tuple[TestClient[Any, Any], TwilioWebhooks, TwilioStandIn, Pipeline]]:
    """The whole SMS path: signed webhooks, the inbox, the outbox, the Twilio stand-in."""
    await load_example_studio(db, clock)
    async with TwilioStandIn(ACCOUNT, TOKEN) as twilio:
        settings = TwilioSettings(ACCOUNT, TOKEN, sms_from=OUR_NUMBER, api_base=twilio.base_url)
        sender = TwilioSender(settings)
        channel = TwilioChannel(db, clock, sender)
        webhooks = TwilioWebhooks(Dialogues(db, clock), channel, TOKEN, PUBLIC, account_sid=ACCOUNT)
        flow = pipeline(db, clock, {"twilio": webhooks}, twilio=channel)
        async with TestClient(TestServer(make_app(*webhooks.routes()))) as http:
            yield http, webhooks, twilio, flow
        await sender.close()


@pytest.mark.parametrize(
    ("language", "scripts"), [("en", ENGLISH), ("es", SPANISH)], ids=["en", "es"]
)
async def test_scripted_customers_by_sms_through_the_twilio_webhook(
    texting: tuple[TestClient[Any, Any], TwilioWebhooks, TwilioStandIn, Pipeline],
    db: Database,
    clock: FrozenClock,
    language: str,
    scripts: list[Script],
) -> None:
    """The same customers texting the SMS webhook; every reply is sent through the
    stand-in, and every one they received fits the SMS segment limit."""
    await _roomy(db)
    results = []
    for number, script in enumerate(scripts):
        phone = Phone(*texting, number=_address(language, number))
        replies, typed = await _replay(phone.text, clock, script, spanish_phone=language == "es")
        done = await _done(db, phone.address, Channel.SMS, script)
        results.append((script, replies, typed, done))
        assert all(segments(body) <= SMS_MAX_SEGMENTS for body in phone.received())
    _check(f"{language}/sms through the Twilio webhook", results)
