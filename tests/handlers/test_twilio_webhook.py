"""SMS and WhatsApp end to end: signed requests into the real aiohttp app, sends captured by
a local stand-in for Twilio's REST API."""

from __future__ import annotations

import io
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.sms_text import SMS_MAX_SEGMENTS, segments
from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
from bookbot.handlers.twilio_webhook import PATHS, STATUS_PATH, TwilioChannel, TwilioWebhooks
from bookbot.handlers.web import make_app
from bookbot.services import optouts
from bookbot.store.db import Database
from tests.examples import NOW, load_example_studio
from tests.pipeline import Pipeline, pipeline
from tests.twilio_standin import TwilioStandIn

ACCOUNT = "AC" + "1" * 32
TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://bot.example.com"  # what Twilio calls; the test server's own host differs
OUR_NUMBER = "+15005550006"
_sids = itertools.count(1)


@dataclass
class Phone:
    """A person texting us, and everything they received."""

    http: TestClient[Any, Any]
    webhooks: TwilioWebhooks
    twilio: TwilioStandIn
    pipeline: Pipeline
    number: str
    channel: Channel = Channel.SMS

    @property
    def address(self) -> str:
        return f"whatsapp:{self.number}" if self.channel is Channel.WHATSAPP else self.number

    def received(self) -> list[str]:
        return [m["Body"] for m in self.twilio.messages if m["To"] == self.address]

    async def text(self, body: str, **extra: str) -> int:
        """Send `body` as Twilio would (signed); wait until it is handled; the HTTP status."""
        form = {
            "MessageSid": f"SM{next(_sids):032x}",
            "AccountSid": ACCOUNT,
            "From": self.address,
            "To": OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
            **extra,
        }
        status = await post(self.http, PATHS[self.channel], form)
        await self.pipeline.drain()
        return status

    def last(self) -> str:
        return self.received()[-1]


def signature(path: str, form: dict[str, str]) -> str:
    return str(RequestValidator(TOKEN).compute_signature(PUBLIC + path, form))


async def post(
    http: TestClient[Any, Any], path: str, form: dict[str, str], sign: bool = True
) -> int:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = signature(path, form)
    response = await http.post(path, data=urlencode(form), headers=headers)
    return response.status


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def world(
    db: Database, clock: FrozenClock
) -> AsyncIterator[tuple[TestClient[Any, Any], TwilioWebhooks, TwilioStandIn, Pipeline]]:
    await load_example_studio(db, clock)
    async with TwilioStandIn(ACCOUNT, TOKEN) as twilio:
        sender = TwilioSender(
            TwilioSettings(
                ACCOUNT,
                TOKEN,
                sms_from=OUR_NUMBER,
                whatsapp_from=f"whatsapp:{OUR_NUMBER}",
                api_base=twilio.base_url,
            )
        )
        channel = TwilioChannel(db, clock, sender)
        webhooks = TwilioWebhooks(Dialogues(db, clock), channel, TOKEN, PUBLIC, account_sid=ACCOUNT)
        flow = pipeline(db, clock, {"twilio": webhooks}, twilio=channel)
        async with TestClient(TestServer(make_app(*webhooks.routes()))) as http:
            yield http, webhooks, twilio, flow
        await sender.close()


@pytest.fixture
def phone(world: tuple[TestClient[Any, Any], TwilioWebhooks, TwilioStandIn, Pipeline]) -> Phone:
    return Phone(*world, number="+447700900123")


async def booked_seats(db: Database) -> int:
    async with db.transaction(write=False) as tx:
        return int(
            await tx.scalar(
                "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions WHERE status = 'booked'"
            )
        )


async def test_a_whole_booking_by_sms(phone: Phone, db: Database) -> None:
    assert await phone.text("hi") == 200
    assert phone.last().startswith("Hi! I'm the booking assistant of Clay & Kiln.")
    assert "\n1. Book a class\n2. My bookings\n" in phone.last()  # numbered, no emoji by SMS

    for reply in ("1", "wheel throwing taster", "1", "2"):
        await phone.text(reply)
    assert "Total: £90.00, paid at the studio." in phone.last()
    assert "Menu" in phone.last()
    assert "Cancel" not in phone.last()  # a lone CANCEL would unsubscribe them at Twilio
    await phone.text("1")

    assert any("Booked! Wheel Throwing Taster" in body for body in phone.received())
    assert await booked_seats(db) == 2
    assert all(segments(body) <= SMS_MAX_SEGMENTS for body in phone.received())


async def test_a_whole_booking_by_whatsapp(world: Any, db: Database) -> None:
    maria = Phone(*world, number="+447700900124", channel=Channel.WHATSAPP)
    await maria.text("hello", ProfileName="María")
    assert maria.last().startswith("Hi María! I'm the booking assistant of Clay & Kiln.")
    assert "1. 📅 Book a class" in maria.last()  # WhatsApp keeps the emoji
    for reply in ("1", "Wheel Throwing Taster", "2", "2", "confirm"):
        await maria.text(reply)
    assert any("🎉 Booked! Wheel Throwing Taster" in body for body in maria.received())
    assert {m["From"] for m in maria.twilio.messages} == {f"whatsapp:{OUR_NUMBER}"}
    assert await booked_seats(db) == 2


async def test_a_spanish_speaking_sms_customer(world: Any, db: Database) -> None:
    lucia = Phone(*world, number="+34600000001")
    await lucia.text("Hola")
    assert lucia.last().startswith("¡Hola! Soy el asistente de reservas de Clay & Kiln.")
    for reply in ("reservar", "Wheel Throwing Taster", "1", "2", "1"):
        await lucia.text(reply)
    assert any(
        "Reservado! Wheel Throwing Taster, sáb 21 nov 2026, 14:00, para 2 personas" in b
        for b in lucia.received()
    )


async def test_keywords_work_from_any_step_in_both_languages(phone: Phone) -> None:
    await phone.text("hi")
    await phone.text("1")
    await phone.text("HELP")
    assert "MY: your bookings (to cancel one, choose it there)" in phone.last()
    assert "texting only CANCEL also unsubscribes you" in phone.last()
    await phone.text("LANG es")
    assert phone.last().startswith("Hecho: a partir de ahora te escribiré en español.")
    await phone.text("mis reservas")
    assert "No tienes reservas próximas." in phone.last()
    await phone.text("menú")
    assert "1. Reservar una clase" in phone.last()


async def test_stop_is_honoured_until_start(phone: Phone, db: Database) -> None:
    await phone.text("hi")
    sent = len(phone.received())

    await phone.text("STOP")
    await phone.text("1")
    await phone.text("help")

    assert len(phone.received()) == sent  # nothing at all, not even to the dialogue's replies
    assert await optouts.is_opted_out(db, "sms", phone.number)
    channel = phone.webhooks.channel
    assert await channel.send_text(Channel.SMS, phone.number, "A reminder") == []  # notices too

    await phone.text("START")
    assert not await optouts.is_opted_out(db, "sms", phone.number)
    assert phone.last().startswith("Hi! I'm the booking assistant")


async def test_twilio_saying_unsubscribed_records_the_opt_out(phone: Phone, db: Database) -> None:
    phone.twilio.fail_next(
        status=400, code=21610, message="Attempt to send to unsubscribed recipient"
    )
    await phone.text("hi")
    assert await optouts.is_opted_out(db, "sms", phone.number)


async def test_bad_or_missing_signatures_get_403_and_change_nothing(
    phone: Phone, db: Database
) -> None:
    form = {"MessageSid": "SM" + "f" * 32, "From": phone.number, "To": OUR_NUMBER, "Body": "hi"}
    forged = dict(form, Body="book everything")
    statuses = [
        await post(phone.http, PATHS[Channel.SMS], form, sign=False),
        await phone.http.post(
            PATHS[Channel.SMS],
            data=urlencode(forged),
            headers={
                "X-Twilio-Signature": signature(PATHS[Channel.SMS], form),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        ),
    ]
    assert [getattr(s, "status", s) for s in statuses] == [403, 403]
    await phone.pipeline.drain()
    assert phone.received() == []
    async with db.transaction(write=False) as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM conversations") == 0
        assert await tx.scalar("SELECT COUNT(*) FROM inbox") == 0


async def test_missing_fields_and_oversized_bodies_are_refused(phone: Phone) -> None:
    missing = {"Body": "hi", "To": OUR_NUMBER, "AccountSid": ACCOUNT}
    assert await post(phone.http, PATHS[Channel.SMS], missing) == 400
    huge = {"MessageSid": "SM" + "e" * 32, "From": phone.number, "Body": "x" * (2 * 1024 * 1024)}
    response = await phone.http.post(
        PATHS[Channel.SMS],
        data=io.BytesIO(urlencode(huge).encode()),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 413
    await phone.pipeline.drain()
    assert phone.received() == []


async def test_a_repeated_message_sid_is_handled_once(phone: Phone) -> None:
    form = {
        "MessageSid": "SM" + "d" * 32,
        "AccountSid": ACCOUNT,
        "From": phone.number,
        "To": OUR_NUMBER,
        "Body": "hi",
    }
    assert [await post(phone.http, PATHS[Channel.SMS], form) for _ in range(3)] == [200, 200, 200]
    await phone.pipeline.drain()
    assert len(phone.received()) == 1


@pytest.mark.parametrize("body", ["", "asdf qwer", "👍", "x" * 2000, "🙂 " * 400])
async def test_empty_garbage_long_and_emoji_texts_get_a_polite_answer(
    phone: Phone, body: str
) -> None:
    await phone.text("hi")
    await phone.text(body)
    assert phone.last().startswith("Sorry, I did not understand that.")
    assert all(segments(b) <= SMS_MAX_SEGMENTS for b in phone.received())


async def test_delivery_status_callbacks_are_recorded_in_order(phone: Phone, db: Database) -> None:
    sid = "SM" + "c" * 32
    for status in ("sent", "delivered", "sent"):  # a late "sent" must not undo "delivered"
        form = {
            "MessageSid": sid,
            "MessageStatus": status,
            "To": phone.number,
            "AccountSid": ACCOUNT,
        }
        assert await post(phone.http, STATUS_PATH, form) == 204
    assert await post(phone.http, STATUS_PATH, {"MessageSid": sid, "AccountSid": ACCOUNT}) == 400
    assert (
        await post(
            phone.http, STATUS_PATH, {"MessageSid": sid, "MessageStatus": "failed"}, sign=False
        )
        == 403
    )
    async with db.transaction(write=False) as tx:
        assert (
            await tx.scalar(
                "SELECT status FROM delivery_statuses WHERE message_sid = :s", {"s": sid}
            )
            == "delivered"
        )
