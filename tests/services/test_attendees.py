"""services.attendees (issue 17): details written over, per studio, and the export's rows:
bookings and cancelled bookings, never a hold let go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.services import attendees, holds
from bookbot.services.attendees import Attendee
from bookbot.services.booking import book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.store.db import Database
from tests import builders

MON_18 = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db)
    await builders.session(db, w, "s1", "taster", MON_18, capacity=8)
    for name in ("ana", "ben", "cai"):
        await builders.customer(db, w, name)
    return w


async def test_export_has_bookings_and_cancellations_but_no_hold_let_go(
    db: Database, world: builders.World
) -> None:
    clock = FrozenClock(NOW)
    s1, w = world["s1"], world
    ana = await book_session(db, clock, w.studio_id, w["ana"], s1, guests=2)
    await attendees.save(db, w.studio_id, ana.id, [Attendee(1, "Ana A", "a@x.example")])
    await attendees.save(db, w.studio_id, ana.id, [Attendee(1, "Ana B"), Attendee(2, "Bo")])
    ben = await book_session(db, clock, w.studio_id, w["ben"], s1, guests=1)
    await cancel_registration(db, clock, w.studio_id, ben.id, by_staff=True)
    held = await holds.hold(
        db, clock, w.studio_id, w["cai"], RegistrationKind.SINGLE, guests=1, session_ids=[s1]
    )
    await attendees.save(db, w.studio_id, held.id, [Attendee(1, "Cai")])
    await holds.release_customer_holds(db, clock, w.studio_id, w["cai"])

    lines = await attendees.export_rows(db, w.studio_id, s1)

    assert [(x.registration_id, x.attendee.name, x.status) for x in lines] == [
        (ana.id, "Ana B", "booked"),  # written over: the second answers only
        (ana.id, "Bo", "booked"),
        (ben.id, lines[2].customer, "cancelled"),
    ]
    assert lines[0].attendee.email is None


async def test_another_studios_booking_is_refused(db: Database, world: builders.World) -> None:
    clock = FrozenClock(NOW)
    ana = await book_session(db, clock, world.studio_id, world["ana"], world["s1"], guests=1)
    other = await builders.studio(db, "other")
    with pytest.raises(errors.NotFound):
        await attendees.save(db, other.studio_id, ana.id, [Attendee(1, "Eve")])
    with pytest.raises(errors.NotFound):
        await attendees.export_rows(db, other.studio_id, world["s1"])


async def test_a_lapsed_hold_booked_afresh_keeps_its_details(
    db: Database, world: builders.World
) -> None:
    clock = FrozenClock(NOW)
    w = world
    held = await holds.hold(
        db, clock, w.studio_id, w["ana"], RegistrationKind.SINGLE, guests=2, session_ids=[w["s1"]]
    )
    people = [Attendee(1, "Ana", "ana@x.example", "Acme"), Attendee(2, "Bo")]
    await attendees.save(db, w.studio_id, held.id, people)
    clock.advance(timedelta(hours=1))  # past the hold

    booked = await holds.confirm_hold(db, clock, w.studio_id, w["ana"], held.id)

    assert booked.id != held.id
    assert await attendees.of_registration(db, w.studio_id, booked.id) == people
