"""Pass and check-in rules at their exact edges."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookbot.engine import errors
from bookbot.engine.reservations import (
    PassKind,
    PassState,
    Slot,
    Status,
    absence_due,
    check_cancel,
    check_reserve,
    check_self_check_in,
    check_staff_check_in,
    closing_status,
    daily_run_at,
    reservation_part,
)

START = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # Mon 16:00 in London (GMT)
SLOT = Slot(class_id=1, starts_at=START, local_date=START.date(), part=None, makeup=False)


BASE = PassState(
    kind=PassKind.UNLIMITED,
    class_id=1,
    status="active",
    valid_from=date(2026, 11, 1),
    valid_until=date(2026, 12, 31),
    remaining=None,
    max_advance=3,
    sequential=False,
    live=0,
    pending=0,
    attended_parts=frozenset(),
)


def state(**changes: object) -> PassState:
    return replace(BASE, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({}, None),
        ({"live": 2}, None),
        ({"live": 3}, errors.AdvanceLimitReached),  # the 4th reservation held ahead
        ({"live": 9, "max_advance": None}, None),
        ({"kind": PassKind.PUNCH, "remaining": 0}, errors.NoPunchesLeft),
        ({"kind": PassKind.PUNCH, "remaining": 2, "pending": 2, "live": 2}, errors.NoPunchesLeft),
        ({"kind": PassKind.PUNCH, "remaining": 1}, None),
        ({"valid_until": date(2026, 11, 22)}, errors.PassNotValidThen),
        ({"valid_from": date(2026, 11, 24)}, errors.PassNotValidThen),
        ({"class_id": 2}, errors.WrongClassForPass),
        ({"status": "cancelled"}, errors.PassNotUsable),
    ],
)
def test_reserving_with_a_pass(changes: dict[str, object], refusal: type[Exception] | None) -> None:
    if refusal is None:
        check_reserve(state(**changes), SLOT, None)
    else:
        with pytest.raises(refusal):
            check_reserve(state(**changes), SLOT, None)


def test_a_course_over_several_days_is_not_reserved_with_a_pass() -> None:
    course = replace(SLOT, days=3)
    with pytest.raises(errors.CourseNotForPasses):
        check_reserve(state(), course, None)
    with pytest.raises(errors.WrongClassForPass):  # another class's pass: that is said first
        check_reserve(state(class_id=2), course, None)


def test_parts_in_order_and_makeup_for_any_part() -> None:
    part2 = Slot(1, START, START.date(), part=2, makeup=False)
    makeup = Slot(1, START, START.date(), part=None, makeup=True)
    with pytest.raises(errors.PartOutOfOrder):
        check_reserve(state(sequential=True), part2, reservation_part(part2, None))
    check_reserve(state(sequential=True, attended_parts=frozenset({1})), part2, 2)
    check_reserve(state(sequential=False), part2, 2)  # order only where required
    assert reservation_part(makeup, 3) == 3
    with pytest.raises(errors.WrongPart):
        reservation_part(part2, 1)


@pytest.mark.parametrize(
    ("offset", "refusal"),
    [
        (timedelta(hours=-2, seconds=-1), errors.CheckInNotOpen),
        (timedelta(hours=-2), None),  # exactly 2 h before: open
        (timedelta(0), None),
        (timedelta(hours=2), None),  # exactly 2 h after: still open
        (timedelta(hours=2, seconds=1), errors.CheckInClosed),
    ],
)
def test_self_check_in_window(offset: timedelta, refusal: type[Exception] | None) -> None:
    if refusal is None:
        check_self_check_in(START + offset, START)
    else:
        with pytest.raises(refusal):
            check_self_check_in(START + offset, START)


def test_staff_check_in_is_the_whole_studio_local_day() -> None:
    london = "Europe/London"
    check_staff_check_in(datetime(2026, 11, 23, 0, 0, tzinfo=UTC), START, london)
    check_staff_check_in(datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC), START, london)
    with pytest.raises(errors.NotClassDay):
        check_staff_check_in(datetime(2026, 11, 24, 0, 0, tzinfo=UTC), START, london)
    # In summer, 23:59 London is 22:59 UTC; midnight UTC is already the next local day.
    summer = datetime(2027, 6, 7, 17, 0, tzinfo=UTC)
    check_staff_check_in(datetime(2027, 6, 7, 22, 59, tzinfo=UTC), summer, london)
    with pytest.raises(errors.NotClassDay):
        check_staff_check_in(datetime(2027, 6, 7, 23, 0, tzinfo=UTC), summer, london)


def test_staff_check_in_on_a_dst_change_day() -> None:
    # 28 Mar 2027 has 23 hours in London: 00:00 GMT (00:00 UTC) to 23:59 BST (22:59 UTC).
    class_at = datetime(2027, 3, 28, 10, 0, tzinfo=UTC)
    check_staff_check_in(datetime(2027, 3, 28, 0, 0, tzinfo=UTC), class_at, "Europe/London")
    check_staff_check_in(datetime(2027, 3, 28, 22, 59, tzinfo=UTC), class_at, "Europe/London")
    with pytest.raises(errors.NotClassDay):
        check_staff_check_in(datetime(2027, 3, 28, 23, 0, tzinfo=UTC), class_at, "Europe/London")


def test_attendance_at_the_class_end() -> None:
    assert closing_status(Status.CHECKED_IN) is Status.ATTENDED
    assert closing_status(Status.PENDING) is Status.NO_SHOW
    assert closing_status(Status.CANCELLED) is None


def test_cancel_until_the_start() -> None:
    check_cancel(START - timedelta(seconds=1), Status.PENDING, START)
    with pytest.raises(errors.NotCancellable):
        check_cancel(START, Status.PENDING, START)
    with pytest.raises(errors.NotCancellable):
        check_cancel(START - timedelta(hours=1), Status.CHECKED_IN, START)


@pytest.mark.parametrize(
    ("day", "zone", "utc"),
    [
        (date(2026, 11, 24), "Europe/London", datetime(2026, 11, 24, 1, 0, tzinfo=UTC)),
        (
            date(2027, 3, 28),
            "Europe/London",
            datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
        ),  # 01:00 skipped: 02:00 BST
        (date(2027, 3, 29), "Europe/London", datetime(2027, 3, 29, 0, 0, tzinfo=UTC)),
        (
            date(2026, 11, 1),
            "America/New_York",
            datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
        ),  # twice: first
        (date(2027, 1, 4), "Asia/Kolkata", datetime(2027, 1, 3, 19, 30, tzinfo=UTC)),
    ],
)
def test_the_daily_run_is_01_00_studio_time_even_on_dst_nights(
    day: date, zone: str, utc: datetime
) -> None:
    at = daily_run_at(day, zone)
    assert at == utc
    assert at.astimezone(ZoneInfo(zone)).date() == day


def test_a_no_show_is_acted_on_at_the_next_01_00_after_the_grace_period() -> None:
    london = "Europe/London"
    no_show = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # class ended Mon 17:30
    assert not absence_due(datetime(2026, 11, 24, 0, 59, tzinfo=UTC), no_show, timedelta(0), london)
    assert absence_due(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), no_show, timedelta(0), london)
    # a 12-hour grace period ends Tue 05:30: the Wednesday 01:00 run acts
    assert not absence_due(
        datetime(2026, 11, 25, 0, 59, tzinfo=UTC), no_show, timedelta(hours=12), london
    )
    assert absence_due(
        datetime(2026, 11, 25, 1, 0, tzinfo=UTC), no_show, timedelta(hours=12), london
    )


def test_the_01_00_run_on_the_spring_forward_night() -> None:
    # London skips 01:00-02:00 on 28 Mar 2027: the run happens at 02:00 BST (01:00 UTC).
    no_show = datetime(2027, 3, 27, 17, 0, tzinfo=UTC)
    assert not absence_due(
        datetime(2027, 3, 28, 0, 59, tzinfo=UTC), no_show, timedelta(0), "Europe/London"
    )
    assert absence_due(
        datetime(2027, 3, 28, 1, 0, tzinfo=UTC), no_show, timedelta(0), "Europe/London"
    )


def test_the_01_00_run_on_the_fall_back_night_runs_at_the_first_01_00() -> None:
    # New York has 01:00 twice on 1 Nov 2026: the run is the first (05:00 UTC), once.
    no_show = datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    assert not absence_due(
        datetime(2026, 11, 1, 4, 59, tzinfo=UTC), no_show, timedelta(0), "America/New_York"
    )
    assert absence_due(
        datetime(2026, 11, 1, 5, 0, tzinfo=UTC), no_show, timedelta(0), "America/New_York"
    )
