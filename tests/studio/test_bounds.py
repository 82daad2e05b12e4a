"""Every number in a studio file has a sane range, every string can be stored, every
pattern makes sessions and nobody works two at once: refused by `--check`, naming the
field, instead of a traceback on load or in a later booking."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.studio.test_model import BASE, problems_for

from bookbot.cli import main
from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import StudioFileError, parse_studio_data, parse_studio_text

YEAR_MINUTES = 366 * 24 * 60
BIG = 99999999999999999999


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # seats, equipment, people
        (("patterns", 0, "capacity"), BIG, f"patterns[0].capacity: {BIG} is more than 10,000"),
        (("patterns", 0, "capacity"), 3_000_000_000, "patterns[0].capacity: 3000000000 is more"),
        (("patterns", 0, "capacity"), 10_001, "patterns[0].capacity: 10001 is more than 10,000"),
        (("resources", 0, "quantity"), 2**63, "resources[0].quantity: 9223372036854775808 is"),
        (
            ("classes", 1, "requirements", 0, "per_student"),
            10_001,
            "classes[1].requirements[0].per_student: 10001 is more than 10,000",
        ),
        (("patterns", 0, "part"), 2**40, "patterns[0].part: 1099511627776 is more than 10,000"),
        # Telegram ids: positive, below 2^63, and integers (1e20 is a TOML float)
        (("staff", 0, "telegram_user_id"), 1e20, "staff[0].telegram_user_id: input should be"),
        (("staff", 0, "telegram_user_id"), 2**63, "staff[0].telegram_user_id: 9223372036854775808"),
        (("staff", 0, "telegram_user_id"), 0, "staff[0].telegram_user_id: input should be greater"),
        # durations and policies
        (
            ("patterns", 0, "duration_minutes"),
            10**13,
            "patterns[0].duration_minutes: 10000000000000",
        ),
        (("patterns", 0, "duration_minutes"), 1e13, "patterns[0].duration_minutes: input should"),
        (
            ("patterns", 0, "duration_minutes"),
            7 * 24 * 60 + 1,
            "patterns[0].duration_minutes: 10081 is more than 10,080 minutes (7 days)",
        ),
        (
            ("studio", "policies"),
            {"booking_cutoff_minutes": 10**13},
            "studio.policies.booking_cutoff_minutes: 10000000000000 is more than 527,040"
            " minutes (a year)",
        ),
        (
            ("studio", "policies"),
            {"hold_minutes": 10**11},
            "studio.policies.hold_minutes: 100000000000 is more than 527,040",
        ),
        (
            ("studio", "policies"),
            {"waitlist_offer_minutes": 10**11},
            "studio.policies.waitlist_offer_minutes: 100000000000 is more than 527,040",
        ),
        (
            ("studio", "policies"),
            {"cancellation_cutoff_hours": 10**11},
            "studio.policies.cancellation_cutoff_hours: 100000000000 is more than 8,784"
            " hours (a year)",
        ),
        (
            ("studio", "policies"),
            {"hold_minutes": YEAR_MINUTES + 1},
            "studio.policies.hold_minutes: 527041 is more than 527,040",
        ),
        # passes
        (
            ("classes", 0, "passes"),
            [{"kind": "punch", "sessions": 10**6, "price": "90.00"}],
            "classes[0].passes[0].sessions: 1000000 is more than 10,000",
        ),
        (
            ("classes", 0, "passes"),
            [{"kind": "unlimited", "valid_days": 10**6, "price": "90.00"}],
            "classes[0].passes[0].valid_days: 1000000 is more than 1,096 days (3 years)",
        ),
        (
            ("classes", 0, "passes"),
            [{"kind": "unlimited", "grace_hours": 10**6, "price": "90.00"}],
            "classes[0].passes[0].grace_hours: 1000000 is more than 8,784",
        ),
        (
            ("classes", 0, "passes"),
            [{"kind": "unlimited", "max_advance": 10**6, "price": "90.00"}],
            "classes[0].passes[0].max_advance: 1000000 is more than 10,000",
        ),
        # prices fit their 32-bit column; a pass's price too
        (("classes", 1, "price"), "21474836.48", 'classes[1].price: "21474836.48" is too large'),
        (("classes", 1, "price"), "9" * 40, "classes[1].price: "),
        (
            ("classes", 0, "passes"),
            [{"kind": "unlimited", "price": "99999999999"}],
            'classes[0].passes[0].price: "99999999999" is too large a price',
        ),
        # dates
        (("patterns", 0, "start_date"), date(9999, 12, 31), "patterns[0].start_date: 9999-12-31"),
        (("patterns", 0, "start_date"), "1066-10-14", "patterns[0].start_date: 1066-10-14 is not"),
        # text PostgreSQL cannot store, and text longer than its column
        (("studio", "name"), "Tiny\x00Studio", "studio.name: contains a NUL character"),
        (("classes", 0, "name"), "Tas\x00ter", "classes[0].name: contains a NUL character"),
        (("classes", 0, "description"), "\x00", "classes[0].description: contains a NUL"),
        (("patterns", 0, "location"), "Room\x001", "patterns[0].location: contains a NUL"),
        (("staff", 0, "roles"), ["wheel", "gl\x00aze"], "staff[0].roles: item 2 contains a NUL"),
        (("classes", 0, "description"), "x" * 2001, "classes[0].description: string should"),
        (("patterns", 0, "rrule"), "FREQ=WEEKLY;" * 50, "patterns[0].rrule: string should have"),
    ],
)
def test_a_value_out_of_range_is_refused_naming_the_field(
    path: tuple[str | int, ...], value: Any, expected: str
) -> None:
    problems = problems_for(path, value)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


@pytest.mark.parametrize(
    ("rrule", "expected"),
    [
        ("FREQ=WEEKLY;BYDAY=MO;COUNT=-1", "COUNT must be a whole number from 1 to 1000"),
        ("FREQ=WEEKLY;BYDAY=MO;COUNT=0", "COUNT must be a whole number from 1 to 1000"),
        ("FREQ=WEEKLY;BYDAY=MO;INTERVAL=-2;COUNT=3", "INTERVAL must be a whole number"),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3",
            "makes no session in the year from start_date 2027-03-15",
        ),
        (
            "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31;COUNT=3",
            "makes no session in the year from start_date 2027-03-15",
        ),
        (  # ends before it begins
            "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270101",
            "makes no session in the year from start_date 2027-03-15",
        ),
    ],
)
def test_a_rule_that_makes_no_session_is_refused(rrule: str, expected: str) -> None:
    [problem] = problems_for(("patterns", 0, "rrule"), rrule)
    assert problem.startswith(f"patterns[0].rrule: {expected}")


def test_an_open_ended_rule_that_never_matches_is_refused() -> None:
    data = copy.deepcopy(BASE)
    data["patterns"][0].update({"class": "taster", "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31"})
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(data)
    assert caught.value.problems == [
        "patterns[0].rrule: makes no session in the year from start_date 2027-03-15"
        " (a date that never comes, such as 30 February, or an end before the start)"
    ]


def test_the_largest_values_allowed_are_accepted() -> None:
    data = copy.deepcopy(BASE)
    data["studio"]["policies"] = {
        "booking_cutoff_minutes": YEAR_MINUTES,
        "cancellation_cutoff_hours": 366 * 24,
        "waitlist_offer_minutes": YEAR_MINUTES,
        "hold_minutes": YEAR_MINUTES,
    }
    data["staff"][0]["telegram_user_id"] = 2**63 - 1
    data["resources"][0]["quantity"] = 10_000
    data["classes"][1]["price"] = "21474836.47"
    data["patterns"][0].update({"capacity": 10_000, "duration_minutes": 7 * 24 * 60 - 1})
    spec = parse_studio_data(data)
    assert spec.patterns[0].capacity == 10_000


# --- people in two places at once --------------------------------------------------------


def with_second_pattern(**changes: Any) -> dict[str, Any]:
    """BASE (Maya teaches the course, Mondays 18:00-20:00 from 15 March 2027 for 6 weeks)
    plus a weekly taster, changed by `changes`."""
    data = copy.deepcopy(BASE)
    taster = {
        "key": "mon-taster",
        "class": "taster",
        "rrule": "FREQ=WEEKLY;BYDAY=MO",
        "start_date": date(2027, 3, 1),
        "start_time": "19:00",
        "duration_minutes": 60,
        "capacity": 4,
        "instructor": "maya",
    }
    data["patterns"].append({**taster, **changes})
    return data


def test_an_instructor_in_two_overlapping_patterns_is_refused_with_the_first_date() -> None:
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(with_second_pattern())
    assert caught.value.problems == [
        'patterns[1].instructor: "maya" would work two patterns at once: "mon-taster"'
        ' overlaps "monday" (patterns[0]), first on 2027-03-15'
    ]


def test_an_assistant_is_checked_too() -> None:
    data = with_second_pattern(instructor="tom", assistants=["maya"])
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(data)
    assert caught.value.problems == [
        'patterns[1].assistants[0]: "maya" would work two patterns at once: "mon-taster"'
        ' overlaps "monday" (patterns[0]), first on 2027-03-15'
    ]


def test_overlap_is_found_across_zones_and_the_clock_changes() -> None:
    # 15:00-16:00 in New York against 18:00-20:00 in London: New York moves to summer time
    # on 14 March 2027, London on 28 March. Only in between do they overlap (19:00 UTC).
    data = with_second_pattern(
        start_time="15:00", timezone="America/New_York", start_date=date(2027, 3, 8)
    )
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(data)
    [problem] = caught.value.problems
    assert problem.endswith("first on 2027-03-15")
    data = with_second_pattern(
        start_time="15:00", timezone="America/New_York", start_date=date(2027, 3, 29)
    )
    assert len(parse_studio_data(data).patterns) == 2  # from the 29th: 17-19 and 19-20 UTC


@pytest.mark.parametrize(
    "changes",
    [
        {"start_time": "20:00"},  # back to back
        {"start_time": "17:00"},  # ends as the course begins
        {"rrule": "FREQ=WEEKLY;BYDAY=TU"},  # another day
        {"start_date": date(2027, 4, 26)},  # after the course's last session (19 April)
        {"instructor": "tom"},  # someone else
    ],
)
def test_patterns_that_do_not_overlap_are_fine(changes: dict[str, Any]) -> None:
    assert len(parse_studio_data(with_second_pattern(**changes)).patterns) == 2


# --- through the command line and the database -------------------------------------------

TOML = """
[studio]
slug = "tiny"
name = "{name}"
timezone = "Europe/London"
currency = "GBP"

[[classes]]
key = "taster"
name = "Taster"
price = "45.00"
kind = "single"

[[patterns]]
key = "sat"
class = "taster"
rrule = "FREQ=WEEKLY;BYDAY=SA"
start_date = 2027-03-20
start_time = 14:00:00
duration_minutes = 120
capacity = {capacity}
"""


@pytest.mark.parametrize(
    ("name", "capacity", "expected"),
    [
        ("Tiny", "99999999999999999999", "patterns[0].capacity: 99999999999999999999 is more"),
        ("Tiny", "3000000000", "patterns[0].capacity: 3000000000 is more than 10,000"),
        ("Tiny", "1e20", "patterns[0].capacity: input should be a valid integer"),
        ("Ti\\u0000ny", "8", "studio.name: contains a NUL character"),
        ("Tiny", "9" * 5000, "a number is far too long"),
    ],
)
def test_check_refuses_what_would_fail_on_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, capacity: str, expected: str
) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(TOML.format(name=name, capacity=capacity), encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'bookbot.db'}"
    for command in (["studio", "load", "--check", str(path)], ["studio", "load", str(path)]):
        assert main(["--database", database, *command]) == 2
        out = capsys.readouterr().out
        assert "1 problem(s)" in out
        assert expected in out
        assert "Traceback" not in out
    assert not (tmp_path / "bookbot.db").exists()


async def test_the_largest_values_allowed_load_on_either_database(db: Database) -> None:
    text = TOML.format(name="Tiny", capacity=10_000).replace(
        'currency = "GBP"',
        'currency = "GBP"\n[studio.policies]\nhold_minutes = 527040\n'
        "booking_cutoff_minutes = 527040\ncancellation_cutoff_hours = 8784\n"
        "waitlist_offer_minutes = 527040",
    )
    text += (
        '\n[[staff]]\nkey = "ann"\nname = "Ann"\ntelegram_user_id = 9223372036854775807\n'
        '\n[[resources]]\nkey = "wheel"\nname = "Wheel"\nquantity = 10000\n'
    )
    text = text.replace('price = "45.00"', 'price = "21474836.47"')
    report = await load_studio(db, parse_studio_text(text))
    async with db.transaction(write=False) as tx:
        row = await tx.one(
            "SELECT s.hold_minutes, p.capacity, st.telegram_user_id, r.total_quantity,"
            " c.price_minor FROM studios s JOIN schedule_patterns p ON p.studio_id = s.id"
            " JOIN staff st ON st.studio_id = s.id JOIN resources r ON r.studio_id = s.id"
            " JOIN classes c ON c.studio_id = s.id WHERE s.id = :id",
            {"id": report.studio_id},
        )
    assert row is not None
    assert tuple(row) == (527040, 10_000, 2**63 - 1, 10_000, 2**31 - 1)
