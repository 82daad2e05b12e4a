"""Bookable slots: the local wall grid, buffers, busy time, overrides, additions, blocks,
notice and horizon, window flags, DST in New York and London, and the first available
slot across staff members. Instants are asserted exactly, in UTC."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookbot.engine import slot_windows
from bookbot.engine.slots import (
    Availability,
    DateOverride,
    Interval,
    LocalWindow,
    ServiceRules,
    Slot,
    WeeklyWindow,
    first_available,
    fits,
    free_slots,
    open_windows,
)

MONDAY = date(2026, 12, 7)
HOUR = timedelta(hours=1)
MINUTES_15 = timedelta(minutes=15)
LESSON = ServiceRules(duration=HOUR)


def utc(text: str) -> datetime:
    """'2026-12-07 09:00' read as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def on_monday(hhmm: str) -> datetime:
    return utc(f"{MONDAY} {hhmm}")


def monday(start: time, end: time, *, individual: bool = True, group: bool = True) -> WeeklyWindow:
    return WeeklyWindow(0, start, end, individual=individual, group=group)


NINE_TO_ELEVEN = (monday(time(9), time(11)),)
NINE_TO_NOON = (monday(time(9), time(12)),)


def mondays_in_utc(
    *,
    weekly: tuple[WeeklyWindow, ...] = NINE_TO_ELEVEN,
    rules: ServiceRules = LESSON,
    busy: tuple[tuple[str, str], ...] = (),
    now: str = "2026-12-01 00:00",
    start: str = "00:00",
    end: str = "23:59",
    **availability: tuple[object, ...],
) -> list[str]:
    """Slot starts (HH:MM UTC) on MONDAY for a staff member working in UTC."""
    staff = Availability("UTC", weekly=weekly, **availability)  # type: ignore[arg-type]
    taken = [Interval(on_monday(a), on_monday(b)) for a, b in busy]
    found = free_slots(
        staff, rules, taken, now=utc(now), start=on_monday(start), end=on_monday(end)
    )
    return [f"{slot.start:%H:%M}" for slot in found]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param({}, ["09:00", "09:15", "09:30", "09:45", "10:00"], id="basic-15-min-grid"),
        pytest.param(
            {"rules": ServiceRules(duration=HOUR, step=timedelta(minutes=30))},
            ["09:00", "09:30", "10:00"],
            id="step-30",
        ),
        pytest.param(
            # 25 minutes from local midnight: 09:10 (22 steps), 09:35, 10:00; never 09:00.
            {"rules": ServiceRules(duration=HOUR, step=timedelta(minutes=25))},
            ["09:10", "09:35", "10:00"],
            id="grid-counts-from-local-midnight",
        ),
        pytest.param(
            {
                "rules": ServiceRules(
                    duration=HOUR, buffer_before=MINUTES_15, buffer_after=MINUTES_15
                )
            },
            ["09:15", "09:30", "09:45"],
            id="buffers-must-fit-inside-the-window",
        ),
        pytest.param(
            {"busy": (("08:00", "09:00"), ("10:00", "11:00"))},
            ["09:00"],
            id="touching-busy-is-not-overlapping",
        ),
        pytest.param(
            {"weekly": NINE_TO_NOON, "busy": (("09:30", "10:00"),)},
            ["10:00", "10:15", "10:30", "10:45", "11:00"],
            id="busy-blocks-overlapping-candidates",
        ),
        pytest.param(
            {
                "weekly": NINE_TO_NOON,
                "rules": ServiceRules(duration=HOUR, buffer_after=MINUTES_15),
                "busy": (("10:30", "11:00"),),
            },
            ["09:00", "09:15"],
            id="buffer-after-may-not-overlap-busy",
        ),
        pytest.param(
            {"weekly": NINE_TO_NOON, "busy": (("09:30", "10:00"), ("09:45", "10:30"))},
            ["10:30", "10:45", "11:00"],
            id="overlapping-busy-intervals",
        ),
        pytest.param(
            {"weekly": NINE_TO_NOON, "blocks": (Interval(on_monday("09:30"), on_monday("10:00")),)},
            ["10:00", "10:15", "10:30", "10:45", "11:00"],
            id="block-removes-time",
        ),
        pytest.param(
            {"overrides": (DateOverride(MONDAY, (LocalWindow(time(14), time(16)),)),)},
            ["14:00", "14:15", "14:30", "14:45", "15:00"],
            id="override-replaces-weekly",
        ),
        pytest.param(
            {"overrides": (DateOverride(MONDAY, ()),)}, [], id="empty-override-is-unavailable"
        ),
        pytest.param(
            {"overrides": (DateOverride(MONDAY + timedelta(days=7), ()),)},
            ["09:00", "09:15", "09:30", "09:45", "10:00"],
            id="override-of-another-date-changes-nothing",
        ),
        pytest.param(
            {"weekly": (), "additions": (Interval(on_monday("13:00"), on_monday("14:30")),)},
            ["13:00", "13:15", "13:30"],
            id="addition-alone",
        ),
        pytest.param(
            {
                "weekly": (monday(time(9), time(10)),),
                "additions": (Interval(on_monday("10:00"), on_monday("11:00")),),
            },
            ["09:00", "09:15", "09:30", "09:45", "10:00"],
            id="addition-touching-a-window-merges",
        ),
        pytest.param(
            {
                "weekly": (),
                "rules": ServiceRules(duration=HOUR, group=True),
                "additions": (Interval(on_monday("13:00"), on_monday("14:00")),),
            },
            ["13:00"],
            id="addition-open-to-group-services",
        ),
        pytest.param(
            {"weekly": (monday(time(9), time(10, 30)), monday(time(10), time(11)))},
            ["09:00", "09:15", "09:30", "09:45", "10:00"],
            id="overlapping-windows-merge",
        ),
        pytest.param(
            {"weekly": (monday(time(9), time(10)), monday(time(10), time(11)))},
            ["09:00", "09:15", "09:30", "09:45", "10:00"],
            id="adjacent-windows-merge",
        ),
        pytest.param(
            {"rules": ServiceRules(duration=HOUR, min_notice=2 * HOUR), "now": f"{MONDAY} 08:00"},
            ["10:00"],
            id="min-notice",
        ),
        pytest.param(
            {
                "weekly": NINE_TO_NOON,
                "rules": ServiceRules(duration=HOUR, horizon=timedelta(days=1)),
                "now": "2026-12-06 10:00",
            },
            ["09:00", "09:15", "09:30", "09:45", "10:00"],
            id="horizon-is-inclusive",
        ),
        pytest.param(
            {"start": "09:15", "end": "10:00"}, ["09:15", "09:30", "09:45"], id="range-half-open"
        ),
        pytest.param({"now": f"{MONDAY} 12:00"}, [], id="nothing-in-the-past"),
        pytest.param(
            {"weekly": (monday(time(9), time(9, 45)),)}, [], id="window-shorter-than-service"
        ),
    ],
)
def test_free_slots_on_a_utc_monday(case: dict[str, object], expected: list[str]) -> None:
    assert mondays_in_utc(**case) == expected  # type: ignore[arg-type]


FLAGGED = (
    monday(time(9), time(10), individual=True, group=False),
    monday(time(10), time(11), individual=False, group=True),
)


@pytest.mark.parametrize(
    ("group", "expected"),
    [pytest.param(False, ["09:00"], id="individual"), pytest.param(True, ["10:00"], id="group")],
)
def test_window_flags_choose_the_service_kind(group: bool, expected: list[str]) -> None:
    rules = ServiceRules(duration=HOUR, group=group)
    assert mondays_in_utc(weekly=FLAGGED, rules=rules) == expected


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        pytest.param(None, [("09:00", "11:00")], id="all-merge"),
        pytest.param(False, [("09:00", "10:00")], id="individual"),
        pytest.param(True, [("10:00", "11:00")], id="group"),
    ],
)
def test_open_windows_filter_by_flag(group: bool | None, expected: list[tuple[str, str]]) -> None:
    found = open_windows(
        Availability("UTC", weekly=FLAGGED),
        start=on_monday("00:00"),
        end=on_monday("23:00"),
        group=group,
    )
    assert [(f"{w.start:%H:%M}", f"{w.end:%H:%M}") for w in found] == expected


def test_open_windows_are_whole_and_lose_blocked_time() -> None:
    staff = Availability(
        "UTC",
        weekly=NINE_TO_NOON,
        blocks=(Interval(on_monday("10:00"), on_monday("10:30"), "dentist"),),
    )
    found = open_windows(staff, start=on_monday("09:30"), end=on_monday("09:45"))
    assert found == [Interval(on_monday("09:00"), on_monday("10:00"))]


def test_an_addition_joins_windows_across_midnight() -> None:
    staff = Availability(
        "UTC",
        weekly=(WeeklyWindow(6, time(22), time(23, 59)), monday(time(0), time(1))),
        additions=(Interval(utc("2026-12-06 23:59"), on_monday("00:00"), "late"),),
    )
    found = open_windows(staff, start=on_monday("00:00"), end=on_monday("00:30"))
    assert found == [Interval(utc("2026-12-06 22:00"), on_monday("01:00"))]
    # An hour from 23:30 Sunday only fits because the three windows became one.
    assert fits(staff, LESSON, [], now=utc("2026-12-01 00:00"), slot_start=utc("2026-12-06 23:30"))


def day_slots(
    zone: str, day: date, windows: tuple[LocalWindow, ...], rules: ServiceRules = LESSON
) -> list[datetime]:
    """Slots on `day` (one override holds its windows) for a staff member in `zone`."""
    staff = Availability(zone, overrides=(DateOverride(day, windows),))
    begin = datetime.combine(day - timedelta(days=1), time(), UTC)
    return [
        s.start
        for s in free_slots(staff, rules, [], now=begin, start=begin, end=begin + timedelta(days=3))
    ]


MORNING = (LocalWindow(time(9), time(12)),)
HOURLY = ServiceRules(duration=HOUR, step=HOUR)


@pytest.mark.parametrize(
    ("zone", "day", "first_utc"),
    [
        pytest.param("America/New_York", date(2027, 3, 8), "14:00", id="new-york-before-spring"),
        pytest.param("America/New_York", date(2027, 3, 15), "13:00", id="new-york-after-spring"),
        pytest.param("America/New_York", date(2026, 10, 26), "13:00", id="new-york-before-fall"),
        pytest.param("America/New_York", date(2026, 11, 2), "14:00", id="new-york-after-fall"),
        pytest.param("Europe/London", date(2027, 3, 22), "09:00", id="london-before-spring"),
        pytest.param("Europe/London", date(2027, 3, 29), "08:00", id="london-after-spring"),
        pytest.param("Europe/London", date(2026, 10, 19), "08:00", id="london-before-fall"),
        pytest.param("Europe/London", date(2026, 10, 26), "09:00", id="london-after-fall"),
        pytest.param("Asia/Kolkata", date(2027, 3, 15), "03:30", id="kolkata-half-hour"),
    ],
)
def test_a_monday_morning_stays_local_across_dst(zone: str, day: date, first_utc: str) -> None:
    staff = Availability(zone, weekly=NINE_TO_NOON)
    begin = datetime.combine(day - timedelta(days=1), time(), UTC)
    found = free_slots(staff, HOURLY, [], now=begin, start=begin, end=begin + timedelta(days=3))

    first = utc(f"{day} {first_utc}")
    assert [s.start for s in found] == [first, first + HOUR, first + 2 * HOUR]
    assert [f"{s.start.astimezone(ZoneInfo(zone)):%H:%M}" for s in found] == [
        "09:00",
        "10:00",
        "11:00",
    ]


@pytest.mark.parametrize(
    ("zone", "day", "window", "rules", "expected_utc"),
    [
        pytest.param(
            # 01:00 EST is 06:00Z and 03:00 EDT is 07:00Z: one real hour.
            "America/New_York",
            date(2027, 3, 14),
            ("01:00", "03:00"),
            ServiceRules(duration=timedelta(minutes=30), step=timedelta(minutes=30)),
            ["06:00", "06:30"],
            id="new-york-spring-window-across-the-gap",
        ),
        pytest.param(
            # 02:30 does not exist: shifted forward by the gap to 03:30 EDT (07:30Z).
            "America/New_York",
            date(2027, 3, 14),
            ("02:30", "04:00"),
            ServiceRules(duration=timedelta(minutes=30), step=timedelta(minutes=30)),
            ["07:30"],
            id="new-york-spring-window-starting-in-the-gap",
        ),
        pytest.param(
            "America/New_York",
            date(2027, 3, 14),
            ("01:00", "03:00"),
            ServiceRules(duration=HOUR, buffer_after=MINUTES_15),
            [],
            id="new-york-spring-hour-and-buffer-do-not-fit-the-real-hour",
        ),
        pytest.param(
            "America/New_York",
            date(2027, 3, 14),
            ("01:00", "03:00"),
            HOURLY,
            ["06:00"],
            id="new-york-spring-hour-fills-the-real-hour",
        ),
        pytest.param(
            # 01:00 EDT (05:00Z) to 03:00 EST (08:00Z): three real hours; both 01:00s.
            "America/New_York",
            date(2026, 11, 1),
            ("01:00", "03:00"),
            HOURLY,
            ["05:00", "06:00", "07:00"],
            id="new-york-fall-window-across-the-fold",
        ),
        pytest.param(
            "Europe/London",
            date(2027, 3, 28),
            ("00:30", "02:30"),
            ServiceRules(duration=timedelta(minutes=30), step=timedelta(minutes=30)),
            ["00:30", "01:00"],
            id="london-spring-window-across-the-gap",
        ),
    ],
)
def test_windows_across_dst_changes_follow_resolve_local(
    zone: str, day: date, window: tuple[str, str], rules: ServiceRules, expected_utc: list[str]
) -> None:
    local = LocalWindow(time.fromisoformat(window[0]), time.fromisoformat(window[1]))
    found = day_slots(zone, day, (local,), rules)
    assert found == [utc(f"{day} {hhmm}") for hhmm in expected_utc]


def test_london_fall_back_window_runs_three_real_hours() -> None:
    day = date(2026, 10, 25)
    staff = Availability(
        "Europe/London", overrides=(DateOverride(day, (LocalWindow(time(0, 30), time(2, 30)),)),)
    )
    (window,) = open_windows(staff, start=utc("2026-10-24 12:00"), end=utc("2026-10-25 12:00"))
    # 00:30 BST is 23:30Z the day before; 02:30 GMT is 02:30Z.
    assert window == Interval(utc("2026-10-24 23:30"), utc("2026-10-25 02:30"))
    assert day_slots("Europe/London", day, window_of(staff, day), HOURLY) == [
        utc("2026-10-25 00:00"),  # 01:00 BST
        utc("2026-10-25 01:00"),  # 01:00 GMT, the same wall time an hour later
    ]


def window_of(staff: Availability, day: date) -> tuple[LocalWindow, ...]:
    return next(o.windows for o in staff.overrides if o.day == day)


@pytest.mark.parametrize(
    ("zone", "expected_utc", "customer_zone", "customer_sees"),
    [
        pytest.param(
            "Europe/Madrid",
            ["09:00", "10:00"],
            "Asia/Tokyo",
            ["18:00", "19:00"],
            id="madrid-tutor-seen-from-tokyo",
        ),
        pytest.param(
            "America/New_York",
            ["15:00", "16:00"],
            "Europe/Madrid",
            ["16:00", "17:00"],
            id="new-york-coach-seen-from-madrid",
        ),
    ],
)
def test_staff_in_their_zone_customer_in_another(
    zone: str, expected_utc: list[str], customer_zone: str, customer_sees: list[str]
) -> None:
    found = day_slots(zone, MONDAY, (LocalWindow(time(10), time(12)),), HOURLY)
    assert found == [on_monday(hhmm) for hhmm in expected_utc]
    assert [f"{s.astimezone(ZoneInfo(customer_zone)):%H:%M}" for s in found] == customer_sees


def staff_at(hhmm: str, *, day: date = MONDAY) -> Availability:
    """A staff member in UTC whose only window is one hour at hhmm on `day`."""
    start = time.fromisoformat(hhmm)
    end = (datetime.combine(day, start) + HOUR).time()
    return Availability("UTC", overrides=(DateOverride(day, (LocalWindow(start, end),)),))


WEEK = {
    "now": utc("2026-12-01 00:00"),
    "start": utc("2026-12-01 00:00"),
    "end": utc("2026-12-15 00:00"),
}


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        pytest.param(
            [(7, staff_at("09:00")), (3, staff_at("09:00"))], (3, "09:00"), id="tie-lowest-id"
        ),
        pytest.param(
            [(1, staff_at("10:00")), (2, staff_at("09:00"))], (2, "09:00"), id="earliest-wins"
        ),
        pytest.param(
            [(1, staff_at("09:00", day=MONDAY + timedelta(days=2))), (2, staff_at("16:00"))],
            (2, "16:00"),
            id="earlier-day-wins",
        ),
        pytest.param([(1, Availability("UTC"))], None, id="nobody-free"),
    ],
)
def test_first_available(
    candidates: list[tuple[int, Availability]], expected: tuple[int, str] | None
) -> None:
    found = first_available([(i, a, []) for i, a in candidates], LESSON, **WEEK)
    got = None if found is None else (found[0], f"{found[1].start:%H:%M}")
    assert got == expected


def test_first_available_looks_no_further_than_the_horizon() -> None:
    later = staff_at("09:00", day=MONDAY + timedelta(days=3))
    rules = ServiceRules(duration=HOUR, horizon=timedelta(days=7))
    assert first_available([(1, later, [])], rules, **WEEK) is None


def test_first_available_skips_busy_staff_and_agrees_with_free_slots() -> None:
    every_weekday = tuple(WeeklyWindow(d, time(9), time(17)) for d in range(5))
    booked = [Interval(utc("2026-12-01 00:00"), utc("2026-12-08 12:00"))]
    candidates = [
        (1, Availability("Europe/Madrid", weekly=every_weekday), booked),
        (2, Availability("America/New_York", weekly=every_weekday), booked),
    ]
    found = first_available(candidates, LESSON, **WEEK)
    earliest = min((free_slots(a, LESSON, b, **WEEK)[0].start, i) for i, a, b in candidates)
    assert found is not None
    assert (found[1].start, found[0]) == earliest
    assert found[1] == Slot(utc("2026-12-08 12:00"), utc("2026-12-08 13:00"))


def test_first_available_stops_early(monkeypatch: pytest.MonkeyPatch) -> None:
    expanded: list[int] = []

    class Recorded(slot_windows.Days):
        def __init__(self, zone_name: str, first: date, last: date) -> None:
            expanded.append((last - first).days)
            super().__init__(zone_name, first, last)

    monkeypatch.setattr(slot_windows, "Days", Recorded)
    daily = tuple(WeeklyWindow(d, time(9), time(17)) for d in range(7))
    nobody_busy: list[Interval] = []
    candidates = [
        (i, Availability("Europe/London", weekly=daily), nobody_busy) for i in range(1, 101)
    ]
    rules = ServiceRules(duration=HOUR, horizon=timedelta(days=365))
    now = utc("2026-12-01 00:00")

    found = first_available(candidates, rules, now=now, start=now, end=now + timedelta(days=365))

    assert found == (1, Slot(utc("2026-12-01 09:00"), utc("2026-12-01 10:00")))
    assert max(expanded) <= 3  # a day and its neighbours, never the year


@pytest.mark.parametrize("seed", range(12))
def test_random_schedules_keep_the_invariants(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - a schedule, not a secret
    zone = rng.choice(["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Europe/Madrid"])
    weekly = tuple(
        WeeklyWindow(rng.randrange(7), time(h), time(h + rng.randint(1, 5)))
        for h in (rng.randrange(0, 18) for _ in range(6))
    )
    rules = ServiceRules(
        duration=timedelta(minutes=rng.choice([30, 45, 60, 90])),
        buffer_before=timedelta(minutes=rng.choice([0, 10, 15])),
        buffer_after=timedelta(minutes=rng.choice([0, 15])),
        step=timedelta(minutes=rng.choice([15, 20, 30])),
    )
    now = utc("2027-03-10 00:00")  # the week of New York's spring change
    busy = [
        Interval(s, s + timedelta(minutes=rng.choice([30, 60, 75])))
        for s in (now + timedelta(minutes=5 * rng.randrange(2016)) for _ in range(15))
    ]
    staff = Availability(zone, weekly=weekly, blocks=tuple(busy[:2]))
    end = now + timedelta(days=7)
    found = free_slots(staff, rules, busy[2:], now=now, start=now, end=end)
    windows = open_windows(staff, start=now - HOUR, end=end + 3 * HOUR, group=False)

    assert [s.start for s in found] == sorted({s.start for s in found})
    for slot in found:
        footprint = (slot.start - rules.buffer_before, slot.end + rules.buffer_after)
        assert slot.end - slot.start == rules.duration
        assert any(w.start <= footprint[0] and footprint[1] <= w.end for w in windows)
        assert not any(b.start < footprint[1] and footprint[0] < b.end for b in busy)
        wall = slot.start.astimezone(ZoneInfo(zone))
        assert (wall.hour * 60 + wall.minute) % (rules.step // timedelta(minutes=1)) == 0
    starts = {s.start for s in found}
    for minute in range(0, 7 * 24 * 60, 10):
        t = now + timedelta(minutes=minute)
        assert fits(staff, rules, busy[2:], now=now, slot_start=t) == (t in starts)


def test_fits_refuses_what_free_slots_leaves_out() -> None:
    staff = Availability("UTC", weekly=NINE_TO_NOON)
    busy = [Interval(on_monday("10:00"), on_monday("11:00"))]
    now = utc("2026-12-01 00:00")
    assert fits(staff, LESSON, busy, now=now, slot_start=on_monday("09:00"))
    assert not fits(staff, LESSON, busy, now=now, slot_start=on_monday("09:15"))  # overlaps
    assert not fits(staff, LESSON, busy, now=now, slot_start=on_monday("09:05"))  # off grid
    assert not fits(staff, LESSON, [], now=on_monday("09:30"), slot_start=on_monday("09:15"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: WeeklyWindow(7, time(9), time(10)), "weekday", id="weekday-7"),
        pytest.param(lambda: WeeklyWindow(0, time(10), time(9)), "end after", id="end-first"),
        pytest.param(lambda: LocalWindow(time(10), time(0)), "end after", id="midnight-end"),
        pytest.param(lambda: ServiceRules(duration=timedelta(0)), "positive", id="no-duration"),
        pytest.param(
            lambda: ServiceRules(duration=HOUR, step=timedelta(0)), "positive", id="zero-step"
        ),
        pytest.param(
            lambda: ServiceRules(duration=HOUR, buffer_after=-HOUR), "negative", id="neg-buffer"
        ),
    ],
)
def test_bad_values_are_refused(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
