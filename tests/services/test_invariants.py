"""The invariant checks: silent on a studio used the ordinary way, and each one names the
rows of a state broken on purpose (the states issue 11's races left behind)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.engine.reservations import PassKind
from bookbot.services import attendance, holds, passes, reservations
from bookbot.services.booking import book_session
from bookbot.services.cancellation import cancel_registration
from bookbot.services.invariants import Invariant, Violation, find_violations
from bookbot.services.waitlist import join_waitlist
from bookbot.store.db import Database
from tests import builders

MON_18 = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)  # two weeks after the clock fixture


@pytest.fixture
async def world(db: Database) -> builders.World:
    """A studio with 3 wheels, a taster session for 4, and three customers."""
    w = await builders.studio(db)
    await builders.set_wheels(db, w, 3)
    await builders.session(db, w, "s1", "taster", MON_18, capacity=4)
    for name in ("ana", "ben", "cai"):
        await builders.customer(db, w, name)
    return w


async def found(db: Database, clock: FrozenClock, **options: Any) -> list[Violation]:
    return await find_violations(db, clock.now(), **options)


def kinds(violations: list[Violation]) -> list[tuple[Invariant, dict[str, int]]]:
    return [(v.invariant, dict(v.ids)) for v in violations]


async def run(db: Database, sql: str, **params: Any) -> None:
    async with db.transaction() as tx:
        await tx.execute(sql, params)


async def book(db: Database, w: builders.World, clock: FrozenClock, who: str, guests: int) -> int:
    return (await book_session(db, clock, w.studio_id, w[who], w["s1"], guests=guests)).id


async def hold(db: Database, w: builders.World, clock: FrozenClock, who: str, guests: int) -> int:
    kind, ids = RegistrationKind.SINGLE, [w["s1"]]
    placed = await holds.hold(db, clock, w.studio_id, w[who], kind, guests=guests, session_ids=ids)
    return placed.id


async def offer(db: Database, w: builders.World, clock: FrozenClock, who: str, guests: int) -> None:
    """A live offer of `guests` seats to `who`, written as it is (no checks), for 2 hours."""
    await run(
        db,
        "INSERT INTO waitlist_entries (studio_id, session_id, customer_id, guest_count, status,"
        " created_at, offered_at, offer_expires_at) VALUES (:s, :session, :c, :guests, 'offered',"
        " :now, :now, :until)",
        s=w.studio_id,
        session=w["s1"],
        c=w[who],
        guests=guests,
        now=clock.now(),
        until=clock.now() + timedelta(hours=2),
    )


async def end_rows(db: Database, reg: int, status: str) -> None:
    """The registration set to `status` and its rows to cancelled, by hand: nothing else is
    touched (its allocations and reminders stay)."""
    await run(db, "UPDATE registrations SET status = :status WHERE id = :id", id=reg, status=status)
    await run(
        db,
        "UPDATE registration_sessions SET status = 'cancelled' WHERE registration_id = :id",
        id=reg,
    )


async def punch_pass(db: Database, w: builders.World, clock: FrozenClock, who: str) -> int:
    terms = passes.PassTerms(PassKind.PUNCH, sessions=3)
    return await passes.issue_pass(
        db,
        clock.now(),
        w.studio_id,
        w[who],
        w["taster"],
        terms=terms,
        payment="staff_issued",
        valid_from=date(2026, 11, 1),
    )


async def test_a_studio_used_the_ordinary_way_breaks_nothing(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    held = await hold(db, w, clock, "ana", 1)
    await holds.confirm_hold(db, clock, w.studio_id, w["ana"], held)
    await hold(db, w, clock, "ben", 1)
    pass_id = await punch_pass(db, w, clock, "cai")
    reservation = await reservations.reserve(
        db, clock, w.studio_id, w["cai"], pass_id, session_id=w["s1"]
    )
    dee = await builders.customer(db, w, "dee")
    await join_waitlist(db, clock, w.studio_id, dee, w["s1"], guests=1)
    await cancel_registration(db, clock, w.studio_id, held, by_staff=True)  # dee is offered
    assert await found(db, clock) == []

    clock.set(MON_18)
    await reservations.check_in(db, clock, w.studio_id, reservation.id, customer_id=w["cai"])
    clock.set(MON_18 + timedelta(hours=3))
    await attendance.close_ended(db, clock)
    assert await found(db, clock) == []


async def test_seats_over_capacity_are_named_with_what_takes_them(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    await book(db, w, clock, "ana", 2)
    await book(db, w, clock, "ben", 1)
    await run(db, "UPDATE sessions SET capacity = 2 WHERE id = :id", id=w["s1"])

    [violation] = await found(db, clock)

    assert kinds([violation]) == [(Invariant.SEATS, {"session": w["s1"]})]
    assert "3 seats taken of 2 (3 booked, 0 held, 0 reserved, 0 offered)" in str(violation)


async def test_live_offers_count_for_seats_and_equipment_until_they_lapse(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    """The issue's "offers promised 5 wheels when 3 exist": 2 booked + an offer for 2."""
    w = world
    await book(db, w, clock, "ana", 2)
    await offer(db, w, clock, "ben", 2)

    assert kinds(await found(db, clock)) == [
        (Invariant.RESOURCE, {"session": w["s1"], "resource": w["wheels"]})
    ]
    await run(db, "UPDATE sessions SET capacity = 3 WHERE id = :id", id=w["s1"])
    assert {v.invariant for v in await found(db, clock)} == {Invariant.SEATS, Invariant.RESOURCE}

    clock.advance(timedelta(hours=2))  # the offer lapsed, swept or not
    assert await found(db, clock) == []


async def test_a_customers_own_hold_stands_for_their_offer(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    await book(db, w, clock, "ana", 2)
    await offer(db, w, clock, "ben", 1)
    await hold(db, w, clock, "ben", 1)

    assert await found(db, clock) == []


async def test_a_lapsed_hold_counts_for_nothing_before_the_sweep(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    await hold(db, w, clock, "ana", 3)
    await run(db, "UPDATE resources SET total_quantity = 2 WHERE id = :id", id=w["wheels"])
    assert [v.invariant for v in await found(db, clock)] == [Invariant.RESOURCE]

    clock.advance(timedelta(minutes=10))
    assert await found(db, clock) == []


async def test_allocations_of_a_cancelled_registration_are_reported(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    """What `bookbot cancel` of a held registration left: rows cancelled, wheels kept."""
    w = world
    reg = await book(db, w, clock, "ana", 2)
    await end_rows(db, reg, "cancelled")
    await run(db, "UPDATE outbox SET status = 'withdrawn'")

    [violation] = await found(db, clock)

    assert violation.invariant is Invariant.ENDED_ALLOCATION
    assert dict(violation.ids) == {
        "allocation": dict(violation.ids)["allocation"],
        "registration": reg,
        "session": w["s1"],
    }
    assert f"belongs to cancelled registration {reg}" in violation.message


async def test_reminders_of_an_expired_registration_are_reported(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    """What a confirm that lost its race to the sweep left: reminders for an expired hold."""
    w = world
    reg = await book(db, w, clock, "ana", 1)
    await end_rows(db, reg, "expired")
    await run(db, "DELETE FROM resource_allocations")

    violations = await found(db, clock)

    assert [v.invariant for v in violations] == [Invariant.ENDED_REMINDER] * 2  # 24 h and 1 h
    assert {dict(v.ids)["registration"] for v in violations} == {reg}
    assert "(status expired, its row in session" in violations[0].message


async def test_reminders_of_a_cancelled_reservation_are_reported(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    pass_id = await punch_pass(db, w, clock, "ana")
    held = await reservations.reserve(db, clock, w.studio_id, w["ana"], pass_id, session_id=w["s1"])
    await run(db, "UPDATE reservations SET status = 'cancelled' WHERE id = :id", id=held.id)

    violations = await found(db, clock)

    assert {(v.invariant, dict(v.ids)["reservation"]) for v in violations} == {
        (Invariant.ENDED_REMINDER, held.id)
    }


async def test_rows_that_disagree_with_their_registration_are_reported(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    confirmed = await book(db, w, clock, "ana", 1)
    held = await hold(db, w, clock, "ben", 1)
    # A confirm that moved the seats but not the registration, and a hold without an end.
    await run(db, "UPDATE registrations SET status = 'held' WHERE id = :id", id=confirmed)
    await run(db, "UPDATE registrations SET held_until = NULL WHERE id = :id", id=held)

    violations = await found(db, clock)

    rows = [v for v in violations if v.invariant is Invariant.ROWS]
    assert {dict(v.ids)["registration"] for v in rows} == {confirmed, held}
    assert any("its row" in v.message and "is booked" in v.message for v in rows)
    assert any(v.message == f"registration {held} is held, but has no held_until" for v in rows)


async def test_a_customer_booked_and_reserved_in_one_session_is_reported(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    await book(db, w, clock, "ana", 1)
    pass_id = await punch_pass(db, w, clock, "ana")
    await run(
        db,
        "INSERT INTO reservations (studio_id, pass_id, customer_id, session_id, status,"
        " reserved_at) VALUES (:s, :p, :c, :session, 'pending', :now)",
        s=w.studio_id,
        p=pass_id,
        c=w["ana"],
        session=w["s1"],
        now=clock.now(),
    )

    assert kinds(await found(db, clock)) == [
        (Invariant.DOUBLE_BOOKING, {"session": w["s1"], "customer": w["ana"]})
    ]


async def test_a_punch_taken_twice_is_reported(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    """What two close_ended sweeps at once did: one no-show, two punches."""
    w = world
    pass_id = await punch_pass(db, w, clock, "ana")
    await reservations.reserve(db, clock, w.studio_id, w["ana"], pass_id, session_id=w["s1"])
    clock.set(MON_18 + timedelta(hours=3))
    await attendance.close_ended(db, clock)
    assert await found(db, clock) == []

    await run(db, "UPDATE passes SET sessions_remaining = 1 WHERE id = :id", id=pass_id)

    [violation] = await found(db, clock)
    assert kinds([violation]) == [(Invariant.PUNCHES, {"pass": pass_id})]
    assert violation.message == (
        f"pass {pass_id} has 2 of 3 sessions used, but 1 reservation(s) used a punch"
    )


async def test_a_punch_on_a_cancelled_reservation_is_reported(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    pass_id = await punch_pass(db, w, clock, "ana")
    held = await reservations.reserve(db, clock, w.studio_id, w["ana"], pass_id, session_id=w["s1"])
    await reservations.cancel(db, clock, w.studio_id, held.id, customer_id=w["ana"])
    await run(db, "UPDATE reservations SET punch_used = TRUE WHERE id = :id", id=held.id)
    await run(db, "UPDATE passes SET sessions_remaining = 2 WHERE id = :id", id=pass_id)

    assert kinds(await found(db, clock)) == [
        (Invariant.PUNCHES, {"reservation": held.id, "pass": pass_id})
    ]


async def test_only_the_chosen_studio_and_sessions_in_play_are_read(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    w = world
    other = await builders.studio(db, "other")
    await book(db, w, clock, "ana", 2)
    await run(db, "UPDATE sessions SET capacity = 1 WHERE id = :id", id=w["s1"])

    assert await found(db, clock, studio_id=other.studio_id) == []
    assert len(await found(db, clock, studio_id=w.studio_id)) == 1

    clock.set(MON_18 + timedelta(days=2))  # s1 ended more than a day ago
    assert [v for v in await found(db, clock) if v.invariant is Invariant.SEATS] == []
    since = MON_18 - timedelta(hours=1)
    assert [v.invariant for v in await found(db, clock, since=since)] == [Invariant.SEATS]


# --- 6. a staff member's time -------------------------------------------------------------


async def _appointment(
    db: Database, w: builders.World, customer: str, starts_at: datetime, status: str
) -> int:
    """An appointment written as it is (no checks): Maya's lesson, 60 minutes + 15 after."""
    async with db.transaction() as tx:
        return int(
            await tx.scalar(
                "INSERT INTO appointments (studio_id, service_id, staff_id, customer_id,"
                " starts_at, ends_at, busy_from, busy_until, guest_count, status, held_until,"
                " price_minor, currency, created_at, updated_at) VALUES (:s, :service, :staff,"
                " :customer, :start, :end, :start, :busy_until, 1, :status, :held_until, 4000,"
                " 'GBP', :start, :start) RETURNING id",
                {
                    "s": w.studio_id,
                    "service": w["lesson_service"],
                    "staff": w["maya"],
                    "customer": w[customer],
                    "start": starts_at,
                    "end": starts_at + timedelta(minutes=60),
                    "busy_until": starts_at + timedelta(minutes=75),
                    "status": status,
                    "held_until": starts_at if status == "held" else None,
                },
            )
        )


@pytest.fixture
async def lessons(db: Database) -> builders.World:
    from tests.services.test_appointments_world import world as appointments_world

    return await appointments_world(db)


async def test_an_appointment_during_a_class_its_teacher_teaches_is_reported(
    db: Database, lessons: builders.World, clock: FrozenClock
) -> None:
    w = lessons
    await builders.session(db, w, "class", "taster", MON_18, capacity=4)
    await run(db, "UPDATE sessions SET instructor_id = :maya", maya=w["maya"])
    clear = await _appointment(db, w, "ana", MON_18 - timedelta(minutes=75), "confirmed")
    clash = await _appointment(db, w, "ben", MON_18 + timedelta(minutes=30), "confirmed")

    assert kinds(await found(db, clock)) == [
        (Invariant.STAFF_TIME, {"appointment": clash, "session": w["class"]})
    ]
    assert clear < clash


@pytest.mark.backends("sqlite")  # PostgreSQL's exclusion constraint refuses to write it
async def test_a_staff_member_booked_twice_at_once_is_reported(
    db: Database, lessons: builders.World, clock: FrozenClock
) -> None:
    w = lessons
    first = await _appointment(db, w, "ana", MON_18, "confirmed")
    second = await _appointment(db, w, "ben", MON_18 + timedelta(minutes=70), "confirmed")
    await _appointment(db, w, "ana", MON_18 + timedelta(minutes=75), "expired")  # not live

    assert kinds(await found(db, clock)) == [
        (Invariant.STAFF_TIME, {"appointment": first, "other_appointment": second})
    ]
