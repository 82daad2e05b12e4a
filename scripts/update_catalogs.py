"""Extract bookbot's messages and update its gettext catalogues (English and Spanish).

Usage, from the repository root:

    python scripts/update_catalogs.py          # rewrite locales/bookbot.pot and <lang>/.../bookbot.po
    python scripts/update_catalogs.py --check  # write nothing; exit 1 listing what needs work

Messages are found in `src/bookbot` by Babel's Python extractor, with the keywords
`_`, `gettext`, `ngettext:1,2`, `n_:1,2` and `N_` (so `t._("...")` and `t.n_(...)` count), and a
`# Translators: ...` comment just above a call reaches the translator.  The `template`
attributes of every `BookingError` subclass in `bookbot.engine.errors` are added as well.

Updating keeps existing translations, adds new messages with an empty msgstr (close matches of
changed messages come pre-filled and marked fuzzy, which gettext ignores until someone reviews
them and removes the flag), and keeps removed ones as `#~` obsolete entries.  A file whose
only change would be its dates is left alone.

`--check` updates the catalogues in memory and lists every message that has no Spanish
translation, is still fuzzy, or whose `{placeholders}` differ between msgid and msgstr
(plural forms too).  `tests/test_i18n.py` runs the same check.  Catalogues are compiled at
run time by `bookbot.presentation.i18n`; there is no `.mo` to build.
"""

from __future__ import annotations

import argparse
import inspect
import re
import string
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

import bookbot.engine.payments  # noqa: F401 - its refusal (PaymentNotOffered) is a BookingError too
from bookbot import __version__
from bookbot.engine.errors import BookingError
from bookbot.presentation.i18n import DEFAULT, DOMAIN, SUPPORTED

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "bookbot"
LOCALES = PACKAGE / "locales"
TEMPLATE = LOCALES / f"{DOMAIN}.pot"
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "n_": (1, 2),
    "N_": None,
}
HEADER = """\
# {what} for bookbot.
# This file is distributed under the same license as the bookbot project.
# Update it with scripts/update_catalogs.py.
#"""
_DATE_LINE = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*$', re.MULTILINE)


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _relative(path: str | Path) -> str:
    resolved = Path(path).resolve()
    return resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else str(path)


def _error_classes(cls: type[BookingError]) -> Iterator[type[BookingError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _error_classes(sub)


def _template_line(cls: type[BookingError]) -> tuple[str, int]:
    """Where `cls` sets `template` (file relative to the repository root, line)."""
    lines, first = inspect.getsourcelines(cls)
    offset = next((i for i, line in enumerate(lines) if line.strip().startswith("template")), 0)
    return _relative(inspect.getsourcefile(cls) or "?"), first + offset


def extract() -> Catalog:
    """The template: every marked message in the package plus the refusal templates."""
    template = Catalog(
        domain=DOMAIN,
        project="bookbot",
        version=__version__,
        header_comment=HEADER.format(what="Translations template"),
        charset="utf-8",
        fuzzy=False,
    )
    found = extract_from_dir(
        PACKAGE, keywords=KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True
    )
    for filename, lineno, message, comments, context in found:
        location = (_relative(PACKAGE / filename), lineno)
        template.add(message, None, [location], auto_comments=comments, context=context)
    for cls in _error_classes(BookingError):
        if "template" in vars(cls):
            template.add(
                cls.template, None, [_template_line(cls)], auto_comments=[f"refusal {cls.code}"]
            )
    return template


def _read(path: Path, language: str) -> Catalog:
    if path.exists():
        with path.open("rb") as file:
            return read_po(file, locale=language, domain=DOMAIN)
    name = Locale.parse(language).english_name
    return Catalog(
        locale=language,
        domain=DOMAIN,
        project="bookbot",
        version=__version__,
        header_comment=HEADER.format(what=f"{name} translations"),
        last_translator="bookbot maintainers",
        language_team=f"{name} <bookbot maintainers>",
        revision_date=datetime.now(UTC),
        charset="utf-8",
        fuzzy=False,
    )


def updated(template: Catalog) -> dict[str, Catalog]:
    """Each supported language's catalogue as on disk, updated to `template` (in memory)."""
    catalogs = {language: _read(po_path(language), language) for language in SUPPORTED}
    for catalog in catalogs.values():
        catalog.update(template)
    return catalogs


def _placeholders(text: str) -> set[str]:
    """The `{field}` names of a str.format template ('' for a positional `{}`)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _message_problems(message: Message, forms: int, translate: bool) -> Iterator[str]:
    ids = list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    if message.pluralizable and len(strings) != forms:
        yield f"has {len(strings)} plural forms, the language has {forms}"
    if translate and not all(strings):
        yield "is not translated"
    if translate and message.fuzzy:
        yield "is fuzzy (check the translation, then remove the flag)"
    try:
        wanted = [_placeholders(msgid) for msgid in ids]
        for index, text in enumerate(strings):
            got = _placeholders(text) if text else None
            need = wanted[min(index, len(wanted) - 1)]
            # A plural form may also use the other form's fields ('{n} plaza' for 'one seat').
            if got is not None and not need <= got <= set().union(*wanted):
                form = f"msgstr[{index}]" if message.pluralizable else "msgstr"
                yield f"{form} has placeholders {sorted(got)}, msgid has {sorted(need)}"
    except ValueError as error:
        yield f"has malformed braces: {error}"


def problems(catalog: Catalog, *, translate: bool = True) -> list[str]:
    """What is wrong with `catalog`: one readable line per problem.

    With `translate`, every message must have a non-fuzzy translation; always, a
    translation must use the same `{placeholders}` as its msgid.
    """
    found = []
    for message in catalog:
        if not message.id:
            continue  # the header
        for problem in _message_problems(message, catalog.num_plurals, translate):
            where = ", ".join(f"{file}:{line}" for file, line in message.locations[:1])
            msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
            found.append(f"{catalog.locale}: {msgid!r} ({where}) {problem}")
    return found


def check() -> list[str]:
    """Problems of every catalogue after an in-memory update from the current sources."""
    catalogs = updated(extract())
    return [
        line
        for language, catalog in catalogs.items()
        for line in problems(catalog, translate=language != DEFAULT)
    ]


def _write(path: Path, catalog: Catalog) -> bool:
    """Write `catalog` as a .po/.pot file unless only its dates would change."""
    buffer = BytesIO()
    write_po(buffer, catalog, width=100, sort_by_file=True)
    new = buffer.getvalue()
    if path.exists() and _DATE_LINE.sub(b"", path.read_bytes()) == _DATE_LINE.sub(b"", new):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(new)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a catalogue needs work"
    )
    args = parser.parse_args(argv)
    if args.check:
        found = check()
        for line in found:
            print(line)
        print(f"{len(found)} problem(s)" if found else "catalogues complete")
        return 1 if found else 0
    template = extract()
    paths = {TEMPLATE: template} | {
        po_path(language): catalog for language, catalog in updated(template).items()
    }
    for path, catalog in paths.items():
        print(f"{'wrote' if _write(path, catalog) else 'unchanged'} {_relative(path)}")
    print(f"{len(template)} messages; run with --check to see what needs translating")
    return 0


if __name__ == "__main__":
    sys.exit(main())
