"""Admission rules: seats, resources, cutoffs, in a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.capacity import (
    Allocation,
    Requirement,
    ResourceUse,
    SessionState,
    admit,
    availability,
    check_cancellable,
    resource_use,
)
from bookbot.engine.generation import ConflictReason, ExistingSession, Target, plan
from bookbot.engine.recurrence import Adjustment, Occurrence
from bookbot.engine.staffing import Booking, check_free, overlaps

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=1)
WHEELS = Requirement(1, "wheel", 1)
CLAY = Requirement(2, "clay bag", 2)


def state(
    booked: int = 0,
    capacity: int = 8,
    status: str = "open",
    mine: bool = False,
    starts: datetime = START,
) -> SessionState:
    return SessionState(7, starts, status, capacity, booked, mine)


@pytest.mark.parametrize(
    ("session", "uses", "guests", "refusal"),
    [
        (state(booked=6), [ResourceUse(1, "wheel", 8, 0)], 2, None),
        (state(booked=7), [ResourceUse(1, "wheel", 8, 0)], 2, errors.NotEnoughSeats),
        (state(), [ResourceUse(1, "wheel", 8, 7)], 2, errors.NotEnoughResource),
        (state(), [ResourceUse(1, "wheel", 8, 6)], 2, None),
        (state(status="cancelled"), [ResourceUse(1, "wheel", 8, 0)], 1, errors.SessionNotOpen),
        (state(starts=NOW), [ResourceUse(1, "wheel", 8, 0)], 1, errors.SessionInPast),
        (state(mine=True), [ResourceUse(1, "wheel", 8, 0)], 1, errors.AlreadyBooked),
        (state(), [ResourceUse(1, "wheel", 8, 0)], 0, errors.GuestCountInvalid),
        (state(), [], 1, errors.NotEnoughResource),  # a required resource the studio lacks
    ],
)
def test_admission(
    session: SessionState, uses: list[ResourceUse], guests: int, refusal: type[Exception] | None
) -> None:
    if refusal is None:
        assert admit(NOW, session, [WHEELS], uses, guests) == [Allocation(7, 1, guests)]
    else:
        with pytest.raises(refusal):
            admit(NOW, session, [WHEELS], uses, guests)


def test_every_resource_is_checked_and_needs_scale_with_guests() -> None:
    uses = [ResourceUse(1, "wheel", 8, 0), ResourceUse(2, "clay bag", 10, 5)]
    with pytest.raises(errors.NotEnoughResource) as refused:
        admit(NOW, state(), [WHEELS, CLAY], uses, 3)
    assert refused.value.params == {
        "resource": "clay bag",
        "available": 5,
        "needed": 6,
        "when": START,
    }
    assert admit(NOW, state(), [WHEELS, CLAY], uses, 2) == [
        Allocation(7, 1, 2),
        Allocation(7, 2, 4),
    ]


# Seats left = capacity − booked (holds included) − live offers to others; each resource:
# total − allocated − offered guests × quantity per student. Capacity 8, 3 wheels.
@pytest.mark.parametrize(
    ("booked", "allocated", "offered", "guests", "seats_left", "wheels_free", "refusal"),
    [
        (0, 0, 0, 3, 8, 3, None),
        (1, 1, 2, 1, 5, 0, errors.NotEnoughResource),  # the offer holds the last 2 wheels
        (1, 1, 0, 2, 7, 2, None),  # the same room once the offer has gone
        (0, 0, 2, 1, 6, 1, None),  # one wheel is still free beside the offer
        (0, 0, 3, 1, 5, 0, errors.NotEnoughResource),
        (5, 0, 3, 1, 0, 0, errors.NotEnoughSeats),  # seats are refused first
        (0, 2, 2, 1, 6, 0, errors.NotEnoughResource),  # never below nothing free
    ],
)
def test_live_offers_hold_seats_and_each_resource_for_their_party(
    *,
    booked: int,
    allocated: int,
    offered: int,
    guests: int,
    seats_left: int,
    wheels_free: int,
    refusal: type[Exception] | None,
) -> None:
    session = SessionState(7, START, "open", 8, booked, offered_seats=offered)
    uses = [resource_use(WHEELS, 3, allocated, offered)]

    shown = availability(session, [WHEELS], uses, guests)

    assert (shown.seats_left, shown.resources[0].available) == (seats_left, wheels_free)
    assert shown.fits(guests) is (refusal is None)
    if refusal is None:
        assert admit(NOW, session, [WHEELS], uses, guests) == [Allocation(7, 1, guests)]
    else:
        with pytest.raises(refusal):
            admit(NOW, session, [WHEELS], uses, guests)


def test_an_offer_holds_its_party_times_each_quantity_per_student() -> None:
    assert resource_use(CLAY, 10, 1, 3) == ResourceUse(2, "clay bag", 10, 1, offered=6)
    assert resource_use(CLAY, 10, 1, 3).available == 3
    assert resource_use(CLAY, 10, 1, 0).available == 9
    with pytest.raises(errors.NotEnoughResource) as refused:
        admit(
            NOW,
            state(),
            [WHEELS, CLAY],
            [ResourceUse(1, "wheel", 8, 0), resource_use(CLAY, 10, 1, 3)],
            2,
        )
    assert refused.value.params["available"] == 3


def test_booking_cutoff_closes_bookings_before_the_start() -> None:
    with pytest.raises(errors.SessionInPast):
        admit(
            NOW,
            state(starts=NOW + timedelta(minutes=30)),
            [],
            [],
            1,
            booking_cutoff=timedelta(hours=1),
        )
    assert (
        admit(
            NOW,
            state(starts=NOW + timedelta(minutes=61)),
            [],
            [],
            1,
            booking_cutoff=timedelta(hours=1),
        )
        == []
    )


def test_cancellation_cutoff() -> None:
    check_cancellable(NOW, NOW + timedelta(hours=24, seconds=1), 24)
    with pytest.raises(errors.CancellationTooLate):
        check_cancellable(NOW, NOW + timedelta(hours=24), 24)
    check_cancellable(NOW, NOW + timedelta(minutes=1), 0)


def test_half_open_overlap() -> None:
    h = timedelta(hours=1)
    assert overlaps(NOW, NOW + h, NOW + h / 2, NOW + 2 * h)
    assert not overlaps(NOW, NOW + h, NOW + h, NOW + 2 * h)
    with pytest.raises(errors.StaffDoubleBooked):
        check_free("Maya", 1, NOW, NOW + h, [Booking(2, NOW + h / 2, NOW + 2 * h, "Glazing #2")])
    check_free("Maya", 1, NOW, NOW + h, [Booking(1, NOW, NOW + h, "itself")])


def _existing(day: int, booked: int, hour: int = 18, capacity: int = 8) -> ExistingSession:
    at = datetime(2026, 11, day, hour, tzinfo=UTC)
    return ExistingSession(
        day, at.date(), at, at + timedelta(hours=2), capacity, "A", "open", booked
    )


def _target(day: int, hour: int = 18, capacity: int = 8) -> Target:
    at = datetime(2026, 11, day, hour, tzinfo=UTC)
    return Target(
        Occurrence(at.date(), at, at + timedelta(hours=2), Adjustment.NONE), capacity, "A"
    )


def test_generation_plan_never_drops_or_moves_booked_sessions() -> None:
    existing = [_existing(9, 0), _existing(16, 2), _existing(23, 0), _existing(30, 3)]
    targets = [_target(9), _target(16, hour=19), _target(23, hour=19), _target(7)]

    result = plan(targets, existing)

    assert [t.occurrence.local_date.day for t in result.create] == [7]
    assert [(s.session_id, t.occurrence.starts_at.hour) for s, t in result.update] == [(23, 19)]
    assert [s.session_id for s in result.unchanged] == [9]
    assert [s.session_id for s in result.delete] == []
    assert [(c.session.session_id, c.reason) for c in result.conflicts] == [
        (16, ConflictReason.MOVED),
        (30, ConflictReason.REMOVED),
    ]


def test_generation_plan_deletes_unbooked_and_guards_capacity() -> None:
    result = plan([_target(9, capacity=2)], [_existing(9, 3), _existing(16, 0)])
    assert [c.reason for c in result.conflicts] == [ConflictReason.CAPACITY_BELOW_BOOKED]
    assert [s.session_id for s in result.delete] == [16]
