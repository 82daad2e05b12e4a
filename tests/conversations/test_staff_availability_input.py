"""What a staff member types to change their availability: what reads, what is refused."""

from __future__ import annotations

from datetime import date, time

import pytest

from bookbot.conversations.staff_availability_input import (
    Unreadable,
    parse_hours,
    parse_period,
    parse_window,
)

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("15 Dec - 20 Dec", (date(2026, 12, 15), date(2026, 12, 20), "")),
        ("2026-12-15 to 2026-12-20", (date(2026, 12, 15), date(2026, 12, 20), "")),
        ("15 dic al 20 dic: vacaciones", (date(2026, 12, 15), date(2026, 12, 20), "vacaciones")),
        ("Tue 15 Dec – Sun 20 Dec, away", (date(2026, 12, 15), date(2026, 12, 20), "away")),
        ("28 Dec - 3 Jan", (date(2026, 12, 28), date(2027, 1, 3), "")),  # into next year
        ("1 Nov - 2 Nov", (date(2027, 11, 1), date(2027, 11, 2), "")),  # the next 1 Nov
        ("30 Nov - 30 Nov", (TODAY, TODAY, "")),
    ],
)
def test_periods_that_read(typed: str, expected: tuple[date, date, str]) -> None:
    assert parse_period(typed, today=TODAY) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "December",
        "15 Dec",
        "20 Dec - 15 Dec",  # a slip, not nearly a year
        "2026-12-20 to 2026-12-15",
        "2026-11-01 to 2026-12-01",  # began before today
        "2026-12-01 to 2028-01-01",  # longer than a year
        "31 Feb - 3 Mar",
        "15 Foo - 20 Dec",
        "Mon 15 Dec - 20 Dec",  # the 15th is a Tuesday
        "15 Dec - 20 Dec " + "x" * 300,
        "9999-12-30 to 9999-12-31",  # the day after the last is past the calendar's end
    ],
)
def test_periods_refused(typed: str) -> None:
    with pytest.raises(Unreadable):
        parse_period(typed, today=TODAY)


def test_windows_and_hours() -> None:
    assert parse_window("Sat 12 Dec 10:00-13:00", today=TODAY) == (
        date(2026, 12, 12),
        time(10),
        time(13),
        "",
    )
    assert parse_window("2026-12-12 9:30 to 12:00 extra", today=TODAY)[1:] == (
        time(9, 30),
        time(12),
        "extra",
    )
    for bad in [
        "Fri 12 Dec 10:00-13:00",
        "12 Dec 13:00-10:00",
        "12 Dec 10:00-24:00",
        "12 Dec",
        "9999-12-31 22:00-23:00",  # in UTC from America/Los_Angeles: past the calendar's end
    ]:
        with pytest.raises(Unreadable):
            parse_window(bad, today=TODAY)
    assert parse_hours("15:00-18:00, 09:00-12:00") == [(time(9), time(12)), (time(15), time(18))]
    assert parse_hours("Off") == []
    for bad in ["09:00-12:00, 11:00-13:00", "9-12", "09:00-12:00,", "12:00-09:00", "09:60-10:00"]:
        with pytest.raises(Unreadable):
            parse_hours(bad)
