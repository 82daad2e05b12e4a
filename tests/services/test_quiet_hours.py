"""Quiet hours (21:00-08:00 studio time by default) hold notices the customer did not just
ask for: reminders until morning but never past the class, waitlist offers with their time to
answer starting in the morning, and a cancelled class's news never later than 2 h before it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.services import cancellation, waitlist
from bookbot.services.booking import book_session
from bookbot.store.db import Database, instant
from tests import builders

# London is on GMT (= UTC) in November.
NOV = (2026, 11)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(*NOV, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db)
    await builders.session(db, w, "early", "taster", at(4, 7))  # 07:00: before quiet ends
    await builders.session(db, w, "half8", "taster", at(4, 8, 30))
    await builders.session(db, w, "noon", "taster", at(4, 12))
    await builders.session(db, w, "eve", "taster", at(4, 18), capacity=1)
    await builders.session(db, w, "dawn", "taster", at(3, 9), capacity=1)
    for name in ("ana", "ben"):
        await builders.customer(db, w, name)
    return w


async def due_times(db: Database, template: str) -> list[datetime]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT due_at FROM outbox WHERE template = :t ORDER BY id", {"t": template}
        )
    return [instant(r["due_at"]) for r in rows]


async def test_reminders_wait_for_morning_but_never_pass_the_class(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    for session in ("early", "half8", "noon"):
        await book_session(db, clock, world.studio_id, world["ana"], world[session], guests=1)

    # 24 h before: 07:00 and 08:30 (the first held to 08:00), 12:00 as it is.
    assert await due_times(db, "reminder_24h") == [at(3, 8), at(3, 8, 30), at(3, 12)]
    # 1 h before 07:00 is 06:00: holding it to 08:00 would pass the class, so it goes at
    # 06:00. 1 h before 08:30 waits for 08:00. 11:00 is outside quiet hours.
    assert await due_times(db, "reminder_1h") == [at(4, 6), at(4, 8), at(4, 11)]


async def test_a_studio_without_quiet_hours_sends_when_due(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE studios SET quiet_start_minute = 0, quiet_end_minute = 0 WHERE id = :id",
            {"id": world.studio_id},
        )
    await book_session(db, clock, world.studio_id, world["ana"], world["early"], guests=1)
    assert await due_times(db, "reminder_24h") == [at(3, 7)]
    assert await due_times(db, "reminder_1h") == [at(4, 6)]


async def _offer_at(
    db: Database, clock: FrozenClock, world: builders.World, session: str, when: datetime
) -> tuple[datetime, datetime]:
    """ana books `session` (1 seat), ben queues, ana cancels at `when`: (the offer's message
    due time, the offer's expiry)."""
    reg = await book_session(db, clock, world.studio_id, world["ana"], world[session], guests=1)
    await waitlist.join_waitlist(db, clock, world.studio_id, world["ben"], world[session], guests=1)
    clock.set(when)
    done = await cancellation.cancel_registration(db, clock, world.studio_id, reg.id, by_staff=True)
    assert len(done.offers) == 1
    expires = done.offers[0].offer_expires_at
    assert expires is not None
    return (await due_times(db, "waitlist_offer"))[0], expires


async def test_an_offer_made_at_night_goes_in_the_morning_with_its_full_time(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    sent, expires = await _offer_at(db, clock, world, "eve", at(2, 23))
    assert sent == at(3, 8)
    assert expires == at(3, 10)  # the studio's 2 h to answer, from 08:00
    # Not lapsed overnight by the sweep.
    clock.set(at(3, 7, 59))
    assert await waitlist.expire_offers(db, clock) == 0


async def test_an_offer_that_cannot_wait_goes_at_once(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    # The class is at 09:00: an offer sent at 08:00 would have only 1 h of its 2 to answer,
    # so it goes at 23:00 rather than lose the seat.
    sent, expires = await _offer_at(db, clock, world, "dawn", at(2, 23))
    assert (sent, expires) == (at(2, 23), at(3, 1))


async def test_a_cancelled_class_is_news_by_morning_or_at_once_if_sooner(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await book_session(db, clock, world.studio_id, world["ana"], world["noon"], guests=1)
    await book_session(db, clock, world.studio_id, world["ben"], world["half8"], guests=1)
    clock.set(at(3, 22))
    await cancellation.cancel_session(db, clock, world.studio_id, world["noon"], reason="ill")
    await cancellation.cancel_session(db, clock, world.studio_id, world["half8"], reason="ill")
    # noon: held to 08:00. 08:30: 08:00 is later than 2 h before, so at once (22:00).
    assert await due_times(db, "session_cancelled") == [at(4, 8), at(3, 22)]
