"""Events kept for the staff digest (with customers' names in them) do not outlive it: once
a day's digest goes, events from before the day it sums up are deleted."""

from __future__ import annotations

from datetime import UTC, datetime

from bookbot.engine.clock import FrozenClock
from bookbot.services import staff_activity
from bookbot.services.booking import book_session
from bookbot.store.db import Database
from tests import builders
from tests.services.test_staff_activity import kept, subscribe, world

__all__ = ["world"]  # fixture


async def test_events_older_than_the_digested_day_go_with_the_digest(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await subscribe(db, world, "-300", "booking,waitlist", "digest")
    clock.set(datetime(2026, 10, 30, 10, 0, tzinfo=UTC))  # no digest was sent for this day
    await book_session(db, clock, world.studio_id, world["ben"], world["eve"], guests=1)
    clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
    await book_session(db, clock, world.studio_id, world["ana"], world["eve"], guests=1)
    assert await kept(db) == ["booking", "booking"]

    clock.set(datetime(2026, 11, 3, 8, 0, tzinfo=UTC))
    assert await staff_activity.send_digest(db, clock, world.studio_id) == 1

    rows = await db.all("SELECT params FROM staff_notice_events ORDER BY id")
    assert len(rows) == 1  # the 2nd's, kept a day more (a late subscriber's digest)
    assert "ana" in rows[0]["params"]
