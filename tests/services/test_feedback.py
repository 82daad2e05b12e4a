"""Feedback requests a day after a course or class: one per attended booking, none for
no-shows or cancelled bookings, after a course's last session only, quiet hours respected;
ratings stored once per booking."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.jobs.sweeps import Sweeps
from bookbot.services import attendance, feedback
from bookbot.store.db import Database, instant
from tests import builders
from tests.feedback_world import booking, close, outbox_rows


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # London is on GMT


@pytest.fixture
async def w(db: Database) -> builders.World:
    w = await builders.studio(db)
    await builders.session(db, w, "noon", "taster", at(3, 10))  # ends 12:00
    await builders.session(db, w, "late", "taster", at(3, 20))  # ends 22:00: quiet hours
    await builders.session(db, w, "day1", "course", at(3, 9))
    await builders.session(db, w, "day2", "course", at(4, 9))
    for name in ("ana", "ben", "cal", "dee"):
        await builders.customer(db, w, name)
    return w


async def test_one_request_a_day_after_for_each_attended_booking(
    db: Database, w: builders.World
) -> None:
    await booking(db, w, "a", customer="ana", class_key="taster", sessions=["noon"],
                  attendance=["checked_in"])  # fmt: skip
    await booking(db, w, "b", customer="ben", class_key="taster", sessions=["noon"],
                  attendance=[None])  # fmt: skip
    await booking(db, w, "c", customer="cal", class_key="taster", sessions=["noon"],
                  attendance=[None], status="cancelled")  # fmt: skip
    clock = FrozenClock(at(3, 12, 1))
    await attendance.close_ended(db, clock)  # ana attended, ben is a no-show
    queued, since = await feedback.queue_requests(db, clock)
    assert queued == 1
    rows = await outbox_rows(db, "feedback_request")
    assert [r["customer_id"] for r in rows] == [w["ana"]]
    assert instant(rows[0]["due_at"]) == at(4, 12)
    assert json.loads(str(rows[0]["params"])) == {"class_name": "Taster", "registration_id": w["a"]}
    # Run again (and again from scratch): still one.
    clock.advance(timedelta(minutes=1))
    assert (await feedback.queue_requests(db, clock, since=since))[0] == 0
    assert (await feedback.queue_requests(db, clock))[0] == 0
    assert len(await outbox_rows(db, "feedback_request")) == 1


async def test_quiet_hours_hold_the_request_until_morning(db: Database, w: builders.World) -> None:
    await booking(db, w, "a", customer="ana", class_key="taster", sessions=["late"],
                  attendance=["attended"])  # fmt: skip
    await close(db, w, "late", at(3, 22, 1))
    assert (await feedback.queue_requests(db, FrozenClock(at(3, 22, 2))))[0] == 1
    rows = await outbox_rows(db, "feedback_request")
    assert instant(rows[0]["due_at"]) == at(5, 8)  # 22:00 next day is quiet: 08:00


async def test_a_course_is_asked_about_after_its_last_session_once(
    db: Database, w: builders.World
) -> None:
    await booking(db, w, "a", customer="ana", class_key="course", sessions=["day1", "day2"],
                  attendance=["attended", "no_show"])  # fmt: skip
    await booking(db, w, "d", customer="dee", class_key="course", sessions=["day1", "day2"],
                  attendance=["no_show", "no_show"])  # fmt: skip
    await close(db, w, "day1", at(3, 11, 1))
    assert (await feedback.queue_requests(db, FrozenClock(at(3, 11, 2))))[0] == 0
    await close(db, w, "day2", at(4, 11, 1))
    queued, _ = await feedback.queue_requests(db, FrozenClock(at(4, 11, 2)), since=at(3, 11, 2))
    assert queued == 1  # ana attended a day; dee attended none
    rows = await outbox_rows(db, "feedback_request")
    assert [(r["customer_id"], instant(r["due_at"])) for r in rows] == [(w["ana"], at(5, 11))]


async def test_drop_ins_are_not_asked(db: Database, w: builders.World) -> None:
    await builders.session(db, w, "open", "dropin", at(3, 10))
    await booking(db, w, "a", customer="ana", class_key="dropin", sessions=["open"],
                  attendance=["attended"], kind="drop_in")  # fmt: skip
    await booking(db, w, "b", customer="ben", class_key="taster", sessions=["noon"],
                  attendance=["attended"])  # fmt: skip
    await close(db, w, "open", at(3, 12, 1))
    await close(db, w, "noon", at(3, 12, 1))
    assert (await feedback.queue_requests(db, FrozenClock(at(3, 12, 2))))[0] == 1
    assert [r["customer_id"] for r in await outbox_rows(db, "feedback_request")] == [w["ben"]]


async def test_a_session_closed_before_since_is_not_read_again(
    db: Database, w: builders.World
) -> None:
    await booking(db, w, "a", customer="ana", class_key="taster", sessions=["noon"],
                  attendance=["attended"])  # fmt: skip
    await close(db, w, "noon", at(3, 12, 1))
    queued, _ = await feedback.queue_requests(db, FrozenClock(at(3, 13)), since=at(3, 12, 30))
    assert queued == 0  # closed half an hour before the last run


async def test_rating_is_stored_once_with_class_and_instructor(
    db: Database, w: builders.World
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET instructor_id = :m WHERE id = :s", {"m": w["maya"], "s": w["noon"]}
        )
    await booking(db, w, "a", customer="ana", class_key="taster", sessions=["noon"],
                  attendance=["attended"])  # fmt: skip
    await booking(db, w, "b", customer="ben", class_key="taster", sessions=["noon"],
                  attendance=["no_show"])  # fmt: skip
    now = at(4, 13)
    ask = {"studio_id": w.studio_id, "customer_id": w["ana"], "registration_id": w["a"]}
    first = await feedback.rate(db, now, rating=4, **ask)
    assert first == feedback.Rated("Taster", 4, new=True)
    again = await feedback.rate(db, now, rating=1, **ask)
    assert again == feedback.Rated("Taster", 4, new=False)
    assert await feedback.comment(db, text=" Lovely ", **ask)
    assert not await feedback.comment(db, text="again", **ask)
    row = await db.one("SELECT * FROM course_feedback WHERE registration_id = :r", {"r": w["a"]})
    assert row is not None
    assert (row["rating"], row["comment"], row["class_id"], row["instructor_id"]) == (
        4, "Lovely", w["taster"], w["maya"]
    )  # fmt: skip
    # A no-show has nothing to rate; nor has someone else's booking.
    ben = {"studio_id": w.studio_id, "customer_id": w["ben"], "registration_id": w["b"]}
    assert await feedback.rate(db, now, rating=5, **ben) is None
    assert await feedback.rate(db, now, rating=5, **{**ben, "registration_id": w["a"]}) is None


async def test_pending_is_the_latest_asked_booking_not_rated(
    db: Database, w: builders.World
) -> None:
    await booking(db, w, "a", customer="ana", class_key="taster", sessions=["noon"],
                  attendance=["attended"])  # fmt: skip
    await close(db, w, "noon", at(3, 12, 1))
    await feedback.queue_requests(db, FrozenClock(at(3, 12, 2)))
    assert await feedback.pending(db, w.studio_id, w["ana"], at(4, 11)) is None  # not due yet
    asked = await feedback.pending(db, w.studio_id, w["ana"], at(4, 12))
    assert asked == feedback.Asked(w["a"], "Taster")
    await feedback.rate(
        db, at(4, 12), studio_id=w.studio_id, customer_id=w["ana"], registration_id=w["a"],
        rating=5,
    )  # fmt: skip
    assert await feedback.pending(db, w.studio_id, w["ana"], at(4, 12)) is None


async def test_the_scheduler_asks_every_quarter_hour_once_and_moves_its_mark(
    db: Database, w: builders.World
) -> None:
    await booking(db, w, "a", customer="ana", class_key="taster", sessions=["noon"],
                  attendance=["checked_in"])  # fmt: skip
    clock = FrozenClock(at(3, 12, 1))
    sweeps = Sweeps(db, clock)
    await sweeps.tick()  # closes the class, then asks
    assert sweeps.feedback_since == at(3, 12, 1)
    clock.advance(timedelta(minutes=1))
    await sweeps.tick()  # asks every 15 minutes
    assert sweeps.feedback_since == at(3, 12, 1)
    clock.advance(timedelta(minutes=14))
    await sweeps.tick()
    assert sweeps.feedback_since == at(3, 12, 16)
    rows = await outbox_rows(db, "feedback_request")
    assert [(r["customer_id"], instant(r["due_at"])) for r in rows] == [(w["ana"], at(4, 12))]
