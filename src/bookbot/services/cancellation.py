"""Cancelling a registration: frees its seats and resources and wakes the waitlist."""

from __future__ import annotations

from dataclasses import dataclass

from bookbot.engine import capacity, errors
from bookbot.engine.clock import Clock
from bookbot.services import facts, reminders
from bookbot.services.common import studio_by_id
from bookbot.services.registration_rows import free_rows
from bookbot.services.waitlist import WaitlistEntry, offer_freed_seats
from bookbot.store.db import Database, retrying


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
    """Cancel a whole registration.

    With `customer_id`, only that customer's registration is found (anything else is
    NotFound, never someone else's booking). Customers are held to the studio's
    cancellation cutoff; staff are not.
    """

    async def attempt() -> Cancellation:
        now = clock.now()
        async with db.transaction() as tx:
            studio = await studio_by_id(tx, studio_id)
            reg = await tx.one(
                "SELECT id, customer_id, status FROM registrations"
                " WHERE studio_id = :studio_id AND id = :id",
                {"studio_id": studio_id, "id": registration_id},
            )
            if reg is None or (customer_id is not None and reg["customer_id"] != customer_id):
                raise errors.NotFound(what="booking", ident=registration_id)
            if reg["status"] == "cancelled":
                raise errors.AlreadyCancelled()
            rows = await tx.all(
                "SELECT session_id FROM registration_sessions WHERE studio_id = :studio_id"
                " AND registration_id = :id AND status = 'booked'",
                {"studio_id": studio_id, "id": registration_id},
            )
            ids = sorted(r[0] for r in rows)
            await tx.lock("sessions", ids)
            sessions = await facts.sessions_by_id(tx, studio_id, ids)
            if not by_staff and sessions:
                upcoming = [s.starts_at for s in sessions if s.starts_at > now]
                first = min(upcoming) if upcoming else sessions[0].starts_at
                capacity.check_cancellable(now, first, studio.cancellation_cutoff_hours)
            params = {"studio_id": studio_id, "id": registration_id, "now": now}
            await tx.execute(
                "UPDATE registrations SET status = 'cancelled', cancelled_at = :now"
                " WHERE studio_id = :studio_id AND id = :id",
                params,
            )
            await free_rows(tx, studio_id, registration_id, ids)
            await reminders.withdraw(tx, studio_id, "booking", registration_id, ids)
            offers = await offer_freed_seats(tx, now, studio, sessions)
            return Cancellation(registration_id, tuple(ids), tuple(offers))

    result: Cancellation = await retrying(attempt)
    return result
