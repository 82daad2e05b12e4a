"""Utilization reports: booked, attended and no-show rates per class or session, as text and PNG.

Pure: the caller counts seats over a period it chose (from the store) and passes one
`UtilizationRow` per class or per session, in the order they should be shown; nothing here
touches a database, the network or the clock.  The same rows always give the same text and the
same PNG bytes.

    text = utilization_table(rows, t, title=title)
    await bot.send_message(chat_id, f"<pre>{html.escape(text)}</pre>", parse_mode="HTML")
    await bot.send_photo(chat_id, utilization_chart(rows, t, title=title))

The chart is drawn with Pillow's built-in font (`ImageFont.load_default(size)`, a subset of
Aileron that needs FreeType, which every Pillow wheel bundles).  That subset covers printable
ASCII and a few marks ('…', '·', quotes) but no accented letters, so text the font cannot draw
is simplified for the image only: 'Ocupación' is drawn as 'Ocupacion', dashes as '-', other
letters (Greek, CJK, ...) as '?', and symbols and emoji are dropped.  The text table keeps
every character.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from io import BytesIO

from babel.numbers import format_decimal, format_percent, get_currency_symbol
from PIL import Image, ImageDraw, ImageFont

from bookbot.engine.utilization import UtilizationRow
from bookbot.presentation.i18n import N_, Translator
from bookbot.services.payment_reports import ClassMoney

MAX_LINE = 48
"""Widest line of the text table, in monospace cells: it reads on a phone without wrapping."""
MAX_CHART_ROWS = 20
"""Rows drawn in the chart; the rest are counted in a '+N more rows' note."""
CHART_WIDTH = 800

ELLIPSIS = "…"
NOT_APPLICABLE = "—"
"""Shown instead of a rate whose denominator is 0 (no seats, or nothing booked)."""
_MIN_LABEL = 6

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
# Translators: label of the utilization table's last row, the sum of the rows above.
_TOTAL = N_("Total")
# Translators: note under the utilization table explaining the abbreviated headers.
_KEY = N_("Fill = booked of capacity; Att. and No-show = share of booked seats.")
_NO_DATA = N_("No data for this period.")
# Translators: legend of the utilization chart.
_FILL_RATE = N_("Fill rate")
# Translators: legend of the utilization chart.
_ATTENDANCE_RATE = N_("Attendance rate")
# Translators: legend of the utilization chart.
_NO_SHOW_RATE = N_("No-show rate")
# Translators: revenue table header and chart legend, money received; at most 9 characters.
_PAID = N_("Paid")
# Translators: revenue table header and chart legend, money refunded; at most 9 characters.
_REFUNDS = N_("Refunds")
# Translators: revenue table header and chart legend, money still owed; at most 9 characters.
_OWED = N_("Owed")
# Translators: revenue row of payments that belong to no class.
_OTHER = N_("Other")
# Translators: under the revenue table; {amount} is money, e.g. £240.00.
_NET = N_("Net: {amount} (paid less refunds).")
# Translators: under the revenue table; {balances} and {invoices} are money.
_OWED_SPLIT = N_("Owed now: balances {balances}, invoices {invoices}.")
# Translators: note under the revenue table explaining its columns.
_REVENUE_KEY = N_(
    "Paid and Refunds: in the period. Owed: balances and invoices still unpaid today."
)


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


# --- text table -----------------------------------------------------------------------------


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
    """`table` in monospace, no line over 48 cells (see `utilization_table` for the layout):
    the title, the header, a rule, the rows, a rule and the totals, then the notes wrapped to
    48. Without rows: the title and a "no data" line."""
    lines = [_fit(_clean(title), MAX_LINE)] if title.strip() else []
    if not table.rows:
        return "\n".join([*lines, *textwrap.wrap(t._(_NO_DATA), MAX_LINE)])
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
        totals=[[t._(_TOTAL), *_cells(total(rows, ""), locale)]],
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


# --- revenue ---------------------------------------------------------------------------------


def _money_label(row: ClassMoney, t: Translator, *, currencies: int) -> str:
    name = row.class_name or t._(_OTHER)
    return f"{name} ({row.currency})" if currencies > 1 else name


def revenue_table(rows: Sequence[ClassMoney], t: Translator, *, title: str) -> str:
    """Money per class as a monospace table (see `utilization_table` for the layout)::

        Revenue by class, Mon 23 Nov – Wed 2 Dec
                                  Paid Refunds    Owed
        ----------------------------------------------
        Six-Week Wheel Course  £144.00   £0.00 £336.00
        Wheel Throwing Taster   £90.00  £30.00   £0.00
        ----------------------------------------------
        Total                  £234.00  £30.00 £336.00

        Net: £204.00 (paid less refunds).

        Owed now: balances £336.00, invoices £0.00.

        Paid and Refunds: in the period. Owed:
        balances and invoices still unpaid today.

    Amounts are Babel's, in each row's currency and `t.language` ('144,00 £' in Spanish);
    with more than one currency, labels name theirs and each gets its own total line.
    """
    currencies = sorted({row.currency for row in rows})
    table = Table(
        [t._(_PAID), t._(_REFUNDS), t._(_OWED)],
        [
            [
                _money_label(row, t, currencies=len(currencies)),
                t.money(row.paid_minor, row.currency),
                t.money(row.refunded_minor, row.currency),
                t.money(row.owed_minor, row.currency),
            ]
            for row in rows
        ],
        totals=[
            [
                t._(_TOTAL) if len(currencies) == 1 else f"{t._(_TOTAL)} {currency}",
                *(t.money(sum(amounts), currency) for amounts in _sums(rows, currency)),
            ]
            for currency in currencies
        ],
        notes=[*_revenue_notes(rows, t, currencies), t._(_REVENUE_KEY)],
    )
    return table_text(table, t, title=title)


def _sums(rows: Sequence[ClassMoney], currency: str) -> list[list[int]]:
    mine = [row for row in rows if row.currency == currency]
    return [
        [row.paid_minor for row in mine],
        [row.refunded_minor for row in mine],
        [row.owed_minor for row in mine],
    ]


def _revenue_notes(rows: Sequence[ClassMoney], t: Translator, currencies: list[str]) -> list[str]:
    net = ", ".join(
        t.money(sum(r.paid_minor - r.refunded_minor for r in rows if r.currency == c), c)
        for c in currencies
    )

    def owed(pick: Callable[[ClassMoney], int]) -> str:
        return ", ".join(
            t.money(sum(pick(r) for r in rows if r.currency == c), c) for c in currencies
        )

    split = t._(_OWED_SPLIT).format(
        balances=owed(lambda r: r.balances_minor), invoices=owed(lambda r: r.invoices_minor)
    )
    return [t._(_NET).format(amount=net), split]


def revenue_chart(rows: Sequence[ClassMoney], t: Translator, *, title: str) -> bytes:
    """A PNG of money per class: paid and refunded in the period, owed now, as bars on one
    scale (a round amount a little over the largest, labelled on the grid when there is one
    currency). Same rows, same bytes."""
    currencies = sorted({row.currency for row in rows})
    largest = max((max(r.paid_minor, r.refunded_minor, r.owed_minor) for r in rows), default=0)
    step = _round_step(largest)
    chart = Chart(
        [Series(t._(_PAID), _GOOD_COLOR), Series(t._(_REFUNDS), _BAD_COLOR)]
        + [Series(t._(_OWED), _OWED_COLOR)],
        [
            BarRow(
                _money_label(row, t, currencies=len(currencies)),
                [
                    Bar(minor / (4 * step), _chart_money(minor, row.currency, t))
                    for minor in (row.paid_minor, row.refunded_minor, row.owed_minor)
                ],
            )
            for row in rows
        ],
        axis=(
            [_chart_money(step * quarter, currencies[0], t) for quarter in range(5)]
            if len(currencies) == 1
            else ()
        ),
    )
    return bar_chart(chart, t, title=title)


def _chart_money(minor: int, currency: str, t: Translator) -> str:
    """`t.money`, with the currency's code for a symbol the chart's font cannot draw ('£')."""
    text = t.money(minor, currency)
    symbol = get_currency_symbol(currency, locale=t.language)
    if all(_has_glyph(char) for char in symbol):
        return text
    return " ".join(text.replace(symbol, f" {currency} ").split())


def _round_step(largest: int) -> int:
    """A grid step (1, 2, 2.5 or 5 times a power of ten, in minor units) whose four steps
    reach `largest`."""
    wanted = max(1, -(-largest // 4))
    power = 1
    while True:
        # At a power of 1, 5 // 2 is 2 again: no half minor unit.
        for step in (power, 2 * power, 5 * power // 2, 5 * power):
            if step >= wanted:
                return step
        power *= 10


# --- chart ----------------------------------------------------------------------------------

_MARGIN = 24
_TITLE_SIZE = 22
_TEXT_SIZE = 15
_SMALL_SIZE = 12
_LEGEND_Y = 62
_PLOT_TOP = 96
_LABEL_RIGHT = 226  # labels are cut to end here
_BAR_LEFT = 238  # 0 %
_BAR_SPAN = 470  # pixels for 100 %; higher rates are clipped, their value still printed
_BAR_HEIGHT = 11
_BAR_GAP = 3
_AXIS_HEIGHT = 26
_NOTE_HEIGHT = 26
_EMPTY_HEIGHT = 200

_BACKGROUND = (255, 255, 255)
_INK = (33, 37, 41)
_MUTED = (108, 117, 125)
_GRID = (222, 226, 230)


@dataclass(frozen=True)
class Series:
    """One kind of bar: its legend (already translated) and colour."""

    name: str
    color: tuple[int, int, int]


@dataclass(frozen=True)
class Bar:
    """A bar's length as a share of the grid (clipped to 0..1; None: no bar) and the value
    printed at its end."""

    share: float | None
    value: str


@dataclass(frozen=True)
class BarRow:
    label: str
    bars: Sequence[Bar]  # one per series, in the series' order


@dataclass(frozen=True)
class Chart:
    """Rows of horizontal bars, one per series; `axis` labels the grid's five lines (0, ¼,
    ½, ¾, all of it) when given."""

    series: Sequence[Series]
    rows: Sequence[BarRow]
    axis: Sequence[str] = ()


_FILL_COLOR = (52, 101, 164)
_GOOD_COLOR = (56, 142, 60)
_BAD_COLOR = (211, 63, 73)
_OWED_COLOR = (230, 145, 30)


@dataclass(frozen=True)
class _Rate:
    name: str
    color: tuple[int, int, int]
    rate: Callable[[UtilizationRow], float]
    base: Callable[[UtilizationRow], int]  # the rate's denominator


_RATES = (
    _Rate(_FILL_RATE, _FILL_COLOR, lambda row: row.fill_rate, lambda row: row.capacity),
    _Rate(_ATTENDANCE_RATE, _GOOD_COLOR, lambda row: row.attendance_rate, lambda row: row.booked),
    _Rate(_NO_SHOW_RATE, _BAD_COLOR, lambda row: row.no_show_rate, lambda row: row.booked),
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


def bar_chart(chart: Chart, t: Translator, *, title: str) -> bytes:
    """`chart` as a PNG (RGB, 800 px wide; see `utilization_chart` for the layout): same
    chart, same bytes."""
    image = _bars(chart, t, title) if chart.rows else _empty(t, title)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _empty(t: Translator, title: str) -> Image.Image:
    image = Image.new("RGB", (CHART_WIDTH, _EMPTY_HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    _title(draw, title)
    message = _drawable(t._(_NO_DATA))
    draw.text(
        (CHART_WIDTH // 2, _EMPTY_HEIGHT // 2 + 16),
        message,
        fill=_MUTED,
        font=_font(_TEXT_SIZE),
        anchor="mm",
    )
    return image


def _row_height(series: int) -> int:
    return series * _BAR_HEIGHT + (series - 1) * _BAR_GAP + 18


def _bars(chart: Chart, t: Translator, title: str) -> Image.Image:
    shown = chart.rows[:MAX_CHART_ROWS]
    hidden = len(chart.rows) - len(shown)
    row_height = _row_height(len(chart.series))
    plot_bottom = _PLOT_TOP + len(shown) * row_height
    height = plot_bottom + _AXIS_HEIGHT + (_NOTE_HEIGHT if hidden else 0) + _MARGIN
    image = Image.new("RGB", (CHART_WIDTH, height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    _title(draw, title)
    _legend(draw, chart.series)
    _grid(draw, chart.axis, plot_bottom)
    for index, row in enumerate(shown):
        _row(draw, row, chart.series, _PLOT_TOP + index * row_height)
    if hidden:
        note = t.n_("+{n} more row not shown", "+{n} more rows not shown", hidden)
        draw.text(
            (_MARGIN, plot_bottom + _AXIS_HEIGHT + 4),
            _drawable(note.format(n=hidden)),
            fill=_MUTED,
            font=_font(_TEXT_SIZE),
        )
    return image


def _title(draw: ImageDraw.ImageDraw, title: str) -> None:
    font = _font(_TITLE_SIZE)
    text = _fit_pixels(_drawable(title), font, CHART_WIDTH - 2 * _MARGIN)
    draw.text((_MARGIN, _MARGIN), text, fill=_INK, font=font)


def _legend(draw: ImageDraw.ImageDraw, series: Sequence[Series]) -> None:
    font = _font(_TEXT_SIZE)
    x = _MARGIN
    for one in series:
        draw.rectangle((x, _LEGEND_Y, x + 13, _LEGEND_Y + 13), fill=one.color)
        name = _drawable(one.name)
        draw.text((x + 20, _LEGEND_Y + 7), name, fill=_INK, font=font, anchor="lm")
        x += 20 + int(font.getlength(name)) + 28


def _grid(draw: ImageDraw.ImageDraw, axis: Sequence[str], bottom: int) -> None:
    font = _font(_SMALL_SIZE)
    for quarter in range(5):
        x = _BAR_LEFT + _BAR_SPAN * quarter // 4
        draw.line((x, _PLOT_TOP - 6, x, bottom), fill=_GRID, width=1)
        if quarter < len(axis):
            label = _drawable(axis[quarter])
            draw.text((x, bottom + 6), label, fill=_MUTED, font=font, anchor="mt")


def _row(draw: ImageDraw.ImageDraw, row: BarRow, series: Sequence[Series], top: int) -> None:
    font = _font(_TEXT_SIZE)
    small = _font(_SMALL_SIZE)
    bars_height = len(series) * _BAR_HEIGHT + (len(series) - 1) * _BAR_GAP
    label = _fit_pixels(_drawable(row.label), font, _LABEL_RIGHT - _MARGIN)
    draw.text((_MARGIN, top + bars_height // 2), label, fill=_INK, font=font, anchor="lm")
    for index, (one, bar) in enumerate(zip(series, row.bars, strict=True)):
        y = top + index * (_BAR_HEIGHT + _BAR_GAP)
        share = 0.0 if bar.share is None else max(0.0, min(bar.share, 1.0))
        length = round(_BAR_SPAN * share)
        if length:
            draw.rectangle((_BAR_LEFT, y, _BAR_LEFT + length, y + _BAR_HEIGHT - 1), one.color)
        middle = y + _BAR_HEIGHT // 2
        value = _drawable(bar.value)
        draw.text((_BAR_LEFT + length + 6, middle), value, fill=_MUTED, font=small, anchor="lm")


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def _fit_pixels(text: str, font: Font, width: int) -> str:
    """`text` if it is at most `width` pixels long in `font`, else cut to end in '…'."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _drawable(text: str) -> str:
    """`text` with what the default font cannot draw simplified (see the module docstring)."""
    return " ".join("".join(_drawable_char(char) for char in text).split())


@cache
def _drawable_char(char: str) -> str:
    if _has_glyph(char):
        return char
    category = unicodedata.category(char)
    if category.startswith("Z") or char.isspace():
        return " "
    if category == "Pd":
        return "-"
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base and base != char and all(_has_glyph(c) for c in base):
        return base
    return "" if category[0] in "SCM" else "?"


@cache
def _has_glyph(char: str) -> bool:
    """Whether the default font draws `char` as itself, not as its 'missing glyph' box."""
    return _render(char) != _render("\uffff")  # a noncharacter: never in a font


@cache
def _render(char: str) -> bytes:
    font = _font(_TEXT_SIZE)
    image = Image.new("L", (3 * _TEXT_SIZE, 3 * _TEXT_SIZE))
    ImageDraw.Draw(image).text((_TEXT_SIZE, _TEXT_SIZE), char, fill=255, font=font)
    return image.tobytes()
