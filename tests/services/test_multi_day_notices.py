"""Notices of a multi-day course name its dates and daily hours, not only its first
morning: the reminders of a booking and a waiting-list offer, in English and Spanish. The
span's pieces travel in the params, rendered at delivery time."""

from __future__ import annotations

import json
from datetime import date, time
from typing import Any

from bookbot.engine.clock import FrozenClock
from bookbot.handlers.templates import render
from bookbot.presentation.i18n import translator
from bookbot.services import facts, staff_activity, waitlist
from bookbot.services.booking import book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests import builders

EN_DATES = "Wed 13 – Fri 15 Jan 2027, 09:00–17:00 daily"
ES_DATES = "mié 13 – vie 15 ene 2027, 09:00–17:00 cada día"


async def _course(db: Database, clock: FrozenClock, w: builders.World, capacity: int) -> int:
    made = await add_session(
        db,
        clock,
        w.studio_id,
        NewSession("taster", date(2027, 1, 13), time(9, 0), time(17, 0), capacity, days=3),
    )
    return made.id


async def _params(db: Database, template: str, customer_id: int) -> dict[str, Any]:
    row = await db.one(
        "SELECT params FROM outbox WHERE template = :t AND customer_id = :c",
        {"t": template, "c": customer_id},
    )
    assert row is not None, template
    params = row["params"]
    return dict(json.loads(params) if isinstance(params, str) else params)


async def test_reminders_of_a_course_booking_name_its_dates(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    ann = await builders.customer(db, w, "ann")
    course = await _course(db, clock, w, 12)
    await book_session(db, clock, w.studio_id, ann, course, guests=1)

    day_before = await _params(db, "reminder_24h", ann)
    assert render("reminder_24h", day_before, translator("en"), "Europe/London") == (
        f"Reminder: Taster is tomorrow, {EN_DATES}. Send MY to see or cancel your bookings."
    )
    hour = await _params(db, "reminder_1h", ann)
    assert render("reminder_1h", hour, translator("en"), "Europe/London").startswith(
        f"Taster starts in an hour, {EN_DATES}."
    )
    assert ES_DATES in render("reminder_24h", day_before, translator("es"), "Europe/London")


async def test_reminders_of_a_one_day_class_keep_its_start(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    ann = await builders.customer(db, w, "ann")
    made = await add_session(
        db,
        clock,
        w.studio_id,
        NewSession("taster", date(2027, 1, 13), time(9, 0), time(17, 0), capacity=4),
    )
    await book_session(db, clock, w.studio_id, ann, made.id, guests=1)

    params = await _params(db, "reminder_24h", ann)
    assert "days" not in params
    text = render("reminder_24h", params, translator("en"), "Europe/London")
    assert "Reminder: Taster is tomorrow, Wed 13 Jan 2027 09:00 GMT." in text, text


async def test_a_waiting_list_offer_of_a_course_names_its_dates(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    ann = await builders.customer(db, w, "ann")
    ben = await builders.customer(db, w, "ben")
    course = await _course(db, clock, w, 1)
    booked = await book_session(db, clock, w.studio_id, ann, course, guests=1)
    await waitlist.join_waitlist(db, clock, w.studio_id, ben, course, guests=1)

    await cancel_registration(db, clock, w.studio_id, booked.id, by_staff=True)

    offer = await _params(db, "waitlist_offer", ben)
    english = render("waitlist_offer", offer, translator("en"), "Europe/London")
    assert english.startswith(f"A place freed up in Taster on {EN_DATES}, for 1 person."), english
    spanish = render("waitlist_offer", offer, translator("es"), "Europe/London")
    assert ES_DATES in spanish, spanish


async def test_staff_are_told_of_a_course_booking_by_its_dates(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    course = await _course(db, clock, w, 12)
    async with db.transaction(write=False) as tx:
        [row] = await facts.sessions_by_id(tx, w.studio_id, [course])
    params = {
        "kind": "booking",
        "customer_name": "Ann",
        "class_name": "Taster",
        "starts_at": row.starts_at.isoformat(),
        "sessions": 1,
        **staff_activity.course_span(row),
    }
    english = render("staff_activity", params, translator("en"), "Europe/London")
    assert english == f"New booking: Ann, Taster on {EN_DATES} GMT."
    spanish = render("staff_activity", params, translator("es"), "Europe/London")
    assert ES_DATES in spanish, spanish
    one_day = {**params, "days": 1}
    assert "Taster on Wed 13 Jan 2027 09:00 GMT." in render(
        "staff_activity", one_day, translator("en"), "Europe/London"
    )
