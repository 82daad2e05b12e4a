"""The revenue report: money per class (paid and refunded in the period, owed now), as a text
table and a PNG bar chart. Pure, like `reports`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from babel.numbers import get_currency_symbol

from bookbot.presentation.bar_chart import (
    BAD_COLOR,
    GOOD_COLOR,
    OWED_COLOR,
    Bar,
    BarRow,
    Chart,
    Series,
    bar_chart,
    has_glyph,
)
from bookbot.presentation.i18n import N_, Translator
from bookbot.presentation.report_table import TOTAL, Table, table_text
from bookbot.services.payment_reports import ClassMoney

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


def _money_label(row: ClassMoney, t: Translator, *, currencies: int) -> str:
    name = row.class_name or t._(_OTHER)
    return f"{name} ({row.currency})" if currencies > 1 else name


def revenue_table(rows: Sequence[ClassMoney], t: Translator, *, title: str) -> str:
    """Money per class as a monospace table (see `reports.utilization_table` for the layout)::

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
                t._(TOTAL) if len(currencies) == 1 else f"{t._(TOTAL)} {currency}",
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
        [Series(t._(_PAID), GOOD_COLOR), Series(t._(_REFUNDS), BAD_COLOR)]
        + [Series(t._(_OWED), OWED_COLOR)],
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
    if all(has_glyph(char) for char in symbol):
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
