"""Pattern expansion keeps local wall time across DST, with one rule each for gaps and folds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookbot.engine.recurrence import Adjustment, PatternRule, expand, resolve_local, rrule_problem

FAR = datetime(2030, 1, 1, tzinfo=UTC)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def weekly(zone: str, start: date, at: time, count: int) -> PatternRule:
    return PatternRule(f"FREQ=WEEKLY;COUNT={count}", start, at, timedelta(hours=2), zone)


@pytest.mark.parametrize(
    ("zone", "start", "utc_hours"),
    [
        # London springs forward on 28 Mar 2027: 18:00 local is 18:00 UTC, then 17:00 UTC.
        ("Europe/London", date(2027, 3, 15), [18, 18, 17, 17]),
        # London falls back on 25 Oct 2026.
        ("Europe/London", date(2026, 10, 12), [17, 17, 18, 18]),
        # New York springs forward on 14 Mar 2027.
        ("America/New_York", date(2027, 3, 1), [23, 23, 22, 22]),
        ("America/New_York", date(2026, 10, 19), [22, 22, 23, 23]),
        # Kolkata has no DST and a half-hour offset: 18:00 is always 12:30 UTC.
        ("Asia/Kolkata", date(2027, 3, 15), [12, 12, 12, 12]),
        ("UTC", date(2027, 3, 15), [18, 18, 18, 18]),
    ],
)
def test_weekly_class_stays_at_local_wall_time_across_dst(
    zone: str, start: date, utc_hours: list[int]
) -> None:
    found = expand(weekly(zone, start, time(18, 0), 4), window_start=EPOCH, window_end=None)

    assert [o.starts_at.astimezone(ZoneInfo(zone)).time() for o in found] == [time(18, 0)] * 4
    assert [o.starts_at.hour for o in found] == utc_hours
    assert all(o.ends_at - o.starts_at == timedelta(hours=2) for o in found)


def test_kolkata_keeps_its_half_hour_offset() -> None:
    (only,) = expand(
        weekly("Asia/Kolkata", date(2027, 1, 4), time(18, 0), 1),
        window_start=EPOCH,
        window_end=None,
    )
    assert only.starts_at == datetime(2027, 1, 4, 12, 30, tzinfo=UTC)


def test_time_in_spring_gap_moves_forward_by_the_gap() -> None:
    # 01:30 does not exist in London on 28 Mar 2027 (clocks go 01:00 -> 02:00).
    instant, adjustment = resolve_local(datetime(2027, 3, 28, 1, 30), "Europe/London")  # noqa: DTZ001
    assert adjustment is Adjustment.GAP_SHIFTED
    assert instant == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # = 02:30 BST
    assert instant.astimezone(ZoneInfo("Europe/London")).time() == time(2, 30)


def test_time_in_autumn_fold_takes_the_first_instant() -> None:
    # 01:30 happens twice in New York on 1 Nov 2026: first in EDT (05:30 UTC), then EST.
    instant, adjustment = resolve_local(datetime(2026, 11, 1, 1, 30), "America/New_York")  # noqa: DTZ001
    assert adjustment is Adjustment.AMBIGUOUS_FIRST
    assert instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_ordinary_time_is_not_adjusted() -> None:
    instant, adjustment = resolve_local(datetime(2027, 3, 29, 1, 30), "Europe/London")  # noqa: DTZ001
    assert (instant, adjustment) == (datetime(2027, 3, 29, 0, 30, tzinfo=UTC), Adjustment.NONE)


def test_daily_pattern_through_the_gap_reports_the_shift() -> None:
    rule = PatternRule(
        "FREQ=DAILY;COUNT=3", date(2027, 3, 27), time(1, 30), timedelta(hours=1), "Europe/London"
    )
    found = expand(rule, window_start=EPOCH, window_end=None)
    assert [o.adjustment for o in found] == [
        Adjustment.NONE,
        Adjustment.GAP_SHIFTED,
        Adjustment.NONE,
    ]
    assert [o.local_date for o in found] == [
        date(2027, 3, 27),
        date(2027, 3, 28),
        date(2027, 3, 29),
    ]


def test_window_limits_open_ended_patterns() -> None:
    rule = PatternRule(
        "FREQ=WEEKLY;BYDAY=MO,WE",
        date(2026, 11, 2),
        time(16, 0),
        timedelta(minutes=90),
        "Europe/London",
    )
    start = datetime(2026, 11, 4, 16, 0, tzinfo=UTC)  # exactly Wednesday's start: included

    found = expand(rule, window_start=start, window_end=start + timedelta(weeks=1))

    assert [o.local_date for o in found] == [date(2026, 11, 4), date(2026, 11, 9)]


def test_open_ended_pattern_needs_a_window_end() -> None:
    rule = PatternRule("FREQ=DAILY", date(2026, 11, 2), time(9, 0), timedelta(hours=1), "UTC")
    with pytest.raises(ValueError, match="horizon"):
        expand(rule, window_start=EPOCH, window_end=None)


def test_course_count_is_kept_when_the_window_starts_midway() -> None:
    rule = weekly("Europe/London", date(2027, 3, 15), time(18, 0), 6)
    found = expand(rule, window_start=datetime(2027, 4, 1, tzinfo=UTC), window_end=None)
    assert [o.local_date.day for o in found] == [5, 12, 19]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("FREQ=WEEKLY;BYDAY=MO;COUNT=6", None),
        ("FREQ=HOURLY", "FREQ must be"),
        ("FREQ=WEEKLY;BYHOUR=9", "time of day comes from start_time"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
        ("nonsense", "FREQ must be"),
    ],
)
def test_rrule_problems_are_explained(rule: str, problem: str | None) -> None:
    found = rrule_problem(rule)
    assert (found is None) if problem is None else (problem in (found or ""))
