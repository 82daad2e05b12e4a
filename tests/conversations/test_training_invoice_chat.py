"""The training centre's one-day course (payment "either", company billing) booked to the
end with "🏢 Invoice my company", in English and Spanish on both databases: the booking is
confirmed, the invoice made through the Stripe stand-in with the company's details, and the
customer told where it goes; My bookings says it is invoiced."""

from __future__ import annotations

import pytest

from bookbot.cli.demo import TRAINING_EXAMPLE
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations import test_payments_chat as paying
from tests.conversations.test_payments_chat import Shop
from tests.examples import load_example_studio

# The paying shop's fixtures (the local Stripe stand-in).
standin = paying.standin
gateway = paying.gateway
shop = paying.shop

COURSE = "Heat Pump Installation Awareness"

WORDS = {
    "en": {
        "invoice": "🏢 Invoice my company",
        "no_po": "No PO number",
        "booked": "🎉 Booked! Heat Pump Installation Awareness, Tue 1 Dec 2026, 09:30, for 1 person."
        " The invoice goes to accounts@severn.example.",
        "mine": "Heat Pump Installation Awareness · Tue 1 Dec, 09:30 · 1 person · invoiced",
    },
    "es": {
        "invoice": "🏢 Facturar a mi empresa",
        "no_po": "Sin número de pedido",
        "booked": "🎉 ¡Reservado! Heat Pump Installation Awareness, mar 1 dic 2026, 09:30, para"
        " 1 persona. La factura se envía a accounts@severn.example.",
        "mine": "Heat Pump Installation Awareness · mar 1 dic, 09:30 · 1 persona · facturado",
    },
}


@pytest.fixture
async def studio_id(db: Database, clock: FrozenClock) -> int:
    return await load_example_studio(db, clock, weeks=8, name=TRAINING_EXAMPLE)


@pytest.mark.parametrize("language", ["en", "es"])
async def test_invoice_my_company_books_the_course(shop: Shop, language: str) -> None:
    words = WORDS[language]
    chat = shop.chat()
    chat.language = language
    await chat.say("/start")
    await chat.press("📅")
    await chat.press(COURSE)
    await chat.say("1")  # the first date: Tue 1 Dec
    await chat.say("1")  # one person
    for detail in ("Dan Morgan", "dan@severn.example", "Severn Heating Ltd", "Gas engineer"):
        await chat.say(detail)
    await chat.press(words["invoice"])
    await chat.say("Severn Heating Ltd")
    await chat.say("accounts@severn.example")
    await chat.press(words["no_po"])
    assert words["booked"] in chat.text
    payment = await shop.payment()
    assert (payment["purpose"], payment["status"], payment["amount_minor"]) == (
        "invoice",
        "invoiced",
        29500,
    )
    assert (payment["company_name"], payment["billing_email"], payment["po_number"]) == (
        "Severn Heating Ltd",
        "accounts@severn.example",
        None,
    )
    booked = await shop.db.scalar(
        "SELECT status FROM registrations WHERE id = :r", {"r": payment["registration_id"]}
    )
    assert booked == "confirmed"
    await chat.press("🗓")
    assert words["mine"] in chat.labels
