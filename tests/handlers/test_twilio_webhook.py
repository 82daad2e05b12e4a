"""SMS and WhatsApp end to end: signed requests into the real aiohttp app, sends captured by
a local stand-in for Twilio's REST API."""

from __future__ import annotations

import asyncio
import io
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.gsm7 import segments
from bookbot.handlers.sms_text import SMS_MAX_SEGMENTS
from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
from bookbot.handlers.twilio_webhook import PATHS, STATUS_PATH, TwilioChannel, TwilioWebhooks
from bookbot.handlers.web import make_app
from bookbot.services import inbox, optouts
from bookbot.services.inbox import InboxItem, LostClaim
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
    # No option called Cancel: a lone CANCEL would unsubscribe them at Twilio.
    assert not [line for line in phone.last().splitlines() if line.endswith(". Cancel")]
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


async def test_a_spanish_speaking_sms_customer(world: Any) -> None:
    lucia = Phone(*world, number="+34600000001")
    await lucia.text("Hola")
    assert lucia.last().startswith("¡Hola! Soy el asistente de reservas de Clay & Kiln.")
    for reply in ("reservar", "Wheel Throwing Taster", "1", "2", "1"):
        await lucia.text(reply)
    # Folded to GSM-7 by SMS (the studio's default): "sáb" is sent as "sab", ¡ stays.
    assert any(
        "¡Reservado! Wheel Throwing Taster, sab 21 nov 2026, 14:00, para 2 personas" in b
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
    assert "No tienes reservas proximas." in phone.last()  # folded to GSM-7
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


# -- the inbox: stored before acknowledged, processed once ---------------------------------


def form_for(number: str, body: str, sid: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": number,
        "To": OUR_NUMBER,
        "Body": body,
    }


async def inbox_rows(db: Database) -> list[tuple[str, int]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT status, attempts FROM inbox ORDER BY id")
    return [(r[0], r[1]) for r in rows]


async def test_an_acknowledged_message_is_stored_before_any_work_and_survives_a_crash(
    phone: Phone, db: Database, clock: FrozenClock
) -> None:
    assert (
        await post(phone.http, PATHS[Channel.SMS], form_for(phone.number, "hi", "SM" + "1" * 32))
        == 200
    )
    assert await inbox_rows(db) == [("pending", 0)]  # acknowledged means stored
    assert phone.received() == []

    # A worker claims it and dies before finishing: nothing is lost, nothing is doubled.
    crashed = await inbox.claim(db, clock.now(), 10, timedelta(seconds=60))
    assert len(crashed) == 1
    await phone.pipeline.drain()
    assert phone.received() == []  # its lease still runs
    clock.advance(timedelta(seconds=61))
    await phone.pipeline.drain()
    assert len(phone.received()) == 1
    assert phone.last().startswith("Hi! I'm the booking")
    assert await inbox_rows(db) == [("done", 2)]


async def test_a_worker_whose_lease_ran_out_commits_nothing(
    phone: Phone, db: Database, clock: FrozenClock
) -> None:
    await post(phone.http, PATHS[Channel.SMS], form_for(phone.number, "hi", "SM" + "2" * 32))
    [late] = await inbox.claim(db, clock.now(), 10, timedelta(seconds=60))
    clock.advance(timedelta(seconds=61))
    [current] = await inbox.claim(db, clock.now(), 10, timedelta(seconds=60))
    with pytest.raises(LostClaim):
        await phone.webhooks.process(late)  # the slow worker's dialogue turn rolls back
    async with db.transaction(write=False) as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM outbox") == 0
    await phone.webhooks.process(current)
    await phone.pipeline.drain()
    assert len(phone.received()) == 1


async def test_one_chats_messages_are_answered_in_the_order_they_came(phone: Phone) -> None:
    for i, body in enumerate(("hi", "help", "menu", "my bookings")):
        form = form_for(phone.number, body, f"SM{i:032x}")
        assert await post(phone.http, PATHS[Channel.SMS], form) == 200
    await phone.pipeline.drain()
    received = phone.received()
    assert len(received) == 4
    assert received[0].startswith("Hi! I'm the booking")
    assert "MY: your bookings" in received[1]
    assert "You have no upcoming bookings." in received[3]


async def test_a_failing_message_is_retried_then_kept_as_failed_and_the_chat_goes_on(
    world: Any, db: Database, clock: FrozenClock
) -> None:
    http, webhooks, twilio, flow = world
    calls: list[str] = []

    class Broken:
        async def process(self, item: InboxItem) -> None:
            calls.append(item.payload["form"]["Body"])
            if item.payload["form"]["Body"] == "boom":
                raise ValueError("a bug")
            await webhooks.process(item)

        async def gave_up(self, item: InboxItem) -> None:
            await webhooks.gave_up(item)

    flow.inbox.processors["twilio"] = Broken()
    number = "+447700900125"
    await post(http, PATHS[Channel.SMS], form_for(number, "hello", "SM" + "0" * 32))
    await flow.drain()
    twilio.messages.clear()
    await post(http, PATHS[Channel.SMS], form_for(number, "boom", "SM" + "3" * 32))
    await post(http, PATHS[Channel.SMS], form_for(number, "menu", "SM" + "4" * 32))
    for _ in range(flow.inbox.max_attempts):
        await flow.drain()
        clock.advance(timedelta(minutes=5))
    await flow.drain()
    assert calls == ["hello"] + ["boom"] * flow.inbox.max_attempts + ["menu"]  # it waited
    async with db.transaction(write=False) as tx:
        rows = await tx.all("SELECT status, last_error FROM inbox ORDER BY id")
    assert [r[0] for r in rows] == ["done", "failed", "done"]
    assert rows[1][1] == "ValueError: a bug"
    bodies = [m["Body"] for m in twilio.messages if m["To"] == number]
    assert bodies[0] == "Sorry, something went wrong. Please try again."  # not silence
    assert "1. Book a class" in bodies[1]


async def test_a_flooding_number_cannot_starve_anyone_else(world: Any, db: Database) -> None:
    http, webhooks, twilio, flow = world
    flooder, bystander = "+447700900126", "+447700900127"
    for i in range(40):
        await post(http, PATHS[Channel.SMS], form_for(flooder, "hi", f"SM{i:032x}"))
    await post(http, PATHS[Channel.SMS], form_for(bystander, "hi", "SM" + "f" * 32))
    [first] = await inbox.claim(db, NOW, 1, timedelta(seconds=60))
    assert first.chat == f"sms:{flooder}"
    claimed = await inbox.claim(db, NOW, 50, timedelta(seconds=60))
    assert [item.chat for item in claimed] == [f"sms:{bystander}"]  # not behind 39 others
    await inbox.release(db, first)
    await inbox.release(db, claimed[0])

    await flow.drain()
    statuses = Counter(status for status, _ in await inbox_rows(db))
    burst = int(flow.inbox.throttle.burst)
    assert statuses == Counter({"done": burst + 1, "throttled": 40 - burst})
    assert len([m for m in twilio.messages if m["To"] == bystander]) == 1
    assert len([m for m in twilio.messages if m["To"] == flooder]) == burst


async def test_a_provider_outage_delays_replies_and_loses_none(
    phone: Phone, clock: FrozenClock
) -> None:
    phone.twilio.fail_next(status=503, code=20503, message="Service unavailable")
    await phone.text("hi")  # processed; its reply could not be sent
    assert phone.received() == []
    clock.advance(timedelta(seconds=6))
    await phone.pipeline.drain()
    assert len(phone.received()) == 1
    assert phone.last().startswith("Hi! I'm the booking")


# -- input rules --------------------------------------------------------------------------


async def test_another_accounts_request_is_refused(phone: Phone, db: Database) -> None:
    form = dict(form_for(phone.number, "hi", "SM" + "5" * 32), AccountSid="AC" + "2" * 32)
    assert await post(phone.http, PATHS[Channel.SMS], form) == 403
    assert await inbox_rows(db) == []


async def test_a_form_that_is_not_utf8_gets_400(phone: Phone, db: Database) -> None:
    response = await phone.http.post(
        PATHS[Channel.SMS],
        data=b"MessageSid=SM1&From=%2B447700900123&Body=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert response.status == 400
    assert await inbox_rows(db) == []


async def test_a_sender_that_is_not_a_phone_number_gets_400(phone: Phone, db: Database) -> None:
    form = form_for("+999", "hi", "SM" + "6" * 32)
    assert await post(phone.http, PATHS[Channel.SMS], form) == 400
    assert await inbox_rows(db) == []


async def test_a_huge_profile_name_with_bidi_controls_is_cleaned_and_bounded(
    world: Any, db: Database
) -> None:
    maria = Phone(*world, number="+447700900128", channel=Channel.WHATSAPP)
    name = "\u202eMaría\u200f\x07 " + "x" * 5000
    await maria.text("hello", ProfileName=name)
    assert len(maria.received()) == 1  # one message, not five
    greeting = maria.last().split("!")[0]
    assert greeting == "Hi María"  # greeted by the first word of the cleaned name
    assert not any(ch in greeting for ch in "\u202e\u200f\x07")
    async with db.transaction(write=False) as tx:
        stored = await tx.scalar("SELECT name FROM customers")
    assert len(stored) <= 64
    assert stored.startswith("María x")


async def test_staff_texting_from_the_e164_form_of_their_file_phone_get_staff_tools(
    world: Any,
) -> None:
    # The example studio lists Tom as "+44 20 7946 0101"; Twilio sends "+442079460101".
    tom = Phone(*world, number="+442079460101")
    await tom.text("/today")
    assert "Sorry, that is for studio staff only." not in tom.last()
    assert "Today, " in tom.last()


async def test_a_slow_turn_keeps_its_rows_by_renewing_a_short_lease(
    world: Any, db: Database, clock: FrozenClock
) -> None:
    http, webhooks, twilio, flow = world
    started, release = asyncio.Event(), asyncio.Event()

    class Slow:
        async def process(self, item: InboxItem) -> None:
            started.set()
            await release.wait()
            await webhooks.process(item)

        async def gave_up(self, item: InboxItem) -> None:
            await webhooks.gave_up(item)

    flow.inbox.processors["twilio"] = Slow()
    flow.inbox.lease = timedelta(seconds=0.3)  # renewed every 0.1 s (real time)
    await post(http, PATHS[Channel.SMS], form_for("+447700900129", "hi", "SM" + "7" * 32))
    working = asyncio.create_task(flow.inbox.run_until_idle())
    await started.wait()
    for _ in range(3):  # well past the lease by the clock, but renewed meanwhile
        clock.advance(timedelta(seconds=0.2))
        await asyncio.sleep(0.5)
        assert await inbox.claim(db, clock.now(), 10, timedelta(seconds=60)) == []
    release.set()
    assert await working == 1
    assert await inbox_rows(db) == [("done", 1)]
