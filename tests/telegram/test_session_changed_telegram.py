"""On Telegram a session's new time arrives with the booking's updated .ics (a document, the
notice as its caption): the same UID, SEQUENCE 1, the new start. Sent by the delivery
worker through the real bot against the emulator."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import NoticeRouter
from bookbot.handlers.telegram_bot import TelegramBot, TelegramSettings
from bookbot.jobs.delivery import DeliveryWorker
from bookbot.services.booking import book_session
from bookbot.services.session_changes import Change, edit_session
from bookbot.store.db import Database
from tests import builders
from tests.pipeline import UNLIMITED

from .emulator import Emulator, aclient

TOKEN = "782:MOVES"
CHAT = 962


async def test_a_moved_session_comes_with_the_updated_calendar_file(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    w = await builders.studio(db)
    await builders.customer(db, w, "ann")
    await builders.session(db, w, "s1", "taster", datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE customers SET preferred_channel = 'telegram' WHERE id = :id", {"id": w["ann"]}
        )
        await tx.execute(
            "INSERT INTO channel_identities (studio_id, customer_id, channel, address)"
            " VALUES (:s, :c, 'telegram', :a)",
            {"s": w.studio_id, "c": w["ann"], "a": str(CHAT)},
        )
    reg = await book_session(db, clock, w.studio_id, w["ann"], w["s1"], guests=1)
    await db.execute("DELETE FROM outbox")  # only the change's notice is of interest
    await edit_session(db, clock, w.studio_id, w["s1"], Change(start=time(15, 0), end=time(17, 0)))
    await db.execute("DELETE FROM outbox WHERE template <> 'session_changed'")
    bot = TelegramBot(Dialogues(db, clock), TelegramSettings(TOKEN, emulator.bot_api_base))
    router = NoticeRouter(db, clock, bot.bot)
    worker = DeliveryWorker(db, clock, NoticeTransport(router, bot), limits=UNLIMITED)
    async with bot.bot:
        stats = await worker.run_until_idle()
    assert (stats.sent, stats.failed) == (1, 0)
    user = aclient(emulator, TOKEN, chat_id=CHAT)
    [message] = [m for m in await user.history() if "document" in m]
    assert message["document"]["file_name"] == f"booking-{reg.id}.ics"
    assert message["caption"] == (
        "Taster on Fri 20 Nov 2026 10:00 GMT has moved to Fri 20 Nov 2026 15:00 GMT."
        " Your booking moves with it. The updated calendar entry is attached."
        " Send MY to see or cancel your bookings."
    )
    ics = base64.b64decode(message["attachment"]["content_base64"]).decode()
    assert f"UID:registration-{reg.id}@clay.bookbot" in ics
    assert "SEQUENCE:1" in ics
    assert "DTSTART:20261120T150000Z" in ics
