"""Seats and resources: may these guests join this session, and what do they take?

Availability is derived from facts (confirmed bookings and allocations), never from a
cached counter; services recount inside the locked transaction and call these rules.

A live waitlist offer holds what its party would take, seats and every required
resource, until it expires, is declined or is accepted: the offered party is promised
they can book, so everyone else sees those seats and units as taken. The offered
customer's own offer is left out of their count (the caller passes only the others').
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.engine import errors


@dataclass(frozen=True)
class Requirement:
    resource_id: int
    resource_name: str
    quantity_per_student: int


@dataclass(frozen=True)
class ResourceUse:
    """One resource's state for one session: its total, what is allocated (bookings and
    live holds) and what live waitlist offers hold for their parties."""

    resource_id: int
    resource_name: str
    total: int
    allocated: int
    offered: int = 0

    @property
    def available(self) -> int:
        return max(self.total - self.allocated - self.offered, 0)


def resource_use(
    requirement: Requirement, total: int, allocated: int, offered_guests: int
) -> ResourceUse:
    """A required resource's use, with live offers holding `offered_guests` × the class's
    quantity per student (what their parties will take when they accept)."""
    return ResourceUse(
        requirement.resource_id,
        requirement.resource_name,
        total,
        allocated,
        offered_guests * requirement.quantity_per_student,
    )


@dataclass(frozen=True)
class SessionState:
    session_id: int
    starts_at: datetime
    status: str
    capacity: int
    booked_seats: int  # booked guests, seats in live holds and pass reservations
    customer_booked: bool = False
    offered_seats: int = 0  # guests of live waitlist offers (to others than the asker)

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.booked_seats - self.offered_seats, 0)


@dataclass(frozen=True)
class ResourceCheck:
    resource_id: int
    resource_name: str
    needed: int
    available: int

    @property
    def ok(self) -> bool:
        return self.needed <= self.available


@dataclass(frozen=True)
class Availability:
    session_id: int
    seats_left: int
    resources: tuple[ResourceCheck, ...]

    def fits(self, guests: int) -> bool:
        return guests <= self.seats_left and all(r.ok for r in self.resources)


@dataclass(frozen=True)
class Allocation:
    session_id: int
    resource_id: int
    quantity: int


def availability(
    state: SessionState, requirements: list[Requirement], uses: list[ResourceUse], guests: int
) -> Availability:
    """Seats left and, per required resource, needed (guests × per student) against free."""
    by_id = {u.resource_id: u for u in uses}
    checks = []
    for req in requirements:
        use = by_id.get(req.resource_id)
        available = use.available if use else 0
        checks.append(
            ResourceCheck(
                req.resource_id, req.resource_name, guests * req.quantity_per_student, available
            )
        )
    return Availability(state.session_id, state.seats_left, tuple(checks))


def check_guest_count(guests: int) -> None:
    if guests < 1:
        raise errors.GuestCountInvalid(guests=guests)


def admit(
    now: datetime,
    state: SessionState,
    requirements: list[Requirement],
    uses: list[ResourceUse],
    guests: int,
    *,
    booking_cutoff: timedelta = timedelta(0),
) -> list[Allocation]:
    """Decide whether `guests` may book `state`; return the allocations to write.

    Raises the first refusal a customer would care about, in this order: cancelled,
    past the cutoff, already booked, seats, then each resource.
    """
    check_guest_count(guests)
    when = state.starts_at
    if state.status != "open":
        raise errors.SessionNotOpen(when=when)
    if state.starts_at - booking_cutoff <= now:
        raise errors.SessionInPast(when=when)
    if state.customer_booked:
        raise errors.AlreadyBooked(when=when)
    if guests > state.seats_left:
        raise errors.NotEnoughSeats(seats_left=state.seats_left, needed=guests, when=when)
    result = availability(state, requirements, uses, guests)
    for check in result.resources:
        if not check.ok:
            raise errors.NotEnoughResource(
                resource=check.resource_name,
                available=check.available,
                needed=check.needed,
                when=when,
            )
    return [Allocation(state.session_id, c.resource_id, c.needed) for c in result.resources]


def check_cancellable(now: datetime, starts_at: datetime, cutoff_hours: int) -> None:
    """A customer may cancel until `cutoff_hours` before the first session starts."""
    if cutoff_hours and starts_at - timedelta(hours=cutoff_hours) <= now:
        raise errors.CancellationTooLate(hours=cutoff_hours)
