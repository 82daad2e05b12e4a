"""The pure series rules: dates anchored on the first weekday, fortnightly parity whatever
the window, the end date, the local wall time across DST, and the next 02:00 run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bookbot.engine import series
from bookbot.engine.recurrence import Adjustment
from bookbot.engine.series import SeriesRule
from bookbot.engine.slots import Availability, Interval


def rule(**changes: object) -> SeriesRule:
    values: dict[str, object] = {
        "weekday": 1,
        "start_time": time(10),
        "timezone": "Europe/London",
        "interval_weeks": 2,
        "starts_on": date(2026, 10, 15),  # a Thursday: the first Tuesday is the 20th
    }
    values.update(changes)
    return SeriesRule(**values)  # type: ignore[arg-type]


def test_dates_are_anchored_on_the_first_weekday_and_keep_their_parity() -> None:
    fortnightly = rule()
    assert series.first_date(fortnightly) == date(2026, 10, 20)
    assert series.dates(fortnightly, start=date(2026, 10, 1), end=date(2026, 11, 18)) == [
        date(2026, 10, 20),
        date(2026, 11, 3),
        date(2026, 11, 17),
    ]
    # A window that starts on an "off" Tuesday still gets the series' own Tuesdays.
    assert series.dates(fortnightly, start=date(2026, 10, 27), end=date(2026, 11, 18)) == [
        date(2026, 11, 3),
        date(2026, 11, 17),
    ]
    assert series.is_series_date(fortnightly, date(2026, 11, 17))
    assert not series.is_series_date(fortnightly, date(2026, 11, 10))
    weekly = rule(interval_weeks=1, ends_on=date(2026, 11, 3))
    assert series.dates(weekly, start=date(2026, 10, 1), end=date(2027, 1, 1)) == [
        date(2026, 10, 20),
        date(2026, 10, 27),
        date(2026, 11, 3),  # ends_on is inclusive
    ]


def test_the_window_is_six_weeks_end_exclusive() -> None:
    today = date(2026, 11, 3)
    assert series.window_end(today) == date(2026, 12, 15)
    weekly = rule(interval_weeks=1, starts_on=today)
    assert len(series.dates(weekly, start=today, end=series.window_end(today))) == 6


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        ("Europe/London", date(2026, 10, 20), datetime(2026, 10, 20, 9, tzinfo=UTC)),  # BST
        ("Europe/London", date(2026, 11, 3), datetime(2026, 11, 3, 10, tzinfo=UTC)),  # GMT
        ("Europe/London", date(2027, 3, 30), datetime(2027, 3, 30, 9, tzinfo=UTC)),  # BST
        ("America/New_York", date(2026, 10, 27), datetime(2026, 10, 27, 14, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 3), datetime(2026, 11, 3, 15, tzinfo=UTC)),
        ("America/New_York", date(2027, 3, 16), datetime(2027, 3, 16, 14, tzinfo=UTC)),
    ],
)
def test_a_date_keeps_its_wall_time_across_dst(zone: str, day: date, expected: datetime) -> None:
    assert series.starts_at(rule(timezone=zone), day) == (expected, Adjustment.NONE)


def test_a_wall_time_in_the_spring_gap_shifts_forward() -> None:
    early = rule(weekday=6, start_time=time(1, 30), starts_on=date(2027, 3, 28))
    at, adjustment = series.starts_at(early, date(2027, 3, 28))
    assert adjustment is Adjustment.GAP_SHIFTED
    assert at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 02:30 BST


def test_the_next_run_is_the_next_0200_local_even_on_a_change_night() -> None:
    london = "Europe/London"
    assert series.next_run_at(datetime(2026, 11, 3, 1, 59, tzinfo=UTC), london) == datetime(
        2026, 11, 3, 2, tzinfo=UTC
    )
    assert series.next_run_at(datetime(2026, 11, 3, 2, 0, tzinfo=UTC), london) == datetime(
        2026, 11, 4, 2, tzinfo=UTC
    )
    # London's clocks go from 01:00 to 02:00 on 28 March 2027: 02:00 BST is 01:00 UTC.
    assert series.next_run_at(datetime(2027, 3, 27, 12, tzinfo=UTC), london) == datetime(
        2027, 3, 28, 1, tzinfo=UTC
    )
    # New York's go from 02:00 to 03:00 on 14 March 2027: the run shifts to 03:00 EDT.
    new_york = "America/New_York"
    assert series.next_run_at(datetime(2027, 3, 13, 12, tzinfo=UTC), new_york) == datetime(
        2027, 3, 14, 7, tzinfo=UTC
    )
    assert series.next_run_at(datetime(2027, 3, 14, 12, tzinfo=UTC), new_york) == datetime(
        2027, 3, 15, 6, tzinfo=UTC
    )
    assert series.next_run_at(datetime(2026, 11, 3, 12, tzinfo=UTC), "America/New_York") == (
        datetime(2026, 11, 4, 7, tzinfo=UTC)
    )


def test_bad_rules_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="every week or every 2 weeks"):
        rule(interval_weeks=3)
    with pytest.raises(ValueError, match="before it starts"):
        rule(ends_on=date(2026, 10, 1))
    with pytest.raises(ValueError, match="weekday"):
        rule(weekday=7)
    with pytest.raises(ValueError, match="HH:MM"):
        series.parse_time("10am")
    assert series.parse_time(" 9:05") == time(9, 5)


def test_a_footprint_touching_a_block_is_blocked() -> None:
    day = datetime(2026, 11, 17, tzinfo=UTC)
    block = Interval(day + timedelta(hours=10), day + timedelta(hours=12), "Kiln")
    availability = Availability(timezone="Europe/London", blocks=(block,))
    assert series.blocked(availability, day + timedelta(hours=11), day + timedelta(hours=13))
    assert not series.blocked(availability, day + timedelta(hours=12), day + timedelta(hours=13))
