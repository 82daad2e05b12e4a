"""Moving a class booking to another date: atomic, inside the cutoff refused, never oversold.

The studio (cancellation cutoff 24 h) has three tasters (one wheel per student) and a
drop-in; each test reads what changed (or did not) from the rows themselves.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.handlers.templates import render
from bookbot.presentation.calendar_ics import CalendarEvent, booking_calendar
from bookbot.presentation.i18n import translator
from bookbot.services import holds, waitlist
from bookbot.services.booking import book_drop_in, book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.class_reschedule import (
    OPTIONS_LIMIT,
    Rescheduled,
    calendar_uid,
    can_reschedule,
    reschedule_booking,
    reschedule_options,
)
from bookbot.services.reminders import keys
from bookbot.store.db import Database, connect, instant
from tests import builders

MON_18 = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)
WED_18 = datetime(2026, 11, 18, 18, 0, tzinfo=UTC)
FRI_18 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
CUTOFF = timedelta(hours=24)
RACERS = 12
CONNECTIONS = 4


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db, cancellation_cutoff_hours=24)
    await builders.session(db, w, "mon", "taster", MON_18, capacity=RACERS + 2)
    await builders.session(db, w, "wed", "taster", WED_18, capacity=5)
    await builders.session(db, w, "fri", "taster", FRI_18, capacity=1)
    await builders.session(db, w, "drop1", "dropin", MON_18)
    await builders.session(db, w, "drop2", "dropin", WED_18)
    for name in ("ana", "ben", "cai"):
        await builders.customer(db, w, name)
    return w


@dataclass(frozen=True)
class Seen:
    """A registration as the rows tell it, and who sits where."""

    status: str
    sequence: int
    last_starts_at: datetime
    seats: tuple[tuple[int, str], ...]  # (session, status) of its seat rows
    wheels: tuple[tuple[int, int], ...]  # (session, quantity) of its allocations
    reminders: tuple[tuple[str, str], ...]  # (dedupe key, status) of its reminders


async def seen(db: Database, registration_id: int) -> Seen:
    params = {"r": registration_id}
    async with db.transaction(write=False) as tx:
        reg = await tx.one(
            "SELECT status, sequence, last_starts_at FROM registrations WHERE id = :r", params
        )
        seats = await tx.all(
            "SELECT session_id, status FROM registration_sessions WHERE registration_id = :r"
            " ORDER BY id",
            params,
        )
        wheels = await tx.all(
            "SELECT session_id, quantity FROM resource_allocations WHERE registration_id = :r"
            " ORDER BY id",
            params,
        )
        sent = await tx.all(
            "SELECT dedupe_key, status FROM outbox WHERE dedupe_key LIKE :k ORDER BY dedupe_key",
            {"k": f"reminder%:booking-{registration_id}-%"},
        )
    assert reg is not None
    return Seen(
        reg["status"],
        int(reg["sequence"]),
        instant(reg["last_starts_at"]),
        tuple((int(r["session_id"]), r["status"]) for r in seats),
        tuple((int(r["session_id"]), int(r["quantity"])) for r in wheels),
        tuple((r["dedupe_key"], r["status"]) for r in sent),
    )


async def booked_on(db: Database, session_id: int) -> int:
    async with db.transaction(write=False) as tx:
        return int(
            await tx.scalar(
                "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions"
                " WHERE session_id = :s AND status = 'booked'",
                {"s": session_id},
            )
        )


def reminders_of(registration_id: int, session_id: int, status: str) -> set[tuple[str, str]]:
    return {(k, status) for k in keys("booking", registration_id, session_id)}


async def move(
    db: Database, clock: FrozenClock, w: builders.World, *, who: str, reg: int, to: str
) -> Rescheduled:
    return await reschedule_booking(
        db, clock, w.studio_id, registration_id=reg, customer_id=w[who], session_id=w[to]
    )


async def test_a_booking_moves_whole_in_one_go_seat_wheels_reminders_and_sequence(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["mon"], guests=2)).id

    moved = await move(db, clock, w, who="ana", reg=reg, to="wed")

    assert (moved.id, moved.session_ids) == (reg, (w["wed"],))
    assert (moved.old_session.starts_at, moved.new_session.starts_at) == (MON_18, WED_18)
    assert (moved.guest_count, moved.sequence, moved.class_name) == (2, 1, "Taster")
    after = await seen(db, reg)
    assert after.status == "confirmed"
    assert after.sequence == 1
    assert after.last_starts_at == WED_18
    assert after.seats == ((w["wed"], "booked"),)  # the same row, on the new date
    assert after.wheels == ((w["wed"], 2),)
    assert set(after.reminders) == reminders_of(reg, w["mon"], "withdrawn") | reminders_of(
        reg, w["wed"], "pending"
    )
    assert (await booked_on(db, w["mon"]), await booked_on(db, w["wed"])) == (0, 2)


async def test_the_moved_event_keeps_its_uid_with_a_higher_sequence(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    booked = await book_session(db, clock, w.studio_id, w["ana"], w["mon"], guests=1)
    first = calendar_uid("clay", booked.id, session_id=w["mon"], dates=1)

    once = await move(db, clock, w, who="ana", reg=booked.id, to="wed")
    twice = await move(db, clock, w, who="ana", reg=booked.id, to="fri")

    events = [
        _event(calendar_uid("clay", m.id, session_id=m.new_session.id, dates=1), m)
        for m in (once, twice)
    ]
    assert [(e["UID"], e["SEQUENCE"]) for e in events] == [(first, 1), (first, 2)]
    assert events[1].decoded("DTSTART") == FRI_18
    several = {calendar_uid("clay", 7, session_id=s, dates=2) for s in (1, 2)}
    assert len(several) == 2  # a booking of several dates: an event per date


def _event(uid: str, moved: Rescheduled) -> Any:
    new = moved.new_session
    event = CalendarEvent(
        uid=uid,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        summary=moved.class_name,
        location=new.location,
        description="",
        sequence=moved.sequence,
    )
    parsed = icalendar.Calendar.from_ical(booking_calendar([event], stamp=new.starts_at))
    (vevent,) = parsed.walk("VEVENT")
    return vevent


async def test_moving_back_to_a_date_left_earlier_queues_its_reminders_again(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["mon"], guests=1)).id

    await move(db, clock, w, who="ana", reg=reg, to="wed")
    back = await move(db, clock, w, who="ana", reg=reg, to="mon")

    assert back.sequence == 2
    after = await seen(db, reg)
    assert after.seats == ((w["mon"], "booked"),)
    assert set(after.reminders) == reminders_of(reg, w["mon"], "pending") | reminders_of(
        reg, w["wed"], "withdrawn"
    )


async def _payment(
    db: Database, w: builders.World, reg: int, *, purpose: str, status: str, due: datetime | None
) -> int:
    async with db.transaction() as tx:
        return int(
            await tx.scalar(
                "INSERT INTO payments (studio_id, customer_id, registration_id, purpose,"
                " amount_minor, currency, status, due_at, created_at, updated_at) VALUES (:s, :c,"
                " :r, :purpose, 2250, 'GBP', :status, :due, :due, :due) RETURNING id",
                {
                    "s": w.studio_id,
                    "c": w["ana"],
                    "r": reg,
                    "purpose": purpose,
                    "status": status,
                    "due": due or datetime(2026, 11, 1, tzinfo=UTC),
                },
            )
        )


async def _due(db: Database, payment_id: int) -> datetime:
    async with db.transaction(write=False) as tx:
        return instant(
            await tx.scalar("SELECT due_at FROM payments WHERE id = :id", {"id": payment_id})
        )


async def test_payments_carry_over_and_a_scheduled_balance_falls_due_as_long_before_the_new_date(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["wed"], guests=1)).id
    deposit = await _payment(db, w, reg, purpose="deposit", status="paid", due=None)
    before = timedelta(days=15)  # the class's balance_due_days
    balance = await _payment(db, w, reg, purpose="balance", status="scheduled", due=WED_18 - before)

    await move(db, clock, w, who="ana", reg=reg, to="fri")
    assert await _due(db, balance) == FRI_18 - before
    await move(db, clock, w, who="ana", reg=reg, to="mon")  # MON_18 - 15 days is past

    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT id, registration_id, status FROM payments ORDER BY id", {})
    assert [(r["id"], r["registration_id"], r["status"]) for r in rows] == [
        (deposit, reg, "paid"),
        (balance, reg, "scheduled"),
    ]
    assert await _due(db, balance) == clock.now()  # due at once


async def test_a_move_inside_the_cancellation_cutoff_is_refused_and_changes_nothing(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["mon"], guests=1)).id
    before = await seen(db, reg)
    late = FrozenClock(MON_18 - CUTOFF)  # the deadline itself is too late

    with pytest.raises(errors.RescheduleTooLate) as refused:
        await move(db, late, w, who="ana", reg=reg, to="wed")

    assert refused.value.params == {"cutoff_hours": 24, "deadline": MON_18 - CUTOFF}
    assert await seen(db, reg) == before
    with pytest.raises(errors.RescheduleTooLate):
        await reschedule_options(
            db, w.studio_id, registration_id=reg, customer_id=w["ana"], now=late.now()
        )
    just_in_time = MON_18 - CUTOFF - timedelta(seconds=1)
    assert can_reschedule(
        kind="single",
        session_count=1,
        status="confirmed",
        starts_at=MON_18,
        cutoff_hours=24,
        now=just_in_time,
    )
    assert not can_reschedule(
        kind="single",
        session_count=1,
        status="confirmed",
        starts_at=MON_18,
        cutoff_hours=24,
        now=late.now(),
    )


async def test_a_move_to_a_full_date_is_refused_and_changes_nothing(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    await book_session(db, clock, w.studio_id, w["ben"], w["fri"], guests=1)
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["mon"], guests=1)).id
    before = await seen(db, reg)

    with pytest.raises(errors.NotEnoughSeats):
        await move(db, clock, w, who="ana", reg=reg, to="fri")

    assert await seen(db, reg) == before
    assert (await booked_on(db, w["mon"]), await booked_on(db, w["fri"])) == (1, 1)


async def test_a_move_needing_more_wheels_than_are_free_is_refused(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    await builders.set_wheels(db, w, 3)
    await book_session(db, clock, w.studio_id, w["ben"], w["wed"], guests=2)
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["mon"], guests=2)).id
    before = await seen(db, reg)

    with pytest.raises(errors.NotEnoughResource):
        await move(db, clock, w, who="ana", reg=reg, to="wed")

    assert await seen(db, reg) == before


async def test_someone_elses_booking_is_not_found_and_not_moved(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["mon"], guests=1)).id
    before = await seen(db, reg)

    with pytest.raises(errors.NotFound):
        await move(db, clock, w, who="ben", reg=reg, to="wed")
    with pytest.raises(errors.NotFound):
        await reschedule_options(
            db, w.studio_id, registration_id=reg, customer_id=w["ben"], now=clock.now()
        )

    assert await seen(db, reg) == before


async def test_only_a_one_date_booking_of_the_same_class_moves(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    dates = await book_drop_in(db, clock, w.studio_id, w["ben"], [w["drop1"], w["drop2"]], guests=1)
    with pytest.raises(errors.InvalidRequest):
        await move(db, clock, w, who="ben", reg=dates.id, to="wed")
    one = (await book_drop_in(db, clock, w.studio_id, w["ana"], [w["drop1"]], guests=1)).id
    with pytest.raises(errors.MixedClasses):
        await move(db, clock, w, who="ana", reg=one, to="wed")
    with pytest.raises(errors.AlreadyBooked):  # its own date
        await move(db, clock, w, who="ana", reg=one, to="drop1")

    moved = await move(db, clock, w, who="ana", reg=one, to="drop2")

    assert moved.session_ids == (w["drop2"],)


async def test_a_hold_or_a_cancelled_booking_does_not_move(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    held = await holds.hold(
        db, clock, w.studio_id, w["ana"], RegistrationKind.SINGLE, guests=1, session_ids=[w["mon"]]
    )
    with pytest.raises(errors.InvalidRequest):
        await move(db, clock, w, who="ana", reg=held.id, to="wed")
    gone = (await book_session(db, clock, w.studio_id, w["ben"], w["mon"], guests=1)).id
    await cancel_registration(db, clock, w.studio_id, gone, customer_id=w["ben"])
    with pytest.raises(errors.AlreadyCancelled):
        await move(db, clock, w, who="ben", reg=gone, to="wed")


async def test_the_options_are_the_other_dates_with_room_for_the_party_soonest_first(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["wed"], guests=1)).id
    for day in range(OPTIONS_LIMIT + 5):  # more dates than are shown, after the three
        await builders.session(
            db, w, f"later{day}", "taster", FRI_18 + timedelta(days=day + 1), capacity=3
        )
    await book_session(db, clock, w.studio_id, w["ben"], w["fri"], guests=1)  # now full
    await book_session(db, clock, w.studio_id, w["ana"], w["later0"], guests=1)  # hers already

    options = await reschedule_options(
        db, w.studio_id, registration_id=reg, customer_id=w["ana"], now=clock.now()
    )

    shown = [o.session.id for o in options]
    assert shown == [w["mon"]] + [w[f"later{d}"] for d in range(1, OPTIONS_LIMIT)]
    assert options[0].seats_left == RACERS + 2


async def test_the_seat_freed_by_a_move_is_offered_to_the_old_dates_waitlist(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["fri"], guests=1)).id
    queued = await waitlist.join_waitlist(db, clock, w.studio_id, w["ben"], w["fri"], guests=1)

    moved = await move(db, clock, w, who="ana", reg=reg, to="wed")

    assert [(o.id, o.status) for o in moved.offers] == [(queued.id, "offered")]


async def test_many_moving_at_once_into_the_last_seat_exactly_one_wins(
    db: Database, world: builders.World, clock: FrozenClock, database_url: str
) -> None:
    """Half come from a date with a lower id than the target, half from one with a higher
    id: both lock orders meet on the target, in id order, so none deadlocks."""
    w = world
    await builders.set_wheels(db, w, 2 * RACERS)  # seats, not wheels, run out
    await builders.session(db, w, "sun", "taster", FRI_18 + timedelta(days=2), capacity=RACERS)
    racers = [await builders.customer(db, w, f"racer{i}") for i in range(RACERS)]
    origins = [w["mon"] if i % 2 else w["sun"] for i in range(RACERS)]
    regs = [
        (await book_session(db, clock, w.studio_id, c, origin, guests=1)).id
        for c, origin in zip(racers, origins, strict=True)
    ]
    connections = [await connect(database_url, lock_timeout=30) for _ in range(CONNECTIONS)]

    async def one_moves(i: int) -> Any:
        try:
            return await reschedule_booking(
                connections[i % CONNECTIONS],
                clock,
                w.studio_id,
                registration_id=regs[i],
                customer_id=racers[i],
                session_id=w["fri"],
            )
        except errors.BookingError as refusal:
            return refusal

    try:
        outcomes = await asyncio.gather(*(one_moves(i) for i in range(RACERS)))
    finally:
        for connection in connections:
            await connection.close()

    won = [o for o in outcomes if isinstance(o, Rescheduled)]
    assert len(won) == 1
    assert all(isinstance(o, errors.NotEnoughSeats) for o in outcomes if o not in won)
    assert await booked_on(db, w["fri"]) == 1
    assert await booked_on(db, w["mon"]) + await booked_on(db, w["sun"]) == RACERS - 1
    for reg, origin in zip(regs, origins, strict=True):
        after = await seen(db, reg)
        expected = w["fri"] if reg == won[0].id else origin
        assert after.seats == ((expected, "booked"),)
        assert after.wheels == ((expected, 1),)
        assert after.sequence == (1 if reg == won[0].id else 0)


async def test_the_new_dates_instructor_is_told_of_the_move(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    async with db.transaction() as tx:
        await tx.execute("UPDATE staff SET telegram_user_id = 4242 WHERE id = :p", {"p": w["maya"]})
        await tx.execute(
            "UPDATE sessions SET instructor_id = :p WHERE id = :s", {"p": w["maya"], "s": w["wed"]}
        )
    reg = (await book_session(db, clock, w.studio_id, w["ana"], w["mon"], guests=2)).id

    await move(db, clock, w, who="ana", reg=reg, to="wed")

    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT template, params, channel, address FROM outbox"
            " WHERE template = 'staff_booking_moved'"
        )
    assert [(r["channel"], r["address"]) for r in rows] == [("telegram", "4242")]
    text = render("staff_booking_moved", json.loads(rows[0]["params"]), translator("en"), "UTC")
    assert (
        text
        == "ana (party of 2) moved Taster from Mon 16 Nov 2026 18:00 GMT to Wed 18 Nov 2026 18:00 GMT."
    )
