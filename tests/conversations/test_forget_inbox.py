"""/forget also erases what the inbox keeps of the person's messages: the raw payloads
(their words, phone number, Telegram name) of every chat they wrote from, the confirming
message included; other people's messages stay."""

from __future__ import annotations

from datetime import timedelta

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound
from bookbot.conversations.outbound import ReplyTo
from bookbot.services import inbox
from bookbot.store.db import Database
from tests import builders
from tests.conversations.test_privacy import ANA, ana_booked, dialogues, world

__all__ = ["dialogues", "world"]  # fixtures

BEN = "+447700900222"


async def _written(dialogues: Dialogues, sid: str, address: str, body: str) -> ReplyTo:
    """A text from `address` stored and claimed as the Twilio webhook and worker do."""
    db, now = dialogues.db, dialogues.clock.now()
    payload = {"channel": "sms", "address": address, "form": {"From": address, "Body": body}}
    assert await inbox.accept(db, "twilio", sid, f"sms:{address}", payload, now=now)
    [item] = await inbox.claim(db, now, 1, timedelta(seconds=30))
    return ReplyTo(item, Channel.SMS, address)


async def _answer(dialogues: Dialogues, reply_to: ReplyTo, text: str) -> None:
    inbound = Inbound(Channel.SMS, reply_to.address, text=text, language_hint="en")
    await dialogues.handle(inbound, reply_to=reply_to)


async def payloads(db: Database) -> dict[str, str]:
    rows = await db.all("SELECT external_id, payload FROM inbox ORDER BY id")
    return {r["external_id"]: r["payload"] for r in rows}


async def test_forget_blanks_the_inbox_payloads_of_their_chats(
    dialogues: Dialogues, db: Database, world: builders.World
) -> None:
    await ana_booked(dialogues, world, Channel.SMS)
    await _answer(
        dialogues, await _written(dialogues, "SM1", ANA, "I'm Ana Ruiz, I have asthma"), "hi"
    )
    await _answer(dialogues, await _written(dialogues, "SM2", BEN, "Ben here, see you"), "hi")
    await _answer(dialogues, await _written(dialogues, "SM3", ANA, "FORGET"), "FORGET")
    await _answer(dialogues, await _written(dialogues, "SM4", ANA, "FORGET"), "FORGET")

    stored = await payloads(db)
    forgotten = "SELECT COUNT(*) FROM customers WHERE forgotten_at IS NOT NULL"
    assert await db.scalar(forgotten) == 1
    assert {sid: stored[sid] for sid in ("SM1", "SM3", "SM4")} == dict.fromkeys(
        ("SM1", "SM3", "SM4"), "{}"
    )
    assert "Ben here" in stored["SM2"]  # someone else's message is theirs to keep
    statuses = await db.all("SELECT status FROM inbox ORDER BY id")
    assert [r["status"] for r in statuses] == ["done"] * 4
