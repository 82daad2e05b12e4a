"""The monospace text table every staff report is printed as (utilization, revenue, funnel,
dashboard): a title, rows, totals under a rule, notes; no line over 48 cells."""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bookbot.presentation.i18n import N_, Translator

MAX_LINE = 48
"""Widest line of the text table, in monospace cells: it reads on a phone without wrapping."""
ELLIPSIS = "…"
NOT_APPLICABLE = "—"
"""Shown instead of a rate whose denominator is 0 (no seats, or nothing booked)."""
_MIN_LABEL = 6

# Translators: label of the utilization table's last row, the sum of the rows above.
TOTAL = N_("Total")
NO_DATA = N_("No data for this period.")


@dataclass(frozen=True)
class Table:
    """A table of labelled rows: `header` names the number columns (the label column is
    unheaded: the title says what the rows are); each row is its label then one cell per
    header; `totals` come under a rule; each of `notes` is a paragraph under the table."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    totals: Sequence[Sequence[str]] = ()
    notes: Sequence[str] = ()


def table_text(table: Table, t: Translator, *, title: str) -> str:
    """`table` in monospace, no line over 48 cells (see `reports.utilization_table` for the layout):
    the title, the header, a rule, the rows, a rule and the totals, then the notes wrapped to
    48. Without rows: the title and a "no data" line."""
    lines = [_fit(_clean(title), MAX_LINE)] if title.strip() else []
    if not table.rows:
        return "\n".join([*lines, *textwrap.wrap(t._(NO_DATA), MAX_LINE)])
    header = ["", *table.header]
    body = [[_clean(row[0]), *row[1:]] for row in table.rows]
    totals = [[_clean(row[0]), *row[1:]] for row in table.totals]
    every = [header, *body, *totals]
    numbers = [max(_width(line[column]) for line in every) for column in range(1, len(header))]
    room = MAX_LINE - sum(numbers) - len(numbers)
    label_width = max(_MIN_LABEL, min(room, max(_width(line[0]) for line in every)))
    widths = [label_width, *numbers]
    rule = "-" * (sum(widths) + len(numbers))
    lines += [_line(header, widths), rule]
    lines += [_line(line, widths) for line in body]
    if totals:
        lines += [rule, *(_line(line, widths) for line in totals)]
    for note in table.notes:
        lines += ["", *textwrap.wrap(note, MAX_LINE)]
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    label, *numbers = cells
    fitted = _fit(label, widths[0])
    parts = [fitted + " " * (widths[0] - _width(fitted))]
    parts += [
        " " * (width - _width(cell)) + cell for cell, width in zip(numbers, widths[1:], strict=True)
    ]
    return " ".join(parts).rstrip()


def _clean(text: str) -> str:
    """One line: runs of whitespace (newlines, tabs) become one space."""
    return " ".join(text.split())


def _cell_width(char: str) -> int:
    """Monospace cells `char` takes: 2 for wide (CJK, most emoji), 0 for combining marks."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _width(text: str) -> int:
    return sum(_cell_width(char) for char in text)


def _fit(text: str, width: int) -> str:
    """`text` if it takes at most `width` cells, else cut to end in '…' within `width`."""
    if _width(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += _cell_width(char)
        if used > width - 1:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS
