"""A customer's own waitlist places: seen under My bookings, and left when they no longer
want the seat (an offer left is passed to the next in line, as declining it would)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine.clock import Clock
from bookbot.services import waitlist
from bookbot.store.db import Database, Reads, instant, retrying

# Through ix_waitlist_entries_customer_live: only the customer's live places are read.
PLACES_SQL = """SELECT w.id, w.status, w.guest_count, s.starts_at, s.ends_at, s.days,
    c.name AS class_name
FROM waitlist_entries w
JOIN sessions s ON s.id = w.session_id
JOIN classes c ON c.id = s.class_id
WHERE w.studio_id = :studio_id AND w.customer_id = :customer_id
  AND w.status IN ('waiting', 'offered') AND s.starts_at > :now AND s.status = 'open'
ORDER BY s.starts_at, w.id"""

LEAVE_SQL = """UPDATE waitlist_entries SET status = 'cancelled'
WHERE id = :id AND studio_id = :studio_id AND customer_id = :customer_id
  AND status = 'waiting'"""


@dataclass(frozen=True)
class Place:
    entry_id: int
    class_name: str
    starts_at: datetime
    guests: int
    offered: bool  # a seat is held for them now (ACCEPT takes it)
    ends_at: datetime | None = None
    days: int = 1  # a multi-day course: shown as its dates and daily hours


async def places(reads: Reads, studio_id: int, customer_id: int, now: datetime) -> list[Place]:
    rows = await reads.all(
        PLACES_SQL, {"studio_id": studio_id, "customer_id": customer_id, "now": now}
    )
    return [
        Place(
            entry_id=int(r["id"]),
            class_name=str(r["class_name"]),
            starts_at=instant(r["starts_at"]),
            guests=int(r["guest_count"]),
            offered=r["status"] == "offered",
            ends_at=instant(r["ends_at"]),
            days=int(r["days"]),
        )
        for r in rows
    ]


async def leave(
    db: Database, clock: Clock, *, studio_id: int, customer_id: int, entry_id: int
) -> bool:
    """Give up a place of this customer's; False if it was not theirs or no longer live."""

    async def attempt() -> bool:
        async with db.transaction() as tx:
            changed = await tx.execute(
                LEAVE_SQL, {"id": entry_id, "studio_id": studio_id, "customer_id": customer_id}
            )
        return bool(changed)

    if await retrying(attempt):
        return True
    # An offered place: declining passes what it holds to the next in line.
    return await waitlist.decline(db, clock, studio_id, customer_id, entry_id)
