"""Issue 17 end to end: one `bookbot run` (build and serve, webhook mode, Stripe on) serving two
bots on the emulator at once: the deployment's default bot (the clay studio) and the Bristol
training centre's own bot (examples/training-centre.toml, its own token from its file).

A customer books the three-day Gas Safe ACS Core course with company details and pays the
30% deposit through the Stripe stand-in; staff check them in on each of the three days from
/today, complete the course and issue the certificate, which arrives as a PDF document through
the Bristol bot (parsed with pypdf: the holder's name and the code, which verifies); staff
cancel another run with a reason and each attendee is told; the same person on the default bot
sees only the clay studio, and neither bot ever said the other studio's things.
Everything customers and staff do is typed or tapped in chat."""

from __future__ import annotations

import asyncio
import base64
import functools
import io
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import aiohttp
import pypdf
import pytest

from bookbot.cli.demo import TRAINING_EXAMPLE, example_path
from bookbot.config import Settings
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.stripe_webhook import WEBHOOK_PATH
from bookbot.jobs.inbox_worker import ChatThrottle
from bookbot.serve import build, serve
from bookbot.services import cancellation, certificates
from bookbot.services.references import booking_reference
from bookbot.services.studio_channels import bot_id
from bookbot.store.db import Database
from bookbot.studio.model import parse_studio_file
from tests.examples import load_example_studio
from tests.handlers.test_stripe_webhook import free_port, listening
from tests.pipeline import UNLIMITED
from tests.stripe_standin import StripeStandIn

from .emulator import AsyncTgClient, Emulator, aclient, eventually
from .test_bot import buttons, data_for

DEFAULT_TOKEN = "4242:BOOKBOT"  # the deployment's bot: the clay studio's customers use it
BRISTOL_TOKEN = parse_studio_file(example_path(TRAINING_EXAMPLE)).channels.telegram_token or ""
KEY = "sk_test_training"
SECRET = "whsec_training"
GARETH = 4401  # the assessor's Telegram user id
DAN = 4501  # the customer: a gas engineer booking for his employer

# Tue 17 Nov 2026, 12:00 in Bristol (GMT): the run of Wed 18 Nov closed a day before its first
# morning, so the next is Wed 2 - Fri 4 Dec, and its balance is due 14 days ahead (Wed 18 Nov):
# a 30% deposit is still offered.
START = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
COURSE = "Gas Safe ACS Core"
CLAY_WORDS = ("Clay & Kiln", "Wheel Throwing", "Open Studio")
BRISTOL_WORDS = ("Bristol", "Gas Safe", "ACS Core", "Heat Pump", "certificate", "B-")


# --- chat helpers ---------------------------------------------------------------------------


async def said(user: AsyncTgClient, containing: str) -> dict[str, Any]:
    """The newest bot message in the chat (edits applied) containing `containing`, once
    there is one."""

    async def probe() -> dict[str, Any] | None:
        found = [m for m in await user.history() if containing in _text(m)]
        return found[-1] if found else None

    message: dict[str, Any] = await eventually(probe)
    return message


async def latest(user: AsyncTgClient, containing: str) -> dict[str, Any]:
    """The chat's newest message, once it contains `containing`."""

    seen: list[str] = []

    async def probe() -> dict[str, Any] | None:
        history = await user.history()
        seen[:] = [_text(m) for m in history[-2:]]
        return history[-1] if history and containing in _text(history[-1]) else None

    try:
        message: dict[str, Any] = await eventually(probe)
    except TimeoutError:
        raise AssertionError(f"waited for {containing!r}; the chat ends with {seen}") from None
    return message


async def tap(user: AsyncTgClient, label_start: str, then: str) -> dict[str, Any]:
    """Press the newest message's button whose label starts with `label_start`; the newest
    message once it says `then`."""
    message = (await user.history())[-1]
    await user.press_button(message, data_for(message, label_start))
    return await latest(user, then)


async def offered(user: AsyncTgClient, label_start: str) -> dict[str, Any]:
    """The chat's newest message, once it has a button starting with `label_start`."""

    async def probe() -> dict[str, Any] | None:
        history = await user.history()
        labels = buttons(history[-1]) if history else {}
        return history[-1] if any(k.startswith(label_start) for k in labels) else None

    message: dict[str, Any] = await eventually(probe)
    return message


async def never_said(emulator: Emulator, token: str, things: tuple[str, ...]) -> None:
    """Nothing the bot of `token` sent, in any chat (texts, captions, buttons, edits
    included: every Bot API call it made), names any of `things`."""
    calls = await asyncio.to_thread(emulator.calls, token)
    sent = [str(c["params"]) for c in calls if c["method"] not in ("getUpdates", "getMe")]
    assert sent
    leaks = [(thing, text[:200]) for text in sent for thing in things if thing in text]
    assert not leaks


async def type_(user: AsyncTgClient, text: str, then: str) -> dict[str, Any]:
    await user.send_text(text)
    return await latest(user, then)


def _text(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


def _document(message: dict[str, Any]) -> bytes:
    return base64.b64decode(message["attachment"]["content_base64"])


# --- the deployment ---------------------------------------------------------------------------


@dataclass
class Deployment:
    db: Database
    clock: FrozenClock
    stripe: StripeStandIn
    base_url: str

    async def pay_latest_link(self) -> dict[str, Any]:
        """Stripe's checkout paid, and its event posted signed to our webhook."""
        row = await self.db.one("SELECT * FROM payments ORDER BY id DESC LIMIT 1")
        assert row is not None
        payment: dict[str, Any] = dict(cast(Any, row))
        event = self.stripe.pay(str(payment["stripe_session_id"]))
        status = await self.stripe.deliver(
            event, self.base_url + WEBHOOK_PATH, timestamp=int(time.time())
        )
        assert status == 200
        return payment


@asynccontextmanager
async def running(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> AsyncIterator[Deployment]:
    """`bookbot run` with the default bot, Stripe and a public URL; the studios' own bots
    (here Bristol's) are read from the database and served beside the default one."""
    port = free_port()
    async with StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as stripe_api:
        stripe_api.clock = lambda: clock.now().timestamp()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            database_url="unused",
            telegram_token=DEFAULT_TOKEN,
            telegram_api_base=emulator.bot_api_base,
            public_url=base,
            host="127.0.0.1",
            port=port,
            stripe_secret_key=KEY,
            stripe_webhook_secret=SECRET,
            stripe_api_base=stripe_api.base_url,
        )
        services = build(settings, db, clock)
        services.delivery.limits = UNLIMITED
        # A person taps and types faster here than the per-chat throttle lets anyone.
        services.inbox.throttle = ChatThrottle(rate=1000.0, burst=1000.0)
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(settings, services, stop))
        try:
            await listening(port)
            # Updates typed before a bot's webhook is set would wait for a getUpdates that
            # never comes: start once both bots have theirs.
            for token in (DEFAULT_TOKEN, BRISTOL_TOKEN):
                await eventually(functools.partial(_webhook_set, emulator, token))
            yield Deployment(db, clock, stripe_api, base)
        finally:
            stop.set()
            await serving


async def _webhook_set(emulator: Emulator, token: str) -> bool:
    return bool(await asyncio.to_thread(emulator.calls, token, "setWebhook"))


@pytest.fixture
async def studios(db: Database, clock: FrozenClock) -> tuple[int, int]:
    """The clay studio (the default bot's) and the training centre, generated as the demo
    does; Gareth, the course's assessor, on Telegram."""
    clock.set(START)
    clay = await load_example_studio(db, clock)
    bristol = await load_example_studio(db, clock, weeks=8, name=TRAINING_EXAMPLE)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE staff SET telegram_user_id = :u WHERE studio_id = :s AND key = 'gareth'",
            {"u": GARETH, "s": bristol},
        )
    return clay, bristol


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of December 2026 in Bristol (GMT, so UTC too)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


# --- the story ----------------------------------------------------------------------------


async def book_the_course(user: AsyncTgClient, deployment: Deployment) -> dict[str, Any]:
    """Dan books the next run for himself with his employer's details, and pays the 30%
    deposit through Stripe's checkout; the payment."""
    await user.send_text("/start")
    menu = await latest(user, "What would you like to do?")
    assert "Bristol Gas Training Centre" in menu["text"]
    await tap(user, "📅 Book a class", "Our classes:")
    dates = await tap(user, COURSE, "Choose a date")
    assert "Wed 2 – Fri 4 Dec, 09:00–17:00 daily · 12 seats left" in buttons(dates)
    await tap(user, "Wed 2 – Fri 4 Dec", "How many people")
    await tap(user, "1", "What is your email address?")
    # An address without a domain ending is asked for again.
    await type_(user, "dan.morgan@severnheating", "should be a domain")
    await type_(user, "dan.morgan@severnheating.co.uk", "What is the name of your company?")
    await type_(user, "Severn Heating Ltd", "What is your job title?")
    summary = await type_(user, "Gas engineer", "Please check your booking")
    for line in (
        "• Wed 2 – Fri 4 Dec 2026, 09:00–17:00 daily",
        "Email: dan.morgan@severnheating.co.uk",
        "Company: Severn Heating Ltd",
        "Job title: Gas engineer",
        "Total: £850.00.",
    ):
        assert line in summary["text"].splitlines(), (line, summary["text"])
    await tap(user, "💳 Pay £255.00 deposit now", "I'll confirm here when the payment arrives")
    payment = await deployment.pay_latest_link()
    assert payment["amount_minor"] == 25500
    receipt = await said(user, "Payment received: £255.00")
    # The receipt is the confirmation: the booking's reference, its dates and daily hours.
    reference = booking_reference("class", int(payment["registration_id"]))
    assert re.fullmatch(r"B-[0-9A-Z]{4}", reference)
    assert (
        f"Booking reference: {reference}, Gas Safe ACS Core,"
        " Wed 2 – Fri 4 Dec 2026, 09:00–17:00 daily."
    ) in receipt["text"]
    mine = await tap(user, "🗓 My bookings", "Your upcoming bookings")
    assert (
        "Gas Safe ACS Core · Wed 2 – Fri 4 Dec, 09:00–17:00 daily · 1 person"
        " · deposit paid, balance due Wed 18 Nov"
    ) in buttons(mine)
    return payment


async def attend_day(gareth: AsyncTgClient, clock: FrozenClock, day: int, number: int) -> None:
    """Gareth checks Dan in at 09:30 on day `number` of the course (`day` December)."""
    clock.set(local(day, 9, 30))
    await type_(gareth, "/today", "Today, ")
    roster = await tap(gareth, "09:00 " + COURSE, "Tap a name")
    assert f"Day {number} of 3" in roster["text"]
    assert "Severn Heating Ltd" in roster["text"]  # the attendee's details, for staff
    done = await tap(gareth, "Dan Morgan", "Dan Morgan is checked in.")
    marks = next(line for line in done["text"].splitlines() if line.startswith("Dan Morgan "))
    days = marks.split()[-3:]
    assert days[:number] == ["✓"] * number, marks  # the days so far, each checked in
    assert not {"✓", "✗"} & set(days[number:]), marks  # the days to come, not yet


async def certify(gareth: AsyncTgClient, clock: FrozenClock) -> None:
    """After the last day, Gareth marks Dan passed and issues his certificate."""
    clock.set(local(4, 17, 30))
    await type_(gareth, "/complete", "Which session is complete?")
    await tap(gareth, f"Wed 2 – Fri 4 Dec, 09:00–17:00 daily · {COURSE}", "Tap the names of")
    await tap(gareth, "☐ Dan Morgan", "Tap the names")
    await offered(gareth, "🎓 Issue 1 certificate")
    await tap(gareth, "🎓 Issue 1 certificate", "Session completed: 1 certificate issued")


@pytest.mark.usefixtures("studios")
async def test_book_the_three_day_course_attend_it_and_get_the_certificate(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    assert bot_id(BRISTOL_TOKEN) == "700000001"  # the example's own bot, not the default
    dan = aclient(emulator, BRISTOL_TOKEN, chat_id=DAN, first_name="Dan", last_name="Morgan")
    async with running(db, clock, emulator) as deployment:
        payment = await book_the_course(dan, deployment)
        gareth = aclient(emulator, BRISTOL_TOKEN, chat_id=GARETH, first_name="Gareth")
        for number, day in enumerate((2, 3, 4), start=1):
            await attend_day(gareth, clock, day, number)
        await certify(gareth, clock)
        certificate = await said(dan, "The certificate is attached")
        assert certificate["document"]["file_name"].endswith(".pdf")
        text = pypdf.PdfReader(io.BytesIO(_document(certificate))).pages[0].extract_text()
        assert "Dan Morgan" in text
        assert COURSE in text
        [code] = re.findall(r"code ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", certificate["caption"])
        assert f"Verification code: {code}" in text
        assert (await certificates.verify(db, code)).status == "valid"
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{deployment.base_url}/verify/{code}") as page,
        ):
            assert page.status == 200
            html = await page.text()
        assert "Dan Morgan" in html
        assert COURSE in html

        # The same person on the deployment's bot is the clay studio's customer, no more.
        at_clay = aclient(
            emulator, DEFAULT_TOKEN, chat_id=DAN, first_name="Dan", last_name="Morgan"
        )
        await at_clay.send_text("/start")
        menu = await latest(at_clay, "What would you like to do?")
        assert "Clay & Kiln" in menu["text"]
        classes = await tap(at_clay, "📅 Book a class", "Our classes:")
        assert "Wheel Throwing Taster" in buttons(classes)
        await tap(at_clay, "⬅ Back", "What would you like to do?")
        mine = await tap(at_clay, "🗓 My bookings", "bookings")
        assert COURSE not in str(mine)

    reference = booking_reference("class", int(payment["registration_id"]))
    bristol_things = (COURSE, "Heat Pump", "Bristol", "Severn Heating", reference, code)
    clay_things = ("Clay & Kiln", "Wheel Throwing", "Open Studio", "Pottery")
    await never_said(emulator, DEFAULT_TOKEN, bristol_things)
    await never_said(emulator, BRISTOL_TOKEN, clay_things)


async def book_heat_pump(user: AsyncTgClient, name: str, paying: str) -> None:
    """A one-day course paid on the day, with the company details it asks for."""
    await user.send_text("/start")
    await latest(user, "What would you like to do?")
    await tap(user, "📅 Book a class", "Our classes:")
    await tap(user, "Heat Pump Installation Awareness", "Choose a date")
    await tap(user, "Tue 1 Dec", "How many people")
    await tap(user, "1", "What is your email address?")
    await type_(user, f"{name.lower()}@example.co.uk", "What is the name of your company?")
    await type_(user, f"{name} Renewables", "What is your job title?")
    await type_(user, "Installer", "Please check your booking")
    summary = (await user.history())[-1]
    await user.press_button(summary, data_for(summary, paying))
    booked = await said(user, "🎉 Booked!")
    assert re.search(r"Reference: B-[0-9A-Z]{4}", _text(booked)), _text(booked)


async def test_a_course_cancelled_by_staff_tells_everyone_on_the_centres_bot(
    db: Database, clock: FrozenClock, emulator: Emulator, studios: tuple[int, int]
) -> None:
    _clay, bristol = studios
    eve = aclient(emulator, BRISTOL_TOKEN, chat_id=4601, first_name="Eve", last_name="Hart")
    fay = aclient(emulator, BRISTOL_TOKEN, chat_id=4602, first_name="Fay", last_name="Lloyd")
    async with running(db, clock, emulator):
        await book_heat_pump(eve, "Eve", "Pay at the studio")
        await book_heat_pump(fay, "Fay", "Pay at the studio")
        session_id = await db.scalar(
            "SELECT s.id FROM sessions s JOIN classes k ON k.id = s.class_id"
            " WHERE s.studio_id = :s AND k.key = 'heat-pump-awareness' ORDER BY s.starts_at"
            " LIMIT 1",
            {"s": bristol},
        )
        # Staff cancel the run (what `bookbot sessions cancel --reason` does).
        done = await cancellation.cancel_session(
            db, clock, bristol, int(session_id), reason="The assessor is ill"
        )
        assert len(done.bookings) == 2
        for user in (eve, fay):
            told = await said(user, "has cancelled")
            assert told["text"].startswith(
                "The studio has cancelled Heat Pump Installation Awareness on Tue 1 Dec 2026"
            )
            assert "Reason: The assessor is ill. Your booking" in told["text"]
            assert "Your booking is cancelled; you owe nothing for it." in told["text"]
    await never_said(emulator, BRISTOL_TOKEN, ("Clay & Kiln", "Wheel Throwing", "Open Studio"))
