"""Rendering instants, dates and money for people, with Babel, in a zone and a language."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_datetime, format_time
from babel.numbers import format_currency, get_currency_precision

from bookbot.engine.recurrence import zone


def _day_and_time(local: datetime, locale: str) -> str:
    return format_datetime(local, "EEE d MMM yyyy HH:mm", locale=locale)


# Babel spends ~15-25 µs per date or amount, and a screen shows many, mostly the same
# (every customer sees the same class dates and prices): both are pure functions of their
# arguments, so their results are kept, a bounded number of them.
@lru_cache(maxsize=4096)
def local_when(instant: datetime, zone_name: str, locale: str = "en") -> str:
    """'Mon 15 Mar 2027 18:00 GMT': the zone's own abbreviation shows DST changes."""
    local = instant.astimezone(zone(zone_name))
    return f"{_day_and_time(local, locale)} {local.tzname()}"


def local_span(starts: datetime, ends: datetime, zone_name: str, locale: str = "en") -> str:
    """'Mon 15 Mar 2027 18:00–20:00 GMT'.

    A span across a clock change labels each end with its own abbreviation:
    'Sun 1 Nov 2026 01:30 EDT – 01:15 EST'.
    """
    local_start = starts.astimezone(zone(zone_name))
    local_end = ends.astimezone(zone(zone_name))
    head = _day_and_time(local_start, locale)
    end = format_time(local_end, "HH:mm", locale=locale)
    start_name, end_name = local_start.tzname(), local_end.tzname()
    if (end_name, local_end.utcoffset()) == (start_name, local_start.utcoffset()):
        return f"{head}–{end} {start_name}"
    return f"{head} {start_name} – {end} {end_name}"


@lru_cache(maxsize=1024)
def money(minor: int, currency: str, locale: str = "en") -> str:
    """Integer minor units as '£45.00' (no float ever touches the amount)."""
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)
