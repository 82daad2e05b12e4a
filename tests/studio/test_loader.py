"""Loading a studio file: the rows it writes, and that loading again writes only changes."""

from __future__ import annotations

import copy
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any

from bookbot.services import staff_access
from bookbot.store.db import Database
from bookbot.studio.loader import KINDS, load_studio
from bookbot.studio.model import StudioFile, parse_studio_data, parse_studio_file

EXAMPLES = Path(__file__).parents[2] / "src" / "bookbot" / "examples"
TABLES = (
    "teaching_roles",
    "staff",
    "staff_roles",
    "resources",
    "classes",
    "class_requirements",
    "class_parts",
    "schedule_patterns",
    "pattern_assistants",
)


def example_data(name: str = "clay-studio") -> dict[str, Any]:
    return tomllib.loads((EXAMPLES / f"{name}.toml").read_text(encoding="utf-8"))


def edited(data: dict[str, Any], section: str, key: str, **changes: Any) -> dict[str, Any]:
    """A copy of `data` with the entry `key` of `section` changed."""
    copied = copy.deepcopy(data)
    entry = next(e for e in copied[section] if e["key"] == key)
    entry.update(changes)
    return copied


async def row_counts(db: Database, studio_id: int) -> dict[str, int]:
    async with db.transaction(write=False) as tx:
        return {
            table: await tx.scalar(
                f"SELECT COUNT(*) FROM {table} WHERE studio_id = :id",  # noqa: S608
                {"id": studio_id},
            )
            for table in TABLES
        }


async def fetch(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with db.transaction(write=False) as tx:
        return [tuple(row) for row in await tx.all(sql, params)]


def nothing(**counts: int) -> dict[str, int]:
    return {kind: counts.get(kind, 0) for kind in KINDS}


async def test_loading_the_example_writes_every_row(db: Database) -> None:
    report = await load_studio(db, parse_studio_data(example_data()))

    assert report.created == nothing(
        studio=1, roles=3, staff=4, resources=3, classes=6, patterns=10
    )
    assert report.summary().startswith("clay-studio: created studio 1, roles 3")
    studio = await fetch(
        db,
        "SELECT slug, name, timezone, currency, default_language, booking_cutoff_minutes,"
        " cancellation_cutoff_hours, waitlist_offer_minutes FROM studios WHERE id = :id",
        id=report.studio_id,
    )
    assert studio == [("clay-studio", "Clay & Kiln", "Europe/London", "GBP", "en", 60, 48, 180)]
    counts = await row_counts(db, report.studio_id)
    assert counts["staff_roles"] == 7
    assert counts["class_parts"] == 6


async def test_classes_patterns_and_their_lists_hold_the_files_values(db: Database) -> None:
    report = await load_studio(db, parse_studio_data(example_data()))
    sid = report.studio_id

    course = await fetch(
        db,
        "SELECT c.price_minor, c.kind, r.key FROM classes c"
        " JOIN teaching_roles r ON r.id = c.teaching_role_id"
        " WHERE c.studio_id = :sid AND c.key = 'wheel-course'",
        sid=sid,
    )
    assert course == [(24000, "course", "wheel-instructor")]
    needs = await fetch(
        db,
        "SELECT r.key, q.quantity_per_student FROM class_requirements q"
        " JOIN classes c ON c.id = q.class_id JOIN resources r ON r.id = q.resource_id"
        " WHERE q.studio_id = :sid AND c.key = 'wheel-course' ORDER BY r.key",
        sid=sid,
    )
    assert needs == [("kiln-shelf", 1), ("potters-wheel", 1)]
    parts = await fetch(
        db,
        "SELECT p.position, p.name FROM class_parts p JOIN classes c ON c.id = p.class_id"
        " WHERE p.studio_id = :sid AND c.key = 'mug-making' ORDER BY p.position",
        sid=sid,
    )
    assert parts == [(1, "Throwing"), (2, "Shaping and handles"), (3, "Choosing glazes")]
    pattern = await fetch(
        db,
        "SELECT p.rrule, p.start_date, p.start_time, p.timezone, p.duration_minutes,"
        " p.capacity, s.key FROM schedule_patterns p JOIN staff s ON s.id = p.instructor_id"
        " WHERE p.studio_id = :sid AND p.key = 'monday-course'",
        sid=sid,
    )
    assert pattern == [
        (
            "FREQ=WEEKLY;BYDAY=MO;COUNT=6",
            date(2027, 3, 15),
            time(18, 0),
            "Europe/London",
            120,
            8,
            "maya",
        )
    ]
    assistants = await fetch(
        db,
        "SELECT s.key FROM pattern_assistants a JOIN staff s ON s.id = a.staff_id"
        " JOIN schedule_patterns p ON p.id = a.pattern_id"
        " WHERE a.studio_id = :sid AND p.key = 'monday-course'",
        sid=sid,
    )
    assert assistants == [("tom",)]


async def test_loading_the_same_file_twice_changes_nothing(db: Database) -> None:
    spec = parse_studio_data(example_data())
    first = await load_studio(db, spec)
    before = await row_counts(db, first.studio_id)

    again = await load_studio(db, spec)

    assert again.studio_id == first.studio_id
    assert not again.changed
    assert again.created == nothing()
    assert again.updated == nothing()
    assert again.unchanged == nothing(
        studio=1, roles=3, staff=4, resources=3, classes=6, patterns=10
    )
    assert again.summary() == "clay-studio: nothing changed (27 already up to date)"
    assert await row_counts(db, first.studio_id) == before


async def test_an_edit_updates_only_the_changed_rows(db: Database) -> None:
    data = example_data()
    first = await load_studio(db, parse_studio_data(data))
    data = edited(data, "classes", "wheel-taster", price="50.00")
    data = edited(data, "patterns", "saturday-taster", capacity=5)
    ids_before = await fetch(
        db, "SELECT key, id FROM classes WHERE studio_id = :sid ORDER BY key", sid=first.studio_id
    )

    report = await load_studio(db, parse_studio_data(data))

    assert report.created == nothing()
    assert report.updated == nothing(classes=1, patterns=1)
    assert report.unchanged["classes"] == 5
    assert report.unchanged["patterns"] == 9
    assert report.summary() == "clay-studio: updated classes 1, patterns 1; 25 unchanged"
    assert await fetch(
        db, "SELECT key, id FROM classes WHERE studio_id = :sid ORDER BY key", sid=first.studio_id
    ) == (ids_before)
    price = await fetch(
        db,
        "SELECT price_minor FROM classes WHERE studio_id = :sid AND key = 'wheel-taster'",
        sid=first.studio_id,
    )
    capacity = await fetch(
        db,
        "SELECT capacity FROM schedule_patterns WHERE studio_id = :sid AND key = :key",
        sid=first.studio_id,
        key="saturday-taster",
    )
    assert (price, capacity) == ([(5000,)], [(5,)])


async def test_owned_lists_are_replaced_to_match_the_file(db: Database) -> None:
    data = example_data()
    report = await load_studio(db, parse_studio_data(data))
    data = edited(data, "staff", "tom", roles=["wheel-instructor", "glazing-specialist"])
    data = edited(data, "patterns", "monday-course", assistants=["sam"])

    again = await load_studio(db, parse_studio_data(data))

    assert again.updated == nothing(staff=1, patterns=1)
    toms_roles = await fetch(
        db,
        "SELECT r.key FROM staff_roles sr JOIN staff s ON s.id = sr.staff_id"
        " JOIN teaching_roles r ON r.id = sr.role_id"
        " WHERE sr.studio_id = :sid AND s.key = 'tom' ORDER BY r.key",
        sid=report.studio_id,
    )
    assert toms_roles == [("glazing-specialist",), ("wheel-instructor",)]
    assistants = await fetch(
        db,
        "SELECT s.key FROM pattern_assistants a JOIN staff s ON s.id = a.staff_id"
        " JOIN schedule_patterns p ON p.id = a.pattern_id"
        " WHERE a.studio_id = :sid AND p.key = 'monday-course'",
        sid=report.studio_id,
    )
    assert assistants == [("sam",)]


async def test_rows_dropped_from_the_file_stay_in_the_database(db: Database) -> None:
    data = example_data()
    await load_studio(db, parse_studio_data(data))
    data["patterns"] = [p for p in data["patterns"] if p["key"] != "weekday-dropin"]

    report = await load_studio(db, parse_studio_data(data))

    assert not report.changed
    assert report.unchanged["patterns"] == 9
    kept = await fetch(
        db,
        "SELECT key FROM schedule_patterns WHERE studio_id = :sid AND key = 'weekday-dropin'",
        sid=report.studio_id,
    )
    assert kept == [("weekday-dropin",)]


async def test_two_studios_stay_separate(db: Database) -> None:
    clay = example_data()
    twin = copy.deepcopy(clay)
    twin["studio"].update(slug="clay-studio-east", name="Clay & Kiln East")
    twin = edited(twin, "classes", "wheel-taster", price="55.00")

    first = await load_studio(db, parse_studio_data(clay))
    second = await load_studio(db, parse_studio_data(twin))
    harbour = await load_studio(db, parse_studio_data(example_data("harbour-fitness")))

    assert len({first.studio_id, second.studio_id, harbour.studio_id}) == 3
    # Same keys in another studio are new rows there, not updates here.
    assert second.created == first.created
    assert await row_counts(db, first.studio_id) == await row_counts(db, second.studio_id)
    prices = await fetch(
        db,
        "SELECT s.slug, c.price_minor FROM classes c JOIN studios s ON s.id = c.studio_id"
        " WHERE c.key = 'wheel-taster' ORDER BY s.slug",
    )
    assert prices == [("clay-studio", 4500), ("clay-studio-east", 5500)]
    assert not (await load_studio(db, parse_studio_data(clay))).changed
    harbour_counts = await row_counts(db, harbour.studio_id)
    assert harbour_counts["resources"] == 3
    assert harbour_counts["schedule_patterns"] == 5


async def test_a_studio_policy_change_updates_the_studio_row(db: Database) -> None:
    data = example_data()
    await load_studio(db, parse_studio_data(data))
    data["studio"]["policies"]["waitlist_offer_minutes"] = 60
    spec: StudioFile = parse_studio_data(data)

    report = await load_studio(db, spec)

    assert report.updated == nothing(studio=1)
    minutes = await fetch(
        db, "SELECT waitlist_offer_minutes FROM studios WHERE id = :id", id=report.studio_id
    )
    assert minutes == [(60,)]


async def test_a_staff_member_texting_from_the_e164_form_of_the_files_phone_is_found(
    db: Database,
) -> None:
    # The file says "+44 20 7946 0101"; Twilio reports the sender as "+442079460101".
    report = await load_studio(db, parse_studio_file(EXAMPLES / "clay-studio.toml"))
    [(maya, stored)] = await fetch(
        db,
        "SELECT id, phone FROM staff WHERE studio_id = :sid AND key = 'maya'",
        sid=report.studio_id,
    )

    assert stored == "+442079460101"
    for channel in ("sms", "whatsapp"):
        assert await staff_access.staff_for(db, report.studio_id, channel, "+442079460101") == maya
    assert await staff_access.staff_for(db, report.studio_id, "sms", "+442079460102") is None


async def test_a_phone_stored_before_normalising_still_matches(db: Database) -> None:
    report = await load_studio(db, parse_studio_file(EXAMPLES / "clay-studio.toml"))
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE staff SET phone = '+44 20 7946 0101' WHERE studio_id = :sid AND key = 'maya'",
            {"sid": report.studio_id},
        )

    found = await staff_access.staff_for(db, report.studio_id, "sms", "+442079460101")

    assert found is not None
    again = await load_studio(db, parse_studio_file(EXAMPLES / "clay-studio.toml"))
    assert again.updated["staff"] == 1  # loading the file again rewrites it in E.164
