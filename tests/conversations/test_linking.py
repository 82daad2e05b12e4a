"""A Telegram customer links a phone with a code sent by SMS; then one customer, two channels."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
from bookbot.handlers.twilio_webhook import TwilioChannel
from bookbot.services.studio_channels import StudioChannel
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.twilio_standin import TwilioStandIn

ACCOUNT, TOKEN = "AC" + "3" * 32, "token"
PHONE = "+447700900300"
STUDIO_NUMBER = "+441174960001"


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioStandIn]:
    async with TwilioStandIn(ACCOUNT, TOKEN) as standin:
        yield standin


@pytest.fixture
async def texting(
    db: Database,
    clock: FrozenClock,
    studio_id: int,  # noqa: ARG001 - requested for its rows: the studio is loaded first
    twilio: TwilioStandIn,
) -> AsyncIterator[Dialogues]:
    sender = TwilioSender(
        TwilioSettings(ACCOUNT, TOKEN, sms_from="+15005550006", api_base=twilio.base_url)
    )
    yield Dialogues(db, clock, sms=TwilioChannel(db, clock, sender))
    await sender.close()


async def at_the_phone_prompt(texting: Dialogues, address: str, name: str) -> Chat:
    """A Telegram customer who has started and pressed "Link your phone"."""
    telegram = Chat(texting, address=address, name=name, channel=Channel.TELEGRAM)
    await telegram.say("/start")
    await telegram.press("📱 Link your phone")
    return telegram


def code_sent(twilio: TwilioStandIn) -> str:
    found = re.search(r"code is (\d{6})", twilio.messages[-1]["Body"])
    assert found is not None
    return found.group(1)


async def test_linking_a_phone_joins_the_sms_customer_and_their_bookings(
    texting: Dialogues, twilio: TwilioStandIn
) -> None:
    sms = Chat(texting, address=PHONE, name="", channel=Channel.SMS)
    for reply in ("hi", "1", "Wheel Throwing Taster", "2", "2", "1"):
        await sms.say(reply)
    telegram = await at_the_phone_prompt(texting, "9001", "Ana")
    await telegram.say("+44 7700 900300")
    assert twilio.messages[-1]["To"] == PHONE
    assert "I texted a 6-digit code to +447700900300." in telegram.text
    await telegram.say("000000" if code_sent(twilio) != "000000" else "111111")
    assert "That code is not right." in telegram.text
    await telegram.say(code_sent(twilio))

    assert "Your phone +447700900300 is linked" in telegram.text
    await telegram.say("my bookings")
    assert telegram.labels[0] == "Wheel Throwing Taster · Sat 28 Nov, 14:00 · 2 people"
    await telegram.say("/start")
    assert "📱 Link your phone" not in telegram.labels

    for reply in ("1", "Wheel Throwing Taster", "3", "1", "confirm"):  # book on Telegram…
        await telegram.say(reply)
    await sms.say("MY")  # …and see it by SMS
    assert len(sms.labels) == 4  # two bookings, back, menu


async def test_bad_numbers_and_expired_codes_are_explained(
    texting: Dialogues, twilio: TwilioStandIn, clock: FrozenClock
) -> None:
    telegram = await at_the_phone_prompt(texting, "9002", "Ben")
    await telegram.say("07700 900300")
    assert "does not look like an international number" in telegram.text
    await telegram.say("+447700900301")
    code = code_sent(twilio)
    clock.advance(timedelta(minutes=11))
    await telegram.say(code)
    assert "That code has expired." in telegram.text


async def test_a_number_with_wrong_digits_is_explained_and_00_is_international(
    texting: Dialogues, twilio: TwilioStandIn
) -> None:
    telegram = await at_the_phone_prompt(texting, "9004", "Di")
    await telegram.say("+44 20 7946 010")  # a digit short
    assert "That is not a valid phone number. Check the digits" in telegram.text
    assert not twilio.messages
    await telegram.say("0044 (0)7700 900303")
    assert twilio.messages[-1]["To"] == "+447700900303"
    assert "I texted a 6-digit code to +447700900303." in telegram.text


async def test_a_customer_who_texted_is_found_whatever_way_the_number_is_typed(
    texting: Dialogues, twilio: TwilioStandIn
) -> None:
    sms = Chat(texting, address="+16175550142", name="", channel=Channel.SMS)
    for reply in ("hi", "1", "Wheel Throwing Taster", "2", "1", "1"):
        await sms.say(reply)
    telegram = await at_the_phone_prompt(texting, "9005", "Ed")
    await telegram.say("+1 (617) 555-0142")
    await telegram.say(code_sent(twilio))

    assert "Your phone +16175550142 is linked" in telegram.text
    await telegram.say("my bookings")
    assert telegram.labels[0].startswith("Wheel Throwing Taster")


async def test_five_wrong_codes_use_up_the_code(texting: Dialogues, twilio: TwilioStandIn) -> None:
    telegram = await at_the_phone_prompt(texting, "9003", "Cy")
    await telegram.say("+447700900302")
    code = code_sent(twilio)
    wrong = "123456" if code != "123456" else "654321"
    for _ in range(5):
        await telegram.say(wrong)
    await telegram.say(code)  # right, but too late
    assert "That code has expired." in telegram.text


async def test_the_code_comes_from_the_studios_own_number_when_it_has_one(
    db: Database, clock: FrozenClock, studio_id: int, twilio: TwilioStandIn
) -> None:
    """The person recognises the studio's number, and a reply to it reaches that studio
    (issue 17); a studio without one sends from the deployment's sender."""
    sender = TwilioSender(
        TwilioSettings(ACCOUNT, TOKEN, sms_from="+15005550006", api_base=twilio.base_url)
    )
    channel = TwilioChannel(db, clock, sender)
    texting = Dialogues(db, clock, sms=channel)
    telegram = await at_the_phone_prompt(texting, "9006", "Fay")
    await telegram.say("+447700900306")
    assert twilio.messages[-1]["From"] == "+15005550006"  # no number of its own yet

    channel.endpoints.fill([StudioChannel(studio_id, "clay-studio", "sms", STUDIO_NUMBER)])
    await telegram.press("Send a new code")
    await telegram.say("+447700900306")
    assert (twilio.messages[-1]["From"], twilio.messages[-1]["To"]) == (
        STUDIO_NUMBER,
        "+447700900306",
    )
    await telegram.say(code_sent(twilio))
    assert "Your phone +447700900306 is linked" in telegram.text
    await sender.close()
