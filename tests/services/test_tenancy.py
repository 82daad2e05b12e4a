"""One studio can never read or change another studio's data, even given its ids."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from typing import Any

import pytest

from bookbot.cli.demo import TUTOR_EXAMPLE, example_path
from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services import (
    appointments,
    attendees,
    catalog,
    certificates,
    day_attendance,
    staffing,
    studio_channels,
)
from bookbot.services.booking import book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.generation import generate_sessions
from bookbot.store.db import Database
from bookbot.store.schema import metadata
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


# --- every table is one studio's, and the tables of issue 17 keep to it ------------------

# Deployment-wide by design: the studios themselves, what channels send us before we know
# whose it is (inbox), and what Twilio keeps per phone number (opt-outs, delivery states).
DEPLOYMENT_WIDE = {"studios", "inbox", "channel_opt_outs", "delivery_statuses"}
ISSUE_17 = (
    "session_days",
    "day_attendance",
    "studio_channels",
    "registration_attendees",
    "certificates",
    "course_feedback",
)


def test_every_other_table_carries_its_studio() -> None:
    """A row without its studio could be read from any studio: every table but the
    deployment-wide ones has studio_id, a foreign key to studios (NOT NULL but for the
    staff audit, which keeps deployment-level entries too)."""
    missing = []
    for table in metadata.sorted_tables:
        if table.name in DEPLOYMENT_WIDE:
            continue
        column = table.c.get("studio_id")
        if column is None or {fk.column.table.name for fk in column.foreign_keys} != {"studios"}:
            missing.append(table.name)
        elif column.nullable and table.name != "staff_audit":
            missing.append(f"{table.name} (nullable)")
    assert missing == []
    assert set(ISSUE_17) <= {t.name for t in metadata.sorted_tables} - DEPLOYMENT_WIDE


async def test_session_days_and_day_attendance_across_studios_find_nothing(
    db: Database, clock: FrozenClock, two: tuple[builders.World, builders.World]
) -> None:
    a, b = two
    reg = await book_session(db, clock, b.studio_id, b["ana"], b["s"], guests=1)
    async with db.transaction() as tx:
        entry = await tx.scalar(
            "SELECT id FROM registration_sessions WHERE studio_id = :s AND registration_id = :r",
            {"s": b.studio_id, "r": reg.id},
        )
        await tx.execute(
            "INSERT INTO session_days (studio_id, session_id, day_number, local_date, starts_at,"
            " ends_at) VALUES (:s, :session, 1, :day, :start, :end)",
            {
                "s": b.studio_id,
                "session": b["s"],
                "day": WHEN.date(),
                "start": WHEN,
                "end": WHEN.replace(hour=20),
            },
        )
        await tx.execute(
            "INSERT INTO day_attendance (studio_id, registration_session_id, session_id,"
            " day_number, status, marked_at) VALUES (:s, :entry, :session, 1, 'attended', :now)",
            {"s": b.studio_id, "entry": entry, "session": b["s"], "now": clock.now()},
        )
        zone_name = "Europe/London"
        assert await day_attendance.day_on(tx, a.studio_id, b["s"], WHEN, zone_name) is None
        assert await day_attendance.marks(tx, a.studio_id, b["s"]) == {}
        assert await day_attendance.day_on(tx, b.studio_id, b["s"], WHEN, zone_name) is not None
        assert await day_attendance.marks(tx, b.studio_id, b["s"]) == {entry: {1: "attended"}}


async def test_attendee_details_and_certificates_across_studios_find_nothing(
    db: Database, clock: FrozenClock, two: tuple[builders.World, builders.World]
) -> None:
    a, b = two
    reg = await book_session(db, clock, b.studio_id, b["ana"], b["s"], guests=1)
    await attendees.save(db, b.studio_id, reg.id, [attendees.Attendee(1, "Ana", company="Co")])
    assert await attendees.of_registration(db, a.studio_id, reg.id) == []
    assert await attendees.of_session(db, a.studio_id, b["s"]) == {}
    assert [p.name for p in await attendees.of_registration(db, b.studio_id, reg.id)] == ["Ana"]
    assert await certificates.for_session(db, a.studio_id, b["s"]) == []
    assert await certificates.people(db, a.studio_id, b["s"]) == []


async def test_a_studios_own_bots_and_numbers_are_its_alone(
    db: Database, two: tuple[builders.World, builders.World]
) -> None:
    """studio_channels: one studio's endpoints are not another's, and an endpoint routes to
    its owner only; the default endpoint ('') routes to nobody in particular."""
    a, b = two
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO studio_channels (studio_id, channel, address, token)"
            " VALUES (:s, 'telegram', '5002', '5002:x'), (:s, 'sms', '+441174960002', NULL)",
            {"s": b.studio_id},
        )
    assert await studio_channels.studio_channels(db, a.studio_id) == []
    assert {c.address for c in await studio_channels.studio_channels(db, b.studio_id)} == {
        "5002",
        "+441174960002",
    }
    assert await studio_channels.owner(db, "telegram", "5002") == b.studio_id
    assert await studio_channels.owner(db, "sms", "+441174960002") == b.studio_id
    assert await studio_channels.owner(db, "whatsapp", "+441174960002") is None  # another channel
    assert await studio_channels.owner(db, "telegram", "") is None
    assert await studio_channels.studios_with_own(db, "telegram") == {b.studio_id}
    without, _ = await studio_channels.default_reach(db, "telegram", configured=None, slug=None)
    assert without is not None
    assert without.id == a.studio_id


async def test_the_default_bot_reaches_studios_without_their_own_in_one_read(
    db: Database, two: tuple[builders.World, builders.World]
) -> None:
    """default_reach: the default studio (configured or first loaded) unless it has its own
    bot, then the first without; a link to a studio with its own bot reaches nobody here."""
    a, b = two

    async def reach(configured: str | None, slug: str | None) -> tuple[int, int | None]:
        chosen, linked = await studio_channels.default_reach(
            db, "telegram", configured=configured, slug=slug
        )
        return chosen.id, None if linked is None else linked.id

    assert await reach(None, None) == (a.studio_id, None)
    assert await reach("beta", "alpha") == (b.studio_id, a.studio_id)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO studio_channels (studio_id, channel, address, token)"
            " VALUES (:s, 'telegram', '5001', '5001:x')",
            {"s": a.studio_id},
        )
    assert await reach(None, None) == (b.studio_id, None)  # alpha answers on its own bot
    assert await reach("alpha", "alpha") == (b.studio_id, None)
    assert await reach(None, "beta") == (b.studio_id, b.studio_id)
    chosen, _ = await studio_channels.default_reach(db, "sms", configured=None, slug=None)
    assert chosen.id == a.studio_id  # alpha has no number of its own
    for configured, slug in (("gamma", None), (None, "gamma")):
        with pytest.raises(errors.NotFound):
            await reach(configured, slug)
