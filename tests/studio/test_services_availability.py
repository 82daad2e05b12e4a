"""The studio file's services and staff availability: what loads, what reloading keeps, and
how bad input is refused."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import StudioFileError, parse_studio_data, parse_studio_file

EXAMPLES = Path(__file__).parents[2] / "src" / "bookbot" / "examples"


def tutor_data() -> dict[str, Any]:
    return tomllib.loads((EXAMPLES / "tutor-studio.toml").read_text(encoding="utf-8"))


def person(data: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["staff"] if s["key"] == key)
    return found


def service(data: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["services"] if s["key"] == key)
    return found


def refusal(data: dict[str, Any]) -> list[str]:
    with pytest.raises(StudioFileError) as raised:
        parse_studio_data(data)
    return raised.value.problems


async def fetch(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with db.transaction(write=False) as tx:
        return [tuple(row) for row in await tx.all(sql, params)]


async def availability(db: Database, studio_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every availability row of the studio, by table, in a stable order."""
    columns = {
        "availability_windows": "staff_id, weekday, start_time, end_time, room, individual,"
        " group_ok, source",
        "availability_overrides": "staff_id, on_date, start_time, end_time, source",
        "availability_blocks": "staff_id, starts_at, ends_at, reason, source",
        "availability_additions": "staff_id, starts_at, ends_at, room, reason, source",
    }
    return {
        table: sorted(
            await fetch(db, f"SELECT {cols} FROM {table} WHERE studio_id = :id", id=studio_id),  # noqa: S608
            key=lambda row: tuple(str(value) for value in row),
        )
        for table, cols in columns.items()
    }


async def staff_ids(db: Database, studio_id: int) -> dict[str, int]:
    rows = await fetch(db, "SELECT key, id FROM staff WHERE studio_id = :id", id=studio_id)
    return dict(rows)  # type: ignore[arg-type]


# --- the example --------------------------------------------------------------------------


def test_the_tutor_example_reads_as_written() -> None:
    spec = parse_studio_file(EXAMPLES / "tutor-studio.toml")
    assert (spec.studio.slug, spec.studio.timezone, spec.studio.currency) == (
        "tutor-studio",
        "Europe/Madrid",
        "EUR",
    )
    lucia, jake = spec.staff
    assert (spec.timezone_of(lucia), spec.timezone_of(jake)) == (
        "Europe/Madrid",
        "America/New_York",
    )
    lesson = next(s for s in spec.services if s.key == "spanish-lesson")
    assert (lesson.duration_minutes, lesson.buffer_after_minutes, lesson.step_minutes) == (
        60,
        15,
        15,
    )
    trial = next(s for s in spec.services if s.key == "trial")
    assert (trial.duration_minutes, trial.staff) == (30, ("lucia", "jake"))
    assert any(s.online and "{appointment}" in s.meeting_url for s in spec.services)
    assert [p.instructor for p in spec.patterns] == ["jake"]


async def test_loading_the_tutor_example_writes_services_and_availability(db: Database) -> None:
    report = await load_studio(db, parse_studio_data(tutor_data()))
    studio_id = report.studio_id
    ids = await staff_ids(db, studio_id)

    assert report.created["services"] == 4
    assert report.created["availability"] == 2
    services = await fetch(
        db,
        "SELECT key, duration_minutes, price_minor, buffer_before_minutes, buffer_after_minutes,"
        " step_minutes, min_notice_minutes, horizon_days, capacity, online, meeting_url,"
        " reschedule_cutoff_hours, cancellation_cutoff_hours, active"
        " FROM services WHERE studio_id = :id ORDER BY key",
        id=studio_id,
    )
    assert services == [
        ("coaching-session", 60, 9000, 0, 15, 15, 0, 60, 1, True,
         "https://meet.example.com/lingua-coach-{appointment}", 24, 48, True),
        ("spanish-duo", 60, 6000, 0, 15, 15, 0, 60, 2, False, "", 24, None, True),
        ("spanish-lesson", 60, 4000, 0, 15, 15, 720, 60, 1, False, "", 24, None, True),
        ("trial", 30, 1000, 0, 0, 30, 0, 60, 1, True,
         "https://meet.example.com/trial-{appointment}", 24, None, True),
    ]  # fmt: skip
    offered = await fetch(
        db,
        "SELECT s.key, st.key FROM service_staff x JOIN services s ON s.id = x.service_id"
        " JOIN staff st ON st.id = x.staff_id WHERE x.studio_id = :id ORDER BY 1, 2",
        id=studio_id,
    )
    assert offered == [
        ("coaching-session", "jake"),
        ("spanish-duo", "lucia"),
        ("spanish-lesson", "lucia"),
        ("trial", "jake"),
        ("trial", "lucia"),
    ]
    rows = await availability(db, studio_id)
    assert (ids["lucia"], 1, "16:00", "20:00", "Room 2", True, False, "file") in rows[
        "availability_windows"
    ]
    assert len(rows["availability_windows"]) == 12
    assert rows["availability_overrides"] == [
        (ids["lucia"], date(2026, 12, 8), None, None, "file"),
        (ids["lucia"], date(2026, 12, 31), "10:00", "12:00", "file"),
    ]
    # Local wall time in Madrid (UTC+1 in December), stored as the instant.
    assert rows["availability_blocks"] == [
        (
            ids["lucia"],
            datetime(2026, 12, 20, 23, 0, tzinfo=UTC),
            datetime(2026, 12, 27, 23, 0, tzinfo=UTC),
            "Christmas holiday",
            "file",
        )
    ]
    assert rows["availability_additions"] == [
        (
            ids["lucia"],
            datetime(2026, 12, 12, 9, 0, tzinfo=UTC),
            datetime(2026, 12, 12, 12, 0, tzinfo=UTC),
            "",
            "Extra Saturday",
            "file",
        )
    ]
    zones = await fetch(db, "SELECT key, timezone FROM staff WHERE studio_id = :id", id=studio_id)
    assert sorted(zones) == [("jake", "America/New_York"), ("lucia", "Europe/Madrid")]


async def test_every_staff_member_gets_a_calendar_token_that_reloading_keeps(
    db: Database,
) -> None:
    first = await load_studio(db, parse_studio_data(tutor_data()))
    sql = "SELECT key, calendar_token FROM staff WHERE studio_id = :id ORDER BY key"
    tokens = await fetch(db, sql, id=first.studio_id)
    assert all(token and len(token) >= 32 for _key, token in tokens)
    assert len({token for _key, token in tokens}) == 2

    await load_studio(db, parse_studio_data(tutor_data()))
    assert await fetch(db, sql, id=first.studio_id) == tokens


async def test_reloading_the_same_file_changes_nothing(db: Database) -> None:
    first = await load_studio(db, parse_studio_data(tutor_data()))
    before = await availability(db, first.studio_id)

    again = await load_studio(db, parse_studio_data(tutor_data()))

    assert not again.changed, again.summary()
    assert again.summary().startswith("tutor-studio: nothing changed")
    assert await availability(db, first.studio_id) == before


async def test_reloading_replaces_file_rows_and_keeps_rows_added_in_chat(db: Database) -> None:
    first = await load_studio(db, parse_studio_data(tutor_data()))
    studio_id = first.studio_id
    lucia = (await staff_ids(db, studio_id))["lucia"]
    chat_block = {
        "studio_id": studio_id,
        "staff_id": lucia,
        "starts_at": datetime(2027, 1, 4, 8, 0, tzinfo=UTC),
        "ends_at": datetime(2027, 1, 5, 8, 0, tzinfo=UTC),
    }
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO availability_blocks (studio_id, staff_id, starts_at, ends_at, reason,"
            " source) VALUES (:studio_id, :staff_id, :starts_at, :ends_at, 'Dentist', 'chat')",
            chat_block,
        )
        await tx.execute(
            "INSERT INTO availability_windows (studio_id, staff_id, weekday, start_time,"
            " end_time, source) VALUES (:studio_id, :staff_id, 5, '10:00', '12:00', 'cli')",
            chat_block,
        )
    data = tutor_data()
    lucia_file = person(data, "lucia")["availability"]
    lucia_file["weekly"] = [{"day": "mon", "start": "10:00", "end": "14:00"}]
    lucia_file["blocked"] = []

    report = await load_studio(db, parse_studio_data(data))

    assert report.updated["availability"] == 1
    rows = await availability(db, studio_id)
    assert [r for r in rows["availability_windows"] if r[0] == lucia] == [
        (lucia, 0, "10:00", "14:00", "", True, True, "file"),
        (lucia, 5, "10:00", "12:00", "", True, True, "cli"),
    ]
    assert rows["availability_blocks"] == [
        (lucia, chat_block["starts_at"], chat_block["ends_at"], "Dentist", "chat")
    ]
    # The untouched sections stay as they were.
    assert len(rows["availability_additions"]) == 1
    assert len(rows["availability_overrides"]) == 2


async def test_a_service_dropped_from_the_file_is_retired_and_its_staff_follow_the_file(
    db: Database,
) -> None:
    first = await load_studio(db, parse_studio_data(tutor_data()))
    data = tutor_data()
    data["services"] = [s for s in data["services"] if s["key"] != "spanish-duo"]
    service(data, "trial")["staff"] = ["jake"]

    report = await load_studio(db, parse_studio_data(data))

    assert report.updated["services"] == 2
    sql = "SELECT key, active FROM services WHERE studio_id = :id ORDER BY key"
    assert (await fetch(db, sql, id=first.studio_id))[1] == ("spanish-duo", False)
    trial = await fetch(
        db,
        "SELECT st.key FROM service_staff x JOIN services s ON s.id = x.service_id"
        " JOIN staff st ON st.id = x.staff_id WHERE s.key = 'trial' AND x.studio_id = :id",
        id=first.studio_id,
    )
    assert trial == [("jake",)]

    back = await load_studio(db, parse_studio_data(tutor_data()))
    assert back.updated["services"] == 2
    assert ("spanish-duo", True) in await fetch(db, sql, id=first.studio_id)


async def test_the_pottery_example_still_loads_with_no_services(db: Database) -> None:
    report = await load_studio(db, parse_studio_file(EXAMPLES / "clay-studio.toml"))
    assert report.created["services"] == report.created["availability"] == 0
    tokens = await fetch(
        db, "SELECT calendar_token FROM staff WHERE studio_id = :id", id=report.studio_id
    )
    assert len(tokens) == 4
    assert all(token for (token,) in tokens)


# --- refusals -----------------------------------------------------------------------------


def _edit(change: Any) -> list[str]:
    data = tutor_data()
    change(data)
    return refusal(data)


def test_a_service_naming_unknown_staff_is_refused() -> None:
    problems = _edit(lambda d: service(d, "trial").update(staff=["lucia", "maria"]))
    assert problems == ['services[2].staff[1]: unknown staff "maria" (known: jake, lucia)']


def test_a_service_without_staff_is_refused() -> None:
    problems = _edit(lambda d: service(d, "trial").update(staff=[]))
    assert len(problems) == 1
    assert problems[0].startswith("services[2].staff: ")


def test_a_duplicate_service_key_is_refused() -> None:
    problems = _edit(lambda d: d["services"].append(copy.deepcopy(service(d, "trial"))))
    assert problems == ['services[4].key: duplicate key "trial" (also services[2])']


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("40.005", '"40.005" has more decimals than EUR allows (2)'),
        ("-1", "is negative"),
        ("forty", "is not an amount"),
        (40, "write the price as a string"),
    ],
)
def test_a_bad_service_price_is_refused(price: Any, message: str) -> None:
    problems = _edit(lambda d: service(d, "spanish-lesson").update(price=price))
    assert len(problems) == 1
    assert problems[0].startswith("services[0].price: ")
    assert message in problems[0]


def test_a_meeting_url_needs_an_online_service_and_knows_one_placeholder() -> None:
    problems = _edit(
        lambda d: service(d, "spanish-lesson").update(meeting_url="https://meet.example.com/x")
    )
    assert problems == ["services[0]: a meeting_url is for an online service: set online = true"]
    problems = _edit(
        lambda d: service(d, "trial").update(meeting_url="https://meet.example.com/{booking}")
    )
    assert len(problems) == 1
    assert "the only placeholder a meeting URL may hold is {appointment}" in problems[0]


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (
            {"day": "mon", "start": "12:00", "end": "09:00"},
            "staff[0].availability.weekly[0]: end 09:00 is not after start 12:00",
        ),
        (
            {"day": "mon", "start": "18:00", "end": "00:00"},
            "staff[0].availability.weekly[0]: end 00:00 is midnight: a window ends at 23:59",
        ),
        (
            {"day": "monday", "start": "09:00", "end": "12:00"},
            'staff[0].availability.weekly[0].day: "monday" is not a day: use one of mon, tue,',
        ),
        (
            {"day": "mon", "start": "9am", "end": "12:00"},
            'staff[0].availability.weekly[0].start: "9am" is not a time of day',
        ),
    ],
)
def test_a_bad_weekly_window_is_refused(window: dict[str, Any], message: str) -> None:
    problems = _edit(lambda d: person(d, "lucia")["availability"].update(weekly=[window]))
    assert len(problems) == 1
    assert problems[0].startswith(message)


def test_a_bad_time_zone_is_refused() -> None:
    problems = _edit(lambda d: person(d, "jake").update(timezone="America/Gotham"))
    assert len(problems) == 1
    assert problems[0].startswith("staff[1].timezone: ")
    assert "America/Gotham" in problems[0]


@pytest.mark.parametrize(
    ("blocked", "message"),
    [
        (
            {"start": "14/12/2026", "end": "2026-12-21T00:00"},
            'staff[0].availability.blocked[0].start: "14/12/2026" is not a date and time',
        ),
        (
            {"start": "2026-12-21T00:00", "end": "2026-12-14T00:00"},
            "staff[0].availability.blocked[0]: end 2026-12-14T00:00 is not after start",
        ),
        (
            {"start": "2026-12-14T00:00+01:00", "end": "2026-12-21T00:00"},
            "staff[0].availability.blocked[0].start: give a local time without an offset",
        ),
    ],
)
def test_a_bad_blocked_period_is_refused(blocked: dict[str, Any], message: str) -> None:
    problems = _edit(lambda d: person(d, "lucia")["availability"].update(blocked=[blocked]))
    assert len(problems) == 1
    assert problems[0].startswith(message)


def test_an_override_date_given_twice_and_a_bad_date_are_refused() -> None:
    twice = [{"date": "2026-12-24", "windows": []}, {"date": "2026-12-24", "windows": []}]
    problems = _edit(lambda d: person(d, "lucia")["availability"].update(overrides=twice))
    assert problems == [
        "staff[0].availability.overrides[1].date: 2026-12-24 is listed twice (also"
        " overrides[0]): put its windows in one entry"
    ]
    bad = [{"date": "24 December", "windows": []}]
    problems = _edit(lambda d: person(d, "lucia")["availability"].update(overrides=bad))
    assert problems == [
        'staff[0].availability.overrides[0].date: "24 December" is not a date: write it like'
        " 2027-03-15"
    ]


def test_a_period_a_clock_change_turns_around_is_refused() -> None:
    """02:30 on 29 March 2026 does not exist in Madrid: it is read as 03:30, after 03:00."""
    period = {"start": "2026-03-29T02:30", "end": "2026-03-29T03:00"}
    problems = _edit(lambda d: person(d, "lucia")["availability"].update(additions=[period]))
    assert problems == [
        "staff[0].availability.additions[0]: in Europe/Madrid the end is not after the start"
        " (a clock change falls between them)"
    ]


async def test_loading_one_studio_leaves_another_studios_rows_alone(db: Database) -> None:
    madrid = await load_studio(db, parse_studio_data(tutor_data()))
    twin = tutor_data()
    twin["studio"]["slug"] = "tutor-twin"
    other = await load_studio(db, parse_studio_data(twin))
    before = await availability(db, madrid.studio_id)
    services_sql = "SELECT key, active FROM services WHERE studio_id = :id ORDER BY key"
    services_before = await fetch(db, services_sql, id=madrid.studio_id)

    twin["services"] = []
    twin["packages"] = []  # they name the services
    person(twin, "lucia")["availability"] = {}
    await load_studio(db, parse_studio_data(twin))

    assert await availability(db, madrid.studio_id) == before
    assert await fetch(db, services_sql, id=madrid.studio_id) == services_before
    twin_lucia = (await staff_ids(db, other.studio_id))["lucia"]
    twin_rows = await availability(db, other.studio_id)
    assert all(row[0] != twin_lucia for rows in twin_rows.values() for row in rows)


def test_bookbot_demo_loads_both_studios_and_says_how_to_pick_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bookbot.cli import main

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["--database", url, "demo", "--weeks", "1"]) == 0
    out = capsys.readouterr().out
    assert "clay-studio: created studio 1" in out
    assert "tutor-studio: created studio 1" in out
    assert "bookbot shell --studio tutor-studio" in out
    assert main(["--database", url, "demo", "--weeks", "1"]) == 0
    assert "tutor-studio: nothing changed" in capsys.readouterr().out
