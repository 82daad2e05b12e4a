"""The seed's three uses of passes, end to end through the dialogue the bots run:
a series with 3 reservations ahead and auto-cancel on absence, the mug course in parts,
and an 8-punch pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import NoticeRouter
from bookbot.jobs.delivery import DeliveryWorker, RateLimits
from bookbot.jobs.sweeps import Sweeps
from bookbot.services import attendance
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.telegram_outbox import TelegramOutbox


@pytest.fixture
async def ana(dialogues: Dialogues) -> Chat:
    chat = Chat(dialogues, address="4242", name="Ana", channel=Channel.TELEGRAM)
    await chat.say("/start")
    return chat


async def get_pass(chat: Chat, class_name: str, offer: str) -> None:
    await chat.say("book")
    await chat.say(class_name)
    await chat.press(f"🎟 Get {offer}")
    await chat.press("✅ Get this pass")
    assert chat.text.startswith("Your pass is ready; pay for it at the studio.")


async def reserve(chat: Chat, session_label: str) -> None:
    await chat.press("📅 Reserve a session")
    await chat.press(session_label)


async def statuses(db: Database) -> list[str]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT r.status FROM reservations r JOIN sessions s ON s.id = r.session_id ORDER BY s.starts_at"
        )
    return [r["status"] for r in rows]


async def test_series_pass_holds_three_ahead_and_a_no_show_cancels_the_rest_at_01_00(
    ana: Chat, db: Database, clock: FrozenClock
) -> None:
    await get_pass(ana, "Open Studio Drop-in", "an unlimited pass for 28 days")
    for day in ("Mon 23 Nov", "Tue 24 Nov", "Wed 25 Nov"):
        await reserve(ana, day)
        assert ana.text.startswith("Reserved.")
    # A fourth would be refused: the pass says why instead of offering it.
    assert "You already hold 3 reservations ahead; cancel one or attend one first." in ana.text
    assert "📅 Reserve a session" not in ana.labels
    assert "2 reserved" not in ana.text

    telegram = TelegramOutbox()
    jobs = Sweeps(db, clock)
    delivery = DeliveryWorker(
        db, clock, NoticeTransport(NoticeRouter(db, clock, telegram)), RateLimits({}, {})
    )
    clock.set(datetime(2026, 11, 23, 17, 30, tzinfo=UTC))  # Monday's class ends; Ana never came
    await jobs.tick()
    assert await statuses(db) == ["no_show", "pending", "pending"]
    clock.set(datetime(2026, 11, 24, 0, 59, tzinfo=UTC))
    await jobs.tick()
    assert await statuses(db) == ["no_show", "pending", "pending"]
    clock.set(datetime(2026, 11, 24, 1, 0, tzinfo=UTC))  # 01:00 London
    await jobs.tick()
    await jobs.tick()  # run twice, one message
    await delivery.run_until_idle()
    await delivery.run_until_idle()
    assert await statuses(db) == ["no_show", "auto_cancelled", "auto_cancelled"]
    # Told when the studio's quiet hours end (08:00), not at 01:00.
    assert not [t for _, t in telegram.sent if t.startswith("You missed")]
    clock.set(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    await delivery.run_until_idle()

    [(chat_id, text)] = [(c, t) for c, t in telegram.sent if t.startswith("You missed")]
    assert chat_id == 4242
    assert text.startswith(
        "You missed Open Studio Drop-in on Mon 23 Nov 2026 16:00 GMT, so your other reservations"
    )

    studio_id = 1
    async with db.transaction(write=False) as tx:
        customer = int(await tx.scalar("SELECT customer_id FROM reservations LIMIT 1"))
    assert await attendance.restore_auto_cancelled(db, clock, studio_id, customer) == 2
    assert await statuses(db) == ["no_show", "pending", "pending"]


async def test_mug_course_parts_in_order_with_a_makeup_week(
    ana: Chat, db: Database, clock: FrozenClock
) -> None:
    await get_pass(ana, "Handbuilt Mug Course", "an unlimited pass for 42 days")
    await reserve(ana, "Part 2 · Mon 7 Dec")
    assert ana.text.startswith("Part 2 needs part 1 attended first.")
    await ana.press("Part 1 · Mon 30 Nov")
    assert ana.text.startswith("Reserved.")

    clock.set(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))  # 18:30 class, check-in open from 16:30
    await ana.say("here")
    assert ana.text.startswith("You are checked in. Enjoy the class!")
    clock.set(datetime(2026, 11, 30, 20, 30, tzinfo=UTC))
    await Sweeps(db, clock).tick()
    assert await statuses(db) == ["attended"]

    await ana.say("my passes")
    await ana.press("Handbuilt Mug Course")
    await reserve(ana, "Part 2 · Mon 7 Dec")
    assert ana.text.startswith("Reserved.")
    await ana.press("📅 Reserve a session")
    await ana.press("Makeup · Mon 21 Dec")
    assert "Which part is it for you?" in ana.text
    await ana.press("Part 3")
    assert ana.text.startswith("Part 3 needs part 2 attended first.")


async def test_an_8_punch_pass_uses_punches_at_check_in_and_for_no_shows(
    ana: Chat, db: Database, clock: FrozenClock
) -> None:
    await get_pass(ana, "Open Studio Drop-in", "a pass for 8 sessions")
    for day in ("Mon 23 Nov", "Tue 24 Nov"):
        await reserve(ana, day)
    assert "8 of 8 left · 2 reserved" in ana.text

    clock.set(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # exactly 2 h before: check-in opens
    await ana.say("my passes")
    await ana.press("Open Studio Drop-in")
    await ana.press("✅ Check in: Mon 23 Nov")
    assert "7 of 8 left · 2 reserved" in ana.text

    clock.set(datetime(2026, 11, 24, 17, 30, tzinfo=UTC))  # Tuesday ends: a no-show uses a punch
    await Sweeps(db, clock).tick()
    await ana.say("my passes")
    assert "6 of 8 left · 0 reserved" in ana.labels[0]


async def test_cancelling_a_reservation_before_class_uses_no_punch(ana: Chat) -> None:
    await get_pass(ana, "Open Studio Drop-in", "a pass for 8 sessions")
    await reserve(ana, "Mon 23 Nov")
    await ana.press("Cancel Mon 23 Nov")
    assert ana.text.startswith("Reservation cancelled; no session used.")
    assert "8 of 8 left · 0 reserved" in ana.text
