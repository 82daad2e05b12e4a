"""TwilioSender against a local stand-in for Twilio's REST API, through the real twilio library."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bookbot.handlers.twilio_api import SendFailed, TwilioSender, TwilioSettings
from tests.twilio_standin import TwilioStandIn

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-auth-token"
SERVICE = "MG" + "2" * 32
TEMPLATE = "HX" + "3" * 32
CUSTOMER = "+15005550006"
SMS_FROM = "+15017122661"
WA_FROM = "whatsapp:+14155238886"
SID = re.compile(r"SM[0-9a-f]{32}")


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioStandIn]:
    async with TwilioStandIn(account_sid=ACCOUNT, auth_token=TOKEN) as standin:
        yield standin


def settings(twilio: TwilioStandIn, **overrides: Any) -> TwilioSettings:
    values: dict[str, Any] = {
        "account_sid": ACCOUNT,
        "auth_token": TOKEN,
        "sms_from": SMS_FROM,
        "whatsapp_from": WA_FROM,
        "api_base": twilio.base_url,
    }
    return TwilioSettings(**(values | overrides))


async def test_sms_from_number(twilio: TwilioStandIn) -> None:
    async with TwilioSender(settings(twilio)) as sender:
        sid = await sender.send_sms(CUSTOMER, "Your class is booked.")
    assert SID.fullmatch(sid)
    [sent] = await twilio.wait_for(1)
    assert sent == {"To": CUSTOMER, "From": SMS_FROM, "Body": "Your class is booked."}


async def test_sms_through_messaging_service(twilio: TwilioStandIn) -> None:
    async with TwilioSender(settings(twilio, messaging_service_sid=SERVICE)) as sender:
        assert SID.fullmatch(await sender.send_sms(CUSTOMER, "hi"))
    [sent] = await twilio.wait_for(1)
    assert sent["MessagingServiceSid"] == SERVICE
    assert "From" not in sent


async def test_whatsapp_prefixes_both_ends(twilio: TwilioStandIn) -> None:
    no_prefix = settings(twilio, whatsapp_from="+14155238886")
    async with TwilioSender(no_prefix) as sender:
        await sender.send_whatsapp(CUSTOMER, "See you at 6.")
        await sender.send_whatsapp("whatsapp:" + CUSTOMER, "Again.")
    first, second = await twilio.wait_for(2)
    assert first == {"To": f"whatsapp:{CUSTOMER}", "From": WA_FROM, "Body": "See you at 6."}
    assert second["To"] == f"whatsapp:{CUSTOMER}"


async def test_whatsapp_template(twilio: TwilioStandIn) -> None:
    variables = {"1": "Pottery for beginners", "2": "Tue 18:00"}
    async with TwilioSender(settings(twilio)) as sender:
        assert SID.fullmatch(await sender.send_whatsapp_template(CUSTOMER, TEMPLATE, variables))
    [sent] = await twilio.wait_for(1)
    assert sent["ContentSid"] == TEMPLATE
    assert json.loads(sent["ContentVariables"]) == variables
    assert sent["To"] == f"whatsapp:{CUSTOMER}"
    assert sent["From"] == WA_FROM
    assert "Body" not in sent


async def test_status_callback_is_passed(twilio: TwilioStandIn) -> None:
    callback = "https://bookbot.example/twilio/status"
    async with TwilioSender(settings(twilio, status_callback=callback)) as sender:
        await sender.send_sms(CUSTOMER, "hi")
        await sender.send_whatsapp(CUSTOMER, "hi")
    assert [m["StatusCallback"] for m in await twilio.wait_for(2)] == [callback, callback]


async def test_twilio_environment_cannot_route_around_api_base(
    twilio: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An edge/region would turn api.twilio.com into api.dublin.ie1.twilio.com: real Twilio.
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    async with TwilioSender(settings(twilio)) as sender:
        await sender.send_sms(CUSTOMER, "hi")
    await twilio.wait_for(1)


async def test_wrong_credentials_are_permanent(twilio: TwilioStandIn) -> None:
    async with TwilioSender(settings(twilio, auth_token="wrong")) as sender:
        with pytest.raises(SendFailed) as failed:
            await sender.send_sms(CUSTOMER, "hi")
    assert failed.value.status == 401
    assert failed.value.code == 20003
    assert failed.value.permanent
    assert twilio.messages == []


async def test_rate_limit_says_when_to_retry(twilio: TwilioStandIn) -> None:
    twilio.fail_next(status=429, code=20429, message="Too Many Requests", retry_after=2)
    async with TwilioSender(settings(twilio)) as sender:
        with pytest.raises(SendFailed) as failed:
            await sender.send_sms(CUSTOMER, "hi")
        assert (failed.value.status, failed.value.code) == (429, 20429)
        assert failed.value.retry_after == 2.0
        assert not failed.value.permanent
        # The retry the caller schedules goes through, and knows nothing of the earlier 429.
        assert SID.fullmatch(await sender.send_sms(CUSTOMER, "hi"))
    assert len(await twilio.wait_for(1)) == 1


async def test_unsubscribed_recipient_is_permanent(twilio: TwilioStandIn) -> None:
    twilio.fail_next(status=400, code=21610, message="Attempt to send to unsubscribed recipient")
    async with TwilioSender(settings(twilio)) as sender:
        with pytest.raises(SendFailed, match="unsubscribed recipient") as failed:
            await sender.send_whatsapp(CUSTOMER, "hi")
    assert (failed.value.status, failed.value.code) == (400, 21610)
    assert failed.value.retry_after is None
    assert failed.value.permanent


async def test_server_error_is_transient(twilio: TwilioStandIn) -> None:
    twilio.fail_next(status=503, code=20503, message="Service Unavailable")
    async with TwilioSender(settings(twilio)) as sender:
        with pytest.raises(SendFailed) as failed:
            await sender.send_sms(CUSTOMER, "hi")
    assert failed.value.status == 503
    assert not failed.value.permanent


async def test_unreachable_twilio_is_transient() -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = TwilioSettings(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        sms_from=SMS_FROM,
        api_base=f"http://127.0.0.1:{port}",
    )
    async with TwilioSender(closed) as sender:
        with pytest.raises(SendFailed) as failed:
            await sender.send_sms(CUSTOMER, "hi")
    assert failed.value.status is None
    assert failed.value.code is None
    assert not failed.value.permanent


async def test_a_channel_without_a_sender_is_a_configuration_error(twilio: TwilioStandIn) -> None:
    async with TwilioSender(settings(twilio, sms_from=None, whatsapp_from=None)) as sender:
        with pytest.raises(ValueError, match="sms_from"):
            await sender.send_sms(CUSTOMER, "hi")
        with pytest.raises(ValueError, match="whatsapp_from"):
            await sender.send_whatsapp(CUSTOMER, "hi")
    assert twilio.messages == []
