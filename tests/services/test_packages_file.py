"""`[[packages]]` in the studio file (issue 15): what the tutor example offers, reloading it
changes nothing, an offer taken out of the file stops being sold, and bad entries are
refused with where and why."""

from __future__ import annotations

from typing import Any

import pytest

from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import StudioFileError, parse_studio_data
from tests.studio.test_services_availability import tutor_data


async def offers(db: Database, studio_id: int) -> list[tuple[Any, ...]]:
    rows = await db.all(
        "SELECT o.key, o.name, sv.key AS service, o.sessions, o.minutes, o.price_minor,"
        " o.valid_days, o.payment, o.active FROM package_offers o"
        " JOIN services sv ON sv.id = o.service_id WHERE o.studio_id = :s ORDER BY o.key",
        {"s": studio_id},
    )
    return [
        (
            r["key"],
            r["name"],
            r["service"],
            r["sessions"],
            r["minutes"],
            r["price_minor"],
            r["valid_days"],
            r["payment"],
            bool(r["active"]),
        )
        for r in rows
    ]


async def test_the_tutor_example_offers_two_packages_and_reloads_unchanged(db: Database) -> None:
    loaded = await load_studio(db, parse_studio_data(tutor_data()))

    assert await offers(db, loaded.studio_id) == [
        ("coaching-300", "300 minutes of coaching", "coaching-session", None, 300, 40000, 180,
         "online", True),
        ("five-lessons", "5 lessons with Lucía", "spanish-lesson", 5, None, 18000, 90, "either",
         True),
    ]  # fmt: skip
    again = await load_studio(db, parse_studio_data(tutor_data()))
    assert not again.changed, again.summary()


async def test_an_offer_taken_out_of_the_file_is_no_longer_sold(db: Database) -> None:
    data = tutor_data()
    loaded = await load_studio(db, parse_studio_data(data))
    data["packages"] = [p for p in data["packages"] if p["key"] != "coaching-300"]

    await load_studio(db, parse_studio_data(data))

    active = {row[0]: row[-1] for row in await offers(db, loaded.studio_id)}
    assert active == {"coaching-300": False, "five-lessons": True}


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises((StudioFileError, ValueError)) as raised:
        parse_studio_data(data)
    return str(raised.value)


def test_a_package_of_an_unknown_service_or_of_both_kinds_is_refused() -> None:
    data = tutor_data()
    data["packages"][0]["service"] = "pottery"
    assert "packages[0].service" in _refused(data)

    data = tutor_data()
    data["packages"][0]["minutes"] = 60
    assert "either sessions or minutes" in _refused(data)

    data = tutor_data()
    data["packages"].append(dict(data["packages"][0]))
    assert 'duplicate key "five-lessons"' in _refused(data)
