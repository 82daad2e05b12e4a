"""Utilization and revenue reports: the rates, the phone-width text tables and the PNG charts."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from bookbot.engine.utilization import UtilizationRow
from bookbot.presentation import bar_chart, report_table, revenue_report
from bookbot.presentation.bar_chart import CHART_WIDTH, MAX_CHART_ROWS
from bookbot.presentation.i18n import Translator, translator
from bookbot.presentation.report_table import MAX_LINE
from bookbot.presentation.reports import utilization_chart, utilization_table
from bookbot.presentation.revenue_report import revenue_chart, revenue_table
from bookbot.services.payment_reports import ClassMoney

EN = translator("en")
ES = translator("es")
NBSP = "\u00a0"

YOGA = UtilizationRow("Yoga basics", sessions=4, capacity=48, booked=38, attended=34, no_shows=4)
SPIN = UtilizationRow(
    "Spin, early morning riders", sessions=10, capacity=100, booked=95, attended=95, no_shows=0
)
CLOSED = UtilizationRow("Closed room", sessions=2, capacity=0, booked=0, attended=0, no_shows=0)
ROWS = [YOGA, SPIN, CLOSED]


def test_rates() -> None:
    assert YOGA.fill_rate == pytest.approx(38 / 48)
    assert YOGA.attendance_rate == pytest.approx(34 / 38)
    assert YOGA.no_show_rate == pytest.approx(4 / 38)


def test_rates_without_a_denominator_are_zero() -> None:
    assert (CLOSED.fill_rate, CLOSED.attendance_rate, CLOSED.no_show_rate) == (0.0, 0.0, 0.0)
    empty_class = UtilizationRow("Quiet", sessions=3, capacity=30, booked=0, attended=0, no_shows=0)
    assert empty_class.fill_rate == 0.0
    assert empty_class.attendance_rate == 0.0


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="Yoga"):
        UtilizationRow("Yoga", sessions=1, capacity=10, booked=-1, attended=0, no_shows=0)


def test_table_in_english() -> None:
    assert utilization_table(ROWS, EN, title="Utilization, March 2027") == (
        "Utilization, March 2027\n"
        "                 Sess.  Booked Fill Att. No-show\n"
        "------------------------------------------------\n"
        "Yoga basics          4   38/48  79%  89%     11%\n"
        "Spin, early mor…    10  95/100  95% 100%      0%\n"
        "Closed room          2     0/0    —    —       —\n"
        "------------------------------------------------\n"
        "Total               16 133/148  90%  97%      3%\n"
        "\n"
        "Fill = booked of capacity; Att. and No-show =\n"
        "share of booked seats."
    )


def test_table_in_spanish_translates_headers_and_formats_percentages() -> None:
    text = utilization_table(ROWS, ES, title="Utilización, marzo de 2027")
    lines = text.splitlines()
    assert lines[0] == "Utilización, marzo de 2027"
    assert lines[1].split() == ["Ses.", "Reservas", "Ocup.", "Asist.", "Faltas"]
    assert lines[3] == f"Yoga basics       4    38/48  79{NBSP}%   89{NBSP}%   11{NBSP}%"
    assert lines[5].endswith("0/0     —      —      —")
    assert lines[7].startswith("Total ")
    assert lines[7].endswith(f"133/148  90{NBSP}%   97{NBSP}%    3{NBSP}%")
    assert "Ocup. = reservas sobre plazas" in text


def test_short_labels_make_a_narrow_table() -> None:
    row = UtilizationRow("Yoga", sessions=1, capacity=10, booked=5, attended=5, no_shows=0)
    text = utilization_table([row], EN, title="March")
    assert text.splitlines()[3] == "Yoga       1   5/10  50% 100%      0%"


@pytest.mark.parametrize("t", [EN, ES], ids=["en", "es"])
def test_lines_fit_a_phone(t: Translator) -> None:
    rows = [
        *ROWS,
        UtilizationRow("x" * 200, sessions=999, capacity=9999, booked=9999, attended=0, no_shows=0),
        UtilizationRow(
            "🧘 瑜伽 Pilates\nbásico", sessions=3, capacity=30, booked=10, attended=7, no_shows=2
        ),
    ]
    text = utilization_table(rows, t, title="A very long title " * 5)
    lines = text.splitlines()
    assert all(len(line) <= MAX_LINE for line in lines)
    assert all(
        report_table._width(line) <= MAX_LINE for line in lines
    )  # wide characters count twice
    assert lines[0].endswith("…")
    assert any(line.startswith("xxx") and "…" in line for line in lines)
    assert any(line.startswith("🧘 瑜伽") for line in lines)  # the newline became a space


def test_huge_numbers_widen_the_table_rather_than_lose_digits() -> None:
    row = UtilizationRow("Yoga", sessions=1, capacity=10**7, booked=10**7, attended=0, no_shows=0)
    lines = utilization_table([row], EN, title="March").splitlines()
    assert "10,000,000/10,000,000" in lines[3]
    assert lines[3].startswith("Yoga ")
    assert len(lines[3]) > MAX_LINE


def test_long_labels_end_in_an_ellipsis_within_the_label_column() -> None:
    text = utilization_table([SPIN], EN, title="March")
    row = text.splitlines()[3]
    label, _, rest = row.partition("…")
    assert label == "Spin, early morn"
    assert rest.split() == ["10", "95/100", "95%", "100%", "0%"]
    assert len(row) <= MAX_LINE


def test_table_without_rows() -> None:
    assert utilization_table([], EN, title="March") == "March\nNo data for this period."
    assert utilization_table([], ES, title="Marzo") == "Marzo\nNo hay datos para este periodo."


def _image(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(BytesIO(png)) as image:
        image.load()
        assert image.format == "PNG"
        return image.copy()


def test_chart_is_a_png() -> None:
    image = _image(utilization_chart(ROWS, EN, title="Utilization, March 2027"))
    assert image.mode == "RGB"
    assert image.width == CHART_WIDTH
    assert 200 < image.height < 600
    assert len(image.getcolors(maxcolors=100_000) or []) > 3  # not blank


def test_chart_is_deterministic() -> None:
    first = utilization_chart(ROWS, ES, title="Utilización")
    assert utilization_chart(list(ROWS), ES, title="Utilización") == first


def test_chart_changes_with_the_data_and_the_language() -> None:
    charts = {
        utilization_chart(ROWS, EN, title="March"),
        utilization_chart([YOGA, SPIN], EN, title="March"),
        utilization_chart(
            [YOGA, SPIN, UtilizationRow("Closed room", 2, 10, 1, 1, 0)], EN, title="March"
        ),
        utilization_chart(ROWS, EN, title="April"),
        utilization_chart(ROWS, ES, title="March"),
    }
    assert len(charts) == 5


def test_chart_grows_with_rows_up_to_a_cap() -> None:
    def height(count: int) -> int:
        return _image(utilization_chart([YOGA] * count, EN, title="March")).height

    assert height(1) < height(2) < height(MAX_CHART_ROWS)
    capped = height(MAX_CHART_ROWS + 1)
    assert capped > height(MAX_CHART_ROWS)  # room for the "+1 more row not shown" note
    assert height(MAX_CHART_ROWS + 30) == capped
    assert capped <= 1500


def test_chart_without_rows_says_so() -> None:
    png = utilization_chart([], EN, title="March")
    image = _image(png)
    assert image.size == (CHART_WIDTH, 200)
    assert png != utilization_chart([], ES, title="March")


def test_chart_text_is_simplified_to_what_the_default_font_draws() -> None:
    assert bar_chart.drawable("Tasa de ocupación — niños\u00a0%") == "Tasa de ocupacion - ninos %"
    assert bar_chart.drawable("🧘 Yoga…") == "Yoga…"
    assert bar_chart.drawable("瑜伽") == "??"


# --- revenue --------------------------------------------------------------------------------

COURSE = ClassMoney("Six-Week Wheel Course", "GBP", paid_minor=14400, balances_minor=33600)
TASTER = ClassMoney("Wheel Throwing Taster", "GBP", paid_minor=9000, refunded_minor=3000, refunds=1)
INVOICED = ClassMoney("", "GBP", invoices_minor=48000)
MONEY = [COURSE, TASTER, INVOICED]


def test_revenue_table_in_english() -> None:
    assert revenue_table(MONEY, EN, title="Revenue by class, Mon 23 Nov – Wed 2 Dec") == (
        "Revenue by class, Mon 23 Nov – Wed 2 Dec\n"
        "                         Paid Refunds    Owed\n"
        "---------------------------------------------\n"
        "Six-Week Wheel Course £144.00   £0.00 £336.00\n"
        "Wheel Throwing Taster  £90.00  £30.00   £0.00\n"
        "Other                   £0.00   £0.00 £480.00\n"
        "---------------------------------------------\n"
        "Total                 £234.00  £30.00 £816.00\n"
        "\n"
        "Net: £204.00 (paid less refunds).\n"
        "\n"
        "Owed now: balances £336.00, invoices £480.00.\n"
        "\n"
        "Paid and Refunds: in the period. Owed: balances\n"
        "and invoices still unpaid today."
    )


def test_revenue_table_in_spanish() -> None:
    euros = [ClassMoney(r.class_name, "EUR", **_amounts(r)) for r in MONEY]
    lines = revenue_table(euros, ES, title="Ingresos").splitlines()
    assert lines[1].split() == ["Pagado", "Reemb.", "Pendiente"]
    assert lines[3] == f"Six-Week Wheel Course 144,00{NBSP}€  0,00{NBSP}€  336,00{NBSP}€"
    assert lines[5].startswith("Otros ")
    assert lines[7].endswith(f"234,00{NBSP}€ 30,00{NBSP}€  816,00{NBSP}€")
    assert f"Neto: 204,00{NBSP}€ (pagado menos reembolsos)." in lines
    assert all(report_table._width(line) <= MAX_LINE for line in lines)


def _amounts(row: ClassMoney) -> dict[str, int]:
    return {
        "paid_minor": row.paid_minor,
        "refunded_minor": row.refunded_minor,
        "refunds": row.refunds,
        "balances_minor": row.balances_minor,
        "invoices_minor": row.invoices_minor,
    }


def test_revenue_in_two_currencies_totals_each() -> None:
    text = revenue_table(
        [TASTER, ClassMoney("Wheel Throwing Taster", "EUR", paid_minor=5000)], EN, title="R"
    )
    assert "Wheel Throwing Taster (EUR)" in text
    assert "Total EUR" in text
    assert "Total GBP" in text
    assert "Net: €50.00, £60.00 (paid less refunds)." in text


def test_revenue_without_rows() -> None:
    assert revenue_table([], EN, title="Revenue") == "Revenue\nNo data for this period."
    assert _image(revenue_chart([], ES, title="Ingresos")).size == (CHART_WIDTH, 200)


def test_revenue_chart_is_deterministic_and_follows_data_and_language() -> None:
    first = revenue_chart(MONEY, ES, title="Ingresos")
    assert revenue_chart(list(MONEY), ES, title="Ingresos") == first
    image = _image(first)
    assert image.width == CHART_WIDTH
    assert len(image.getcolors(maxcolors=100_000) or []) > 3
    others = {
        first,
        revenue_chart(MONEY, EN, title="Ingresos"),
        revenue_chart([COURSE, TASTER], ES, title="Ingresos"),
    }
    assert len(others) == 3


def test_revenue_chart_money_is_drawable() -> None:
    assert revenue_report._chart_money(14400, "GBP", EN) == "GBP 144.00"  # no '£' in the font
    assert revenue_report._chart_money(14400, "USD", EN) == "$144.00"
    assert revenue_report._chart_money(14400, "EUR", ES) == "144,00 EUR"


def test_revenue_grid_steps_are_round() -> None:
    assert [revenue_report._round_step(x) for x in (0, 9, 9000, 33600, 123456)] == [
        1,
        5,
        2500,
        10000,
        50000,
    ]
