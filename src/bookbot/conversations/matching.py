"""Turning what a person typed into one of the options they were offered."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_NUMBER = re.compile(r"^\s*#?\s*(\d{1,3})\s*[.)]?\s*$")
# More digits than any party size, option or id a person could mean. Checked before int():
# Python refuses to convert a string of more than 4,300 digits (a ValueError, not an answer).
NUMBER_DIGITS = 9


def fold(text: str) -> str:
    """Lower case, accents and emoji removed, spaces collapsed: 'Sí, ¡Confirmar! ✅' -> 'si confirmar'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.split())


def pick(text: str, labels: Sequence[str], aliases: Sequence[Sequence[str]] = ()) -> int | None:
    """The index of the option `text` names, or None.

    Accepted: its number as listed (1-based), its label, or one of its aliases, ignoring
    case and accents; or a unique option whose label starts with the words typed.
    """
    number = _NUMBER.match(text)
    if number:
        index = int(number.group(1)) - 1
        return index if 0 <= index < len(labels) else None
    typed = fold(text)
    if not typed:
        return None
    for index, label in enumerate(labels):
        names = [label, *(aliases[index] if index < len(aliases) else ())]
        if any(fold(name) == typed for name in names):
            return index
    starts = [i for i, label in enumerate(labels) if fold(label).startswith(typed)]
    return starts[0] if len(starts) == 1 else None


def whole_number(text: str, most: int) -> int | None:
    """`text` (digits only, in any script) as a number, or None when it is not one.

    Anything above `most` comes back as `most + 1` without being converted, so a caller can
    answer "too many" to a 5,000-digit number as to 51, instead of failing on int().
    """
    if not text.isdecimal():  # not isdigit(): that also admits '²', which int() refuses
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > max(len(str(most)), NUMBER_DIGITS):
        return most + 1
    return min(int(significant), most + 1)


def numbers(text: str, count: int) -> list[int] | None:
    """'1 3, 5' -> [0, 2, 4] when every number is an offered option; else None."""
    parts = re.split(r"[\s,;]+", text.strip())
    picked = [whole_number(p, count) for p in parts]
    if not parts or None in picked:
        return None
    indexes = [n - 1 for n in picked if n is not None]
    return indexes if all(0 <= i < count for i in indexes) else None


NAME_LIMIT = 64  # a name is shown in greetings and on rosters; a paragraph is not a name


def clean_name(raw: str) -> str:
    """A display name from a channel (untrusted): without control or bidi-override
    characters (which could reorder the text around it), spaces collapsed, at most
    NAME_LIMIT characters."""
    kept = "".join(" " if ch.isspace() else ch for ch in raw if _printable(ch))
    return " ".join(kept.split())[:NAME_LIMIT].strip()


def _printable(ch: str) -> bool:
    # Cc: controls; Cf: format characters (bidi overrides and isolates, zero-width joiners…)
    return ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
