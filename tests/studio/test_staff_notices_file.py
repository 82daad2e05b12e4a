"""`[[staff_notices]]` in the studio file: checked like the rest, loaded into subscriptions."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.studio.test_loader import example_data, fetch

from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import StudioFileError, parse_studio_data


def with_notices(*notices: dict[str, Any], maya_telegram: int | None = 555) -> dict[str, Any]:
    data = copy.deepcopy(example_data())
    if maya_telegram is not None:
        next(s for s in data["staff"] if s["key"] == "maya")["telegram_user_id"] = maya_telegram
    data["staff_notices"] = list(notices)
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(data)
    return caught.value.problems


def test_entries_parse_with_defaults() -> None:
    spec = parse_studio_data(
        with_notices(
            {"chat": -100123, "events": ["cancellation", "booking"], "mode": "instant"},
            {"staff": "maya", "mode": "digest"},
        )
    )
    first, second = spec.staff_notices
    assert (first.chat, first.events_csv(), first.mode) == (
        -100123,
        "booking,cancellation",
        "instant",
    )
    assert second.events_csv() == "booking,cancellation,waitlist,handoff"


@pytest.mark.parametrize(
    ("notices", "expected"),
    [
        ([{"events": ["booking"]}], "staff_notices[0]: give either chat"),
        ([{"chat": -1, "staff": "maya"}], "staff_notices[0]: give either chat"),
        ([{"staff": "nobody"}], 'staff_notices[0].staff: no staff member "nobody"'),
        ([{"staff": "tom"}], 'staff_notices[0].staff: "tom" has no telegram_user_id'),
        ([{"chat": -1, "events": []}], "staff_notices[0].events: empty"),
        ([{"chat": -1, "events": ["booking", "booking"]}], "named twice"),
        ([{"chat": -1}, {"chat": -1, "mode": "digest"}], "the same chat as staff_notices[0]"),
        ([{"chat": -1, "events": ["refunds"]}], "staff_notices[0].events[0]: "),
        ([{"chat": -1, "mode": "hourly"}], "staff_notices[0].mode: "),
    ],
)
def test_mistakes_are_named(notices: list[dict[str, Any]], expected: str) -> None:
    found = problems(with_notices(*notices))
    assert any(expected in p for p in found), found


async def subscriptions(db: Database) -> list[tuple[Any, ...]]:
    return await fetch(
        db,
        "SELECT channel, address, events, mode FROM staff_notice_subscriptions ORDER BY address",
    )


async def test_loading_upserts_and_off_unsubscribes(db: Database) -> None:
    first = with_notices(
        {"chat": -100123, "events": ["booking", "cancellation"]},
        {"staff": "maya", "events": ["waitlist"], "mode": "digest"},
    )
    report = await load_studio(db, parse_studio_data(first))
    assert report.created["staff_notices"] == 2
    assert await subscriptions(db) == [
        ("telegram", "-100123", "booking,cancellation", "instant"),
        ("telegram", "555", "waitlist", "digest"),
    ]

    again = await load_studio(db, parse_studio_data(first))
    assert (again.created["staff_notices"], again.updated["staff_notices"]) == (0, 0)

    second = with_notices(
        {"chat": -100123, "events": ["booking"], "mode": "digest"},
        {"staff": "maya", "mode": "off"},
    )
    report = await load_studio(db, parse_studio_data(second))
    assert report.updated["staff_notices"] == 2
    assert await subscriptions(db) == [("telegram", "-100123", "booking", "digest")]
