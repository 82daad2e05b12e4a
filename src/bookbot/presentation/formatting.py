"""Rendering instants, dates and money for people, with Babel, in a zone and a language."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency, get_currency_precision

from bookbot.engine.recurrence import zone


def _day_and_time(local: datetime, locale: str, separator: str = " ") -> str:
    return format_datetime(local, f"EEE d MMM yyyy'{separator}'HH:mm", locale=locale)


# Babel spends ~15-25 µs per date or amount, and a screen shows many, mostly the same
# (every customer sees the same class dates and prices): both are pure functions of their
# arguments, so their results are kept, a bounded number of them.
@lru_cache(maxsize=4096)
def local_when(instant: datetime, zone_name: str, locale: str = "en") -> str:
    """'Mon 15 Mar 2027 18:00 GMT': the zone's own abbreviation shows DST changes."""
    local = instant.astimezone(zone(zone_name))
    return f"{_day_and_time(local, locale)} {local.tzname()}"


def local_span(
    starts: datetime, ends: datetime, zone_name: str, locale: str = "en", *, separator: str = " "
) -> str:
    """'Mon 15 Mar 2027 18:00–20:00 GMT' (`separator` between the date and the hours).

    A span across a clock change labels each end with its own abbreviation:
    'Sun 1 Nov 2026 01:30 EDT – 01:15 EST'.
    """
    local_start = starts.astimezone(zone(zone_name))
    local_end = ends.astimezone(zone(zone_name))
    head = _day_and_time(local_start, locale, separator)
    end = format_time(local_end, "HH:mm", locale=locale)
    start_name, end_name = local_start.tzname(), local_end.tzname()
    if (end_name, local_end.utcoffset()) == (start_name, local_start.utcoffset()):
        return f"{head}–{end} {start_name}"
    return f"{head} {start_name} – {end} {end_name}"


def date_range(first: date, last: date, locale: str = "en", *, with_year: bool = False) -> str:
    """'Wed 15 – Fri 17 Jan' (same month), 'Fri 29 Jan – Tue 2 Feb', in the weekday-day-month
    order our other dates use. (Babel's format_interval follows each locale's own interval
    skeletons instead: 'Fri, Jan 15 – Sun, Jan 17' in en, which our dates never say.)"""
    last_pattern = "EEE d MMM y" if with_year else "EEE d MMM"
    first_pattern = "EEE d" if (first.year, first.month) == (last.year, last.month) else "EEE d MMM"
    if with_year and first.year != last.year:
        first_pattern = "EEE d MMM y"
    head = format_date(first, first_pattern, locale=locale)
    return f"{head} – {format_date(last, last_pattern, locale=locale)}"


# Day, month and year in full, for a document (a certificate) rather than a chat line: the
# day first in every language we speak, never Babel's 'en' order ('December 2, 2026').
_LONG_DATE = {"es": ("d 'de' MMMM 'de' y", "d 'de' MMMM")}
_LONG_DATE_DEFAULT = ("d MMMM y", "d MMMM")


def long_date_range(first: date, last: date, locale: str = "en") -> str:
    """'4 December 2026', '2 – 4 December 2026', '29 January – 2 February 2027',
    '28 December 2026 – 2 January 2027' ('2 – 4 de diciembre de 2026' in Spanish): the
    chat's day-month order, with the month written out."""
    full, day_month = _LONG_DATE.get(locale.split("_")[0], _LONG_DATE_DEFAULT)
    tail = format_date(last, full, locale=locale)
    if first == last:
        return tail
    if (first.year, first.month) == (last.year, last.month):
        head = format_date(first, "d", locale=locale)
    elif first.year == last.year:
        head = format_date(first, day_month, locale=locale)
    else:
        head = format_date(first, full, locale=locale)
    return f"{head} – {tail}"


def daily_parts(
    starts: datetime, ends: datetime, days: int, zone_name: str, locale: str = "en"
) -> tuple[date, date, str, str]:
    """A multi-day session's first and last local dates and its daily start and end."""
    local_start = starts.astimezone(zone(zone_name))
    local_end = ends.astimezone(zone(zone_name))
    last = local_start.date() + timedelta(days=days - 1)
    start = format_time(local_start, "HH:mm", locale=locale)
    return local_start.date(), last, start, format_time(local_end, "HH:mm", locale=locale)


@lru_cache(maxsize=1024)
def local_days(
    starts: datetime,
    ends: datetime,
    days: int,
    zone_name: str,
    locale: str = "en",
    *,
    template: str = "{dates}, {start}–{end} daily",
    with_year: bool = False,
) -> str:
    """'Wed 15 – Fri 17 Jan, 09:00–17:00 daily': `template` is i18n.DAILY translated."""
    first, last, start, end = daily_parts(starts, ends, days, zone_name, locale)
    dates = date_range(first, last, locale, with_year=with_year)
    return template.format(dates=dates, start=start, end=end)


@lru_cache(maxsize=1024)
def money(minor: int, currency: str, locale: str = "en") -> str:
    """Integer minor units as '£45.00' (no float ever touches the amount)."""
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=locale)
