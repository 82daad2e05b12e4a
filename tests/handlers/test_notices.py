"""Notices go to the preferred channel; WhatsApp outside 24 h uses the template; STOP wins."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import Notice, NoticeRouter
from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
from bookbot.handlers.twilio_webhook import TwilioChannel
from bookbot.jobs.delivery import DeliveryWorker, RateLimits
from bookbot.services import optouts, outbox
from bookbot.services.transport import Route
from bookbot.store.db import Database
from tests.examples import NOW, load_example_studio
from tests.telegram_outbox import TelegramOutbox
from tests.twilio_standin import TwilioStandIn

ACCOUNT, TOKEN, OURS = "AC" + "2" * 32, "token", "+15005550006"
TEMPLATE = "HX" + "a" * 32
NUMBER = "+447700900200"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioStandIn]:
    async with TwilioStandIn(ACCOUNT, TOKEN) as standin:
        yield standin


@pytest.fixture
async def router(
    db: Database, clock: FrozenClock, twilio: TwilioStandIn
) -> AsyncIterator[NoticeRouter]:
    await load_example_studio(db, clock, weeks=1)
    sender = TwilioSender(
        TwilioSettings(
            ACCOUNT,
            TOKEN,
            sms_from=OURS,
            whatsapp_from=f"whatsapp:{OURS}",
            api_base=twilio.base_url,
        )
    )
    yield NoticeRouter(db, clock, TelegramOutbox(), TwilioChannel(db, clock, sender), TEMPLATE)
    await sender.close()


async def customer_writing(db: Database, clock: FrozenClock, *channels: Channel) -> int:
    """A customer who texted from each channel in turn (the last one is preferred)."""
    dialogues = Dialogues(db, clock)
    for channel in channels:
        await dialogues.handle(Inbound(channel, NUMBER, text="hi", phone=NUMBER))
    async with db.transaction(write=False) as tx:
        return int(
            await tx.scalar(
                "SELECT MIN(customer_id) FROM channel_identities WHERE address = :a", {"a": NUMBER}
            )
        )


NOTICE = Notice(
    "Reminder: Wheel Throwing Taster tomorrow at 14:00",
    {"1": "Wheel Throwing Taster", "2": "14:00"},
)


async def test_whatsapp_within_24_hours_gets_free_text(
    router: NoticeRouter, db: Database, clock: FrozenClock, twilio: TwilioStandIn
) -> None:
    customer = await customer_writing(db, clock, Channel.WHATSAPP)
    clock.advance(timedelta(hours=23))
    sent = await router.deliver(1, customer, NOTICE)
    assert (sent.channel, sent.how) == (Channel.WHATSAPP, "text")
    [message] = twilio.messages[-1:]
    assert (message["To"], message["Body"]) == (f"whatsapp:{NUMBER}", NOTICE.text)


async def test_whatsapp_after_24_hours_uses_the_approved_template(
    router: NoticeRouter, db: Database, clock: FrozenClock, twilio: TwilioStandIn
) -> None:
    customer = await customer_writing(db, clock, Channel.WHATSAPP)
    before = len(twilio.messages)
    clock.advance(timedelta(hours=25))
    sent = await router.deliver(1, customer, NOTICE)
    assert (sent.channel, sent.how) == (Channel.WHATSAPP, "template")
    message = twilio.messages[before]
    assert message["ContentSid"] == TEMPLATE
    assert json.loads(message["ContentVariables"]) == NOTICE.template_variables
    assert not message.get("Body")


async def test_without_a_template_an_old_whatsapp_falls_back_to_sms(
    router: NoticeRouter, db: Database, clock: FrozenClock, twilio: TwilioStandIn
) -> None:
    customer = await customer_writing(db, clock, Channel.SMS, Channel.WHATSAPP)
    router.whatsapp_template_sid = None
    clock.advance(timedelta(days=3))
    sent = await router.deliver(1, customer, NOTICE)
    assert (sent.channel, sent.how) == (Channel.SMS, "text")
    assert twilio.messages[-1]["To"] == NUMBER


async def test_stop_on_every_texting_channel_means_nothing_is_sent(
    router: NoticeRouter, db: Database, clock: FrozenClock, twilio: TwilioStandIn
) -> None:
    customer = await customer_writing(db, clock, Channel.SMS, Channel.WHATSAPP)
    before = len(twilio.messages)
    for channel in ("sms", "whatsapp"):
        await optouts.opt_out(db, channel, NUMBER, clock.now())
    sent = await router.deliver(1, customer, NOTICE)
    assert sent.channel is None
    assert len(twilio.messages) == before


async def test_telegram_preferred_goes_to_telegram(
    router: NoticeRouter, db: Database, clock: FrozenClock
) -> None:
    dialogues = Dialogues(db, clock)
    await dialogues.handle(Inbound(Channel.TELEGRAM, "5150", text="hi", display_name="Ana"))
    async with db.transaction(write=False) as tx:
        customer = int(
            await tx.scalar("SELECT customer_id FROM channel_identities WHERE address = '5150'")
        )
    sent = await router.deliver(1, customer, NOTICE)
    assert (sent.channel, sent.how) == (Channel.TELEGRAM, "text")
    assert router.telegram.sent == [(5150, NOTICE.text)]  # type: ignore[union-attr]


async def queue_reminder(db: Database, clock: FrozenClock, customer: int) -> None:
    async with db.transaction() as tx:
        await outbox.enqueue(
            tx,
            now=clock.now(),
            studio_id=1,
            customer_id=customer,
            template="reminder_24h",
            params={"class_name": "Wheel Throwing Taster", "starts_at": NOW.isoformat()},
            due_at=clock.now(),
            dedupe_key="reminder_24h:booking-1-1",
        )


@pytest.mark.parametrize("arrived", [True, False])
async def test_after_a_crash_mid_send_twilio_is_asked_before_sending_again(
    router: NoticeRouter,
    db: Database,
    clock: FrozenClock,
    twilio: TwilioStandIn,
    arrived: bool,
) -> None:
    twilio.now = clock.now
    customer = await customer_writing(db, clock, Channel.SMS)
    before = len(twilio.messages)
    await queue_reminder(db, clock, customer)
    transport = NoticeTransport(router)
    [message] = await outbox.claim(db, clock.now(), 1, timedelta(seconds=60))
    assert await outbox.begin_send(db, message, clock.now(), timedelta(seconds=60))
    if arrived:  # Twilio took it; the worker died before recording that
        await transport.send(message, Route("sms", NUMBER))
    clock.advance(timedelta(seconds=61))

    stats = await DeliveryWorker(db, clock, transport, RateLimits({}, {})).run_until_idle()

    assert (stats.confirmed, stats.sent) == ((1, 0) if arrived else (0, 1))
    [reminder] = twilio.messages[before:]  # exactly one, either way
    assert reminder["Body"].startswith("Reminder: Wheel Throwing Taster is tomorrow")
