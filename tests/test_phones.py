"""Phone numbers: every common spelling to E.164, anything else refused with a reason."""

from __future__ import annotations

import pytest

from bookbot.phones import InvalidPhone, normalise_phone, phone_key

LONDON = "+442079460101"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+442079460101", None, LONDON),
        ("+44 20 7946 0101", None, LONDON),
        ("  +44 20 7946 0101  ", None, LONDON),
        ("+44-20-7946-0101", None, LONDON),
        ("+44 (0)20 7946 0101", None, LONDON),
        ("00 44 20 7946 0101", None, LONDON),
        ("0044 20 7946 0101", "GB", LONDON),
        ("(020) 7946 0101", "GB", LONDON),
        ("020 7946 0101", "GB", LONDON),
        ("whatsapp:+442079460101", None, LONDON),
        ("WhatsApp:+44 20 7946 0101", None, LONDON),
        ("tel:+442079460101", None, LONDON),
        ("+44 20 7946 0101", "ES", LONDON),  # an international number ignores the region
        ("+1 (617) 555-0142", None, "+16175550142"),
        ("+34 600 000 001", None, "+34600000001"),
        ("600 000 001", "ES", "+34600000001"),
        ("+15005550006", None, "+15005550006"),  # Twilio's test number
        ("+44 7700 900123", None, "+447700900123"),  # Ofcom's drama range is accepted
    ],
)
def test_common_spellings_become_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("", None, "it is empty"),
        ("   ", None, "it is empty"),
        ("whatsapp:", None, "it is empty"),
        ("020 7946 0101", None, "international form"),
        ("(020) 7946 0101", None, "international form"),
        ("hello", None, "international form"),
        ("+hello", None, "does not read as a phone number"),
        ("+999 1234 5678", None, "country code"),
        ("+44 20 7946 010", None, "numbering plan"),  # a digit short
        ("+44 20 7946 01011", None, "numbering plan"),  # a digit long
        ("+1 555 000 1111", None, "numbering plan"),  # no such area code
        ("+4", None, "does not read as a phone number"),
        ("+44 1", None, "too short"),
        ("+44 1234567890123456789", None, "too long"),
        ("+44 20 7946 0101 ext. 5", None, "extension"),
        ("12", "GB", "numbering plan"),
    ],
)
def test_anything_else_is_refused_with_a_reason(raw: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidPhone) as refused:
        normalise_phone(raw, region)
    assert reason in str(refused.value)
    assert refused.value.raw == raw
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 20 7946 0101", LONDON),
        ("whatsapp:+442079460101", LONDON),
        ("+442079460101", LONDON),
        ("+1 555 000 1111", "+15550001111"),  # invalid but a number: still one form
        ("  12345 ", "12345"),  # a short code stays as it is
        ("not a phone", "not a phone"),
    ],
)
def test_phone_key_never_refuses_and_unifies_spellings(raw: str, expected: str) -> None:
    assert phone_key(raw) == expected
