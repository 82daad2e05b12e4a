"""Staff adding one-off sessions and editing sessions (services.session_changes): wall times
in the studio's zone, DST-correct; attendees told of a new time or place with the booking's
.ics SEQUENCE raised and reminders moved; the capacity never below the seats taken; a
cancelled session keeps its reason and cannot be booked. Both databases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.reservations import PassKind
from bookbot.handlers.session_change_ics import calendar_attachment
from bookbot.handlers.templates import render
from bookbot.presentation.i18n import translator
from bookbot.services import cancellation, passes, reservations
from bookbot.services.booking import book_session
from bookbot.services.session_changes import Change, NewSession, add_session, edit_session
from bookbot.services.session_times import CapacityBelowTaken, EndsBeforeStart, TimeNotOnClock
from bookbot.store.db import Database, instant
from tests import builders

LATER = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # Fri 20 Nov, 10:00 London (GMT)


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db)
    for name in ("ann", "bob", "dan"):
        await builders.customer(db, w, name)
    await builders.session(db, w, "s1", "taster", LATER, capacity=6)
    return w


async def _outbox(db: Database, template: str) -> list[dict[str, object]]:
    rows = await db.all(
        "SELECT customer_id, params, due_at, status, dedupe_key FROM outbox"
        " WHERE template = :t ORDER BY id",
        {"t": template},
    )
    return [dict(r) | {"params": json.loads(r["params"])} for r in rows]


async def test_add_makes_a_bookable_one_off_session_dst_correct(
    db: Database, clock: FrozenClock, world: builders.World
) -> None:
    winter = await add_session(
        db,
        clock,
        world.studio_id,
        NewSession("taster", date(2027, 1, 15), time(9, 0), time(17, 0), capacity=4),
    )
    summer = await add_session(
        db,
        clock,
        world.studio_id,
        NewSession(
            "taster", date(2027, 6, 1), time(9, 0), time(17, 0), capacity=4, instructor_key="maya"
        ),
    )
    assert winter.starts_at == datetime(2027, 1, 15, 9, 0, tzinfo=UTC)  # GMT
    assert summer.starts_at == datetime(2027, 6, 1, 8, 0, tzinfo=UTC)  # BST
    assert summer.ends_at == datetime(2027, 6, 1, 16, 0, tzinfo=UTC)
    row = await db.one(
        "SELECT pattern_id, occurrence_date, instructor_id, capacity FROM sessions WHERE id = :id",
        {"id": summer.id},
    )
    assert row is not None
    assert row["pattern_id"] is None
    assert str(row["occurrence_date"]) == "2027-06-01"
    assert (row["instructor_id"], row["capacity"]) == (world["maya"], 4)
    reg = await book_session(db, clock, world.studio_id, world["ann"], winter.id, guests=2)
    assert reg.session_ids == (winter.id,)


async def test_add_refusals(db: Database, clock: FrozenClock, world: builders.World) -> None:
    def new(**kw: object) -> NewSession:
        base: dict[str, object] = {
            "class_key": "taster",
            "day": date(2027, 3, 28),
            "start": time(9, 0),
            "end": time(11, 0),
            "capacity": 4,
        }
        return NewSession(**(base | kw))  # type: ignore[arg-type]

    sid = world.studio_id
    with pytest.raises(TimeNotOnClock) as gap:  # London springs forward 01:00 -> 02:00
        await add_session(db, clock, sid, new(start=time(1, 30)))
    assert str(gap.value) == (
        "01:30 does not exist on 2027-03-28: the clocks go forward then. Choose another time."
    )
    with pytest.raises(EndsBeforeStart):
        await add_session(db, clock, sid, new(end=time(8, 0)))
    with pytest.raises(errors.NotFound):
        await add_session(db, clock, sid, new(class_key="nope"))
    with pytest.raises(errors.NotFound):
        await add_session(db, clock, sid, new(instructor_key="nobody"))
    with pytest.raises(errors.StaffNotQualified):
        await add_session(db, clock, sid, new(instructor_key="rex"))
    with pytest.raises(errors.InvalidRequest):
        await add_session(db, clock, sid, new(class_key="course"))
    with pytest.raises(errors.InvalidRequest):
        await add_session(db, clock, sid, new(capacity=None))  # no schedule to take it from
    count = await db.scalar("SELECT COUNT(*) FROM sessions WHERE pattern_id IS NULL")
    assert count == 1  # s1 alone: nothing was written by a refusal


async def _booked_and_reserved(db: Database, clock: FrozenClock, w: builders.World) -> int:
    reg = await book_session(db, clock, w.studio_id, w["ann"], w["s1"], guests=2)
    pass_id = await passes.issue_pass(
        db,
        clock.now(),
        w.studio_id,
        w["dan"],
        w["taster"],
        terms=passes.PassTerms(PassKind.PUNCH, sessions=5, valid_days=60),
        payment="staff_issued",
        valid_from=clock.now().date(),
    )
    await reservations.reserve(db, clock, w.studio_id, w["dan"], pass_id, session_id=w["s1"])
    return reg.id


async def test_a_new_time_tells_attendees_with_the_next_sequence_and_moves_reminders(
    db: Database, clock: FrozenClock, world: builders.World
) -> None:
    reg = await _booked_and_reserved(db, clock, world)
    done = await edit_session(
        db, clock, world.studio_id, world["s1"], Change(start=time(14, 0), end=time(16, 0))
    )
    new_start = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert (done.after.starts_at, done.told) == (new_start, 2)
    row = await db.one(
        "SELECT sequence, last_starts_at FROM registrations WHERE id = :id", {"id": reg}
    )
    assert row is not None
    assert int(row["sequence"]) == 1
    told = await _outbox(db, "session_changed")
    assert [(n["customer_id"], n["params"]["kind"]) for n in told] == [  # type: ignore[index]
        (world["ann"], "booking"),
        (world["dan"], "reservation"),
    ]
    ann = told[0]["params"]
    assert isinstance(ann, dict)
    assert (ann["sequence"], ann["starts_at"]) == (1, new_start.isoformat())
    t = translator("en")
    text = render("session_changed", ann, t, "Europe/London")
    assert "has moved to" in text
    assert "14:00" in text
    assert "10:00" in text  # what it was
    ics = calendar_attachment(ann, t, stamp=clock.now()).content.decode()
    assert f"UID:registration-{reg}@clay.bookbot" in ics
    assert "SEQUENCE:1" in ics
    assert "DTSTART:20261120T140000Z" in ics
    # The reminders of the old time are gone; those of the new time are queued.
    for template in ("reminder_24h", "reminder_1h"):
        live = [r for r in await _outbox(db, template) if r["status"] == "pending"]
        assert len(live) == 2  # ann's booking and dan's reservation
        assert {r["params"]["starts_at"] for r in live} == {new_start.isoformat()}  # type: ignore[index]
    # A second move: the sequence goes on, a new notice.
    await edit_session(db, clock, world.studio_id, world["s1"], Change(date(2026, 11, 21)))
    told = await _outbox(db, "session_changed")
    assert [n["params"]["sequence"] for n in told if n["customer_id"] == world["ann"]] == [1, 2]  # type: ignore[index]


async def test_a_new_place_tells_and_notes_tell_nobody(
    db: Database, clock: FrozenClock, world: builders.World
) -> None:
    await _booked_and_reserved(db, clock, world)
    await edit_session(db, clock, world.studio_id, world["s1"], Change(notes="Bring aprons"))
    assert await _outbox(db, "session_changed") == []
    notes = await db.scalar(
        "SELECT instructor_notes FROM sessions WHERE id = :id", {"id": world["s1"]}
    )
    assert notes == "Bring aprons"
    await edit_session(db, clock, world.studio_id, world["s1"], Change(location="Studio B"))
    told = await _outbox(db, "session_changed")
    assert len(told) == 2
    text = render("session_changed", told[0]["params"], translator("en"), "Europe/London")  # type: ignore[arg-type]
    assert "is now at Studio B" in text


async def test_capacity_never_below_the_seats_taken(
    db: Database, clock: FrozenClock, world: builders.World
) -> None:
    await _booked_and_reserved(db, clock, world)  # 2 booked + 1 reserved
    with pytest.raises(CapacityBelowTaken) as refused:
        await edit_session(db, clock, world.studio_id, world["s1"], Change(capacity=2))
    assert str(refused.value) == "Seats taken: 3. The capacity cannot be less than that."
    done = await edit_session(db, clock, world.studio_id, world["s1"], Change(capacity=3))
    assert done.after.capacity == 3
    assert done.told == 0  # capacity alone tells nobody
    with pytest.raises(errors.NotEnoughSeats):
        await book_session(db, clock, world.studio_id, world["bob"], world["s1"], guests=1)


async def test_a_time_in_the_dst_gap_is_refused_and_nothing_changes(
    db: Database, clock: FrozenClock, world: builders.World
) -> None:
    await _booked_and_reserved(db, clock, world)
    with pytest.raises(TimeNotOnClock):
        await edit_session(
            db,
            clock,
            world.studio_id,
            world["s1"],
            Change(day=date(2027, 3, 28), start=time(1, 15), end=time(3, 0)),
        )
    starts = await db.scalar("SELECT starts_at FROM sessions WHERE id = :id", {"id": world["s1"]})
    assert "2026-11-20" in str(starts)
    assert await _outbox(db, "session_changed") == []


async def test_a_move_onto_the_instructors_other_class_is_refused(
    db: Database, clock: FrozenClock, world: builders.World
) -> None:
    other = await add_session(
        db,
        clock,
        world.studio_id,
        NewSession("taster", date(2026, 11, 20), time(14, 0), time(16, 0), 4, "maya"),
    )
    mine = await add_session(
        db,
        clock,
        world.studio_id,
        NewSession("taster", date(2026, 11, 20), time(9, 0), time(11, 0), 4, "maya"),
    )
    with pytest.raises(errors.StaffDoubleBooked):
        await edit_session(
            db, clock, world.studio_id, mine.id, Change(start=time(15, 0), end=time(17, 0))
        )
    assert other.id != mine.id
    instructor = await db.scalar(
        "SELECT instructor_id FROM sessions WHERE id = :id", {"id": mine.id}
    )
    assert instructor == world["maya"]  # rolled back whole


async def test_a_cancelled_session_keeps_its_reason_and_cannot_be_booked_or_edited(
    db: Database, clock: FrozenClock, world: builders.World
) -> None:
    await book_session(db, clock, world.studio_id, world["ann"], world["s1"], guests=1)
    await cancellation.cancel_session(
        db, clock, world.studio_id, world["s1"], reason="  Instructor   ill "
    )
    reason = await db.scalar(
        "SELECT cancel_reason FROM sessions WHERE id = :id", {"id": world["s1"]}
    )
    assert reason == "Instructor ill"
    told = await _outbox(db, "session_cancelled")
    assert told[0]["params"]["reason"] == "Instructor ill"  # type: ignore[index]
    with pytest.raises(errors.SessionNotOpen):
        await book_session(db, clock, world.studio_id, world["bob"], world["s1"], guests=1)
    with pytest.raises(errors.SessionNotOpen):
        await edit_session(db, clock, world.studio_id, world["s1"], Change(capacity=9))


async def test_a_scheduled_balance_moves_with_the_date(
    db: Database, clock: FrozenClock, world: builders.World
) -> None:
    reg = await book_session(db, clock, world.studio_id, world["ann"], world["s1"], guests=1)
    due = datetime(2026, 11, 13, 10, 0, tzinfo=UTC)  # a week before
    payment_id = await db.scalar(
        "INSERT INTO payments (studio_id, customer_id, registration_id, purpose, amount_minor,"
        " currency, status, due_at, created_at, updated_at) VALUES (:s, :c, :r, 'balance', 2250,"
        " 'GBP', 'scheduled', :due, :due, :due) RETURNING id",
        {"s": world.studio_id, "c": world["ann"], "r": reg.id, "due": due},
    )
    await edit_session(db, clock, world.studio_id, world["s1"], Change(day=date(2026, 11, 27)))
    moved = await db.scalar("SELECT due_at FROM payments WHERE id = :id", {"id": payment_id})
    assert instant(moved) == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # still a week before
