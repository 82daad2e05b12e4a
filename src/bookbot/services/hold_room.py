"""Whether a hold's room is still there when it is confirmed or kept for a payment.

A hold counts until its `held_until`, judged by each operation at its own `now`: read
before its transaction (which may then wait for the lock), on its process's clock, so two
operations judge one hold at different instants. One on a later clock may find the hold
lapsed and give its seats and equipment away; one on an earlier clock still finds it live.
And a hold past its time that the sweep has not reached yet still reads `held`. So
whatever would make such a hold count again (a confirm, a payment link keeping it) first
counts, under the sessions' locks, everything live at its `now`, the hold's own party
among it, and goes ahead only if all of it fits.
"""

from __future__ import annotations

from bookbot.engine import errors
from bookbot.services import facts


def overfull(
    locked: facts.Locked, found: dict[int, facts.Facts], guests: int
) -> errors.BookingError | None:
    """What a booking of the hold's `guests` would be told if the counts `found` (the hold's
    own seats and allocations among them) do not fit; None if they do."""
    for session in locked.sessions:
        f, when = found[session.id], session.starts_at
        over = f.booked + f.held_by_offers - session.capacity
        if over > 0:
            return errors.NotEnoughSeats(seats_left=max(guests - over, 0), needed=guests, when=when)
        for need, use in zip(f.requirements, f.uses, strict=True):
            over = use.allocated + use.offered - use.total
            if over > 0:
                own = guests * need.quantity_per_student
                return errors.NotEnoughResource(
                    resource=use.resource_name, available=max(own - over, 0), needed=own, when=when
                )
    return None
