"""Every message in both languages, against the rules a sentence with a number must follow.

- A translation uses the same `{placeholders}` as its msgid, and every message the sources use
  is in the catalogues (a message written today and not yet translated is named, so the
  translator knows what to add: `python scripts/update_catalogs.py`, then translate).
- A number that counts something is formatted through a plural entry (`n_`), so "1 seat" and
  "2 seats" each read right: a plain msgid with `{n}` is a mistake unless `{n}` is not a count
  of anything (an option's number, "party of {n}").
- No article is glued before a number: "a {n}-session pass" reads "a 8-session pass".
- Every plural entry renders for 0, 1, 2, 8 and 11 in both languages (and the seat counts a
  customer sees read right for those numbers: tests/conversations/test_seat_counts.py).

Babel's own locale data is not asserted here (its plural rules change between releases); the
catalogues' headers decide the forms, as tests/test_i18n.py explains.
"""

from __future__ import annotations

import re
import string

import pytest
from babel.messages.catalog import Catalog, Message
from scripts.update_catalogs import extract, updated

from bookbot.presentation.i18n import SUPPORTED, translator

# Plain msgids whose {n} is not a count of anything, each read and kept on purpose.
N_NOT_A_COUNT = {
    "✖ Cancel {n}": "the number of a listed conflict, a label",
    "✅ Keep {n}": "the number of a listed conflict, a label",
    "Party of {n}": "no noun follows the number",
    "{who} (party of {n})": "no noun follows the number",
    "… and {n} more": "'more' reads for any number",
    "For more people, send e.g. “{n} people”.": "an example of a bigger party, never 1",
    "Please type a short reason (at most {n} characters). Nothing was changed.": (
        "n is the reason limit, a constant far above 1"
    ),
    "Details for your booking ({n} of {total}):": "a position in a sequence, not a count",
    "Name of person {n} of {total}?": "a position in a sequence, not a count",
    "{name}, guest {n}": "a guest's position in the party, a label",
    "Please keep it under {n} characters.": "n is a field's length limit, a constant above 1",
    "Please keep requests under {n} characters.": "n is the requests limit, a constant above 1",
    "Start% = starts of views; Book% = booked of starts. Aband. = starts not booked, "
    "{n} of them backed out in the chat, the rest left to lapse.": "'{n} of them' reads for any n",
}
# Plain messages that put a counted noun after a number that is not {n}. Known when this test
# was written (issue 16): each can read "1 minutes" or "1 hours" and should become a plural
# entry; the list only keeps new ones from being added.
KNOWN_UNCOUNTED = {
    'Your package "{name}" has {left} minutes left; this appointment takes {needed}.',
    'Your package "{name}" has {left} minutes left; this appointment takes {needed} minutes.',
    "Only {seats_left} seats left on {when}, {needed} needed.",
    "Bookings can be cancelled up to {hours} hours before the start.",
    "Bookings can be moved up to {cutoff_hours} hours before the start (until {deadline}).",
}
_COUNTED_NOUN = re.compile(
    r"\{(\w+)\}\s+(?:seats?|sessions?|days?|people|places?|spots?|weeks?|hours?|minutes?|"
    r"dates?|bookings?|passes|lessons?)\b"
)
# An article right before a number placeholder, or before a placeholder glued to a word by a
# hyphen ("a {n}-session"): English picks "a" or "an" by the sound of the number.
_ARTICLE_BEFORE_NUMBER = re.compile(
    r"\b(?:a|an|An|A)\s+\{(?:n|count|number|sessions|days|left|seats|seats_left|hours)\}"
    r"|\b(?:a|an|An|A)\s+\{\w+\}-\w"
)
SEATS = (0, 1, 2, 8, 11)


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    """Each language's catalogue as on disk, updated in memory to what the sources use."""
    return updated(extract())


def msgids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, list | tuple) else [message.id]


def texts(message: Message, language: str) -> list[str]:
    """What a reader of `language` gets: the msgids in English, the msgstrs otherwise."""
    if language == "en":
        return msgids(message)
    found = message.string
    return [s for s in (list(found) if isinstance(found, list | tuple) else [found]) if s]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_translations_use_the_placeholders_of_their_msgids(catalogs: dict[str, Catalog]) -> None:
    """Each translated form uses the msgid's fields (a plural form may use the other form's
    too). Fuzzy entries are left out: gettext ignores them, and the next test names them."""
    found = []
    for language, catalog in catalogs.items():
        for m in catalog:
            if not m.id or m.fuzzy:
                continue
            wanted = [fields(i) for i in msgids(m)]
            for index, text in enumerate(texts(m, language)):
                need = wanted[min(index, len(wanted) - 1)]
                got = fields(text)
                if not need <= got <= set().union(*wanted):
                    found.append(f"{language}: {msgids(m)[0]!r} form {index} uses {sorted(got)}")
    assert found == [], "\n".join(found)


def test_every_message_the_sources_use_is_translated(catalogs: dict[str, Catalog]) -> None:
    missing = sorted(
        msgids(m)[0]
        for language, catalog in catalogs.items()
        if language != "en"
        for m in catalog
        if m.id and (m.fuzzy or not texts(m, language))
    )
    assert missing == [], (
        f"{len(missing)} message(s) have no Spanish translation yet (the translator fills them:"
        " python scripts/update_catalogs.py, then translate locales/es):\n"
        + "\n".join(f"  {m!r}" for m in missing)
    )


def test_a_number_n_is_formatted_through_a_plural_entry(catalogs: dict[str, Catalog]) -> None:
    plain = sorted(
        msgids(m)[0]
        for m in catalogs["en"]
        if m.id and not m.pluralizable and "n" in fields(msgids(m)[0])
    )
    unexplained = [m for m in plain if m not in N_NOT_A_COUNT]
    assert unexplained == [], (
        "these format {n} without n_ (use ctx.t.n_(singular, plural, n)), or say in "
        "N_NOT_A_COUNT why {n} counts nothing:\n" + "\n".join(map(repr, unexplained))
    )


def test_no_new_plain_message_counts_a_noun(catalogs: dict[str, Catalog]) -> None:
    counted = sorted(
        msgids(m)[0]
        for m in catalogs["en"]
        if m.id and not m.pluralizable and _COUNTED_NOUN.search(msgids(m)[0])
    )
    new = [m for m in counted if m not in KNOWN_UNCOUNTED and m not in N_NOT_A_COUNT]
    assert new == [], "a count needs a plural entry (n_):\n" + "\n".join(map(repr, new))


@pytest.mark.parametrize("language", SUPPORTED)
def test_no_article_is_glued_before_a_number(catalogs: dict[str, Catalog], language: str) -> None:
    glued = [
        text
        for m in catalogs[language]
        if m.id
        for text in texts(m, language)
        if _ARTICLE_BEFORE_NUMBER.search(text)
    ]
    assert glued == [], (
        "'a {n}-…' reads 'a 8-…' (write '{n}-session pass', or 'pass of {n} sessions'):\n"
        + "\n".join(map(repr, glued))
    )


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_plural_entry_renders_for_0_1_2_8_11(
    catalogs: dict[str, Catalog], language: str
) -> None:
    t = translator(language)
    broken = []
    for m in catalogs["en"]:
        if not m.id or not m.pluralizable:
            continue
        singular, plural = msgids(m)[:2]
        for n in SEATS:
            form = t.n_(singular, plural, n)
            values = dict.fromkeys(fields(singular) | fields(plural), "X") | {"n": n}
            try:
                text = form.format(**values)
            except (KeyError, IndexError, ValueError) as error:
                broken.append(f"{singular!r} for {n}: {error!r}")
                continue
            if "{n}" in plural and "n" in fields(form) and str(n) not in text:
                broken.append(f"{singular!r} for {n}: {text!r}")
    assert broken == [], "\n".join(broken)
