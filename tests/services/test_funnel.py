"""services.funnel on both databases: events ride on the dialogue's save (and go with it),
item keys are read in the INSERT, and the report counts a period of one studio only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.conversations import store
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound
from bookbot.engine.clock import FrozenClock
from bookbot.services import funnel
from bookbot.services.funnel import Event, Kind, Step, Who
from bookbot.store.db import Database
from tests.examples import NOW, load_example_studio, load_tutor_studio

ADDRESS = "+447700900001"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def studio_id(db: Database, clock: FrozenClock) -> int:
    return await load_example_studio(db, clock, weeks=1)


async def class_id(db: Database, key: str) -> int:
    return int(await db.scalar("SELECT id FROM classes WHERE key = :k", {"k": key}))


async def count(db: Database) -> int:
    return int(await db.scalar("SELECT COUNT(*) FROM funnel_events"))


async def test_a_save_that_lost_its_lease_records_no_events(
    db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await Dialogues(db, clock).handle(Inbound(Channel.CONSOLE, ADDRESS, text="/start"))
    conversation = await store.find(db, "console", ADDRESS)
    assert conversation is not None
    conversation.funnel.append(Event(Step.VIEW, Kind.CLASS, await class_id(db, "wheel-taster")))
    stale = store.Lease("not-the-token-on-the-row", conversation)

    with pytest.raises(store.LeaseLost):
        await store.save(db, stale, conversation, clock.now())

    assert await count(db) == 0
    assert studio_id


async def test_a_save_records_its_events_with_their_keys(
    db: Database, clock: FrozenClock, studio_id: int
) -> None:
    serializer = store.Serializer(db, clock)
    await Dialogues(db, clock).handle(Inbound(Channel.SMS, ADDRESS, text="hi"))
    wheel, mugs = await class_id(db, "wheel-taster"), await class_id(db, "mug-making")
    async with serializer.hold("sms", ADDRESS) as lease:
        conversation = lease.conversation
        assert conversation is not None
        conversation.funnel += [Event(Step.VIEW, Kind.CLASS, wheel)]
        conversation.funnel += [Event(Step.STARTED, Kind.PASS, mugs)]
        await store.save(db, lease, conversation, clock.now())

    rows = await db.all(
        "SELECT studio_id, channel, step, item_kind, item_key, customer_id, at"
        " FROM funnel_events ORDER BY id"
    )
    assert [(r["channel"], r["step"], r["item_kind"], r["item_key"]) for r in rows] == [
        ("sms", "view", "class", "wheel-taster"),
        ("sms", "started", "pass", "mug-making"),
    ]
    assert {r["studio_id"] for r in rows} == {studio_id}
    assert {r["customer_id"] for r in rows} == {conversation.customer_id}
    assert rows[0]["at"] == clock.now()


async def test_events_in_a_rolled_back_transaction_are_gone(db: Database, studio_id: int) -> None:
    wheel = await class_id(db, "wheel-taster")
    who = Who(studio_id, None, "console", NOW)

    async def booking_that_fails() -> None:
        async with db.transaction() as tx:
            await funnel.record_in(tx, who, [Event(Step.COMPLETED, Kind.CLASS, wheel)])
            raise RuntimeError("the booking failed")

    with pytest.raises(RuntimeError):
        await booking_that_fails()

    assert await count(db) == 0


async def test_the_report_counts_its_period_and_its_studio_only(
    db: Database, clock: FrozenClock, studio_id: int
) -> None:
    other = await load_tutor_studio(db, clock, weeks=1)
    wheel = await class_id(db, "wheel-taster")
    lesson = int(
        await db.scalar("SELECT id FROM services WHERE studio_id = :s LIMIT 1", {"s": other})
    )
    start = datetime(2026, 11, 1, tzinfo=UTC)
    end = datetime(2026, 12, 1, tzinfo=UTC)
    view = [Event(Step.VIEW, Kind.CLASS, wheel)]
    await funnel.record(db, Who(studio_id, None, "sms", start), view)  # first instant: in
    await funnel.record(db, Who(studio_id, None, "sms", end), view)  # the end: out
    await funnel.record(db, Who(studio_id, None, "sms", start - timedelta(seconds=1)), view)
    await funnel.record(db, Who(other, None, "sms", NOW), [Event(Step.VIEW, Kind.SERVICE, lesson)])
    # An id of another studio's item is no item of this one: nothing recorded.
    await funnel.record(
        db, Who(studio_id, None, "sms", NOW), [Event(Step.VIEW, Kind.SERVICE, lesson)]
    )

    found = await funnel.report(db, studio_id, since=start, until=end)

    assert [(line.channel, line.viewed) for line in found.channels] == [("sms", 1)]
    assert [(line.kind, line.key, line.viewed) for line in found.items] == [
        ("class", "wheel-taster", 1)
    ]
    assert await count(db) == 4


def test_rates_of_nothing_are_none_not_zero() -> None:
    line = funnel.Line("sms", viewed=3, started=0, completed=0, backed_out=0)
    assert funnel.percent(line.started, line.viewed) == 0.0
    assert funnel.percent(line.completed, line.started) is None
    assert funnel.Line("sms", started=2, completed=3).abandoned == 0  # paid after the period
