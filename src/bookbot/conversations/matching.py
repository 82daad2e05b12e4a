"""Turning what a person typed into one of the options they were offered."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_NUMBER = re.compile(r"^\s*#?\s*(\d{1,3})\s*[.)]?\s*$")


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


def numbers(text: str, count: int) -> list[int] | None:
    """'1 3, 5' -> [0, 2, 4] when every number is an offered option; else None."""
    parts = re.split(r"[\s,;]+", text.strip())
    if not parts or not all(p.isdigit() for p in parts):
        return None
    picked = [int(p) - 1 for p in parts]
    return picked if all(0 <= i < count for i in picked) else None


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
