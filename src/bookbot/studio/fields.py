"""The studio file's field types: what each value may be, with the range a studio could
mean.

Every number has a range well inside the database's columns (32-bit INTEGER; BIGINT for
Telegram ids) and the date arithmetic later done with it, and no text holds a NUL
(PostgreSQL refuses it): a value outside is refused when the file is checked, naming the
field, instead of failing on load or in a later booking, hold or cancellation.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, list_currencies
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from bookbot.engine import recurrence
from bookbot.phones import InvalidPhone, normalise_phone

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_AMOUNT = re.compile(r"-?\d+(\.\d+)?")
# price_minor is a 32-bit INTEGER column on both databases.
_MAX_MINOR = 2**31 - 1
_AMOUNT_LENGTH = 32

MAX_HEADCOUNT = 10_000  # seats in a session, items of a resource, sessions on a pass
MAX_DURATION = 7 * 24 * 60  # minutes
YEAR_DAYS = 366
MAX_PASS_DAYS = 3 * 365 + 1
MAX_TELEGRAM_ID = 2**63 - 1  # Telegram's ids fit a signed 64-bit integer
EARLIEST_START = date(2000, 1, 1)
LATEST_START = date(2199, 12, 31)


def shown(value: Any) -> str:
    """`value` for a message: quoted if text, cut short if long (str() of an int of more
    than 4,300 digits would raise)."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = f'"{value}"' if isinstance(value, str) else str(value)
    text = text.replace("\x00", "\\0")
    return text if len(text) <= 60 else f"{text[:40]}… ({len(text)} characters)"


def _key(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValueError(
            f'"{value}" is not a valid key: use lowercase letters, digits, "-" and "_"'
            " (at most 64 characters)"
        )
    return value


def _toml_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return _sane_date(value)
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return _sane_date(parsed)
    raise ValueError(f"{shown(value)} is not a date: write it like 2027-03-15")


def _sane_date(value: date) -> date:
    if not EARLIEST_START <= value <= LATEST_START:
        raise ValueError(f"{value} is not between {EARLIEST_START} and {LATEST_START}")
    return value


def _wall_time(value: Any) -> time:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = time.fromisoformat(value)
    if not isinstance(value, time):
        raise ValueError(f'{shown(value)} is not a time of day: write it like "18:00"')
    if value.tzinfo is not None:
        raise ValueError("give a wall time without an offset: the zone comes from timezone")
    return value


def _phone(text: str) -> str:
    """E.164, so that Twilio's `+442079460101` finds the file's `+44 20 7946 0101`.

    The file has no country to guess a region from, so the number must be international.
    """
    try:
        return normalise_phone(text)
    except InvalidPhone as error:
        raise ValueError(f"{shown(text)}: {error.reason}") from None


def _time_zone(name: str) -> str:
    recurrence.zone(name)
    return name


def _rrule(text: str) -> str:
    problem = recurrence.rrule_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def _currency(code: str) -> str:
    if code not in list_currencies():
        raise ValueError(f'"{code}" is not an ISO 4217 currency code (e.g. GBP, USD, EUR)')
    return code


def _language(tag: str) -> str:
    try:
        Locale.parse(tag, sep="-" if "-" in tag else "_")
    except (ValueError, UnknownLocaleError):
        raise ValueError(f'"{tag}" is not a known language (e.g. en, de, pt_BR)') from None
    return tag


def _at_most(most: int, unit: str = "") -> Callable[[int], int]:
    """A check that an int is at most `most`; `unit` says of what, for the message."""

    def check(value: int) -> int:
        if value > most:
            raise ValueError(f"{shown(value)} is more than {most:,}{unit}")
        return value

    return check


def _telegram_id(value: int) -> int:
    if value > MAX_TELEGRAM_ID:
        raise ValueError(f"{shown(value)} is not a Telegram user id (they are below 2^63)")
    return value


Key = Annotated[str, AfterValidator(_key)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Shown in chat: a Telegram message holds at most 4,096 characters.
Description = Annotated[str, StringConstraints(max_length=2000)]
Headcount = Annotated[int, Field(strict=True, gt=0), AfterValidator(_at_most(MAX_HEADCOUNT))]
Quantity = Annotated[int, Field(strict=True, ge=0), AfterValidator(_at_most(MAX_HEADCOUNT))]
_YEAR_MINUTES = _at_most(YEAR_DAYS * 24 * 60, " minutes (a year)")
DurationMinutes = Annotated[
    int, Field(strict=True, gt=0), AfterValidator(_at_most(MAX_DURATION, " minutes (7 days)"))
]
PolicyMinutes = Annotated[int, Field(strict=True, ge=0), AfterValidator(_YEAR_MINUTES)]
LimitMinutes = Annotated[int, Field(strict=True, gt=0), AfterValidator(_YEAR_MINUTES)]
PolicyHours = Annotated[
    int, Field(strict=True, ge=0), AfterValidator(_at_most(YEAR_DAYS * 24, " hours (a year)"))
]
PassDays = Annotated[
    int, Field(strict=True, gt=0), AfterValidator(_at_most(MAX_PASS_DAYS, " days (3 years)"))
]
TelegramId = Annotated[int, Field(strict=True, gt=0), AfterValidator(_telegram_id)]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_time_zone)]
Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(_phone)]
Rule = Annotated[str, StringConstraints(max_length=500), AfterValidator(_rrule)]
StartDate = Annotated[date, BeforeValidator(_toml_date)]
WallTime = Annotated[time, BeforeValidator(_wall_time)]
Location = Annotated[str, StringConstraints(max_length=200)]
Language = Annotated[str, StringConstraints(max_length=16), AfterValidator(_language)]
Currency = Annotated[str, AfterValidator(_currency)]


def nul_problem(value: Any) -> str | None:
    """Why a raw value cannot be stored: PostgreSQL refuses a NUL character in text."""
    texts = [value] if isinstance(value, str) else value if isinstance(value, list | tuple) else []
    for index, text in enumerate(texts):
        if isinstance(text, str) and "\x00" in text:
            where = f"item {index + 1} " if not isinstance(value, str) else ""
            return f"{where}contains a NUL character (\\0), which cannot be stored"
    return None


def _amount(value: Any) -> Decimal:
    """A price written as text ("45.00"), never negative."""
    # A TOML float cannot hold 0.10 exactly, so prices must be written as text.
    if not isinstance(value, str):
        raise ValueError(f'write the price as a string, e.g. price = "45.00" (got {value!r})')
    if len(value) > _AMOUNT_LENGTH:
        raise ValueError(f"{shown(value)} is too long for a price")
    if not _AMOUNT.fullmatch(value.strip()):
        raise ValueError(f'"{value}" is not an amount: write it like "45.00"')
    amount = Decimal(value.strip())
    if amount < 0:
        raise ValueError(f'"{value}" is negative: a price is 0 or more')
    return amount


Price = Annotated[Decimal, BeforeValidator(_amount)]


def to_minor_units(amount: Decimal, currency: str) -> int:
    """`amount` in `currency`'s minor units (pence, cents; yen are their own minor unit)."""
    precision = get_currency_precision(currency)
    minor = amount.scaleb(precision)
    if minor != minor.to_integral_value():
        raise ValueError(f'"{amount}" has more decimals than {currency} allows ({precision})')
    if minor > _MAX_MINOR:
        raise ValueError(f'"{amount}" is too large a price')
    return int(minor)


class FileModel(BaseModel):
    """A section of the studio file: unknown fields refused, nothing changed after reading."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Every field, before its own checks: text with a NUL passes them but not PostgreSQL.
    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        problem = nul_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


def unknown(where: str, what: str, key: str, known: Iterable[str]) -> str:
    """The problem of a key that names nothing the file defines."""
    listed = ", ".join(sorted(set(known))) or "none defined"
    return f'{where}: unknown {what} "{key}" (known: {listed})'


def price_problem(where: str, amount: Decimal, currency: str) -> Iterator[str]:
    """The problem of a price the currency cannot hold (too many decimals), if any."""
    try:
        to_minor_units(amount, currency)
    except ValueError as error:
        yield f"{where}: {error}"
