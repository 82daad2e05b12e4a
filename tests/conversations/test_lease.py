"""The lease on a dialogue: claimed with everything a turn starts from, one holder at a time,
and a holder whose lease ran out and was taken over saves nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bookbot.conversations import store
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound
from bookbot.conversations.outbound import ReplyTo
from bookbot.engine.clock import FrozenClock
from bookbot.services import inbox
from bookbot.store.db import Database
from tests.conversations.chat import Chat

ADDRESS = "7001"  # a Telegram user id
PAST_THE_LEASE = store.LEASE + timedelta(seconds=1)


async def stored(db: Database, address: str = ADDRESS) -> dict[str, Any]:
    row = await db.one(
        "SELECT state, step, lease_until, lease_token FROM conversations"
        " WHERE channel = 'telegram' AND address = :address",
        {"address": address},
    )
    assert row is not None
    return {key: row[key] for key in ("state", "step", "lease_until", "lease_token")}


@pytest.fixture
async def ana(dialogues: Dialogues) -> Chat:
    """A Telegram customer at the menu: her dialogue exists, and no one holds it."""
    chat = Chat(dialogues, address=ADDRESS, channel=Channel.TELEGRAM)
    await chat.say("/start")
    return chat


async def test_claiming_reads_the_dialogue_its_studio_customer_and_staff_at_once(
    db: Database, clock: FrozenClock, studio_id: int, ana: Chat
) -> None:
    await db.execute(
        "UPDATE staff SET telegram_user_id = :user WHERE studio_id = :sid AND key = 'maya'",
        {"user": int(ADDRESS), "sid": studio_id},
    )
    maya = await db.scalar("SELECT id FROM staff WHERE key = 'maya'")

    async with store.Serializer(db, clock).hold("telegram", ADDRESS) as lease:
        assert lease.conversation is not None
        assert lease.conversation.state == "menu"
        assert lease.studio is not None
        assert lease.studio.id == studio_id
        assert lease.customer is not None
        assert lease.customer.name == ana.name
        assert lease.customer.id == lease.conversation.customer_id
        assert lease.staff_id == maya
        assert (await stored(db))["lease_token"] == lease.token

    assert (await stored(db))["lease_token"] is None  # let go on the way out


async def test_no_dialogue_yet_is_nothing_to_wait_for(db: Database, clock: FrozenClock) -> None:
    async with store.Serializer(db, clock).hold("telegram", "7999") as lease:
        assert lease.conversation is None


@pytest.mark.usefixtures("ana")
async def test_a_held_dialogue_is_waited_for_then_busy(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "CLAIM_WAIT", 0.05)
    async with store.Serializer(db, clock).hold("telegram", ADDRESS):
        with pytest.raises(store.ConversationBusy):  # another process: its own serializer
            async with store.Serializer(db, clock).hold("telegram", ADDRESS):
                pass


@pytest.mark.usefixtures("ana")
async def test_a_stale_holder_neither_saves_nor_lets_go_of_the_new_holders_lease(
    db: Database, clock: FrozenClock
) -> None:
    before = await stored(db)
    async with store.Serializer(db, clock).hold("telegram", ADDRESS) as stale:
        clock.advance(PAST_THE_LEASE)  # the stale worker stalled; its lease ran out
        async with store.Serializer(db, clock).hold("telegram", ADDRESS) as fresh:
            assert fresh.token != stale.token
            await store.release(db, stale)
            assert (await stored(db))["lease_token"] == fresh.token  # still the new holder's

            assert stale.conversation is not None
            stale.conversation.state, stale.held = "help", True
            with pytest.raises(store.LeaseLost):
                await store.save(db, stale, stale.conversation, clock.now())
            assert await stored(db) == {
                **before,
                "lease_until": clock.now() + store.LEASE,
                "lease_token": fresh.token,
            }

            assert fresh.conversation is not None
            fresh.conversation.state = "classes"
            await store.save(db, fresh, fresh.conversation, clock.now())

    after = await stored(db)
    assert (after["state"], after["lease_until"], after["lease_token"]) == ("classes", None, None)


@dataclass
class TakenOverWhileTexting:
    """The SMS sender (the outside world) of a turn that stalls while texting a code: by the
    time the text is sent, the lease has run out and another worker (another process, so
    another `Dialogues`) has answered the person's next message."""

    rival: Dialogues
    clock: FrozenClock
    sent: list[tuple[Any, str, str]] = field(default_factory=list)

    async def send_text(
        self, channel: Any, address: str, text: str, *, studio_id: int | None = None
    ) -> list[str]:
        assert studio_id is not None
        self.sent.append((channel, address, text))
        self.clock.advance(PAST_THE_LEASE)
        await self.rival.handle(Inbound(Channel.TELEGRAM, ADDRESS, text="/help"))
        return ["SM1"]


async def test_a_turn_that_outlived_its_lease_commits_nothing_and_is_retried(
    db: Database, clock: FrozenClock, dialogues: Dialogues
) -> None:
    sender = TakenOverWhileTexting(rival=dialogues, clock=clock)
    slow = Dialogues(db, clock, sms=sender)
    chat = Chat(slow, address=ADDRESS, channel=Channel.TELEGRAM)
    await chat.say("/start")
    await chat.press("📱 Link your phone")
    at_prompt = await stored(db)
    await inbox.accept(db, "telegram", "u1", ADDRESS, {}, now=clock.now())
    [item] = await inbox.claim(db, clock.now(), 1, timedelta(minutes=5))
    reply_to = ReplyTo(item, Channel.TELEGRAM, ADDRESS)

    with pytest.raises(store.LeaseLost):
        await slow.handle(
            Inbound(Channel.TELEGRAM, ADDRESS, text="+447700900123"), reply_to=reply_to
        )

    assert [address for _, address, _ in sender.sent] == ["+447700900123"]
    after = await stored(db)
    assert after["state"] == "help"  # the rival's answer stands
    assert after["step"] == at_prompt["step"] + 1  # one turn saved: the rival's
    assert after["lease_token"] is None
    assert await db.scalar("SELECT COUNT(*) FROM outbox") == 0  # no reply queued
    row = await db.one("SELECT status FROM inbox WHERE id = :id", {"id": item.id})
    assert row is not None
    assert row["status"] == "pending"  # not marked done: the worker runs it again


@pytest.mark.usefixtures("ana")
async def test_a_turn_that_changes_nothing_lets_go_with_the_inbox_row(
    db: Database, clock: FrozenClock, dialogues: Dialogues
) -> None:
    await inbox.accept(db, "telegram", "u1", ADDRESS, {}, now=clock.now())
    [item] = await inbox.claim(db, clock.now(), 1, timedelta(minutes=5))
    before = await stored(db)

    # A press on a button of a message that is not the one carrying the options, in a group.
    stale = Inbound(Channel.TELEGRAM, ADDRESS, token="1:0", message_ref="-100:1", shared_chat=True)
    await dialogues.handle(stale, reply_to=ReplyTo(item, Channel.TELEGRAM, "-100"))

    assert await stored(db) == {**before, "lease_until": None, "lease_token": None}
    row = await db.one("SELECT status FROM inbox WHERE id = :id", {"id": item.id})
    assert row is not None
    assert row["status"] == "done"
