"""The studio file: what parses, what is refused, and how the refusal reads."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bookbot.engine import recurrence
from bookbot.studio.model import (
    StudioFile,
    StudioFileError,
    parse_studio_data,
    parse_studio_file,
    parse_studio_text,
    to_minor_units,
)

EXAMPLES = Path(__file__).parents[2] / "src" / "bookbot" / "examples"
EVERY_EXAMPLE = sorted(path.name for path in EXAMPLES.glob("*.toml"))

BASE: dict[str, Any] = {
    "studio": {
        "slug": "tiny",
        "name": "Tiny Studio",
        "timezone": "Europe/London",
        "currency": "GBP",
    },
    "roles": [{"key": "wheel", "name": "Wheel"}, {"key": "glaze", "name": "Glaze"}],
    "staff": [
        {"key": "maya", "name": "Maya", "roles": ["wheel"]},
        {"key": "tom", "name": "Tom", "roles": ["glaze"]},
    ],
    "resources": [{"key": "potters-wheel", "name": "Wheel", "quantity": 8}],
    "classes": [
        {"key": "taster", "name": "Taster", "price": "45.00", "kind": "single"},
        {
            "key": "course",
            "name": "Course",
            "price": "240.00",
            "kind": "course",
            "role": "wheel",
            "requirements": [{"resource": "potters-wheel", "per_student": 1}],
        },
    ],
    "patterns": [
        {
            "key": "monday",
            "class": "course",
            "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=6",
            "start_date": date(2027, 3, 15),
            "start_time": "18:00",
            "duration_minutes": 120,
            "capacity": 8,
            "instructor": "maya",
        }
    ],
}


def problems_for(path: tuple[str | int, ...], value: Any) -> list[str]:
    """The problems reported for BASE with the value at `path` replaced."""
    data = copy.deepcopy(BASE)
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(data)
    return caught.value.problems


def test_the_base_file_is_valid() -> None:
    spec = parse_studio_data(BASE)
    assert spec.studio.language == "en"
    assert spec.studio.policies.waitlist_offer_minutes == 120
    assert spec.patterns[0].start_time == time(18, 0)
    assert spec.timezone_of(spec.patterns[0]) == "Europe/London"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("studio", "timezone"), "Mars/Olympus", "studio.timezone: unknown time zone"),
        (("studio", "currency"), "XYZ", 'studio.currency: "XYZ" is not an ISO 4217'),
        (("studio", "language"), "zz", 'studio.language: "zz" is not a known language'),
        (("studio", "slug"), "Tiny Studio", 'studio.slug: "Tiny Studio" is not a valid key'),
        (("studio", "policies"), {"booking_cutoff_minutes": -5}, "booking_cutoff_minutes"),
        (("resources", 0, "quantity"), -1, "resources[0].quantity: input should be greater"),
        (("classes", 1, "kind"), "weekly", "classes[1].kind: input should be 'single'"),
        (("classes", 1, "price"), 45.0, "classes[1].price: write the price as a string"),
        (("classes", 1, "price"), "-5.00", 'classes[1].price: "-5.00" is negative'),
        (("classes", 1, "price"), "45,00", 'classes[1].price: "45,00" is not an amount'),
        (("patterns", 0, "rrule"), "FREQ=HOURLY", "patterns[0].rrule: FREQ must be one of"),
        (("patterns", 0, "capacity"), 0, "patterns[0].capacity: input should be greater than 0"),
        (("patterns", 0, "duration_minutes"), "90", "patterns[0].duration_minutes: input"),
        (("patterns", 0, "start_time"), "6pm", 'patterns[0].start_time: "6pm" is not a time'),
        (("patterns", 0, "start_date"), "15/03/2027", "patterns[0].start_date:"),
        (("patterns", 0, "timezone"), "Nowhere/Town", "patterns[0].timezone: unknown time zone"),
        (("patterns", 0, "days"), 0, "patterns[0].days: input should be greater than or equal"),
        (("patterns", 0, "days"), 40, "patterns[0].days: input should be less than or equal to 31"),
        (("patterns", 0, "days"), "3", "patterns[0].days: input should be a valid integer"),
        (("staff", 0, "phone"), "020 7946 0101", 'staff[0].phone: "020 7946 0101": write it in'),
        (("staff", 1, "phone"), "+44 20 7946 010", 'staff[1].phone: "+44 20 7946 010": no such'),
        (("staff", 0, "phone"), "call me", "staff[0].phone:"),
    ],
)
def test_a_bad_field_is_named_with_the_reason(
    path: tuple[str | int, ...], value: Any, expected: str
) -> None:
    problems = problems_for(path, value)
    assert len(problems) == 1
    assert problems[0].startswith(expected) or expected in problems[0]
    assert "pydantic" not in problems[0]


def test_unknown_fields_and_missing_fields_are_named() -> None:
    data = copy.deepcopy(BASE)
    data["classes"][0]["colour"] = "blue"
    del data["patterns"][0]["capacity"]
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(data)
    assert caught.value.problems == [
        "classes[0].colour: unknown field (check the spelling)",
        "patterns[0].capacity: missing (required)",
    ]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("patterns", 0, "instructor"),
            "bob",
            'patterns[0].instructor: unknown staff "bob" (known: maya, tom)',
        ),
        (
            ("patterns", 0, "assistants"),
            ["maya"],
            'patterns[0].assistants[0]: "maya" is already the instructor',
        ),
        (
            ("patterns", 0, "class"),
            "pottery",
            'patterns[0].class: unknown class "pottery" (known: course, taster)',
        ),
        (
            ("staff", 1, "roles"),
            ["kiln"],
            'staff[1].roles[0]: unknown role "kiln" (known: glaze, wheel)',
        ),
        (
            ("classes", 0, "role"),
            "kiln",
            'classes[0].role: unknown role "kiln" (known: glaze, wheel)',
        ),
        (
            ("classes", 0, "requirements"),
            [{"resource": "glaze-station"}],
            'classes[0].requirements[0].resource: unknown resource "glaze-station"'
            " (known: potters-wheel)",
        ),
        (
            ("classes", 1, "price"),
            "45.005",
            'classes[1].price: "45.005" has more decimals than GBP allows (2)',
        ),
        (
            ("staff", 1, "key"),
            "maya",
            'staff[1].key: duplicate key "maya" (also staff[0])',
        ),
        (
            ("patterns", 0, "rrule"),
            "FREQ=WEEKLY;BYDAY=MO",
            'patterns[0].rrule: class "course" is a course, so its pattern needs an end:'
            " add COUNT=n or UNTIL=date",
        ),
        (
            ("patterns", 0, "instructor"),
            "tom",
            'patterns[0].instructor: "tom" does not hold role "wheel", which class "course" needs',
        ),
    ],
)
def test_a_broken_cross_reference_is_named(
    path: tuple[str | int, ...], value: Any, expected: str
) -> None:
    assert problems_for(path, value) == [expected]


def test_an_unqualified_assistant_is_named() -> None:
    problems = problems_for(("patterns", 0, "assistants"), ["tom"])
    assert problems == [
        'patterns[0].assistants[0]: "tom" does not hold role "wheel", which class "course" needs'
    ]


def test_every_problem_is_reported_at_once() -> None:
    data = copy.deepcopy(BASE)
    data["patterns"][0]["instructor"] = "bob"
    data["classes"][0]["role"] = "kiln"
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(data)
    assert len(caught.value.problems) == 2
    assert str(caught.value) == "\n".join(caught.value.problems)


def test_an_open_ended_pattern_is_fine_for_a_single_class() -> None:
    data = copy.deepcopy(BASE)
    data["patterns"][0].update({"class": "taster", "rrule": "FREQ=WEEKLY;BYDAY=SA"})
    assert parse_studio_data(data).patterns[0].class_key == "taster"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("45.00", "GBP", 4500), ("45", "GBP", 4500), ("0.10", "USD", 10), ("1500", "JPY", 1500)],
)
def test_prices_become_minor_units(amount: str, currency: str, minor: int) -> None:
    assert to_minor_units(Decimal(amount), currency) == minor


def test_a_zero_decimal_currency_refuses_fractions() -> None:
    data = copy.deepcopy(BASE)
    data["studio"]["currency"] = "JPY"
    data["classes"][0]["price"] = "4500"
    data["classes"][1]["price"] = "4500.50"
    with pytest.raises(StudioFileError) as caught:
        parse_studio_data(data)
    assert caught.value.problems == [
        'classes[1].price: "4500.50" has more decimals than JPY allows (0)'
    ]
    data["classes"][1]["price"] = "24000"
    spec = parse_studio_data(data)
    assert [spec.price_minor(c) for c in spec.classes] == [4500, 24000]


def test_toml_syntax_errors_give_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[studio]\nslug = "x"\nname = \n', encoding="utf-8")
    with pytest.raises(StudioFileError) as caught:
        parse_studio_file(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}: not valid TOML:")
    assert "line 3" in problem


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StudioFileError) as caught:
        parse_studio_file(tmp_path / "nope.toml")
    assert "cannot read the file" in caught.value.problems[0]


def test_toml_local_times_and_strings_both_work() -> None:
    text = """
    [studio]
    slug = "s"
    name = "S"
    timezone = "Asia/Kolkata"
    currency = "INR"
    [[classes]]
    key = "maths"
    name = "Maths"
    price = "500.00"
    kind = "single"
    [[patterns]]
    key = "a"
    class = "maths"
    rrule = "FREQ=DAILY"
    start_date = 2026-11-02
    start_time = 16:30:00
    duration_minutes = 60
    capacity = 1
    [[patterns]]
    key = "b"
    class = "maths"
    rrule = "FREQ=DAILY"
    start_date = "2026-11-02"
    start_time = "16:30"
    duration_minutes = 60
    capacity = 1
    timezone = "Europe/London"
    """
    spec = parse_studio_text(text)
    first, second = spec.patterns
    assert (first.start_date, first.start_time) == (second.start_date, second.start_time)
    assert spec.timezone_of(first) == "Asia/Kolkata"
    assert spec.timezone_of(second) == "Europe/London"


# --- the shipped examples ---------------------------------------------------------------


@pytest.mark.parametrize("name", EVERY_EXAMPLE)
def test_the_examples_parse(name: str) -> None:
    spec = parse_studio_file(EXAMPLES / name)
    assert spec.classes
    assert spec.patterns


def test_the_clay_studio_example() -> None:
    spec = parse_studio_file(EXAMPLES / "clay-studio.toml")
    assert (spec.studio.slug, spec.studio.currency) == ("clay-studio", "GBP")
    prices = {c.name: spec.price_minor(c) for c in spec.classes}
    assert prices["Wheel Throwing Taster"] == 4500
    assert prices["Six-Week Wheel Course"] == 24000
    assert prices["Open Studio Drop-in"] == 1800
    mugs = next(c for c in spec.classes if c.key == "mug-making")
    assert len(mugs.parts) == 3


@pytest.mark.parametrize(
    "written", ["+44 20 7946 0101", "+44 (0)20 7946 0101", "0044 20 7946 0101", "+442079460101"]
)
def test_staff_phones_are_stored_in_e164(written: str) -> None:
    data = copy.deepcopy(BASE)
    data["staff"][0]["phone"] = written
    assert parse_studio_data(data).staff[0].phone == "+442079460101"


def test_the_examples_staff_phones_are_e164() -> None:
    clay = parse_studio_file(EXAMPLES / "clay-studio.toml")
    harbour = parse_studio_file(EXAMPLES / "harbour-fitness.toml")
    assert {s.key: s.phone for s in clay.staff}["maya"] == "+442079460101"
    assert "+16175550142" in {s.phone for s in harbour.staff}


def test_the_monday_course_keeps_18_00_across_the_uk_clock_change() -> None:
    spec = parse_studio_file(EXAMPLES / "clay-studio.toml")
    pattern = next(p for p in spec.patterns if p.key == "monday-course")
    occurrences = recurrence.expand(
        _rule(spec, pattern.key), window_start=datetime(2027, 1, 1, tzinfo=UTC), window_end=None
    )
    assert len(occurrences) == 6
    utc_hours = [o.starts_at.hour for o in occurrences]
    assert utc_hours == [18, 18, 17, 17, 17, 17]  # GMT, then BST from 28 March


@pytest.mark.parametrize("name", EVERY_EXAMPLE)
def test_no_one_in_an_example_works_two_overlapping_patterns(name: str) -> None:
    spec = parse_studio_file(EXAMPLES / name)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    shifts: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for pattern in spec.patterns:
        occurrences = recurrence.expand(
            _rule(spec, pattern.key), window_start=start, window_end=start + timedelta(days=400)
        )
        for person in [pattern.instructor, *pattern.assistants]:
            if person is not None:
                shifts.setdefault(person, []).extend(
                    (o.starts_at, o.ends_at, pattern.key) for o in occurrences
                )
    for person, work in shifts.items():
        work.sort()
        for before, after in zip(work, work[1:], strict=False):
            assert before[1] <= after[0], f"{person}: {before[2]} overlaps {after[2]}"


def _rule(spec: StudioFile, key: str) -> recurrence.PatternRule:
    pattern = next(p for p in spec.patterns if p.key == key)
    return recurrence.PatternRule(
        pattern.rrule,
        pattern.start_date,
        pattern.start_time,
        timedelta(minutes=pattern.duration_minutes),
        spec.timezone_of(pattern),
    )
