"""The payment messages render in the reader's language with their amounts."""

from __future__ import annotations

import pytest

from bookbot.handlers.payment_templates import PAYMENT_TEMPLATES
from bookbot.handlers.templates import render
from bookbot.presentation.i18n import translator
from bookbot.services.references import booking_reference

PARAMS = {
    "amount": 9000,
    "currency": "GBP",
    "booking": 42,
    "class_name": "Taster",
    "receipt_url": "https://pay.stripe.com/receipts/x",
    "url": "https://checkout.stripe.com/c/pay/cs_1",
    "expires_at": "2026-11-20T09:00:00+00:00",
    "payment": 7,
    "expected": 9000,
    "paid": 100,
    "paid_currency": "GBP",
    "reminder": True,
}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("template", sorted(PAYMENT_TEMPLATES))
def test_every_payment_template_renders(template: str, language: str) -> None:
    text = render(template, PARAMS, translator(language), "Europe/London")
    assert text
    assert "{" not in text


def test_the_receipt_has_amount_reference_and_link_in_spanish() -> None:
    text = render("payment_receipt", PARAMS, translator("es"), "Europe/London")
    assert text.startswith("Pago recibido:")
    assert "90" in text
    assert booking_reference("class", 42) in text
    assert "https://pay.stripe.com/receipts/x" in text


def test_a_receipt_names_the_booking_by_its_reference_and_a_course_by_its_dates() -> None:
    """The reference customers see everywhere else (never the row id), and a booking of one
    session, here a three-day course, with its dates and daily hours."""
    course = PARAMS | {
        "class_name": "Gas Safe ACS Core",
        "starts_at": "2026-12-02T09:00:00+00:00",
        "ends_at": "2026-12-04T17:00:00+00:00",
        "days": 3,
    }
    text = render("payment_receipt", course, translator("en"), "Europe/London")
    assert (
        f"Booking reference: {booking_reference('class', 42)}, Gas Safe ACS Core,"
        " Wed 2 – Fri 4 Dec 2026, 09:00–17:00 daily."
    ) in text
    balance = render("balance_link", PARAMS, translator("en"), "Europe/London")
    assert f"for booking {booking_reference('class', 42)} is still due" in balance
    assert "#42" not in balance
