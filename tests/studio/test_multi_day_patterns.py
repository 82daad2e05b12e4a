"""`days` on a studio file's pattern: loaded, and its whole span checked against the
other patterns of the same people."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from tests.studio.test_bounds import with_second_pattern

from bookbot.studio.model import StudioFileError, parse_studio_data

WEEKEND = {"rrule": "FREQ=WEEKLY;BYDAY=SA", "start_date": date(2027, 3, 13), "days": 3}


def _weekend(**changes: Any) -> dict[str, Any]:
    return with_second_pattern(key="weekend", **WEEKEND, **changes)


def test_a_three_day_pattern_that_misses_the_other_is_fine() -> None:
    spec = parse_studio_data(_weekend(start_time="10:00", duration_minutes=120))
    assert spec.patterns[1].days == 3


def test_a_three_day_pattern_whose_last_day_overlaps_is_refused() -> None:
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(_weekend(start_time="17:00", duration_minutes=120))
    assert caught.value.problems == [
        'patterns[1].instructor: "maya" would work two patterns at once: "weekend"'
        ' overlaps "monday" (patterns[0]), first on 2027-03-13'
    ]


def test_a_three_day_pattern_of_a_class_that_sells_passes_is_refused() -> None:
    data = _weekend(start_time="10:00", duration_minutes=120)
    index = next(i for i, c in enumerate(data["classes"]) if c["key"] == "taster")
    data["classes"][index]["passes"] = [{"kind": "punch", "sessions": 5, "price": "40.00"}]
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(data)
    assert caught.value.problems == [
        'patterns[1].days: class "taster" sells passes, and a pass reserves one-day sessions'
        " only: give a course over several days a class of its own"
    ]
