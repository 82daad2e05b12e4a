"""The dialogue's lease is short and renewed while its turn runs: a live slow turn (a slow
payment provider) keeps its dialogue however long it takes, and the dialogue of a holder
that died (kill -9: no renewal, no release) is free again once the lease has run out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bookbot.conversations import store
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.jobs.inbox_worker import InboxWorker
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_lease import ADDRESS, stored

# A lease short in real time, so that its heartbeat (a third of it) beats within the test.
QUICK = timedelta(milliseconds=150)


@pytest.fixture
async def ana(dialogues: Dialogues) -> Chat:
    chat = Chat(dialogues, address=ADDRESS, channel=Channel.TELEGRAM)
    await chat.say("/start")
    return chat


async def renewed_past(db: Database, clock: FrozenClock) -> None:
    """Until the heartbeat has moved the lease beyond the (advanced) clock."""
    for _ in range(200):
        until = (await stored(db))["lease_until"]
        if until is not None and until > clock.now():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the lease was never renewed")


def test_the_dialogue_lease_is_as_short_as_the_inbox_claim() -> None:
    """A killed process's customer waits no longer for the dialogue than for the message."""
    assert InboxWorker.lease == store.LEASE


@pytest.mark.usefixtures("ana")
async def test_a_turn_slower_than_the_lease_keeps_its_dialogue(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "LEASE", QUICK)
    monkeypatch.setattr(store, "CLAIM_WAIT", 0.05)
    async with store.Serializer(db, clock).hold("telegram", ADDRESS) as slow:
        for _ in range(3):  # three leases' worth of waiting on Stripe
            clock.advance(QUICK * 2)
            await renewed_past(db, clock)
            with pytest.raises(store.ConversationBusy):  # another process waits, then gives up
                async with store.Serializer(db, clock).hold("telegram", ADDRESS):
                    pass
        assert (await stored(db))["lease_token"] == slow.token
        assert slow.conversation is not None
        slow.conversation.state = "classes"
        await store.save(db, slow, slow.conversation, clock.now())  # no LeaseLost

    after = await stored(db)
    assert (after["state"], after["lease_until"], after["lease_token"]) == ("classes", None, None)


@pytest.mark.usefixtures("ana")
async def test_a_dead_holders_dialogue_is_taken_once_its_lease_has_run_out(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "CLAIM_WAIT", 0.05)
    # What a process killed mid-turn leaves on the row: its lease, never renewed or released.
    await db.execute(
        "UPDATE conversations SET lease_until = :until, lease_token = 'dead'"
        " WHERE channel = 'telegram' AND address = :address",
        {"until": clock.now() + store.LEASE, "address": ADDRESS},
    )
    with pytest.raises(store.ConversationBusy):
        async with store.Serializer(db, clock).hold("telegram", ADDRESS):
            pass
    clock.advance(store.LEASE + timedelta(seconds=1))
    async with store.Serializer(db, clock).hold("telegram", ADDRESS) as restarted:
        assert restarted.conversation is not None
        assert (await stored(db))["lease_token"] == restarted.token


@pytest.mark.usefixtures("ana")
async def test_a_taken_over_turn_stops_renewing_and_saves_nothing(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A holder stalled past its lease (its process paused) that another worker took over:
    its next beat finds someone else's token and extends nothing; its save is LeaseLost."""
    monkeypatch.setattr(store, "LEASE", QUICK)
    async with store.Serializer(db, clock).hold("telegram", ADDRESS) as stale:
        await db.execute(
            "UPDATE conversations SET lease_until = :until, lease_token = 'rival'"
            " WHERE channel = 'telegram' AND address = :address",
            {"until": clock.now() + timedelta(hours=1), "address": ADDRESS},
        )
        assert not await store.renew(db, stale, clock.now())
        await asyncio.sleep(QUICK.total_seconds())  # a beat or more, which changes nothing
        assert (await stored(db))["lease_until"] == clock.now() + timedelta(hours=1)
        assert stale.conversation is not None
        with pytest.raises(store.LeaseLost):
            await store.save(db, stale, stale.conversation, clock.now())
    assert (await stored(db))["lease_token"] == "rival"
