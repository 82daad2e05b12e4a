"""Cancelling a registration, booked or held: frees its seats and resources, withdraws its
reminders and wakes the waitlist, all in one transaction.

The registration row is locked before its status is read (see `registration_rows`), so
of two cancels racing, or a cancel racing a confirm or the hold sweep, one lands first
and the other sees it: a second cancel is told AlreadyCancelled, never "cancelled" again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import capacity, errors
from bookbot.engine.clock import Clock
from bookbot.services import facts, reminders
from bookbot.services.registration_rows import (
    LIVE,
    end_registration,
    lock_registration,
    session_ids_of,
)
from bookbot.services.waitlist import WaitlistEntry, offer_freed_seats
from bookbot.store.db import Database, Tx, retrying


@dataclass(frozen=True)
class Cancellation:
    registration_id: int
    session_ids: tuple[int, ...]
    offers: tuple[WaitlistEntry, ...]


async def cancel_registration(
    db: Database,
    clock: Clock,
    studio_id: int,
    registration_id: int,
    *,
    customer_id: int | None = None,
    by_staff: bool = False,
) -> Cancellation:
    """Cancel a whole registration: a booking, or a hold not yet confirmed.

    With `customer_id`, only that customer's registration is found (anything else is
    NotFound, never someone else's booking). Customers are held to the studio's
    cancellation cutoff for bookings; staff are not, and letting go of a hold never is.
    One that is cancelled or expired already is AlreadyCancelled.
    """

    async def attempt() -> Cancellation:
        now = clock.now()
        async with db.transaction() as tx:
            return await _cancel_in(
                tx, now, studio_id, registration_id, customer_id=customer_id, by_staff=by_staff
            )

    result: Cancellation = await retrying(attempt)
    return result


async def _cancel_in(
    tx: Tx,
    now: datetime,
    studio_id: int,
    registration_id: int,
    *,
    customer_id: int | None,
    by_staff: bool,
) -> Cancellation:
    reg = await lock_registration(tx, studio_id, registration_id)
    if reg is None or (customer_id is not None and reg["customer_id"] != customer_id):
        raise errors.NotFound(what="booking", ident=registration_id)
    if reg["status"] not in LIVE:
        raise errors.AlreadyCancelled()
    ids = await session_ids_of(tx, studio_id, registration_id)
    # Its sessions, locked and read with their studio in one statement; None if it has none.
    locked = await facts.lock_sessions(tx, studio_id, 0, ids=ids)
    if locked is not None and not by_staff and reg["status"] == "confirmed":
        _check_cutoff(now, locked)
    await end_registration(
        tx, now, studio_id, registration_id, ids, was=reg["status"], to="cancelled"
    )
    await reminders.withdraw(tx, studio_id, "booking", registration_id, ids)
    offers = []
    if locked is not None:
        offers = await offer_freed_seats(tx, now, locked.studio, locked.sessions)
    return Cancellation(registration_id, tuple(ids), tuple(offers))


def _check_cutoff(now: datetime, locked: facts.Locked) -> None:
    """Customers cancel a booking up to the cutoff before its next session (or its first,
    once all have started)."""
    starts = [s.starts_at for s in locked.sessions]
    upcoming = [t for t in starts if t > now]
    first = min(upcoming or starts)
    capacity.check_cancellable(now, first, locked.studio.cancellation_cutoff_hours)
