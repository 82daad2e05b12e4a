"""Feedback in chat: ⭐ presses under the request on Telegram, RATE typed on the console (a
digit, a word, RATE 4 at once), the optional comment or SKIP, and a second rating answered
with the one recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.feedback_steps import rating_of
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import NoticeRouter
from bookbot.services import feedback, outbox
from bookbot.services.transport import Route
from bookbot.store.db import Database
from tests import builders
from tests.builders import World
from tests.conversations.chat import Chat
from tests.examples import NOW
from tests.feedback_world import booking, close

TG = "9301"


async def asked(db: Database, clock: FrozenClock, studio_id: int, address: str) -> int:
    """The customer at `address` attended a class that ended yesterday and was asked."""
    w = World(studio_id)
    w.ids["customer"] = int(
        await db.scalar(
            "SELECT customer_id FROM channel_identities WHERE address = :a", {"a": address}
        )
    )
    w.ids["klass"] = int(
        await db.scalar("SELECT MIN(id) FROM classes WHERE studio_id = :s", {"s": studio_id})
    )
    ended = NOW - timedelta(days=1, hours=1)
    await builders.session(db, w, "past", "klass", ended - timedelta(hours=2))
    reg = await booking(
        db, w, "reg", customer="customer", class_key="klass", sessions=["past"],
        attendance=["attended"],
    )  # fmt: skip
    await close(db, w, "past", ended)
    await feedback.queue_requests(db, FrozenClock(ended + timedelta(minutes=1)))
    clock.set(NOW)
    return reg


async def stored(db: Database, registration_id: int) -> tuple[int, str]:
    row = await db.one(
        "SELECT rating, comment FROM course_feedback WHERE registration_id = :r",
        {"r": registration_id},
    )
    assert row is not None
    return int(row["rating"]), str(row["comment"])


async def test_console_rate_then_comment(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    reg = await asked(db, clock, studio_id, chat.address)
    await chat.say("RATE")
    assert "How would you rate" in chat.last.text
    assert chat.labels[:5] == ["⭐1", "⭐2", "⭐3", "⭐4", "⭐5"]
    await chat.say("four")
    assert "Thank you for rating" in chat.text
    assert "⭐4" in chat.text
    await chat.say("The teacher was patient and clear")
    assert "passed your comment on" in chat.text
    assert await stored(db, reg) == (4, "The teacher was patient and clear")
    await chat.say("rate 2")  # nothing left to rate
    assert "nothing waiting" in chat.text
    assert await stored(db, reg) == (4, "The teacher was patient and clear")


async def test_console_rate_with_a_number_at_once_and_skip(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    reg = await asked(db, clock, studio_id, chat.address)
    await chat.say("rate 5")
    assert "⭐5" in chat.text
    await chat.say("skip")
    assert chat.text.startswith("Thank you!")
    assert await stored(db, reg) == (5, "")


async def test_telegram_stars_under_the_request(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ana = Chat(dialogues, address=TG, channel=Channel.TELEGRAM)
    await ana.say("/start")
    reg = await asked(db, clock, studio_id, TG)
    notice = await dialogues.push(
        Channel.TELEGRAM, TG, f"feedback_request:{reg}", "How was it? Send RATE and a number."
    )
    assert [o.label for o in notice[-1].options][:5] == ["⭐1", "⭐2", "⭐3", "⭐4", "⭐5"]
    star = next(o.token for o in notice[-1].options if o.label == "⭐3")
    replies = await dialogues.handle(Inbound(Channel.TELEGRAM, TG, token=star))
    assert "Thank you for rating" in replies[-1].text
    skip = next(o.token for o in replies[-1].options if o.label == "Skip")
    replies = await dialogues.handle(Inbound(Channel.TELEGRAM, TG, token=skip))
    assert replies[-1].text.startswith("Thank you!")
    assert await stored(db, reg) == (3, "")
    # The same request pushed again (a redelivery): a second press says what was recorded.
    notice = await dialogues.push(Channel.TELEGRAM, TG, f"feedback_request:{reg}", "How was it?")
    star = next(o.token for o in notice[-1].options if o.label == "⭐1")
    replies = await dialogues.handle(Inbound(Channel.TELEGRAM, TG, token=star))
    assert "already recorded: ⭐3" in replies[-1].text
    assert await stored(db, reg) == (3, "")


async def test_a_star_for_someone_elses_booking_rates_nothing(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ana = Chat(dialogues, address=TG, channel=Channel.TELEGRAM)
    await ana.say("/start")
    reg = await asked(db, clock, studio_id, TG)
    ben = Chat(dialogues, address="9302", channel=Channel.TELEGRAM)
    await ben.say("/start")
    notice = await dialogues.push(Channel.TELEGRAM, "9302", f"feedback_request:{reg}", "Hi")
    star = next(o.token for o in notice[-1].options if o.label == "⭐5")
    replies = await dialogues.handle(Inbound(Channel.TELEGRAM, "9302", token=star))
    assert "nothing to rate" in replies[-1].text
    assert await db.scalar("SELECT COUNT(*) FROM course_feedback") == 0


@pytest.mark.parametrize(
    ("typed", "language", "rating"),
    [
        ("4", "en", 4),
        ("four", "en", 4),
        ("cuatro", "es", 4),
        ("three", "es", 3),  # the other language's words too
        ("⭐⭐⭐", "en", 3),
        ("4 stars", "en", 4),
        ("5/5", "en", 5),
        ("4 of 5", "en", 4),
        ("4 de 5", "es", 4),
        ("10", "en", None),
        ("0", "en", None),
        ("3 or 4", "en", None),
        ("great", "en", None),
        ("⭐⭐⭐⭐⭐⭐", "en", None),
    ],
)
def test_rating_of(typed: str, language: str, rating: int | None) -> None:
    assert rating_of(typed, language) == rating


@dataclass
class Pushed:
    """Telegram as the notice transport sees it: a push runs the dialogue's notice screen."""

    dialogues: Dialogues
    replies: list[Reply] = field(default_factory=list)

    async def push(self, user_id: str, template: str, text: str) -> None:
        self.replies = await self.dialogues.push(Channel.TELEGRAM, user_id, template, text)

    async def send_reply(
        self, chat_id: int, reply: Reply, edit: str | None, dialogue: str | None
    ) -> int:
        raise AssertionError((chat_id, reply, edit, dialogue))


async def test_the_request_from_the_outbox_carries_stars_for_its_booking(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ana = Chat(dialogues, address=TG, channel=Channel.TELEGRAM)
    await ana.say("/start")
    reg = await asked(db, clock, studio_id, TG)
    [message] = await outbox.claim(db, clock.now(), 5, timedelta(seconds=60))
    assert message.template == "feedback_request"
    telegram = Pushed(dialogues)
    transport = NoticeTransport(NoticeRouter(db, clock), telegram=telegram)
    await transport.send(message, Route("telegram", TG))
    [notice] = telegram.replies
    assert notice.text.startswith("How was ")
    assert "send RATE and a number" in notice.text
    star = next(o.token for o in notice.options if o.label == "⭐5")
    replies = await dialogues.handle(Inbound(Channel.TELEGRAM, TG, token=star))
    assert "Thank you for rating" in replies[-1].text
    assert await stored(db, reg) == (5, "")
