"""Issue 17 end to end: one `bookbot run` (build and serve, webhook mode, Stripe on) serving two
bots on the emulator at once: the deployment's default bot (the clay studio) and the Bristol
training centre's own bot (examples/training-centre.toml, its own token from its file).

A customer books the three-day Gas Safe ACS Core course with company details and pays the
30% deposit through the Stripe stand-in; staff check them in on each of the three days from
/today, complete the course and issue the certificate, which arrives as a PDF document through
the Bristol bot (parsed with pypdf: the holder's name and the code, which verifies); the same
person on the default bot sees only the clay studio, and neither bot ever said the other
studio's things. Then staff cancel another run in chat with a reason: both attendees (their
deposits refunded through Stripe) and the waiting list are told on the Bristol bot.
Everything customers and staff do is typed or tapped in chat (a waiting-list place for eleven
is set up through the service)."""

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
from bookbot.services import certificates
from bookbot.services.references import booking_reference
from bookbot.services.studio_channels import bot_id
from bookbot.services.waitlist import join_waitlist
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
CLAY_THINGS = ("Clay & Kiln", "Wheel Throwing", "Open Studio", "Pottery")


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


async def book_with_deposit(
    user: AsyncTgClient, deployment: Deployment, run: str, details: tuple[str, str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """From /start on the Bristol bot, one place on the ACS Core run starting `run`, the
    attendee's email, company and job title typed when asked, the 30% deposit paid through
    Stripe's checkout; the summary and the payment."""
    email, company, job_title = details
    await user.send_text("/start")
    await latest(user, "booking assistant of Bristol Gas Training Centre")
    await tap(user, "📅 Book a class", "Our classes:")
    await tap(user, COURSE, "Choose a date")
    await tap(user, run, "How many people")
    await tap(user, "1", "What is your full name")
    await tap(user, "✓ Use this name", "What is your email address?")
    await type_(user, email, "What is the name of your company?")
    await type_(user, company, "What is your job title?")
    summary = await type_(user, job_title, "Please check your booking")
    await tap(user, "💳 Pay £255.00 deposit now", "I'll confirm here when the payment arrives")
    payment = await deployment.pay_latest_link()
    assert payment["amount_minor"] == 25500
    return summary, payment


async def book_the_course(user: AsyncTgClient, deployment: Deployment) -> dict[str, Any]:
    """Dan books the next run for himself with his employer's details and pays the deposit;
    the payment."""
    await user.send_text("/start")
    await latest(user, "What would you like to do?")
    await tap(user, "📅 Book a class", "Our classes:")
    dates = await tap(user, COURSE, "Choose a date")
    assert "Wed 2 – Fri 4 Dec, 09:00–17:00 daily · 12 seats left" in buttons(dates)
    await tap(user, "Wed 2 – Fri 4 Dec", "How many people")
    await tap(user, "1", "What is your full name")
    await tap(user, "✓ Use this name", "What is your email address?")
    # An address without a domain ending is asked for again.
    await type_(user, "dan.morgan@severnheating", "should be a domain")
    await tap(user, "✖ Cancel", "What would you like to do?")  # and he starts again

    details = ("dan.morgan@severnheating.co.uk", "Severn Heating Ltd", "Gas engineer")
    summary, payment = await book_with_deposit(user, deployment, "Wed 2 – Fri 4 Dec", details)
    for line in (
        "• Wed 2 – Fri 4 Dec 2026, 09:00–17:00 daily",
        "Email: dan.morgan@severnheating.co.uk",
        "Company: Severn Heating Ltd",
        "Job title: Gas engineer",
        "Total: £850.00.",
    ):
        assert line in summary["text"].splitlines(), (line, summary["text"])
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
    """After the last day, Gareth finds Dan ticked (he came on every day) and issues his
    certificate."""
    clock.set(local(4, 17, 30))
    await type_(gareth, "/complete", "Which session is complete?")
    await tap(gareth, f"Wed 2 – Fri 4 Dec, 09:00–17:00 daily · {COURSE}", "Tap the names of")
    await offered(gareth, "✅ Dan Morgan")  # those who attended start ticked
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
        assert "2 – 4 December 2026" in text.splitlines()  # the chat's day-month order
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
    await never_said(emulator, DEFAULT_TOKEN, bristol_things)
    await never_said(emulator, BRISTOL_TOKEN, CLAY_THINGS)


async def test_a_course_cancelled_by_staff_in_chat_tells_everyone_on_the_centres_bot(
    db: Database, clock: FrozenClock, emulator: Emulator, studios: tuple[int, int]
) -> None:
    """Two engineers booked on the run of Wed 16 Dec (deposits paid), a third waiting for
    eleven places; Gareth cancels the run in chat with a reason: each is told on the Bristol
    bot, with the course's dates, the reason and what happens to their money or place."""
    _clay, bristol = studios
    eve = aclient(emulator, BRISTOL_TOKEN, chat_id=4601, first_name="Eve", last_name="Hart")
    fay = aclient(emulator, BRISTOL_TOKEN, chat_id=4602, first_name="Fay", last_name="Lloyd")
    hal = aclient(emulator, BRISTOL_TOKEN, chat_id=4603, first_name="Hal", last_name="Price")
    gareth = aclient(emulator, BRISTOL_TOKEN, chat_id=GARETH, first_name="Gareth")
    run = "Wed 16 – Fri 18 Dec, 09:00–17:00 daily"
    async with running(db, clock, emulator) as deployment:
        for user, name in ((eve, "eve"), (fay, "fay")):
            details = (f"{name}@westgas.co.uk", "West Gas Services", "Gas engineer")
            await book_with_deposit(user, deployment, "Wed 16 – Fri 18 Dec", details)
            await said(user, "Payment received: £255.00")
        # Hal's company wants places for eleven: more than are left, so he waits.
        await hal.send_text("/start")
        await latest(hal, "What would you like to do?")
        session_id = int(
            await db.scalar(
                "SELECT s.id FROM sessions s JOIN classes k ON k.id = s.class_id"
                " WHERE s.studio_id = :s AND k.key = 'acs-core' AND s.starts_at = :at",
                {"s": bristol, "at": local(16, 9)},
            )
        )
        hal_id = await db.scalar(
            "SELECT customer_id FROM channel_identities WHERE studio_id = :s AND address = :a",
            {"s": bristol, "a": str(hal.sync.chat_id)},
        )
        await join_waitlist(db, clock, bristol, int(hal_id), session_id, guests=11)

        await type_(gareth, "/session", "Sessions: add one, or change one")
        await tap(gareth, "✏️ Change a session", "Choose a session to change")
        await tap(gareth, run, "10 seats left (12)")
        await tap(gareth, "✖ Cancel this session", "Why is it cancelled?")
        confirm = await type_(gareth, "The rigs fail their gas safety check", "Cancel ")
        assert confirm["text"].splitlines() == [
            f"Cancel {COURSE} · {run}?",
            "2 bookings are cancelled.",
            "2 bookings paid online are refunded in full.",
            "1 person on the waiting list is told.",
            "Reason: The rigs fail their gas safety check",
        ]
        await tap(gareth, "✖ Yes, cancel it", "3 people were told.")

        first = (
            f"The studio has cancelled {COURSE} on Wed 16 – Fri 18 Dec 2026,"
            " 09:00–17:00 daily. Reason: The rigs fail their gas safety check."
        )
        for user in (eve, fay):
            told = await said(user, "has cancelled")
            assert told["text"].startswith(first), told["text"]
            assert "£255.00 is being refunded to your card" in told["text"]
        told = await said(hal, "has cancelled")
        assert told["text"].startswith(first), told["text"]
        assert "You are no longer on its waiting list." in told["text"]
        status = "SELECT status FROM sessions WHERE id = :id"
        assert await db.scalar(status, {"id": session_id}) == "cancelled"
        refunds = [o for o in deployment.stripe.objects.values() if o["object"] == "refund"]
        assert sorted(r["amount"] for r in refunds) == [25500, 25500]  # asked of Stripe
    await never_said(emulator, BRISTOL_TOKEN, CLAY_THINGS)
