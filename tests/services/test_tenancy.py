"""One studio can never read or change another studio's data, even given its ids."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from typing import Any

import pytest

from bookbot.cli.demo import TUTOR_EXAMPLE, example_path
from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services import appointments, catalog, staffing
from bookbot.services.booking import book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.generation import generate_sessions
from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_data
from tests import builders

WHEN = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)


@pytest.fixture
async def two(db: Database) -> tuple[builders.World, builders.World]:
    a = await builders.studio(db, "alpha")
    b = await builders.studio(db, "beta")
    for w in (a, b):
        await builders.session(db, w, "s", "taster", WHEN)
        await builders.customer(db, w, "ana")
    return a, b


async def test_booking_across_studios_finds_nothing(
    db: Database, clock: FrozenClock, two: tuple[builders.World, builders.World]
) -> None:
    a, b = two
    with pytest.raises(errors.NotFound):  # alpha's customer into beta's session
        await book_session(db, clock, a.studio_id, a["ana"], b["s"], guests=1)
    with pytest.raises(errors.NotFound):  # beta's customer through alpha
        await book_session(db, clock, a.studio_id, b["ana"], a["s"], guests=1)


async def test_cancel_and_views_across_studios_find_nothing(
    db: Database, clock: FrozenClock, two: tuple[builders.World, builders.World]
) -> None:
    a, b = two
    reg = await book_session(db, clock, b.studio_id, b["ana"], b["s"], guests=2)
    with pytest.raises(errors.NotFound):
        await cancel_registration(db, clock, a.studio_id, reg.id, by_staff=True)
    with pytest.raises(errors.NotFound):
        await catalog.session_availability(db, a.studio_id, b["s"], clock.now())
    assert [s.id for s in await catalog.upcoming_sessions(db, a.studio_id, clock.now())] == [a["s"]]
    view = await catalog.session_availability(db, b.studio_id, b["s"], clock.now())
    assert view.availability.seats_left == 6


async def test_staff_and_patterns_across_studios_find_nothing(
    db: Database, clock: FrozenClock, two: tuple[builders.World, builders.World]
) -> None:
    a, b = two
    with pytest.raises(errors.NotFound):
        await staffing.assign(db, a.studio_id, a["s"], b["maya"], as_instructor=True)
    with pytest.raises(errors.NotFound):
        await staffing.assign(db, a.studio_id, b["s"], a["maya"], as_instructor=True)
    with pytest.raises(errors.NotFound):
        await staffing.staff_id_by_key(db, a.studio_id, str(b["maya"]))
    pattern = await builders.pattern(
        db, b, "p", "taster", "FREQ=WEEKLY;COUNT=1", start=WHEN.date(), at=WHEN.time()
    )
    with pytest.raises(errors.NotFound):
        await generate_sessions(db, clock, a.studio_id, pattern, preview=True)


# --- appointments (issue 14): services, staff and appointments stay inside their studio ------

MONDAY_10_MADRID = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)  # Lucía's Monday, 10:00 local


@pytest.fixture
async def two_tutors(db: Database) -> tuple[dict[str, int], dict[str, int]]:
    """The tutor example loaded twice (alpha, beta): each studio's ids by name."""
    worlds = []
    for slug in ("alpha", "beta"):
        data = _tutor_data()
        data["studio"]["slug"] = slug
        report = await load_studio(db, parse_studio_data(data))
        async with db.transaction() as tx:
            ids = {"studio": report.studio_id}
            for table in ("staff", "services"):
                rows = await tx.all(
                    f"SELECT id, key FROM {table} WHERE studio_id = :id",  # noqa: S608
                    {"id": report.studio_id},
                )
                ids |= {row["key"]: row["id"] for row in rows}
        w = builders.World(report.studio_id)
        ids["ana"] = await builders.customer(db, w, "ana")
        worlds.append(ids)
    return worlds[0], worlds[1]


def _tutor_data() -> dict[str, Any]:
    return tomllib.loads(example_path(TUTOR_EXAMPLE).read_text(encoding="utf-8"))


async def test_services_and_providers_across_studios_find_nothing(
    db: Database, two_tutors: tuple[dict[str, int], dict[str, int]]
) -> None:
    a, b = two_tutors
    with pytest.raises(errors.NotFound):
        await appointments.service_by_id(db, a["studio"], b["spanish-lesson"])
    assert await appointments.providers(db, a["studio"], b["trial"]) == []
    beta_trial = await appointments.providers(db, b["studio"], b["trial"])
    assert [p.id for p in beta_trial] == [b["jake"], b["lucia"]]  # by name


async def test_holding_and_reading_appointments_across_studios_find_nothing(
    db: Database, clock: FrozenClock, two_tutors: tuple[dict[str, int], dict[str, int]]
) -> None:
    a, b = two_tutors
    for service, staff, customer in (
        (b["spanish-lesson"], b["lucia"], a["ana"]),  # beta's service and teacher via alpha
        (a["spanish-lesson"], b["lucia"], a["ana"]),  # beta's teacher for alpha's service
        (a["spanish-lesson"], a["lucia"], b["ana"]),  # beta's customer
    ):
        with pytest.raises(errors.NotFound):
            await appointments.hold(
                db,
                clock,
                a["studio"],
                customer_id=customer,
                service_id=service,
                staff_id=staff,
                starts_at=MONDAY_10_MADRID,
            )
    held = await appointments.hold(
        db,
        clock,
        b["studio"],
        customer_id=b["ana"],
        service_id=b["spanish-lesson"],
        staff_id=b["lucia"],
        starts_at=MONDAY_10_MADRID,
    )
    with pytest.raises(errors.NotFound):
        await appointments.appointment_for_customer(db, a["studio"], b["ana"], held.id)
    assert await appointments.customer_upcoming(db, a["studio"], b["ana"], clock.now()) == []
    # Alpha's Lucía is a different person: the same hour is still free there.
    mine = await appointments.hold(
        db,
        clock,
        a["studio"],
        customer_id=a["ana"],
        service_id=a["spanish-lesson"],
        staff_id=a["lucia"],
        starts_at=MONDAY_10_MADRID,
    )
    assert mine.studio_id == a["studio"]
