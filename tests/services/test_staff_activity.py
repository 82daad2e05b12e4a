"""Staff notices of customer activity: an instant message to each subscriber of that kind,
the event kept for digest subscribers, and one digest per subscriber per day at 08:00."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.handlers.templates import render
from bookbot.presentation.i18n import translator
from bookbot.services import cancellation, staff_activity, waitlist
from bookbot.services.booking import book_session
from bookbot.store.db import Database
from tests import builders

EVE = datetime(2026, 11, 4, 18, 0, tzinfo=UTC)  # London is on GMT


async def subscribe(db: Database, w: builders.World, address: str, events: str, mode: str) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO staff_notice_subscriptions (studio_id, channel, address, events, mode,"
            " created_at) VALUES (:s, 'telegram', :a, :e, :m, :now)",
            {"s": w.studio_id, "a": address, "e": events, "m": mode, "now": EVE},
        )


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db)
    await builders.session(db, w, "eve", "taster", EVE, capacity=2)
    for name in ("ana", "ben", "cai"):
        await builders.customer(db, w, name)
    return w


async def sent(db: Database, template: str = "staff_activity") -> list[tuple[str, dict]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT address, params FROM outbox WHERE template = :t ORDER BY id", {"t": template}
        )
    return [(str(r["address"]), json.loads(r["params"])) for r in rows]


async def kept(db: Database) -> list[str]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT kind FROM staff_notice_events ORDER BY id")
    return [str(r["kind"]) for r in rows]


async def test_no_subscribers_nothing_is_written(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await book_session(db, clock, world.studio_id, world["ana"], world["eve"], guests=1)
    assert await sent(db) == []
    assert await kept(db) == []


async def test_each_kind_goes_to_its_subscribers_only(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await subscribe(db, world, "-100", "booking,cancellation", "instant")
    await subscribe(db, world, "-200", "waitlist", "instant")
    await subscribe(db, world, "-300", "booking,waitlist", "digest")

    reg = await book_session(db, clock, world.studio_id, world["ana"], world["eve"], guests=2)
    [(to, params)] = await sent(db)
    assert to == "-100"
    assert params["kind"] == "booking"
    assert (params["customer_name"], params["guests"], params["class_name"]) == (
        "ana",
        2,
        "Taster",
    )
    assert await kept(db) == ["booking"]

    await waitlist.join_waitlist(db, clock, world.studio_id, world["ben"], world["eve"], guests=1)
    assert [(to, p["kind"]) for to, p in await sent(db)][1:] == [("-200", "waitlist")]
    assert await kept(db) == ["booking", "waitlist"]

    # The customer cancels: -100 is told; nobody keeps cancellations for a digest.
    await cancellation.cancel_registration(
        db, clock, world.studio_id, reg.id, customer_id=world["ana"]
    )
    assert [(to, p["kind"]) for to, p in await sent(db)][2:] == [("-100", "cancellation")]
    assert await kept(db) == ["booking", "waitlist"]


async def test_staff_cancelling_is_not_reported(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    reg = await book_session(db, clock, world.studio_id, world["ana"], world["eve"], guests=1)
    await subscribe(db, world, "-100", "cancellation", "instant")
    await cancellation.cancel_registration(db, clock, world.studio_id, reg.id, by_staff=True)
    assert await sent(db) == []


async def test_the_digest_goes_once_a_day_at_the_end_of_quiet_hours(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await subscribe(db, world, "-300", "booking,waitlist", "digest")
    await subscribe(db, world, "-400", "handoff", "digest")  # nothing to tell
    clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
    await book_session(db, clock, world.studio_id, world["ana"], world["eve"], guests=2)
    await waitlist.join_waitlist(db, clock, world.studio_id, world["ben"], world["eve"], guests=1)
    async with db.transaction() as tx:
        await staff_activity.record(
            tx, clock.now(), studio_id=world.studio_id, kind="handoff", params={}
        )

    clock.set(datetime(2026, 11, 3, 7, 59, tzinfo=UTC))  # before 08:00 London
    assert await staff_activity.send_digest(db, clock, world.studio_id) == 0
    clock.set(datetime(2026, 11, 3, 8, 0, tzinfo=UTC))
    assert await staff_activity.send_digest(db, clock, world.studio_id) == 2
    clock.advance(timedelta(hours=3))
    assert await staff_activity.send_digest(db, clock, world.studio_id) == 0  # once a day

    digests = await sent(db, "staff_digest")
    assert [to for to, _ in digests] == ["-300", "-400"]
    params = digests[0][1]
    assert params["day"] == "2026-11-02"
    assert params["counts"] == {"booking": 1, "waitlist": 1}
    text = render("staff_digest", params, translator("en"), "Europe/London")
    assert text.splitlines()[0] == "Yesterday, Mon 2 Nov: 1 booking, 1 waitlist join."
    assert "New booking: ana (party of 2), Taster on" in text
    assert "Joined the waitlist: ben, Taster on" in text
    assert render("staff_digest", params, translator("es"), "Europe/London")

    # The next morning: nothing happened on the 3rd, so nothing is sent.
    clock.set(datetime(2026, 11, 4, 9, 0, tzinfo=UTC))
    assert await staff_activity.send_digest(db, clock, world.studio_id) == 0


async def test_instant_messages_render(
    db: Database, world: builders.World, clock: FrozenClock
) -> None:
    await subscribe(db, world, "-100", "booking,cancellation,waitlist,handoff", "instant")
    await book_session(db, clock, world.studio_id, world["ana"], world["eve"], guests=1)
    async with db.transaction() as tx:
        await staff_activity.record(
            tx,
            clock.now(),
            studio_id=world.studio_id,
            kind="handoff",
            params={"customer_id": world["cai"], "channel": "sms"},
        )
    texts = [
        render("staff_activity", p, translator("en"), "Europe/London") for _, p in await sent(db)
    ]
    assert texts[0].startswith("New booking: ana, Taster on ")
    assert texts[1] == "cai asked to talk to a person."


async def test_unknown_kinds_are_refused(db: Database, world: builders.World) -> None:
    async with db.transaction() as tx:
        with pytest.raises(ValueError, match="unknown"):
            await staff_activity.record(
                tx, EVE, studio_id=world.studio_id, kind="refund", params={}
            )
