"""Phone numbers in one form, E.164 (`+442079460101`), whatever way they were written.

A phone number is an identity: the studio file's staff phones, what Twilio sends as
`From`, what a customer types to link their phone and what staff type at the command
line must all compare equal when they are the same number. The `phonenumbers` library
(Google's libphonenumber data) does the parsing and the validity check.

Two entry points:

* `normalise_phone` is for what a person writes (the CLI, the studio file, linking): it
  accepts the common spellings and refuses anything that is not a valid number with
  `InvalidPhone`, whose message says what is wrong.
* `phone_key` is for comparing and storing inside the services: the E.164 form when the
  text reads as a number, else the text as it was. It never refuses, so a short code or
  an odd value already in a database still compares with itself.

Ofcom reserves 07700 900000–900999 for drama and documentation, so libphonenumber calls
them invalid; the README, the shell's default customer and the tests use them, so they
are accepted as the fictional numbers they are (a text to one simply fails).
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat
from phonenumbers.timezone import time_zones_for_number

_PREFIXES = ("whatsapp:", "tel:", "sms:")
_FICTIONAL = ("+447700900",)  # Ofcom's drama range: 07700 900000–900999
_EXAMPLE = "+44 20 7946 0101"
_UNKNOWN_ZONE = "Etc/Unknown"  # libphonenumber's answer for a number it cannot place


class InvalidPhone(ValueError):
    """Text that is not a valid phone number; the message says why, for a person."""

    def __init__(self, raw: str, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        super().__init__(f"{raw!r} is not a valid phone number: {reason}")


def _cleaned(raw: str, default_region: str | None) -> str:
    """Without a channel prefix; "00 44 ..." as "+44 ..." when no region says otherwise."""
    text = raw.strip()
    lowered = text.lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix) :].strip()
            break
    if default_region is None and text.startswith("00"):
        text = "+" + text[2:]
    return text


def _parsed(raw: str, default_region: str | None) -> PhoneNumber:
    text = _cleaned(raw, default_region)
    if not text:
        raise InvalidPhone(raw, "it is empty")
    if default_region is None and not text.startswith("+"):
        raise InvalidPhone(
            raw, f"write it in international form, with + and the country code (e.g. {_EXAMPLE})"
        )
    try:
        return phonenumbers.parse(text, default_region)
    except NumberParseException as error:
        raise InvalidPhone(raw, _parse_reason(error)) from None


def _parse_reason(error: NumberParseException) -> str:
    if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return f"the country code is missing or unknown (e.g. {_EXAMPLE})"
    if error.error_type == NumberParseException.NOT_A_NUMBER:
        return "it does not read as a phone number"
    return "it is too short or too long"


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def normalise_phone(raw: str, default_region: str | None = None) -> str:
    """The E.164 form of a phone number a person wrote; `InvalidPhone` if it is not one.

    Accepts "+44 20 7946 0101", "+44 (0)20 7946 0101", "00 44 20 7946 0101",
    "whatsapp:+442079460101" and, with `default_region` ("GB"), "(020) 7946 0101".
    Without a region the number must be international. Extensions are refused: a text
    cannot reach one.
    """
    number = _parsed(raw, default_region)
    if number.extension:
        raise InvalidPhone(raw, "an extension cannot receive texts")
    e164 = _e164(number)
    if not (phonenumbers.is_valid_number(number) or e164.startswith(_FICTIONAL)):
        raise InvalidPhone(raw, "no such number exists in that country's numbering plan")
    return e164


def phone_key(raw: str) -> str:
    """The form to store and compare: E.164 when `raw` reads as a number, else `raw` trimmed.

    For values that come from a channel or a database rather than from a person: never
    refuses, so it is safe on every path, and two spellings of one number compare equal.
    """
    try:
        return _e164(_parsed(raw, None))
    except InvalidPhone:
        return raw.strip()


def zone_for_phone(e164: str) -> str | None:
    """The IANA zone of the number's area when libphonenumber knows exactly one, else None.

    A guess to offer a customer for confirmation, never to apply silently: a mobile number
    says where it was issued, not where its owner is. Countries spanning zones (most US
    mobiles, Spain with the Canaries) give several, hence None.
    """
    try:
        number = _parsed(e164, None)
    except InvalidPhone:
        return None
    zones = time_zones_for_number(number)
    if len(zones) != 1 or zones[0] == _UNKNOWN_ZONE:
        return None
    return str(zones[0])
