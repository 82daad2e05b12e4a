"""The payment messages render in the reader's language with their amounts."""

from __future__ import annotations

import pytest

from bookbot.handlers.templates import PAYMENT_TEMPLATES, render
from bookbot.presentation.i18n import translator

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
    assert "#42" in text
    assert "https://pay.stripe.com/receipts/x" in text
