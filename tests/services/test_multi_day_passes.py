"""A pass reserves one-day sessions only: a course over several days is booked (one seat,
every day, attendance per day). Its reservation is refused with a reason said in the
customer's language, and the pass's list of sessions leaves it out."""

from __future__ import annotations

from datetime import date, time

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.reservations import PassKind
from bookbot.presentation.i18n import render_error, translator
from bookbot.services import passes, reservable, reservations
from bookbot.services.booking import book_session
from bookbot.services.date_pages import DateAsk
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests import builders


async def _pass_and_sessions(
    db: Database, clock: FrozenClock
) -> tuple[builders.World, int, int, int]:
    """dan's punch pass for the taster; a three-day taster course and a one-day taster."""
    w = await builders.studio(db)
    dan = await builders.customer(db, w, "dan")
    held = await passes.issue_pass(
        db,
        clock.now(),
        w.studio_id,
        dan,
        w["taster"],
        terms=passes.PassTerms(PassKind.PUNCH, sessions=5, valid_days=120),
        payment="staff_issued",
        valid_from=clock.now().date(),
    )
    course = await add_session(
        db,
        clock,
        w.studio_id,
        NewSession("taster", date(2027, 1, 13), time(9, 0), time(17, 0), capacity=12, days=3),
    )
    single = await add_session(
        db,
        clock,
        w.studio_id,
        NewSession("taster", date(2027, 1, 20), time(9, 0), time(17, 0), capacity=12),
    )
    return w, held, course.id, single.id


async def test_a_pass_cannot_reserve_a_course_over_several_days(
    db: Database, clock: FrozenClock
) -> None:
    w, held, course, single = await _pass_and_sessions(db, clock)
    dan = w["dan"]

    with pytest.raises(errors.CourseNotForPasses) as refused:
        await reservations.reserve(db, clock, w.studio_id, dan, held, session_id=course)
    assert render_error(refused.value, translator("en"), "Europe/London") == (
        "That course runs over several days, so it is booked rather than reserved with a pass."
    )
    assert await db.scalar("SELECT COUNT(*) FROM reservations") == 0
    # The one-day session is reserved as ever, and the course is booked as ever.
    made = await reservations.reserve(db, clock, w.studio_id, dan, held, session_id=single)
    assert made.session_id == single
    booked = await book_session(db, clock, w.studio_id, dan, course, guests=1)
    assert list(booked.session_ids) == [course]


async def test_the_pass_list_leaves_a_course_over_several_days_out(
    db: Database, clock: FrozenClock
) -> None:
    w, _, _, single = await _pass_and_sessions(db, clock)

    found, more = await reservable.reservable_sessions(
        db, w.studio_id, w["taster"], clock.now(), DateAsk(clock.now()), customer_id=w["dan"]
    )

    assert [s.session_id for s in found] == [single]
    assert not more
