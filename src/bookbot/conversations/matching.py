"""Turning what a person typed into one of the options they were offered."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_NUMBER = re.compile(r"^\s*#?\s*(\d{1,3})\s*[.)]?\s*$")
# More digits than any party size, option or id a person could mean. Checked before int():
# Python refuses to convert a string of more than 4,300 digits (a ValueError, not an answer).
NUMBER_DIGITS = 9


def fold(text: str) -> str:
    """Lower case, accents and emoji removed, spaces collapsed: 'Sí, ¡Confirmar! ✅' -> 'si confirmar'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.split())


@dataclass(frozen=True)
class Ambiguous:
    """Typed words that name more than one option (their indexes, in list order): ask which."""

    indexes: tuple[int, ...]


# Words a person adds around an option's name ("the wheel one please"): not part of a name.
_SPARE = frozenset(
    {"the", "a", "an", "one", "please", "el", "la", "los", "las", "un", "una", "por", "favor"}
)
TYPO_LENGTH = 5  # a word this long may have one letter wrong, missing, extra or swapped


def pick(
    text: str, labels: Sequence[str], aliases: Sequence[Sequence[str]] = ()
) -> int | Ambiguous | None:
    """The index of the option `text` names, an `Ambiguous` when it names several, or None.

    Accepted, ignoring case and accents: the option's number as listed (1-based; a number
    always means that option, or nothing), its label or one of its aliases, or words that
    are each a whole word of the label or of one alias ("wheel" names "Wheel Throwing
    Taster"; "m" or "whe" names nothing). A word of five letters or more may have one typo.
    """
    if _NUMBER.match(text):
        return option_number(text, len(labels))
    typed = fold(text[:LIMIT])
    if not typed:
        return None
    names = [[label, *(aliases[i] if i < len(aliases) else ())] for i, label in enumerate(labels)]
    for index, options in enumerate(names):
        if any(fold(name) == typed for name in options):
            return index
    wanted = [word for word in typed.split() if word not in _SPARE] or typed.split()
    if not any(word.isalpha() for word in wanted):
        return None  # numbers and dates alone are the caller's to read
    found = tuple(
        i for i, options in enumerate(names) if any(_has_words(wanted, n) for n in options)
    )
    if len(found) > 1:
        return Ambiguous(found)
    return found[0] if found else None


LIMIT = 200  # the most of a typed answer that is compared with names


def _has_words(wanted: Sequence[str], name: str) -> bool:
    own = fold(name).split()
    return all(any(close(word, their) for their in own) for word in wanted)


def close(typed: str, word: str) -> bool:
    """The same word, or (both TYPO_LENGTH letters or more) one edit apart: a letter wrong,
    missing, extra, or two neighbours swapped."""
    if typed == word:
        return True
    if min(len(typed), len(word)) < TYPO_LENGTH or abs(len(typed) - len(word)) > 1:
        return False
    if len(typed) == len(word):
        diffs = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        first = diffs[0]
        return (
            diffs == [first, first + 1]
            and typed[first] == word[first + 1]
            and (typed[first + 1] == word[first])
        )
    shorter, longer = sorted((typed, word), key=len)
    skip = next(
        (i for i, (a, b) in enumerate(zip(shorter, longer, strict=False)) if a != b), len(shorter)
    )
    return shorter[skip:] == longer[skip + 1 :]


def option_number(text: str, count: int) -> int | None:
    """The index of the option a typed number ('3', '#3', '3.') names among `count`, or None."""
    number = _NUMBER.match(text)
    if number is None:
        return None
    index = int(number.group(1)) - 1
    return index if 0 <= index < count else None


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
