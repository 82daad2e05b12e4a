"""The reader's language: gettext catalogues plus Babel formatting of dates, times and money.

Catalogues are the `.po` files under `bookbot/locales/<lang>/LC_MESSAGES/bookbot.po`,
compiled in memory on first use, so there is no build step and no `.mo` file to commit.
After adding or changing messages run `python scripts/update_catalogs.py` (see its docstring).

    t = translator(negotiate(update.effective_user.language_code))
    t._("Booked!")
    t.n_("{n} seat left", "{n} seats left", n).format(n=n)
    t.when(session.starts_at, studio.zone)
"""

from __future__ import annotations

import gettext as _gettext
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from io import BytesIO

from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bookbot.engine.errors import BookingError
from bookbot.engine.recurrence import zone
from bookbot.presentation import formatting

SUPPORTED: tuple[str, ...] = ("en", "es")
DEFAULT = "en"
DOMAIN = "bookbot"


def N_(msgid: str) -> str:
    """Mark a module-level string for extraction; translate it later with `t._(NAME)`."""
    return msgid


# A multi-day session: its dates (formatting.date_range) and the hours it runs each day.
DAILY = N_("{dates}, {start}–{end} daily")


def negotiate(code: str | None) -> str:
    """A supported language for a client's code ('es-MX', 'EN', 'pt_BR', None), else DEFAULT."""
    primary = (code or "").strip().replace("_", "-").partition("-")[0].lower()
    return primary if primary in SUPPORTED else DEFAULT


@dataclass(frozen=True)
class Translator:
    """Messages and formatting in one language; get one with `translator(language)`."""

    language: str
    translations: _gettext.NullTranslations = field(repr=False, compare=False)

    def gettext(self, msgid: str) -> str:
        return self.translations.gettext(msgid)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    _ = gettext
    n_ = ngettext

    def when(self, instant: datetime, zone_name: str) -> str:
        """'lun 4 ene 2027 18:00 CET'."""
        return formatting.local_when(instant, zone_name, locale=self.language)

    def span(
        self, start: datetime, end: datetime, zone_name: str, days: int = 1, *, separator: str = " "
    ) -> str:
        """'lun 4 ene 2027 18:00–20:00 CET' (`separator` between the date and the hours); a
        multi-day session (`days` > 1): 'mié 13 – vie 15 ene 2027, 09:00–17:00 daily GMT'."""
        if days > 1:
            text = self.days(start, end, days, zone_name, with_year=True)
            return f"{text} {start.astimezone(zone(zone_name)).tzname()}"
        return formatting.local_span(
            start, end, zone_name, locale=self.language, separator=separator
        )

    def days(
        self, start: datetime, end: datetime, days: int, zone_name: str, *, with_year: bool = False
    ) -> str:
        """'Wed 13 – Fri 15 Jan, 09:00–17:00 daily' on `zone_name`'s clock."""
        template = self.gettext(DAILY)
        return formatting.local_days(
            start, end, days, zone_name, self.language, template=template, with_year=with_year
        )

    def date(self, day: date) -> str:
        """'lun 4 ene'."""
        return format_date(day, "EEE d MMM", locale=self.language)

    def time(self, instant: datetime, zone_name: str) -> str:
        """'18:00' on the wall clock of `zone_name`."""
        return format_time(instant.astimezone(zone(zone_name)), "HH:mm", locale=self.language)

    def money(self, minor: int, currency: str) -> str:
        """'45,00 €' from 4500 minor units."""
        return formatting.money(minor, currency, locale=self.language)


def compile_po(po: bytes, language: str) -> _gettext.GNUTranslations:
    """A `.po` file's bytes as gettext translations (fuzzy entries are left out)."""
    catalog = read_po(BytesIO(po), locale=language, domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return _gettext.GNUTranslations(mo)


def translator(language: str | None) -> Translator:
    """The translator for `language`, negotiated (unknown codes get English), cached."""
    return _load(negotiate(language))


@cache
def _load(language: str) -> Translator:
    po = files("bookbot").joinpath("locales", language, "LC_MESSAGES", f"{DOMAIN}.po")
    return Translator(language, compile_po(po.read_bytes(), language))


def render_error(error: BookingError, t: Translator, zone_name: str) -> str:
    """A refusal in `t`'s language, its instants shown on `zone_name`'s clock."""
    translated = t.gettext(type(error).template)
    return error.render(
        lambda instant: t.when(instant, zone_name),
        template=translated,
        translate=t.gettext,
        show_day=t.date,
    )
