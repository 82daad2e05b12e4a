"""The booking funnel as a text table and a PNG, with the table and bar-chart machinery of
`reports` (the utilisation and revenue reports): monospace, 48 cells wide, and a Pillow
chart whose bytes depend only on the figures. Pure: the caller reads `services.funnel`.

    Booking funnel, 1-30 Nov 2026
               Views Starts Booked Aband. Start% Book%
    -----------------------------------------------
    console        4      3      2      1  75.0%  66.7%
    telegram       6      2      0      2  33.3%   0.0%
    -----------------------------------------------
    Total         10      5      2      3  50.0%  40.0%

Start% is starts of views; Book% is booked of starts; Aband. are starts not booked.
"""

from __future__ import annotations

from collections.abc import Sequence

from babel.numbers import format_decimal, format_percent

from bookbot.presentation.bar_chart import Bar, BarRow, Chart, Series, bar_chart
from bookbot.presentation.i18n import N_, Translator
from bookbot.presentation.report_table import NOT_APPLICABLE, Table, table_text
from bookbot.services.funnel import Line, Report, percent

# Translators: funnel table header, people shown a class or service; at most 6 characters.
_VIEWS = N_("Views")
# Translators: funnel table header, bookings started (summary reached); at most 6 characters.
_STARTS = N_("Starts")
# Translators: funnel table header, bookings completed; at most 6 characters.
_BOOKED = N_("Booked")
# Translators: funnel table header, bookings started and not completed; at most 6 characters.
_ABANDONED = N_("Aband.")
# Translators: funnel table header, starts as a share of views; at most 6 characters.
_START_RATE = N_("Start%")
# Translators: funnel table header, booked as a share of starts; at most 6 characters.
_BOOK_RATE = N_("Book%")
# Translators: label of the funnel table's last row, all channels together.
_TOTAL = N_("Total")
# Translators: note under the funnel table; {n} is how many customers pressed Back or Menu.
_KEY = N_(
    "Start% = starts of views; Book% = booked of starts. Aband. = starts not booked, "
    "{n} of them backed out in the chat, the rest left to lapse."
)
# Translators: legend of the funnel chart.
_VIEWED_BAR = N_("Viewed")
# Translators: legend of the funnel chart.
_STARTED_BAR = N_("Started")
# Translators: legend of the funnel chart.
_BOOKED_BAR = N_("Booked")

_VIEW_COLOR = (52, 101, 164)
_START_COLOR = (230, 145, 30)
_BOOK_COLOR = (56, 142, 60)


def rate_text(part: int, whole: int, locale: str) -> str:
    """'66.7%' in `locale`, or '—' with nothing to divide by."""
    found = percent(part, whole)
    if found is None:
        return NOT_APPLICABLE
    return format_percent(found / 100, format="#,##0.0%", locale=locale)


def _cells(line: Line, locale: str) -> list[str]:
    counts = (line.viewed, line.started, line.completed, line.abandoned)
    return [
        *(format_decimal(n, locale=locale) for n in counts),
        rate_text(line.started, line.viewed, locale),
        rate_text(line.completed, line.started, locale),
    ]


_EVERY_COLUMN: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
_ITEM_COLUMNS = (0, 1, 2, 5)  # views, starts, booked, Book%


def _channel_label(line: Line) -> str:
    return line.channel


def item_label(line: Line) -> str:
    """'wheel-taster (class)'."""
    return f"{line.key} ({line.kind})"


def funnel_table(report: Report, t: Translator, *, title: str, by_item: bool = False) -> str:
    """Per channel, then the total and the key; with `by_item`, per item instead, in fewer
    columns (views, starts, booked, Book%) so that keys stay readable within 48 cells."""
    locale = t.language
    header = [t._(m) for m in (_VIEWS, _STARTS, _BOOKED, _ABANDONED, _START_RATE, _BOOK_RATE)]
    lines, label, keep = report.channels, _channel_label, _EVERY_COLUMN
    if by_item:
        lines, label, keep = report.items, item_label, _ITEM_COLUMNS
    table = Table(
        [header[i] for i in keep],
        [[label(line), *(_cells(line, locale)[i] for i in keep)] for line in lines],
        totals=[[t._(_TOTAL), *(_cells(report.total, locale)[i] for i in keep)]],
        notes=[t._(_KEY).format(n=report.total.backed_out)],
    )
    return table_text(table, t, title=title)


def funnel_chart(report: Report, t: Translator, *, title: str, by_item: bool = False) -> bytes:
    """A PNG of the funnel: per channel (or item) and in total, bars for viewed, started and
    booked on one scale (the largest view count), each with its count and, for started and
    booked, the share of the step before. Same report, same bytes."""
    locale = t.language
    lines: Sequence[Line] = report.items if by_item else report.channels
    rows = [*lines, report.total] if lines else []
    largest = max((max(r.viewed, r.started, r.completed) for r in rows), default=0)

    def bar(count: int, before: int | None) -> Bar:
        value = format_decimal(count, locale=locale)
        if before is not None:
            value += f" ({rate_text(count, before, locale)})"
        return Bar(count / largest if largest else None, value)

    chart = Chart(
        [
            Series(t._(_VIEWED_BAR), _VIEW_COLOR),
            Series(t._(_STARTED_BAR), _START_COLOR),
            Series(t._(_BOOKED_BAR), _BOOK_COLOR),
        ],
        [
            BarRow(
                t._(_TOTAL) if r is report.total else (item_label(r) if by_item else r.channel),
                [bar(r.viewed, None), bar(r.started, r.viewed), bar(r.completed, r.started)],
            )
            for r in rows
        ],
    )
    return bar_chart(chart, t, title=title)
