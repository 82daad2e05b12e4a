"""A waitlist offer taken with a pass: the freed place is reserved on the customer's pass
instead of booked (and paid) again.

A waitlist entry does not say how its customer meant to come. The rule: a party of one
holding a usable pass of the session's class that may reserve it (the pass's dates, its
reservations ahead, its punches, the part order) takes the place with that pass; anyone
else books it as before (`waitlist.accept_offer`). A pass holder who joins from the pass's
list of sessions is a party of one, so that is what they get.

One transaction, as `waitlist.accept_offer`: lock the session, move the offer
offered -> accepted while it is live (row count checked), then reserve inside the same
transaction, where the accepted offer no longer counts against anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import errors
from bookbot.engine import reservations as rules
from bookbot.engine.clock import Clock
from bookbot.services import facts, reservations
from bookbot.services.passes import locked_state
from bookbot.services.waitlist import _find_offer, _move_live_offer, _why_not_live
from bookbot.store.db import Database, Tx, retrying


@dataclass(frozen=True)
class Reserved:
    """The offer taken with a pass: the reservation, its pass, the class and the start."""

    reservation: reservations.Reservation
    pass_id: int
    class_name: str
    starts_at: datetime


async def accept_with_pass(
    db: Database, clock: Clock, studio_id: int, customer_id: int, entry_id: int
) -> Reserved | None:
    """Reserve the offer's place on the customer's pass; None (nothing changed) when no
    pass of theirs can take it: then it is booked as any offer. Refused as
    `waitlist.accept_offer` is when the offer lapsed, was declined or was taken."""

    async def attempt() -> Reserved | None:
        now = clock.now()
        async with db.transaction() as tx:
            return await _accept_in(tx, now, studio_id, customer_id, entry_id)

    result: Reserved | None = await retrying(attempt)
    return result


async def _accept_in(
    tx: Tx, now: datetime, studio_id: int, customer_id: int, entry_id: int
) -> Reserved | None:
    offer = await _find_offer(tx, studio_id, customer_id, entry_id)
    if offer.guests != 1:
        return None
    locked = await facts.lock_sessions(tx, studio_id, customer_id, ids=[offer.session_id])
    if locked is None:
        return None
    session = locked.sessions[0]
    pass_id = await _usable_pass(tx, studio_id, customer_id, locked)
    if pass_id is None:
        return None
    if not await _move_live_offer(tx, now, entry_id, "accepted"):
        raise await _why_not_live(tx, now, entry_id, offer)
    held = await reservations.reserve_in(
        tx, now, studio_id, customer_id, pass_id, session_id=session.id
    )
    return Reserved(held, pass_id, locked.classes[session.class_id].name, session.starts_at)


async def _usable_pass(
    tx: Tx, studio_id: int, customer_id: int, locked: facts.Locked
) -> int | None:
    """The customer's oldest active pass of the class whose rules let it reserve the
    locked session (checked as `reservations.reserve` checks, under the pass's lock)."""
    class_id = locked.sessions[0].class_id
    slot = await reservations.slot_of(tx, locked)
    rows = await tx.all(
        "SELECT id FROM passes WHERE studio_id = :s AND customer_id = :c AND class_id = :k"
        " AND status = 'active' AND (sessions_remaining IS NULL OR sessions_remaining > 0)"
        " ORDER BY id",
        {"s": studio_id, "c": customer_id, "k": class_id},
    )
    for row in rows:
        state, _grace = await locked_state(tx, studio_id, customer_id, int(row["id"]))
        try:
            rules.check_reserve(state, slot, rules.reservation_part(slot, None))
        except errors.BookingError:
            continue
        return int(row["id"])
    return None
