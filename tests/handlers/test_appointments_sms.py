"""One-to-one appointments by SMS end to end (issue 14): the tutor studio (Madrid) served by
`bookbot run`'s own build()/serve() with Twilio configured against the Twilio stand-in;
customers' texts posted signed to our webhook, every reply read from what the stand-in was
asked to send; on SQLite and PostgreSQL, the bot's clock frozen at Fri 20 Nov 2026 09:00 UTC.

Jake, the coach, keeps New York time (UTC-5 in November), the studio and its customers by
default Madrid's (UTC+1): his Monday 09:00 is 15:00 in Madrid and 14:00 UTC."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

import aiohttp
import pytest
from twilio.request_validator import RequestValidator

from bookbot.config import Settings
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.twilio_webhook import PATHS
from bookbot.jobs.inbox_worker import ChatThrottle
from bookbot.serve import build, serve
from bookbot.store.db import Database
from tests.examples import NOW, load_tutor_studio
from tests.handlers.test_stripe_webhook import free_port, listening
from tests.pipeline import UNLIMITED
from tests.twilio_standin import TwilioStandIn

ACCOUNT = "AC" + "7" * 32
TWILIO_TOKEN = "twilio-token-for-appointment-tests"
OUR_NUMBER = "+15005550006"
UNTHROTTLED = ChatThrottle(rate=1000.0, burst=1000.0)
POLICY = "It can no longer be cancelled: cancelling closes 24 hours before the start."
# Mon 23 Nov 2026, 09:00 in New York.
MONDAY_NINE_NY = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
_sids = itertools.count(1)
T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], within: float = 15.0) -> T:
    """`probe()`'s first truthy result, polled (replies are sent by the bot's own workers)."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result or time.monotonic() >= deadline:
            assert result, f"not within {within}s: {result!r}"
            return result
        await asyncio.sleep(0.05)


@dataclass
class Running:
    db: Database
    twilio: TwilioStandIn
    http: aiohttp.ClientSession
    base: str

    async def appointments(self) -> list[dict[str, Any]]:
        rows = await self.db.all("SELECT * FROM appointments ORDER BY id")
        return [dict(cast(Any, row)) for row in rows]


@dataclass
class Phone:
    bot: Running
    number: str

    def received(self) -> list[str]:
        return [m["Body"] for m in self.bot.twilio.messages if m["To"] == self.number]

    async def send(self, body: str) -> None:
        """Text us as Twilio would (signed against the public URL)."""
        form = {
            "MessageSid": f"SM{next(_sids):032x}",
            "AccountSid": ACCOUNT,
            "From": self.number,
            "To": OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        path = PATHS[Channel.SMS]
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(self.bot.base + path, form)
        async with self.bot.http.post(
            self.bot.base + path,
            data=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": str(signature),
            },
        ) as response:
            assert response.status == 200

    async def text(self, body: str, *, then: str) -> str:
        """Text `body`; our reply once one of its texts contains `then`: every text we sent
        since, joined (a long screen comes as several texts, through the inbox and the
        outbox, asynchronously)."""
        seen = len(self.received())
        await self.send(body)
        return await self.wait_for(then, after=seen)

    async def wait_for(self, text: str, *, after: int = 0) -> str:
        async def probe() -> list[str] | None:
            parts = self.received()[after:]
            return parts if any(text in part for part in parts) else None

        parts = await eventually(probe)
        while True:  # the rest of the screen's texts, until none comes for a moment
            await asyncio.sleep(0.3)
            if len(self.received()[after:]) == len(parts):
                return "\n".join(parts)
            parts = self.received()[after:]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@asynccontextmanager
async def running(db: Database, clock: FrozenClock) -> AsyncIterator[Running]:
    await load_tutor_studio(db, clock)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with TwilioStandIn(ACCOUNT, TWILIO_TOKEN) as twilio, aiohttp.ClientSession() as http:
        settings = Settings(
            database_url="unused",
            public_url=base,
            host="127.0.0.1",
            port=port,
            twilio_account_sid=ACCOUNT,
            twilio_auth_token=TWILIO_TOKEN,
            twilio_sms_from=OUR_NUMBER,
            twilio_api_base=twilio.base_url,
        )
        services = build(settings, db, clock)
        services.delivery.limits = UNLIMITED
        services.inbox.throttle = UNTHROTTLED  # a whole booking within seconds
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(settings, services, stop))
        try:
            await listening(port)
            yield Running(db, twilio, http, base)
        finally:
            stop.set()
            await serving


def option(screen: str, label_start: str) -> str:
    """The number of the one option whose label starts with `label_start`."""
    found = re.findall(rf"^(\d+)\. {re.escape(label_start)}", screen, re.MULTILINE)
    assert len(found) == 1, (label_start, screen)
    return str(found[0])


def options(screen: str) -> list[str]:
    """The labels of a screen's numbered options, in order."""
    return re.findall(r"^\d+\. (.*)$", screen, re.MULTILINE)


def times(screen: str) -> list[str]:
    return [label for label in options(screen) if label[:2].isdigit()]


async def choose(phone: Phone, screen: str, label_start: str, *, then: str) -> str:
    return await phone.text(option(screen, label_start), then=then)


def utc(value: Any) -> datetime:
    """A timestamp as either backend returns it, as an aware UTC datetime."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else cast(datetime, value)
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


async def to_days(phone: Phone, service: str = "Trial session") -> str:
    """From hello to Jake's days for `service`."""
    screen = await phone.text("hi", then="What would you like to do?")
    screen = await choose(phone, screen, "Book an appointment", then="What would you like to book?")
    screen = await choose(phone, screen, service, then="With whom?")
    return await choose(phone, screen, "Jake Miller", then="Choose a day:")


async def to_times(phone: Phone, day: str, service: str = "Trial session") -> str:
    return await choose(phone, await to_days(phone, service), day, then="choose a time.")


async def book(phone: Phone, day: str, time: str) -> str:
    """Book Jake's trial at `time` (a label's start) on `day`; the confirmation."""
    summary = await choose(phone, await to_times(phone, day), time, then="Please check")
    return await choose(phone, summary, "Confirm appointment", then="Booked!")


async def my_appointment(phone: Phone) -> str:
    mine = await phone.text("my", then="Your upcoming bookings")
    return await choose(
        phone, mine, "Trial session (30 min) with Jake Miller", then="Appointment #"
    )


async def test_book_a_trial_with_the_new_york_coach_in_madrid_time(
    db: Database, clock: FrozenClock
) -> None:
    async with running(db, clock) as bot:
        phone = Phone(bot, "+34600000101")
        days = await to_days(phone)
        assert "Times are in Madrid time (Europe/Madrid)." in days
        assert options(days)[:4] == ["Fri 20 Nov", "Mon 23 Nov", "Wed 25 Nov", "Fri 27 Nov"]

        screen = await choose(phone, days, "Mon 23 Nov", then="choose a time.")
        assert screen.startswith("Mon 23 Nov: choose a time.")
        # His Monday morning, 08:00-12:00 in New York, is 14:00-18:00 in Madrid.
        assert times(screen)[:3] == [
            "14:00 your time (08:00 in New York)",
            "14:30 your time (08:30 in New York)",
            "15:00 your time (09:00 in New York)",
        ]
        summary = await choose(phone, screen, "15:00 your time", then="Please check")
        assert "Trial session (30 min) with Jake Miller" in summary
        assert "Mon 23 Nov 2026, 15:00 your time (09:00 in New York)" in summary
        assert "Price: €10.00, paid at the studio." in summary
        assert "Free cancellation until Sun 22 Nov, 15:00." in summary

        done = await phone.text("yes", then="Booked!")
        [row] = await bot.appointments()
        assert f"Appointment #{row['id']}: Trial session (30 min) with Jake Miller" in done
        assert "Mon 23 Nov 2026, 15:00 your time (09:00 in New York)" in done
    assert row["status"] == "confirmed"
    assert utc(row["starts_at"]) == MONDAY_NINE_NY
    assert utc(row["ends_at"]) == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


async def test_a_customer_who_sets_london_sees_london_times_beside_new_york(
    db: Database, clock: FrozenClock
) -> None:
    async with running(db, clock) as bot:
        phone = Phone(bot, "+447700900141")
        menu = await phone.text("hi", then="What would you like to do?")
        await choose(phone, menu, "Language & time zone", then="change your time zone")
        await phone.text("time zone", then="To change it, type your city")
        await phone.text("London", then="Is it 09:00 where you are? (London, Europe/London)")
        await phone.text("yes", then="London time (Europe/London) from now on.")

        days = await to_days(phone)
        assert "Times are in London time (Europe/London)." in days
        screen = await choose(phone, days, "Mon 23 Nov", then="choose a time.")
        assert times(screen)[:3] == [
            "13:00 your time (08:00 in New York)",
            "13:30 your time (08:30 in New York)",
            "14:00 your time (09:00 in New York)",
        ]
        summary = await choose(phone, screen, "14:00 your time", then="Please check")
        assert "Mon 23 Nov 2026, 14:00 GMT your time (09:00 in New York)" in summary
        done = await phone.text("yes", then="Booked!")
        assert "Mon 23 Nov 2026, 14:00 GMT your time (09:00 in New York)" in done
        [row] = await bot.appointments()
    assert utc(row["starts_at"]) == MONDAY_NINE_NY


async def test_reschedule_the_trial_to_another_day(db: Database, clock: FrozenClock) -> None:
    async with running(db, clock) as bot:
        phone = Phone(bot, "+34600000102")
        await book(phone, "Mon 23 Nov", "15:00 your time")
        [before] = await bot.appointments()
        screen = await my_appointment(phone)
        assert "Free cancellation until Sun 22 Nov, 15:00." in screen
        days = await choose(phone, screen, "Reschedule", then="to another day:")
        screen = await choose(phone, days, "Wed 25 Nov", then="choose a time.")
        question = await choose(phone, screen, "15:30 your time", then="Move Trial")
        assert "from Mon 23 Nov 2026, 15:00 your time (09:00 in New York)" in question
        assert "to Wed 25 Nov 2026, 15:30 your time (09:30 in New York)?" in question
        moved = await phone.text("yes", then="Moved!")
        assert "Wed 25 Nov 2026, 15:30 your time (09:30 in New York)" in moved
        [after] = await bot.appointments()
    assert (after["id"], after["status"], after["sequence"]) == (before["id"], "confirmed", 1)
    assert utc(after["starts_at"]) == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    assert utc(after["busy_from"]) == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


async def test_cancelling_inside_the_cutoff_is_refused_with_the_policy(
    db: Database, clock: FrozenClock
) -> None:
    async with running(db, clock) as bot:
        phone = Phone(bot, "+34600000103")
        await book(phone, "Mon 23 Nov", "15:00 your time")
        seen = len(phone.received())
        clock.set(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))  # 14 hours before the start
        # The day-ahead reminder is due now: let it come before the next screen.
        reminder = await phone.wait_for("Reminder: your Trial session (30 min)", after=seen)
        assert "Mon 23 Nov 2026 15:00" in reminder

        screen = await my_appointment(phone)
        assert POLICY in screen
        assert "It can no longer be moved: moving closes 24 hours before the start." in screen
        assert not [label for label in options(screen) if "Cancel" in label]
        assert not [label for label in options(screen) if "Reschedule" in label]
        # The words of a cancel option that is not offered: not understood, and the screen
        # with the policy again. (A lone CANCEL would unsubscribe, as on every SMS line.)
        reply = await phone.text("cancel appointment", then="Sorry, I did not understand that.")
        assert POLICY in reply
        [row] = await bot.appointments()
    assert row["status"] == "confirmed"


async def test_two_customers_race_for_one_slot_and_exactly_one_wins(
    db: Database, clock: FrozenClock
) -> None:
    async with running(db, clock) as bot:
        ana, ben = Phone(bot, "+34600000104"), Phone(bot, "+34600000105")
        screens = [await to_times(ana, "Mon 23 Nov"), await to_times(ben, "Mon 23 Nov")]
        slot = "15:00 your time (09:00 in New York)"
        seen = [len(ana.received()), len(ben.received())]
        await asyncio.gather(ana.send(option(screens[0], slot)), ben.send(option(screens[1], slot)))
        outcomes = [
            await _outcome(phone, after) for phone, after in zip((ana, ben), seen, strict=True)
        ]
        winners = [i for i, text in enumerate(outcomes) if "Please check" in text]
        assert len(winners) == 1, outcomes
        winner = (ana, ben)[winners[0]]
        lost = outcomes[1 - winners[0]]
        assert "That time was just taken. Please pick another." in lost
        assert slot not in times(lost)
        assert "15:30 your time (09:30 in New York)" in times(lost)

        await winner.text("yes", then="Booked!")
        rows = await bot.appointments()
    assert [(r["status"], utc(r["starts_at"])) for r in rows] == [("confirmed", MONDAY_NINE_NY)]


async def _outcome(phone: Phone, after: int) -> str:
    """The reply to a chosen time: the summary (held) or the refusal with the day's times."""

    async def probe() -> str | None:
        parts = phone.received()[after:]
        done = any("Please check" in p or "just taken" in p for p in parts)
        return "\n".join(parts) if done else None

    await eventually(probe)
    await asyncio.sleep(0.3)  # the rest of the screen, if it came as several texts
    return "\n".join(phone.received()[after:])


async def test_the_coachs_class_blocks_the_overlapping_slots(
    db: Database, clock: FrozenClock
) -> None:
    """Jake teaches 10:00-11:00 New York time on Wednesdays from 2 Dec: that Wednesday offers
    no trial at 10:00 or 10:30 (16:00, 16:30 in Madrid), which the Wednesday before does; an
    hour's coaching with 15 minutes after it must start by 08:45 (14:45 in Madrid), and
    nothing fits between the class and his 12:00 break."""
    async with running(db, clock) as bot:
        trial = Phone(bot, "+34600000106")
        before = await to_times(trial, "Wed 25 Nov")
        assert "16:00 your time (10:00 in New York)" in times(before)
        assert "16:30 your time (10:30 in New York)" in times(before)
        days = await trial.text("back", then="Choose a day:")
        class_day = await choose(trial, days, "Wed 2 Dec", then="choose a time.")
        assert [label.split(" your time")[0] for label in times(class_day)] == [
            "14:00", "14:30", "15:00", "15:30", "17:00", "17:30",
            "19:00", "19:30", "20:00", "20:30", "21:00", "21:30",
        ]  # fmt: skip

        coaching = Phone(bot, "+34600000107")
        before = await to_times(coaching, "Wed 25 Nov", "Career coaching")
        assert times(before)[-1] == "16:45 your time (10:45 in New York)"
        days = await coaching.text("back", then="Choose a day:")
        class_day = await choose(coaching, days, "Wed 2 Dec", then="choose a time.")
        assert [label.split(" your time")[0] for label in times(class_day)] == [
            "14:00", "14:15", "14:30", "14:45",
            "19:00", "19:15", "19:30", "19:45", "20:00", "20:15", "20:30", "20:45",
        ]  # fmt: skip
        assert times(class_day)[3] == "14:45 your time (08:45 in New York)"


async def test_a_lapsed_hold_loses_the_race_of_the_two_confirms(
    db: Database, clock: FrozenClock
) -> None:
    """Ana's summary held the slot ten minutes and she left it longer; Ben then took it to his
    summary. Both text YES at once: Ben's live hold wins, Ana is shown other times."""
    slot = "15:00 your time (09:00 in New York)"
    async with running(db, clock) as bot:
        ana, ben = Phone(bot, "+34600000108"), Phone(bot, "+34600000109")
        ana_times, ben_times = await to_times(ana, "Mon 23 Nov"), await to_times(ben, "Mon 23 Nov")
        await choose(ana, ana_times, slot, then="Please check your appointment:")
        clock.advance(timedelta(minutes=11))
        await choose(ben, ben_times, slot, then="Please check your appointment:")
        seen = len(ana.received()), len(ben.received())
        await asyncio.gather(ana.send("yes"), ben.send("yes"))
        await ben.wait_for("Booked!", after=seen[1])
        lost = await ana.wait_for("That time was just taken. Please pick another.", after=seen[0])
        assert slot not in times(lost)
        assert "15:30 your time (09:30 in New York)" in times(lost)
        rows = await bot.appointments()
    confirmed = [r for r in rows if r["status"] == "confirmed"]
    assert [utc(r["starts_at"]) for r in confirmed] == [MONDAY_NINE_NY]
    assert len(rows) == 2  # Ana's hold stays as it ended, not confirmed
