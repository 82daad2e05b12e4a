"""Spans name each end's zone abbreviation when a clock change falls inside them.

Abbreviations come from tzdata (pinned by the project); day and month names from Babel's
English data, so the Spanish case only checks the times and abbreviations.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.presentation.formatting import local_span
from bookbot.presentation.i18n import translator


def test_an_ordinary_span_names_its_zone_once() -> None:
    starts = datetime(2027, 3, 15, 18, 0, tzinfo=UTC)
    assert local_span(starts, starts + timedelta(hours=2), "Europe/London") == (
        "Mon 15 Mar 2027 18:00–20:00 GMT"
    )


@pytest.mark.parametrize(
    ("zone", "starts", "minutes", "expected"),
    [
        # New York falls back at 02:00 EDT on 1 Nov 2026: 05:30 UTC is 01:30 EDT and
        # 06:15 UTC is 01:15 EST, so the end reads earlier than the start.
        (
            "America/New_York",
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
            45,
            "Sun 1 Nov 2026 01:30 EDT – 01:15 EST",
        ),
        # New York springs forward at 02:00 EST on 14 Mar 2027.
        (
            "America/New_York",
            datetime(2027, 3, 14, 6, 30, tzinfo=UTC),
            60,
            "Sun 14 Mar 2027 01:30 EST – 03:30 EDT",
        ),
        # London springs forward at 01:00 GMT on 28 Mar 2027 and falls back on 25 Oct 2026.
        (
            "Europe/London",
            datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
            60,
            "Sun 28 Mar 2027 00:30 GMT – 02:30 BST",
        ),
        (
            "Europe/London",
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            60,
            "Sun 25 Oct 2026 01:30 BST – 01:30 GMT",
        ),
    ],
)
def test_a_span_across_a_clock_change_labels_its_end_with_its_own_abbreviation(
    zone: str, starts: datetime, minutes: int, expected: str
) -> None:
    assert local_span(starts, starts + timedelta(minutes=minutes), zone) == expected


def test_a_span_on_the_same_side_of_the_change_is_unchanged() -> None:
    # 1 Nov 2026 in New York: 03:00–04:00 EST, after the fall-back.
    starts = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert local_span(starts, starts + timedelta(hours=1), "America/New_York") == (
        "Sun 1 Nov 2026 03:00–04:00 EST"
    )


def test_the_translators_span_labels_both_ends_too() -> None:
    starts = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    ends = starts + timedelta(minutes=45)
    assert (
        translator("es").span(starts, ends, "America/New_York").endswith(" 01:30 EDT – 01:15 EST")
    )
    assert translator("en").span(starts, ends, "America/New_York") == (
        "Sun 1 Nov 2026 01:30 EDT – 01:15 EST"
    )
