"""Languages: negotiation, catalogues (complete in Spanish), Babel formatting, refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from scripts.update_catalogs import check, po_path, problems

from bookbot.engine import errors
from bookbot.presentation import i18n
from bookbot.presentation.i18n import N_, negotiate, render_error, translator

MONDAY_18_MADRID = datetime(2027, 1, 4, 17, 0, tzinfo=UTC)  # 18:00 CET

# Our catalogues' own rule, written into their headers (test_po_headers): one form for 1,
# another for everything else.  Tests build their headers from these strings and never ask
# Babel's locale data, whose count of forms for a language changes between releases
# (Babel 2.19 gives Spanish three).
TWO_FORMS = "nplurals=2; plural=(n != 1);"
# A rule no language data has, to show that the header, not the locale, decides.
THREE_FORMS = "nplurals=3; plural=(n == 0 ? 0 : n == 1 ? 1 : 2);"


def po_header(plural_forms: str, language: str = "es") -> str:
    """The header entry of a .po file of our own, with `plural_forms` as its rule."""
    return (
        'msgid ""\n'
        'msgstr ""\n'
        f'"Language: {language}\\n"\n'
        f'"Plural-Forms: {plural_forms}\\n"\n'
        '"MIME-Version: 1.0\\n"\n'
        '"Content-Type: text/plain; charset=utf-8\\n"\n'
        '"Content-Transfer-Encoding: 8bit\\n"\n'
    )


def catalog_with(plural_forms: str) -> Catalog:
    """An empty Spanish catalogue whose plural rule is `plural_forms`, read as bookbot reads."""
    po = po_header(plural_forms).encode()
    catalog = read_po(BytesIO(po), locale="es", domain=i18n.DOMAIN)
    assert catalog.num_plurals == int(plural_forms.split(";")[0].split("=")[1])
    return catalog


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("es-MX", "es"),
        ("es", "es"),
        ("ES_es", "es"),
        ("EN", "en"),
        ("en-GB", "en"),
        (None, "en"),
        ("", "en"),
        ("fr", "en"),
        ("  es ", "es"),
    ],
)
def test_negotiate(code: str | None, language: str) -> None:
    assert negotiate(code) == language


def test_translators_are_cached_and_unknown_languages_get_english() -> None:
    assert translator("es") is translator("es-AR")
    assert translator("fr") is translator("en")
    assert translator(None).language == "en"
    assert translator("fr").gettext("That cannot be done.") == "That cannot be done."


def test_spanish_translates_and_english_keeps_the_msgid() -> None:
    assert translator("es")._("That booking is already cancelled.") == (
        "Esa reserva ya está cancelada."
    )
    assert translator("en")._("That booking is already cancelled.") == (
        "That booking is already cancelled."
    )
    assert translator("es")._("not in any catalogue") == "not in any catalogue"
    assert N_("marked only") == "marked only"


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [("en", "1 person", "2 people"), ("es", "1 persona", "2 personas")],
)
def test_ngettext_picks_the_plural_form(language: str, one: str, two: str) -> None:
    t = translator(language)
    assert t.n_("{n} person", "{n} people", 1).format(n=1) == one
    assert t.ngettext("{n} person", "{n} people", 2).format(n=2) == two
    assert t.n_("{n} person", "{n} people", 0).format(n=0) == two.replace("2", "0")


@pytest.mark.parametrize(
    ("plural_forms", "msgstrs", "expected"),
    [
        (
            TWO_FORMS,
            ["{n} plaza", "{n} plazas"],
            ["0 plazas", "1 plaza", "2 plazas", "1000000 plazas"],
        ),
        (
            THREE_FORMS,
            ["ninguna plaza", "{n} plaza", "{n} plazas"],
            ["ninguna plaza", "1 plaza", "2 plazas", "1000000 plazas"],
        ),
    ],
)
def test_plural_forms_come_from_the_po_header(
    plural_forms: str, msgstrs: list[str], expected: list[str]
) -> None:
    """A catalogue of our own with its own header, compiled the way bookbot's are."""
    entry = 'msgid "{n} seat"\nmsgid_plural "{n} seats"\n' + "".join(
        f'msgstr[{index}] "{text}"\n' for index, text in enumerate(msgstrs)
    )
    po = f"{po_header(plural_forms)}\n{entry}".encode()
    t = i18n.Translator("es", i18n.compile_po(po, "es"))
    assert [t.n_("{n} seat", "{n} seats", n).format(n=n) for n in (0, 1, 2, 1_000_000)] == (
        expected
    )


@pytest.mark.parametrize("language", i18n.SUPPORTED)
def test_po_headers(language: str) -> None:
    header = po_path(language).read_text(encoding="utf-8")
    assert f'"Language: {language}\\n"' in header
    assert f'"Plural-Forms: {TWO_FORMS}\\n"' in header
    assert "charset=utf-8" in header


def test_spanish_formats_dates_times_and_money() -> None:
    es, en = translator("es"), translator("en")
    assert es.date(date(2027, 1, 4)) == "lun 4 ene"
    assert en.date(date(2027, 1, 4)) == "Mon 4 Jan"
    assert es.time(MONDAY_18_MADRID, "Europe/Madrid") == "18:00"
    assert es.when(MONDAY_18_MADRID, "Europe/Madrid") == "lun 4 ene 2027 18:00 CET"
    assert es.span(MONDAY_18_MADRID, MONDAY_18_MADRID.replace(hour=19), "Europe/Madrid") == (
        "lun 4 ene 2027 18:00–20:00 CET"
    )
    assert es.money(4500, "EUR") == "45,00\xa0€"
    assert es.money(4500, "GBP") == "45,00\xa0GBP"
    assert en.money(4500, "GBP") == "£45.00"


def test_refusals_render_in_the_readers_language_and_zone() -> None:
    error = errors.AlreadyBooked(when=MONDAY_18_MADRID)
    assert render_error(error, translator("es"), "Europe/Madrid") == (
        "Ya tienes una reserva para el lun 4 ene 2027 18:00 CET."
    )
    assert render_error(error, translator("en"), "Europe/London") == (
        "You are already booked on Mon 4 Jan 2027 17:00 GMT."
    )
    too_late = errors.CancellationTooLate(hours=24)
    assert render_error(too_late, translator("es"), "Europe/Madrid") == (
        "Las reservas se pueden cancelar hasta 24 h antes del inicio."
    )


def test_catalogues_are_complete_with_matching_placeholders() -> None:
    """The same check as `python scripts/update_catalogs.py --check`; run the script to fix."""
    assert check() == []


def test_the_check_catches_missing_fuzzy_and_mismatched_translations() -> None:
    catalog = catalog_with(TWO_FORMS)
    catalog.add("Hi {name}", "Hola {nombre}")
    catalog.add("Bye", "")
    catalog.add("Stay", "Quédate", flags=["fuzzy"])
    catalog.add("{x}", "{x")
    catalog.add(
        ("{n} seat on {when}", "{n} seats on {when}"), ("{n} plaza", "{n} plazas el {when}")
    )
    catalog.add(("one seat", "{n} seats"), ("{n} plaza", "{n} plazas"))  # '{n}' may be used in both
    catalog.add(("{n} seat", "{n} seats"), ("{n} plaza", ""))
    found = problems(catalog)
    assert len(found) == 6, found
    assert "msgstr has placeholders ['nombre'], msgid has ['name']" in found[0]
    assert found[1].endswith("'Bye' () is not translated")
    assert "fuzzy" in found[2]
    assert "malformed braces" in found[3]
    assert "msgstr[0] has placeholders ['n'], msgid has ['n', 'when']" in found[4]
    assert found[5].endswith("is not translated")
    assert problems(catalog, translate=False) == [found[0], found[3], found[4]]


def test_the_check_counts_plural_forms_by_the_header() -> None:
    catalog = catalog_with(THREE_FORMS)
    catalog.add(("{n} seat", "{n} seats"), ("{n} plazas", "{n} plaza", "{n} plazas"))
    catalog.add(("{n} row", "{n} rows"), ("{n} fila", "{n} filas"))
    assert problems(catalog) == [
        "es: '{n} row' () has 2 plural forms, the language has 3",
    ]


def test_a_refusal_shows_a_calendar_date_in_the_customers_language() -> None:
    expired = errors.PackageExpired(name="5 lessons", expires_on=date(2027, 2, 18))
    english = render_error(expired, translator("en"), "Europe/London")
    assert english == (
        'Your package "5 lessons" is valid until Thu 18 Feb, so it cannot pay for this appointment.'
    )
    assert "2027-02-18" not in render_error(expired, translator("es"), "Europe/Madrid")
