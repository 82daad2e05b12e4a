"""Booking-funnel events recorded by real conversations, on the console and on Telegram
(through the inbox, as the worker runs it: the events ride on the save with the replies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.conversations.outbound import ReplyTo
from bookbot.engine.clock import FrozenClock
from bookbot.services import funnel, inbox
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_appointments_chat import trial  # noqa: F401 - the fixture
from tests.conversations.test_payments_chat import (  # noqa: F401 - fixtures
    Shop,
    gateway,
    shop,
    standin,
)
from tests.conversations.test_payments_chat import _to_summary as to_summary


@dataclass
class InboxChat(Chat):
    """A person whose every message goes through the inbox, as the worker runs it."""

    clock: FrozenClock | None = None
    update: int = 0

    async def _send(self, inbound: Inbound) -> list[Reply]:
        assert self.clock is not None
        self.update += 1
        now = self.clock.now()
        await inbox.accept(
            db_of(self), self.channel.value, str(self.update), self.address, {}, now=now
        )
        [item] = await inbox.claim(db_of(self), now, 1, timedelta(minutes=5))
        reply_to = ReplyTo(item, self.channel, self.address)
        self.replies = await self.dialogues.handle(inbound, reply_to=reply_to)
        return self.replies


def db_of(chat: Chat) -> Database:
    return chat.dialogues.db


async def events(db: Database) -> list[tuple[str, str, str, str]]:
    rows = await db.all("SELECT channel, step, item_kind, item_key FROM funnel_events ORDER BY id")
    return [(r["channel"], r["step"], r["item_kind"], r["item_key"]) for r in rows]


async def book_wheel_class(chat: Chat) -> None:
    """Menu → classes → the Wheel Throwing Taster's page → its first date → 2 people."""
    await chat.say("/start")
    for reply in ("1", "Wheel Throwing Taster", "1", "2"):
        await chat.say(reply)
    assert "Total:" in chat.text


@pytest.fixture
def telegram(dialogues: Dialogues, clock: FrozenClock) -> InboxChat:
    return InboxChat(dialogues, address="4242", name="Ben", channel=Channel.TELEGRAM, clock=clock)


async def test_a_booking_on_the_console_records_view_started_completed(
    dialogues: Dialogues, db: Database
) -> None:
    ana = Chat(dialogues)
    await book_wheel_class(ana)
    await ana.say("confirm")

    wheel = "wheel-taster"
    assert await events(db) == [
        ("console", "view", "class", wheel),
        ("console", "started", "class", wheel),
        ("console", "completed", "class", wheel),
    ]


async def test_backing_out_of_the_summary_on_telegram_records_it_abandoned(
    telegram: InboxChat, db: Database
) -> None:
    await book_wheel_class(telegram)
    await telegram.press("⬅ Back")  # the held seats go

    steps = [(c, s) for c, s, _, _ in await events(db)]
    assert steps == [("telegram", "view"), ("telegram", "started"), ("telegram", "abandoned")]
    assert await db.scalar("SELECT COUNT(*) FROM outbox") > 0  # the worker's path: replies queued


async def test_a_re_rendered_page_or_a_step_back_to_it_is_no_new_view(
    dialogues: Dialogues, db: Database
) -> None:
    ana = Chat(dialogues)
    await ana.say("/start")
    await ana.say("1")
    await ana.say("Wheel Throwing Taster")
    await ana.say("1")  # a date: the guests question
    await ana.press("⬅ Back")  # back to the class page
    await ana.say("nonsense")  # not understood: the page again

    assert [s for _, s, _, _ in await events(db)] == ["view"]


async def test_the_report_counts_both_channels_with_conversions(
    dialogues: Dialogues, telegram: InboxChat, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ana = Chat(dialogues)
    await book_wheel_class(ana)
    await ana.say("confirm")
    await book_wheel_class(telegram)
    await telegram.press("✖ Cancel")  # back to the menu: abandoned
    await telegram.say("1")
    await telegram.say("Wheel Throwing Taster")  # a second look, no booking

    found = await funnel.report(
        db, studio_id, since=clock.now() - timedelta(days=1), until=clock.now() + timedelta(days=1)
    )

    by_channel = {line.channel: line for line in found.channels}
    console, tg = by_channel["console"], by_channel["telegram"]
    assert (console.viewed, console.started, console.completed, console.abandoned) == (1, 1, 1, 0)
    assert (tg.viewed, tg.started, tg.completed, tg.abandoned, tg.backed_out) == (2, 1, 0, 1, 1)
    total = found.total
    assert (total.viewed, total.started, total.completed, total.abandoned) == (3, 2, 1, 1)
    assert funnel.percent(total.started, total.viewed) == 66.7
    assert funnel.percent(total.completed, total.started) == 50.0
    only: dict[str, Any] = {"channel": "telegram"}
    alone = await funnel.report(
        db,
        studio_id,
        since=clock.now() - timedelta(days=1),
        until=clock.now() + timedelta(days=1),
        **only,
    )
    assert [line.channel for line in alone.channels] == ["telegram"]


async def test_staff_report_in_chat_shows_the_funnel_table_and_chart(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    ana = Chat(dialogues)
    await book_wheel_class(ana)
    await ana.say("confirm")
    sms = Chat(dialogues, address="+447700900002", name="Cleo", channel=Channel.SMS)
    await book_wheel_class(sms)  # started, then left to lapse
    await db.execute(
        "UPDATE staff SET telegram_user_id = 5001 WHERE studio_id = :s AND key = 'maya'",
        {"s": studio_id},
    )
    maya = Chat(dialogues, address="5001", name="Maya", channel=Channel.TELEGRAM)
    await maya.say("/report")

    replies = await maya.press("Booking funnel, last 7 days")

    table = replies[-1].text  # after the chart, preformatted, with the report menu
    assert replies[-1].preformatted
    assert table.startswith("Booking funnel, Fri 13 Nov – Fri 20 Nov")
    cells = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    assert cells["console"] == ["1", "1", "1", "0", "100.0%", "100.0%"]
    assert cells["sms"] == ["1", "1", "0", "1", "100.0%", "0.0%"]
    assert cells["Total"] == ["2", "2", "1", "1", "100.0%", "50.0%"]
    chart = replies[0].attachment
    assert chart is not None
    assert (chart.filename, chart.mime_type) == ("funnel.png", "image/png")
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.usefixtures("trial")
async def test_an_appointment_records_its_service_and_a_second_hold_backed_out_of(
    dialogues: Dialogues, db: Database
) -> None:
    ana = Chat(dialogues)
    await ana.say("/start")
    await ana.press("👤 Book an appointment")
    await ana.press("Trial lesson")  # the service's first screen: with whom
    await ana.press("Tom Hargreaves")
    await ana.press("Fri 20 Nov")
    await ana.press("10:00")  # the summary, the time held
    await ana.press("✅ Confirm")
    await ana.press("👤 Book an appointment")
    await ana.press("Trial lesson")
    await ana.press("Tom Hargreaves")
    await ana.press("Fri 20 Nov")
    await ana.press("11:00")
    await ana.press("✖ Cancel")  # the held time goes

    assert [(s, k, key) for _, s, k, key in await events(db)] == [
        ("view", "service", "trial"),
        ("started", "service", "trial"),
        ("completed", "service", "trial"),
        ("view", "service", "trial"),
        ("started", "service", "trial"),
        ("abandoned", "service", "trial"),
    ]


async def test_a_pass_got_at_the_studio_is_viewed_started_and_completed(
    dialogues: Dialogues, db: Database
) -> None:
    ana = Chat(dialogues, address="4242", name="Ana", channel=Channel.TELEGRAM)
    await ana.say("/start")
    await ana.say("book")
    await ana.say("Open Studio Drop-in")
    await ana.press("🎟 Get an unlimited pass for 28 days")
    await ana.press("✅ Get this pass")

    assert [(s, k, key) for _, s, k, key in await events(db)] == [
        ("view", "class", "open-studio"),
        ("view", "pass", "open-studio"),
        ("started", "pass", "open-studio"),
        ("completed", "pass", "open-studio"),
    ]


async def test_a_booking_paid_online_completes_when_the_money_arrives(
    shop: Shop,  # noqa: F811 - the fixture imported above
) -> None:
    chat = shop.chat()  # Telegram
    await to_summary(chat)
    await chat.press("💳 Pay now")  # on to the link: neither completed nor abandoned yet

    assert [s for _, s, _, _ in await events(shop.db)] == ["view", "started"]

    await shop.deliver(shop.standin.pay((await shop.payment())["stripe_session_id"]))

    assert (await events(shop.db))[-1] == ("telegram", "completed", "class", "wheel-taster")
