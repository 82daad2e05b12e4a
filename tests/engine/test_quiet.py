"""Quiet hours hold a notice until they end, on the studio's wall clock, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookbot.engine.quiet import is_quiet, release_at

NIGHT = (21 * 60, 8 * 60)  # the default, 21:00-08:00


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("zone", "window", "due", "expected"),
    [
        # Europe/London in winter (GMT = UTC).
        ("Europe/London", NIGHT, utc(2026, 1, 10, 22, 0), utc(2026, 1, 11, 8, 0)),
        ("Europe/London", NIGHT, utc(2026, 1, 10, 12, 0), utc(2026, 1, 10, 12, 0)),
        ("Europe/London", NIGHT, utc(2026, 1, 10, 8, 0), utc(2026, 1, 10, 8, 0)),  # at the end
        ("Europe/London", NIGHT, utc(2026, 1, 10, 7, 59), utc(2026, 1, 10, 8, 0)),
        ("Europe/London", NIGHT, utc(2026, 1, 10, 20, 59), utc(2026, 1, 10, 20, 59)),
        ("Europe/London", NIGHT, utc(2026, 1, 10, 21, 0), utc(2026, 1, 11, 8, 0)),  # at start
        ("Europe/London", NIGHT, utc(2026, 1, 10, 23, 59), utc(2026, 1, 11, 8, 0)),
        ("Europe/London", NIGHT, utc(2026, 1, 11, 0, 0), utc(2026, 1, 11, 8, 0)),
        # In summer (BST = UTC+1): 08:00 local is 07:00 UTC.
        ("Europe/London", NIGHT, utc(2026, 7, 10, 21, 30), utc(2026, 7, 11, 7, 0)),
        ("Europe/London", NIGHT, utc(2026, 7, 10, 5, 0), utc(2026, 7, 10, 7, 0)),
        ("Europe/London", NIGHT, utc(2026, 7, 10, 19, 59), utc(2026, 7, 10, 19, 59)),
        ("Europe/London", NIGHT, utc(2026, 7, 10, 20, 0), utc(2026, 7, 11, 7, 0)),
        # The night the clocks go forward (29 Mar 2026): held from GMT into BST.
        ("Europe/London", NIGHT, utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 7, 0)),
        ("Europe/London", NIGHT, utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 7, 0)),
        # The night they go back (25 Oct 2026): held from BST into GMT.
        ("Europe/London", NIGHT, utc(2026, 10, 24, 21, 0), utc(2026, 10, 25, 8, 0)),
        ("Europe/London", NIGHT, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 8, 0)),
        # Quiet hours ending inside the gap (01:30 does not exist that night): released at
        # the first instant after it, 02:30 BST.
        ("Europe/London", (21 * 60, 90), utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 1, 30)),
        # Ending at a wall time that happens twice: the first 01:30 (BST) for a notice due
        # before it, the second (GMT) for one due in the repeated hour.
        ("Europe/London", (21 * 60, 90), utc(2026, 10, 25, 0, 10), utc(2026, 10, 25, 0, 30)),
        ("Europe/London", (21 * 60, 90), utc(2026, 10, 25, 1, 10), utc(2026, 10, 25, 1, 30)),
        ("Europe/London", (21 * 60, 90), utc(2026, 10, 25, 1, 40), utc(2026, 10, 25, 1, 40)),
        # Asia/Tokyo has no DST (UTC+9): 22:00 local is 13:00 UTC.
        ("Asia/Tokyo", NIGHT, utc(2026, 7, 10, 13, 0), utc(2026, 7, 10, 23, 0)),
        ("Asia/Tokyo", NIGHT, utc(2026, 3, 28, 13, 0), utc(2026, 3, 28, 23, 0)),
        ("Asia/Tokyo", NIGHT, utc(2026, 7, 10, 3, 0), utc(2026, 7, 10, 3, 0)),
        ("Asia/Tokyo", NIGHT, utc(2026, 7, 10, 22, 0), utc(2026, 7, 10, 23, 0)),  # 07:00 JST
        # Asia/Kolkata, a half-hour offset (UTC+5:30).
        ("Asia/Kolkata", NIGHT, utc(2026, 1, 10, 16, 0), utc(2026, 1, 11, 2, 30)),
        # A window inside one day (13:00-14:00 siesta).
        ("Asia/Tokyo", (13 * 60, 14 * 60), utc(2026, 7, 10, 4, 30), utc(2026, 7, 10, 5, 0)),
        ("Asia/Tokyo", (13 * 60, 14 * 60), utc(2026, 7, 10, 5, 0), utc(2026, 7, 10, 5, 0)),
        # Equal start and end: no quiet hours.
        ("Europe/London", (8 * 60, 8 * 60), utc(2026, 1, 10, 3, 0), utc(2026, 1, 10, 3, 0)),
        ("Europe/London", (0, 0), utc(2026, 1, 10, 23, 0), utc(2026, 1, 10, 23, 0)),
    ],
)
def test_release_at(zone: str, window: tuple[int, int], due: datetime, expected: datetime) -> None:
    assert release_at(due, zone, *window) == expected


@pytest.mark.parametrize(
    ("due", "latest", "expected"),
    [
        # A 1-hour reminder for a 07:00 BST class is due 06:00 BST: holding it to 08:00 would
        # pass the class, so it goes when due.
        (utc(2026, 7, 10, 5, 0), utc(2026, 7, 10, 6, 0), utc(2026, 7, 10, 5, 0)),
        # For an 08:30 class it waits until 08:00, half an hour before.
        (utc(2026, 7, 10, 6, 30), utc(2026, 7, 10, 7, 30), utc(2026, 7, 10, 7, 0)),
        # Released exactly at `latest`: allowed.
        (utc(2026, 7, 10, 6, 30), utc(2026, 7, 10, 7, 0), utc(2026, 7, 10, 7, 0)),
        # Not quiet: `latest` plays no part.
        (utc(2026, 7, 10, 12, 0), utc(2026, 7, 10, 11, 0), utc(2026, 7, 10, 12, 0)),
    ],
)
def test_never_held_past_latest(due: datetime, latest: datetime, expected: datetime) -> None:
    assert release_at(due, "Europe/London", *NIGHT, latest=latest) == expected


def test_accepts_a_zone_object_and_returns_utc() -> None:
    due = datetime(2026, 7, 10, 23, 0, tzinfo=ZoneInfo("Europe/London"))
    released = release_at(due, ZoneInfo("Europe/London"), *NIGHT)
    assert released == utc(2026, 7, 11, 7, 0)
    assert released.tzinfo is UTC


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        release_at(datetime(2026, 1, 1, 22, 0), "Europe/London", *NIGHT)  # noqa: DTZ001


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Asia/Tokyo"])
def test_every_quarter_hour_of_a_year(zone: str) -> None:
    """Whatever the due time: never earlier, never a wait of a day or more, and the release is
    outside the quiet hours (or is the due time itself)."""
    tz = ZoneInfo(zone)
    due = utc(2026, 1, 1, 0, 7)
    while due < utc(2027, 1, 1):
        released = release_at(due, zone, *NIGHT)
        local = released.astimezone(tz)
        assert due <= released < due + timedelta(hours=12)
        assert released == due or not is_quiet(local.hour * 60 + local.minute, *NIGHT)
        due += timedelta(minutes=15)


def test_is_quiet() -> None:
    assert is_quiet(21 * 60, *NIGHT)
    assert is_quiet(0, *NIGHT)
    assert not is_quiet(8 * 60, *NIGHT)
    assert not is_quiet(12 * 60, 12 * 60, 12 * 60)
