"""Horizontal bar charts as PNG, for the staff reports (utilization, revenue, funnel).

The chart is drawn with Pillow's built-in font (`ImageFont.load_default(size)`, a subset of
Aileron that needs FreeType, which every Pillow wheel bundles).  That subset covers printable
ASCII and a few marks ('…', '·', quotes) but no accented letters, so text the font cannot draw
is simplified for the image only: 'Ocupación' is drawn as 'Ocupacion', dashes as '-', other
letters (Greek, CJK, ...) as '?', and symbols and emoji are dropped.  The text table keeps
every character.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

from bookbot.presentation.i18n import Translator
from bookbot.presentation.report_table import ELLIPSIS, NO_DATA

MAX_CHART_ROWS = 20
"""Rows drawn in the chart; the rest are counted in a '+N more rows' note."""
CHART_WIDTH = 800

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


FILL_COLOR = (52, 101, 164)
GOOD_COLOR = (56, 142, 60)
BAD_COLOR = (211, 63, 73)
OWED_COLOR = (230, 145, 30)


def bar_chart(chart: Chart, t: Translator, *, title: str) -> bytes:
    """`chart` as a PNG (RGB, 800 px wide; see `reports.utilization_chart` for the layout): same
    chart, same bytes."""
    image = _bars(chart, t, title) if chart.rows else _empty(t, title)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _empty(t: Translator, title: str) -> Image.Image:
    image = Image.new("RGB", (CHART_WIDTH, _EMPTY_HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    _title(draw, title)
    message = drawable(t._(NO_DATA))
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
            drawable(note.format(n=hidden)),
            fill=_MUTED,
            font=_font(_TEXT_SIZE),
        )
    return image


def _title(draw: ImageDraw.ImageDraw, title: str) -> None:
    font = _font(_TITLE_SIZE)
    text = _fit_pixels(drawable(title), font, CHART_WIDTH - 2 * _MARGIN)
    draw.text((_MARGIN, _MARGIN), text, fill=_INK, font=font)


def _legend(draw: ImageDraw.ImageDraw, series: Sequence[Series]) -> None:
    font = _font(_TEXT_SIZE)
    x = _MARGIN
    for one in series:
        draw.rectangle((x, _LEGEND_Y, x + 13, _LEGEND_Y + 13), fill=one.color)
        name = drawable(one.name)
        draw.text((x + 20, _LEGEND_Y + 7), name, fill=_INK, font=font, anchor="lm")
        x += 20 + int(font.getlength(name)) + 28


def _grid(draw: ImageDraw.ImageDraw, axis: Sequence[str], bottom: int) -> None:
    font = _font(_SMALL_SIZE)
    for quarter in range(5):
        x = _BAR_LEFT + _BAR_SPAN * quarter // 4
        draw.line((x, _PLOT_TOP - 6, x, bottom), fill=_GRID, width=1)
        if quarter < len(axis):
            label = drawable(axis[quarter])
            draw.text((x, bottom + 6), label, fill=_MUTED, font=font, anchor="mt")


def _row(draw: ImageDraw.ImageDraw, row: BarRow, series: Sequence[Series], top: int) -> None:
    font = _font(_TEXT_SIZE)
    small = _font(_SMALL_SIZE)
    bars_height = len(series) * _BAR_HEIGHT + (len(series) - 1) * _BAR_GAP
    label = _fit_pixels(drawable(row.label), font, _LABEL_RIGHT - _MARGIN)
    draw.text((_MARGIN, top + bars_height // 2), label, fill=_INK, font=font, anchor="lm")
    for index, (one, bar) in enumerate(zip(series, row.bars, strict=True)):
        y = top + index * (_BAR_HEIGHT + _BAR_GAP)
        share = 0.0 if bar.share is None else max(0.0, min(bar.share, 1.0))
        length = round(_BAR_SPAN * share)
        if length:
            draw.rectangle((_BAR_LEFT, y, _BAR_LEFT + length, y + _BAR_HEIGHT - 1), one.color)
        middle = y + _BAR_HEIGHT // 2
        value = drawable(bar.value)
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


def drawable(text: str) -> str:
    """`text` with what the default font cannot draw simplified (see the module docstring)."""
    return " ".join("".join(_drawable_char(char) for char in text).split())


@cache
def _drawable_char(char: str) -> str:
    if has_glyph(char):
        return char
    category = unicodedata.category(char)
    if category.startswith("Z") or char.isspace():
        return " "
    if category == "Pd":
        return "-"
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base and base != char and all(has_glyph(c) for c in base):
        return base
    return "" if category[0] in "SCM" else "?"


@cache
def has_glyph(char: str) -> bool:
    """Whether the default font draws `char` as itself, not as its 'missing glyph' box."""
    return _render(char) != _render("\uffff")  # a noncharacter: never in a font


@cache
def _render(char: str) -> bytes:
    font = _font(_TEXT_SIZE)
    image = Image.new("L", (3 * _TEXT_SIZE, 3 * _TEXT_SIZE))
    ImageDraw.Draw(image).text((_TEXT_SIZE, _TEXT_SIZE), char, fill=255, font=font)
    return image.tobytes()
