"""The twilio library's HTTP client is quiet: a send logs nothing at INFO, a failure is one
warning of ours (the library's request and response dumps were nine lines a message)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.handlers.twilio_api import SendFailed, TwilioSender, TwilioSettings
from tests.twilio_standin import TwilioStandIn

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-auth-token"


@pytest.fixture
async def sender() -> AsyncIterator[tuple[TwilioSender, TwilioStandIn]]:
    async with (
        TwilioStandIn(account_sid=ACCOUNT, auth_token=TOKEN) as twilio,
        TwilioSender(
            TwilioSettings(ACCOUNT, TOKEN, sms_from="+15017122661", api_base=twilio.base_url)
        ) as sending,
    ):
        yield sending, twilio


def from_twilio(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "twilio" or r.name.startswith("twilio.")]


async def test_a_send_logs_nothing_at_info_from_the_library(
    sender: tuple[TwilioSender, TwilioStandIn], caplog: pytest.LogCaptureFixture
) -> None:
    sending, _ = sender
    caplog.set_level(logging.DEBUG)  # everything the root lets through
    for _ in range(3):
        await sending.send_sms("+15005550006", "Your class is booked.")
    # and asking what was sent (how a send in doubt is checked) is quiet too
    await sending.bodies_sent_since("+15005550006", datetime.now(UTC) - timedelta(minutes=5))
    assert from_twilio(caplog) == []


async def test_a_failed_send_is_one_warning_of_ours(
    sender: tuple[TwilioSender, TwilioStandIn], caplog: pytest.LogCaptureFixture
) -> None:
    sending, twilio = sender
    caplog.set_level(logging.DEBUG)
    twilio.fail_next(status=429, code=20429, retry_after=2)
    with pytest.raises(SendFailed):
        await sending.send_sms("+15005550006", "Your class is booked.")
    assert from_twilio(caplog) == []
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.name == "bookbot.handlers.twilio_api"
    assert "HTTP 429" in warning.getMessage()
