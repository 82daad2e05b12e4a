"""Pattern expansion keeps local wall time across DST, with one rule each for gaps and folds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookbot.engine.recurrence import (
    MAX_OCCURRENCES,
    Adjustment,
    Occurrence,
    PatternRule,
    expand,
    resolve_local,
    rrule_problem,
)

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


def _rule(
    rrule: str,
    start: date,
    zone: str,
    at: time = time(18, 0),
    length: timedelta = timedelta(hours=1),
) -> PatternRule:
    return PatternRule(rrule, start, at, length, zone)


def _all(
    rrule: str,
    start: date,
    zone: str,
    at: time = time(18, 0),
    length: timedelta = timedelta(hours=1),
) -> list[Occurrence]:
    """Every occurrence of a rule that ends (COUNT or UNTIL)."""
    return expand(_rule(rrule, start, zone, at, length), window_start=EPOCH, window_end=None)


@pytest.mark.parametrize(
    ("zone", "start", "until", "last"),
    [
        # London springs forward on 28 Mar 2027: Monday 29 Mar 18:00 BST is 17:00 UTC,
        # inside a UTC UNTIL of 17:30 (read as 17:30 wall time, it would not be).
        ("Europe/London", date(2027, 3, 15), "20270329T173000Z", date(2027, 3, 29)),
        ("Europe/London", date(2027, 3, 15), "20270329T170000Z", date(2027, 3, 29)),  # inclusive
        ("Europe/London", date(2027, 3, 15), "20270329T165959Z", date(2027, 3, 22)),
        # London falls back on 25 Oct 2026: Monday 26 Oct 18:00 GMT is 18:00 UTC.
        ("Europe/London", date(2026, 10, 12), "20261026T173000Z", date(2026, 10, 19)),
        # New York falls back on 1 Nov 2026: Monday 2 Nov 18:00 EST is 23:00 UTC, outside
        # 22:30 UTC (read as wall time, 18:00 would be inside 22:30).
        ("America/New_York", date(2026, 10, 19), "20261102T223000Z", date(2026, 10, 26)),
        ("America/New_York", date(2026, 10, 19), "20261102T230000Z", date(2026, 11, 2)),
        # New York springs forward on 14 Mar 2027: Monday 15 Mar 18:00 EDT is 22:00 UTC.
        ("America/New_York", date(2027, 3, 1), "20270315T220000Z", date(2027, 3, 15)),
        ("America/New_York", date(2027, 3, 1), "20270315T215959Z", date(2027, 3, 8)),
    ],
)
def test_utc_until_bounds_occurrence_instants_across_dst(
    zone: str, start: date, until: str, last: date
) -> None:
    found = _all(f"FREQ=WEEKLY;BYDAY=MO;UNTIL={until}", start, zone)

    assert found[0].local_date == start
    assert found[-1].local_date == last
    assert all(o.starts_at.astimezone(ZoneInfo(zone)).time() == time(18, 0) for o in found)


def test_utc_until_is_read_with_the_rrule_prefix_and_in_lower_case() -> None:
    found = _all("RRULE:UNTIL=20270322t180000z;FREQ=WEEKLY", date(2027, 3, 15), "Europe/London")
    assert [o.local_date for o in found] == [date(2027, 3, 15), date(2027, 3, 22)]


def test_utc_until_at_the_fold_compares_the_first_instant() -> None:
    # 01:30 on 1 Nov 2026 in New York is taken as 01:30 EDT (05:30 UTC): inside an UNTIL of
    # 06:00 UTC, which is 01:00 EST on the wall, earlier than 01:30.
    found = _all(
        "FREQ=DAILY;UNTIL=20261101T060000Z",
        date(2026, 10, 31),
        "America/New_York",
        time(1, 30),
        timedelta(minutes=45),
    )
    assert [(o.local_date, o.adjustment) for o in found] == [
        (date(2026, 10, 31), Adjustment.NONE),
        (date(2026, 11, 1), Adjustment.AMBIGUOUS_FIRST),
    ]


def test_utc_until_in_the_gap_compares_the_shifted_instant() -> None:
    # 01:30 on 28 Mar 2027 in London does not exist: shifted to 02:30 BST, 01:30 UTC.
    found = _all(
        "FREQ=DAILY;UNTIL=20270328T012959Z", date(2027, 3, 27), "Europe/London", time(1, 30)
    )
    assert [o.local_date for o in found] == [date(2027, 3, 27)]


def test_wall_time_until_still_bounds_local_wall_time() -> None:
    found = _all("FREQ=WEEKLY;UNTIL=20270329T180000", date(2027, 3, 15), "Europe/London")
    assert [o.local_date.day for o in found] == [15, 22, 29]
    found = _all("FREQ=WEEKLY;UNTIL=20270329", date(2027, 3, 15), "Europe/London")
    assert [o.local_date.day for o in found] == [15, 22]


def test_utc_until_with_a_window_keeps_both_bounds() -> None:
    rule = _rule("FREQ=WEEKLY;UNTIL=20270412T180000Z", date(2027, 3, 15), "Europe/London")
    window = (datetime(2027, 3, 20, tzinfo=UTC), datetime(2027, 4, 6, tzinfo=UTC))
    found = expand(rule, window_start=window[0], window_end=window[1])
    assert [o.local_date.day for o in found] == [22, 29, 5]
    found = expand(rule, window_start=window[0], window_end=None)
    assert [o.local_date.day for o in found] == [22, 29, 5, 12]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301T000000Z", None),
        ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301T000000", None),
        ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301", None),
        ("FREQ=WEEKLY;UNTIL=2027031T000000Z", "UNTIL must be a UTC time like 20270301T000000Z"),
        ("FREQ=WEEKLY;UNTIL=20270301T000000+0100", "without an offset"),
        ("FREQ=WEEKLY;UNTIL=someday", "UNTIL must be"),
        ("FREQ=WEEKLY;INTERVAL=2", None),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be a whole number, 1 or more"),
        ("FREQ=WEEKLY;INTERVAL=-1", "INTERVAL must be a whole number, 1 or more"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20270301T000000Z", "use COUNT or UNTIL, not both"),
        ("FREQ=WEEKLY;UNTIL=20270301;COUNT=3", "use COUNT or UNTIL, not both"),
        ("FREQ=DAILY;COUNT=1000", None),
        ("FREQ=DAILY;COUNT=1001", "COUNT must be a whole number from 1 to 1000"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number from 1 to 1000"),
    ],
)
def test_until_interval_and_count_problems_are_explained(rule: str, problem: str | None) -> None:
    found = rrule_problem(rule)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_the_count_cap_is_the_expansion_cap() -> None:
    # COUNT above the cap is refused, not cut; at the cap every occurrence is returned.
    assert MAX_OCCURRENCES == 1000
    found = _all("FREQ=DAILY;COUNT=1000", date(2027, 1, 1), "UTC", time(9, 0))
    assert len(found) == MAX_OCCURRENCES


@pytest.mark.parametrize(
    ("rrule", "message"),
    [
        ("FREQ=DAILY;COUNT=1001", "COUNT must be a whole number from 1 to 1000"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20270301T000000Z", "COUNT or UNTIL"),
        # Finite, but longer than the cap: refused, not cut at 1000.
        ("FREQ=DAILY;UNTIL=20400101T000000Z", "more than 1000 occurrences"),
    ],
)
def test_expand_refuses_rules_it_would_otherwise_cut_or_loop_on(rrule: str, message: str) -> None:
    rule = _rule(rrule, date(2027, 1, 1), "UTC", time(9, 0))
    with pytest.raises(ValueError, match=message):
        expand(rule, window_start=EPOCH, window_end=FAR)


def test_expand_refuses_a_window_holding_more_than_the_cap() -> None:
    rule = _rule("FREQ=DAILY", date(2027, 1, 1), "UTC", time(9, 0))
    day_1000 = datetime(2027, 1, 1, 9, 0, tzinfo=UTC) + timedelta(days=1000)
    assert len(expand(rule, window_start=EPOCH, window_end=day_1000)) == MAX_OCCURRENCES
    with pytest.raises(ValueError, match="more than 1000 occurrences"):
        expand(rule, window_start=EPOCH, window_end=day_1000 + timedelta(seconds=1))
