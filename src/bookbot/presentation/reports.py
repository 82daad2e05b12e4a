"""Utilization reports: booked, attended and no-show rates per class or session, as text and PNG.

Pure: the caller counts seats over a period it chose (from the store) and passes one
`UtilizationRow` per class or per session, in the order they should be shown; nothing here
touches a database, the network or the clock.  The same rows always give the same text and the
same PNG bytes.

    text = utilization_table(rows, t, title=title)
    await bot.send_message(chat_id, f"<pre>{html.escape(text)}</pre>", parse_mode="HTML")
    await bot.send_photo(chat_id, utilization_chart(rows, t, title=title))

The table is a `report_table.Table`, the chart a `bar_chart.Chart`; revenue is in
`revenue_report`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from babel.numbers import format_decimal, format_percent

from bookbot.engine.utilization import UtilizationRow
from bookbot.presentation.bar_chart import (
    BAD_COLOR,
    FILL_COLOR,
    GOOD_COLOR,
    Bar,
    BarRow,
    Chart,
    Series,
    bar_chart,
)
from bookbot.presentation.i18n import N_, Translator
from bookbot.presentation.report_table import NOT_APPLICABLE, TOTAL, Table, table_text

# Translators: utilization table header, number of sessions; at most 6 characters.
_SESSIONS = N_("Sess.")
# Translators: utilization table header over "booked/capacity" seats; at most 8 characters.
_BOOKED = N_("Booked")
# Translators: utilization table header, booked seats as a share of capacity; at most 6 characters.
_FILL = N_("Fill")
# Translators: utilization table header, attended as a share of booked; at most 6 characters.
_ATTENDED = N_("Att.")
# Translators: utilization table header, no-shows as a share of booked; at most 7 characters.
_NO_SHOW = N_("No-show")
# Translators: note under the utilization table explaining the abbreviated headers.
_KEY = N_("Fill = booked of capacity; Att. and No-show = share of booked seats.")
# Translators: legend of the utilization chart.
_FILL_RATE = N_("Fill rate")
# Translators: legend of the utilization chart.
_ATTENDANCE_RATE = N_("Attendance rate")
# Translators: legend of the utilization chart.
_NO_SHOW_RATE = N_("No-show rate")


def total(rows: Sequence[UtilizationRow], label: str) -> UtilizationRow:
    """The sum of `rows` (its rates are the overall rates, not an average of the rows' rates)."""
    return UtilizationRow(
        label,
        sessions=sum(row.sessions for row in rows),
        capacity=sum(row.capacity for row in rows),
        booked=sum(row.booked for row in rows),
        attended=sum(row.attended for row in rows),
        no_shows=sum(row.no_shows for row in rows),
    )


def utilization_table(rows: Sequence[UtilizationRow], t: Translator, *, title: str) -> str:
    """A monospace table of `rows` plus a total, in `t`'s language, no line over 48 cells.

    For a Telegram `<pre>` block (HTML-escape it: labels are the studio's own text) or an SMS.
    Layout (English; Spanish headers are "Ses.", "Reservas", "Ocup.", "Asist.", "Faltas")::

        Utilization, March 2027
                         Sess.  Booked Fill Att. No-show
        ------------------------------------------------
        Yoga basics          4   38/48  79%  89%     11%
        Spin, early mor…    10  95/100  95% 100%      0%
        Closed room          2     0/0    —    —       —
        ------------------------------------------------
        Total               16 133/148  90%  97%      3%

        Fill = booked of capacity; Att. and No-show =
        share of booked seats.

    The title line comes first (cut to 48).  The label column is left-aligned and unheaded (the
    title says what the rows are); the number columns are right-aligned and as wide as their
    widest cell or header; the label column gets what is left of 48 cells, at most what the
    longest label needs, and longer labels end in '…'.  Widths count East Asian wide characters
    and emoji as two cells and combining marks as none.  Percentages are Babel's
    `format_percent` in `t.language` ('79%', '79 %' in Spanish with a no-break space), counts
    are `format_decimal`; a rate whose denominator is 0 shows '—'.  The key under the table is
    wrapped to 48.  Without rows the table is the title and a "no data" line.  Only if the
    numbers are so large (over ~10^5 seats) that less than 6 cells would remain for the labels
    do lines grow past 48 rather than cut a number.
    """
    locale = t.language
    header = [t._(msgid) for msgid in (_SESSIONS, _BOOKED, _FILL, _ATTENDED, _NO_SHOW)]
    table = Table(
        header,
        [[row.label, *_cells(row, locale)] for row in rows],
        totals=[[t._(TOTAL), *_cells(total(rows, ""), locale)]],
        notes=[t._(_KEY)],
    )
    return table_text(table, t, title=title)


def _cells(row: UtilizationRow, locale: str) -> list[str]:
    """sessions, booked/capacity, fill %, attended %, no-show %."""
    return [
        format_decimal(row.sessions, locale=locale),
        f"{format_decimal(row.booked, locale=locale)}/{format_decimal(row.capacity, locale=locale)}",
        _percent(row.fill_rate, row.capacity, locale),
        _percent(row.attendance_rate, row.booked, locale),
        _percent(row.no_show_rate, row.booked, locale),
    ]


def _percent(rate: float, denominator: int, locale: str) -> str:
    return format_percent(rate, locale=locale) if denominator else NOT_APPLICABLE


@dataclass(frozen=True)
class _Rate:
    name: str
    color: tuple[int, int, int]
    rate: Callable[[UtilizationRow], float]
    base: Callable[[UtilizationRow], int]  # the rate's denominator


_RATES = (
    _Rate(_FILL_RATE, FILL_COLOR, lambda row: row.fill_rate, lambda row: row.capacity),
    _Rate(_ATTENDANCE_RATE, GOOD_COLOR, lambda row: row.attendance_rate, lambda row: row.booked),
    _Rate(_NO_SHOW_RATE, BAD_COLOR, lambda row: row.no_show_rate, lambda row: row.booked),
)


def utilization_chart(rows: Sequence[UtilizationRow], t: Translator, *, title: str) -> bytes:
    """A PNG (RGB, 800 px wide) of `rows` as horizontal bars: fill, attendance, no-show rate.

    Title on top, a legend under it, then per row its label (cut with '…') on the left and three
    bars on a 0–100 % grid, each with its percentage (Babel, `t.language`) at its end; a rate
    whose denominator is 0 gets no bar and '-'.  Rates over 100 % are clipped at the grid's
    edge.  The height grows with the rows; only the first `MAX_CHART_ROWS` are drawn (sort them
    first) and a note counts the rest.  Without rows: a small image saying there is no data.
    Same input, same bytes: no timestamps or other metadata go into the PNG.
    """
    locale = t.language
    chart = Chart(
        [Series(t._(rate.name), rate.color) for rate in _RATES],
        [
            BarRow(
                row.label,
                [
                    Bar(
                        rate.rate(row) if rate.base(row) else None,
                        _percent(rate.rate(row), rate.base(row), locale),
                    )
                    for rate in _RATES
                ],
            )
            for row in rows
        ],
        axis=[format_percent(quarter / 4, locale=locale) for quarter in range(5)],
    )
    return bar_chart(chart, t, title=title)
