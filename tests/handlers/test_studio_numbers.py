"""Two studios with their own Twilio numbers on one deployment (issue 17): a text is routed
by the number it was sent to, answered from that number, and a STOP to one number leaves
the other studio's number free to write."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bookbot.cli.demo import EXAMPLE, example_path
from bookbot.config import Settings
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.telegram_bots import TelegramBots
from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
from bookbot.handlers.twilio_webhook import PATHS, TwilioChannel, TwilioWebhooks
from bookbot.handlers.web import make_app
from bookbot.serve import chat_links
from bookbot.services import generation, optouts
from bookbot.services.studio_channels import Endpoints, StudioChannel
from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_file
from tests.examples import NOW
from tests.handlers.test_twilio_webhook import ACCOUNT, OUR_NUMBER, PUBLIC, TOKEN, post
from tests.pipeline import Pipeline, pipeline
from tests.twilio_standin import TwilioStandIn

CLAY_NUMBER = "+441174960001"
GYM_NUMBER = "+441174960002"
ANA = "+447700900123"
_sids = itertools.count(1)


@dataclass
class Deployment:
    http: TestClient[Any, Any]
    twilio: TwilioStandIn
    channel: TwilioChannel
    flow: Pipeline
    clay: int
    gym: int

    async def text(self, to: str, body: str, sender: str = ANA) -> int:
        form = {
            "MessageSid": f"SM{next(_sids):032x}",
            "AccountSid": ACCOUNT,
            "From": sender,
            "To": to,
            "Body": body,
            "NumMedia": "0",
        }
        status = await post(self.http, PATHS[Channel.SMS], form)
        await self.flow.drain()
        return status

    def received(self, sender: str, to: str = ANA) -> list[str]:
        """What `to` received from our number `sender`."""
        return [m["Body"] for m in self.twilio.messages if m["To"] == to and m["From"] == sender]


async def _load(db: Database, clock: FrozenClock, name: str, number: str) -> int:
    spec = parse_studio_file(example_path(name))
    channels = spec.channels.model_copy(update={"sms_numbers": (number,)})
    report = await load_studio(db, spec.model_copy(update={"channels": channels}))
    for pattern_id in await generation.pattern_ids(db, report.studio_id):
        await generation.generate_sessions(
            db, clock, report.studio_id, pattern_id, preview=False, horizon=timedelta(weeks=2)
        )
    return report.studio_id


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def deployment(db: Database, clock: FrozenClock) -> AsyncIterator[Deployment]:
    clay = await _load(db, clock, EXAMPLE, CLAY_NUMBER)
    gym = await _load(db, clock, "harbour-fitness.toml", GYM_NUMBER)
    async with TwilioStandIn(ACCOUNT, TOKEN) as twilio:
        settings = TwilioSettings(ACCOUNT, TOKEN, sms_from=OUR_NUMBER, api_base=twilio.base_url)
        sender = TwilioSender(settings)
        channel = TwilioChannel(db, clock, sender)
        await channel.endpoints.load(db)  # as `bookbot run` does when it starts
        webhooks = TwilioWebhooks(Dialogues(db, clock), channel, TOKEN, PUBLIC, account_sid=ACCOUNT)
        flow = pipeline(db, clock, {"twilio": webhooks}, twilio=channel)
        async with TestClient(TestServer(make_app(*webhooks.routes()))) as http:
            yield Deployment(http, twilio, channel, flow, clay, gym)
        await sender.close()


async def test_each_number_answers_for_its_studio_from_itself(
    db: Database, deployment: Deployment
) -> None:
    d = deployment
    assert await d.text(CLAY_NUMBER, "hello") == 200
    assert await d.text(GYM_NUMBER, "hello") == 200
    [clay_reply] = d.received(CLAY_NUMBER)
    [gym_reply] = d.received(GYM_NUMBER)
    assert "Clay & Kiln" in clay_reply
    assert "Harbour Fitness" in gym_reply
    assert "Clay" not in gym_reply
    assert d.received(OUR_NUMBER) == []  # the default number said nothing
    async with db.transaction(write=False) as tx:
        customers = await tx.all(
            "SELECT studio_id FROM channel_identities WHERE channel = 'sms' AND address = :a"
            " ORDER BY studio_id",
            {"a": ANA},
        )
        dialogues = await tx.all(
            "SELECT endpoint, studio_id FROM conversations WHERE address = :a ORDER BY endpoint",
            {"a": ANA},
        )
    assert [r["studio_id"] for r in customers] == sorted([d.clay, d.gym])
    assert [(r["endpoint"], r["studio_id"]) for r in dialogues] == [
        (CLAY_NUMBER, d.clay),
        (GYM_NUMBER, d.gym),
    ]


async def test_a_notice_goes_out_from_the_studios_own_number(deployment: Deployment) -> None:
    d = deployment
    await d.channel.send_text(Channel.SMS, ANA, "Reminder from the gym", studio_id=d.gym)
    assert d.received(GYM_NUMBER) == ["Reminder from the gym"]


async def test_stop_to_one_number_leaves_the_other_free(
    db: Database, deployment: Deployment
) -> None:
    d = deployment
    await d.text(CLAY_NUMBER, "hello")
    await d.text(CLAY_NUMBER, "STOP")
    assert await optouts.is_opted_out(db, "sms", ANA, endpoint=CLAY_NUMBER)
    assert not await optouts.is_opted_out(db, "sms", ANA, endpoint=GYM_NUMBER)
    assert not await optouts.is_opted_out(db, "sms", ANA)
    assert await d.channel.send_text(Channel.SMS, ANA, "clay news", studio_id=d.clay) == []
    assert await d.channel.send_text(Channel.SMS, ANA, "gym news", studio_id=d.gym) != []
    await d.text(GYM_NUMBER, "hello")
    assert any("Harbour Fitness" in body for body in d.received(GYM_NUMBER))
    await d.text(CLAY_NUMBER, "START")  # back in, on that number
    assert not await optouts.is_opted_out(db, "sms", ANA, endpoint=CLAY_NUMBER)


async def test_a_number_that_is_no_studios_own_is_the_default(
    db: Database, deployment: Deployment
) -> None:
    """Our default number, or one of a Messaging Service's pool that we were never told of:
    Twilio only calls us, signed, for numbers of our account, so it is answered as before,
    by the default number's routing and from the default sender."""
    d = deployment
    assert await d.text("+15005550009", "hello", sender="+447700900456") == 200
    [reply] = d.received(OUR_NUMBER, to="+447700900456")
    assert reply
    async with db.transaction(write=False) as tx:
        endpoint = await tx.scalar(
            "SELECT endpoint FROM conversations WHERE address = '+447700900456'"
        )
    assert endpoint == ""


def test_the_payment_pages_link_back_to_the_paying_studios_own_number() -> None:
    endpoints = Endpoints()
    endpoints.fill([StudioChannel(7, "gym", "sms", GYM_NUMBER)])
    settings = Settings(
        database_url="unused",
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        twilio_sms_from=OUR_NUMBER,
    )
    links = chat_links(settings, TelegramBots(), endpoints)
    own, other = links.studio(7), links.studio(8)
    assert own is not None
    assert other is not None
    assert (own.sms_number, other.sms_number, links.sms_number) == (
        GYM_NUMBER,
        OUR_NUMBER,
        OUR_NUMBER,
    )
