"""A multi-day course cancelled by staff: its attendees are told its dates and daily hours
(not only its first morning), and the reason staff gave, as a sentence of its own."""

from __future__ import annotations

import json
from datetime import date, time

from bookbot.engine.clock import FrozenClock
from bookbot.handlers.templates import render
from bookbot.presentation.i18n import translator
from bookbot.services import cancellation
from bookbot.services.booking import book_session
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests import builders


async def test_the_cancellation_notice_of_a_three_day_course_names_its_dates(
    db: Database, clock: FrozenClock
) -> None:
    w = await builders.studio(db)
    ann = await builders.customer(db, w, "ann")
    course = await add_session(
        db,
        clock,
        w.studio_id,
        NewSession("taster", date(2027, 1, 13), time(9, 0), time(17, 0), capacity=12, days=3),
    )
    await book_session(db, clock, w.studio_id, ann, course.id, guests=1)

    await cancellation.cancel_session(db, clock, w.studio_id, course.id, reason="Snow")

    row = await db.one(
        "SELECT params FROM outbox WHERE template = 'session_cancelled' AND customer_id = :c",
        {"c": ann},
    )
    assert row is not None
    params = json.loads(row["params"]) if isinstance(row["params"], str) else row["params"]
    text = render("session_cancelled", params, translator("en"), "Europe/London")
    assert text.startswith(
        "The studio has cancelled Taster on Wed 13 – Fri 15 Jan 2027, 09:00–17:00 daily."
        " Reason: Snow. Your booking is cancelled"
    ), text
