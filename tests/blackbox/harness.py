"""A black-box harness for `bookbot run`: Twilio on both sides, the bot as a real process.

The bot runs as a subprocess (`python -m bookbot run`) against a demo database, with its
Twilio REST client pointed at `tests.twilio_standin.TwilioStandIn`, which runs in this
process and captures every SMS the bot sends. This module plays Twilio's other half too: it
POSTs inbound SMS to `/twilio/sms` as Twilio does (a signed form, one `MessageSid` each) and,
like Twilio, posts again (same `MessageSid`) whatever was not acknowledged with a 200:
connection refused or reset, a 5xx, a timeout.

What it checks is issue 10's promise: every acknowledged message gets exactly one answer,
through a kill -9, a clean stop (SIGTERM) or a REST outage. Per sender number it counts
the answers the stand-in captured: an *answer* is one reply, however many SMS parts the bot
split it into. A calibration run (one "Hi" from a number of its own, before the case) shows
what the answer to a first "Hi" looks like; an answer is then a captured message whose
first line is the calibration answer's first line (its later parts start otherwise).

Used by `tests/blackbox/test_inbound_durability.py` (small numbers, asserts) and
`bench/inbound.py` (the issue's numbers, a table).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import phonenumbers
from twilio.request_validator import RequestValidator

from tests.twilio_standin import TwilioStandIn

HOST = "127.0.0.1"
PUBLIC_URL = "https://bot.example.com"  # what Twilio signs against; the bot is told the same
SMS_PATH = "/twilio/sms"
ACCOUNT_SID = "AC" + "5b" * 16
AUTH_TOKEN = "blackbox-auth-token"
BOT_NUMBER = "+15005550006"  # the bot's own number (Twilio's magic test "From")
SMS_RATE = 200  # BOOKBOT_SMS_RATE: outbound SMS requests per second (ignored by older code)
WEBHOOK_TIMEOUT = 15.0  # Twilio waits 15 s for a webhook's answer
# UK mobile numbers phonenumbers calls valid (07700 900xxx, Ofcom's drama range, is not):
# customers are +447400123000 + i, the calibration, flood and bystander numbers sit apart.
CUSTOMER_BASE = 447400123000
CALIBRATION_NUMBER = "+447400124000"
FLOOD_NUMBER = "+447400124001"
BYSTANDER_NUMBER = "+447400124002"
BOT_COMMAND: tuple[str, ...] = (sys.executable, "-m", "bookbot")


class HarnessError(Exception):
    """The harness could not run a case (the bot did not start, no calibration answer...)."""


def customer_numbers(count: int) -> list[str]:
    """`count` distinct valid E.164 numbers, the same ones every run."""
    if not 0 < count <= 1000:
        raise ValueError("between 1 and 1,000 customers")
    numbers = [f"+{CUSTOMER_BASE + i}" for i in range(count)]
    for number in (numbers[0], numbers[-1]):
        if not phonenumbers.is_valid_number(phonenumbers.parse(number)):
            raise AssertionError(f"{number} is not a valid number")
    return numbers


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- the bot, a process --------------------------------------------------------------------


@dataclass
class Bot:
    """`bookbot run` as a subprocess, its output appended to `log_path`.

    `pythonpath` runs another checkout's source (e.g. a `git archive` of HEAD), since
    PYTHONPATH comes before the editable install on sys.path.
    """

    database_url: str
    api_base: str
    log_path: Path
    pythonpath: str | None = None
    port: int = field(default_factory=free_port)
    command: tuple[str, ...] = BOT_COMMAND
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOOKBOT_", "TWILIO_"))}
        env.update(
            BOOKBOT_DATABASE_URL=self.database_url,
            BOOKBOT_PUBLIC_URL=PUBLIC_URL,
            BOOKBOT_HOST=HOST,
            BOOKBOT_PORT=str(self.port),
            BOOKBOT_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            BOOKBOT_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            BOOKBOT_TWILIO_SMS_FROM=BOT_NUMBER,
            BOOKBOT_TWILIO_API_BASE=self.api_base,
            BOOKBOT_SMS_RATE=str(SMS_RATE),
            PYTHONUNBUFFERED="1",
        )
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [self.pythonpath, env.get("PYTHONPATH")])
            )
        return env

    async def prepare_database(self, weeks: int = 2) -> None:
        """`bookbot demo`: migrate, load the example studio, generate its sessions."""
        await asyncio.to_thread(self._run_demo, weeks)

    def _run_demo(self, weeks: int) -> None:
        done = subprocess.run(
            [*self.command, "demo", "--weeks", str(weeks)],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise HarnessError(f"bookbot demo failed ({done.returncode}):\n{done.stderr[-3000:]}")

    async def start(self, within: float = 30.0) -> None:
        """Start `bookbot run` and wait until /healthz answers."""
        if self.running:
            raise HarnessError("the bot is already running")
        self.process = self._spawn()
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
            while True:
                if self.process.poll() is not None:
                    raise HarnessError(
                        f"bookbot run exited ({self.process.returncode}) while starting:\n"
                        + self.log_tail()
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    self.kill()
                    await self.wait_exit(5)
                    raise HarnessError(f"bookbot run not healthy within {within:g} s")
                await asyncio.sleep(0.05)

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts} ===\n".encode())
            log.flush()
            return subprocess.Popen(
                [*self.command, "run"], env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send_signal(self, sig: signal.Signals) -> None:
        if self.running:
            assert self.process is not None  # running says so
            self.process.send_signal(sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    async def wait_exit(self, within: float) -> int | None:
        """The exit status once the process has ended; None if it still runs after `within`."""
        if self.process is None:
            return None
        deadline = time.monotonic() + within
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.02)
        return self.process.returncode

    async def stop(self, within: float = 20.0) -> int | None:
        """SIGTERM, and SIGKILL if it has not ended within `within` s (None then)."""
        if not self.running:
            return None if self.process is None else self.process.returncode
        self.send_signal(signal.SIGTERM)
        status = await self.wait_exit(within)
        if status is None:
            self.kill()
            await self.wait_exit(10)
        return status

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


# --- Twilio's side: inbound webhooks -------------------------------------------------------


@dataclass
class Inbound:
    """One inbound SMS, as Twilio holds it: posted until acknowledged, same MessageSid."""

    number: str
    body: str = "Hi"
    sid: str = field(default_factory=message_sid)
    first_posted_at: float | None = None  # time.monotonic()
    acknowledged_at: float | None = None
    outcomes: list[str] = field(default_factory=list)  # "200", "503", "refused", "timeout"...

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def form(self) -> dict[str, str]:
        return {
            "ToCountry": "US",
            "SmsMessageSid": self.sid,
            "NumMedia": "0",
            "SmsSid": self.sid,
            "SmsStatus": "received",
            "Body": self.body,
            "To": BOT_NUMBER,
            "NumSegments": "1",
            "MessageSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.number,
            "FromCountry": "GB",
            "ApiVersion": "2010-04-01",
        }


class Webhooks:
    """Posts inbound SMS to the bot, signed as Twilio signs them."""

    def __init__(self, bot_url: str, *, in_flight: int = 50) -> None:
        self.bot_url = bot_url
        self.validator = RequestValidator(AUTH_TOKEN)
        self.in_flight = in_flight
        self.posts = 0
        self.acks = 0
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Webhooks:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.in_flight),
            timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, message: Inbound) -> bool:
        """One delivery attempt; True if the bot acknowledged it (HTTP 200)."""
        assert self._session is not None  # used inside `async with`
        form = message.form()
        signature = self.validator.compute_signature(PUBLIC_URL + SMS_PATH, form)
        if message.first_posted_at is None:
            message.first_posted_at = time.monotonic()
        self.posts += 1
        try:
            async with self._session.post(
                self.bot_url + SMS_PATH, data=form, headers={"X-Twilio-Signature": signature}
            ) as response:
                await response.read()
                outcome = str(response.status)
        except aiohttp.ClientConnectorError:
            outcome = "refused"
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            outcome = "reset"
        except aiohttp.ClientError as error:
            outcome = type(error).__name__
        except TimeoutError:
            outcome = "timeout"
        message.outcomes.append(outcome)
        if outcome == "200" and message.acknowledged_at is None:
            message.acknowledged_at = time.monotonic()
            self.acks += 1
            return True
        return outcome == "200"

    async def post_all(
        self,
        messages: Sequence[Inbound],
        *,
        rate: float | None = None,
        on_ack: Callable[[int], None] | None = None,
    ) -> None:
        """Post each once (at most `in_flight` at a time; paced at `rate`/s if given).
        `on_ack(n)` runs as each of them is first acknowledged, the n-th of these."""
        gate = asyncio.Semaphore(self.in_flight)
        began = time.monotonic()
        acks = 0

        async def one(index: int, message: Inbound) -> None:
            nonlocal acks
            if rate:
                await asyncio.sleep(max(0.0, began + index / rate - time.monotonic()))
            async with gate:
                was_acknowledged = message.acknowledged
                if await self.post(message) and not was_acknowledged:
                    acks += 1
                    if on_ack is not None:
                        on_ack(acks)

        await asyncio.gather(*(one(i, m) for i, m in enumerate(messages)))

    async def redeliver(
        self, messages: Sequence[Inbound], *, within: float = 30.0, pause: float = 0.5
    ) -> None:
        """Twilio's retry: post the unacknowledged ones again until all are acknowledged or
        `within` s have passed."""
        deadline = time.monotonic() + within
        while pending := [m for m in messages if not m.acknowledged]:
            await self.post_all(pending)
            if time.monotonic() > deadline:
                return
            if any(not m.acknowledged for m in pending):
                await asyncio.sleep(pause)


# --- counting answers ----------------------------------------------------------------------


def first_line(body: str) -> str:
    return body.split("\n", 1)[0].strip()


@dataclass(frozen=True)
class AnswerShape:
    """What the bot's answer to a first "Hi" looks like: its SMS parts' first lines."""

    parts: tuple[str, ...]

    @property
    def opening(self) -> str:
        return first_line(self.parts[0])

    def replies(self, standin: TwilioStandIn, numbers: Iterable[str]) -> dict[str, list[float]]:
        """Per number, when each reply (its first SMS part) reached the stand-in.

        A reply is every captured message but the later parts of a split answer: an answer to
        Hi, and anything else the bot said (an error, a second menu), which is one too many.
        """
        wanted = set(numbers)
        later = {first_line(p) for p in self.parts[1:]} - {self.opening}
        found: dict[str, list[float]] = {n: [] for n in wanted}
        for message, at in zip(standin.messages, standin.received_at, strict=True):
            to = message.get("To", "")
            if to in wanted and first_line(message.get("Body", "")) not in later:
                found[to].append(at)
        return found

    def others(self, standin: TwilioStandIn, numbers: Iterable[str]) -> int:
        """Messages to these numbers that are neither an answer nor one of its later parts."""
        wanted, known = set(numbers), {first_line(p) for p in self.parts}
        return sum(
            1
            for m in standin.messages
            if m.get("To") in wanted and first_line(m.get("Body", "")) not in known
        )


async def calibrate(
    webhooks: Webhooks, standin: TwilioStandIn, *, within: float = 20.0, quiet: float = 1.0
) -> AnswerShape:
    """Post one "Hi" from a number of its own; the answer's parts, once they stop coming."""
    message = Inbound(CALIBRATION_NUMBER)
    deadline = time.monotonic() + within
    while not await webhooks.post(message):
        if time.monotonic() > deadline:
            raise HarnessError(f"calibration: the bot never acknowledged ({message.outcomes})")
        await asyncio.sleep(0.2)
    while True:
        got = [
            (m["Body"], at)
            for m, at in zip(standin.messages, standin.received_at, strict=True)
            if m.get("To") == CALIBRATION_NUMBER
        ]
        now = time.monotonic()
        if got and now - got[-1][1] >= quiet:
            return AnswerShape(tuple(body for body, _ in got))
        if now > deadline:
            raise HarnessError(f"calibration: no answer to a lone Hi within {within:g} s")
        await asyncio.sleep(0.05)


async def settle(
    standin: TwilioStandIn,
    complete: Callable[[], bool],
    *,
    quiet: float = 3.0,
    idle: float = 12.0,
    within: float = 90.0,
) -> str:
    """Wait until the bot is done sending; say why it was judged done.

    "complete": `complete()` holds and nothing new was captured for `quiet` s (so late
    duplicates are still seen); "idle": no request of any kind reached the stand-in for
    `idle` s (counted from the end of an outage: a bot backing off is not idle); "deadline":
    `within` s passed.
    """
    began = time.monotonic()
    while True:
        now = time.monotonic()
        last_capture = max([began, *standin.received_at[-1:]])
        last_request = max(began, standin.last_request_at or began, standin.outage_until)
        if complete() and now - last_capture >= quiet:
            return "complete"
        if now - last_request >= idle:
            return "idle"
        if now - began >= within:
            return "deadline"
        await asyncio.sleep(0.05)


# --- cases ---------------------------------------------------------------------------------


@dataclass
class CaseResult:
    backend: str
    case: str
    posted: int  # messages (distinct MessageSids)
    posts: int  # HTTP requests, Twilio's retries included
    acknowledged: int  # messages the bot answered 200 to, at some attempt
    acked_at_stop: int | None  # acknowledged when the stop signal went
    answered: int  # numbers with at least one answer
    lost: int  # acknowledged numbers without an answer
    duplicated: int  # numbers with more than one answer
    unacknowledged: int  # never acknowledged, even after the retries
    p50: float | None  # seconds from a message's first POST to its answer reaching Twilio
    p95: float | None
    slowest: float | None
    seconds: float
    settled: str  # how the wait for the last sends ended (see `settle`)
    notes: list[str] = field(default_factory=list)
    lost_numbers: list[str] = field(default_factory=list)
    duplicated_numbers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.unacknowledged == 0

    def summary(self) -> str:
        return (
            f"{self.backend} {self.case}: posted {self.posted}, acknowledged {self.acknowledged}"
            f" (at the stop: {self.acked_at_stop}), answered {self.answered}, lost {self.lost},"
            f" duplicated {self.duplicated}, never acknowledged {self.unacknowledged},"
            f" settled: {self.settled}; " + "; ".join(self.notes)
        )


def outcome_counts(messages: Iterable[Inbound]) -> str:
    counts: dict[str, int] = {}
    for message in messages:
        for outcome in message.outcomes:
            counts[outcome] = counts.get(outcome, 0) + 1
    return ", ".join(f"{n} {o}" for o, n in sorted(counts.items(), key=lambda kv: -kv[1]))


@dataclass
class Timings:
    """How long the harness waits; the test uses shorter ones than the bench."""

    quiet: float = 3.0  # nothing new captured for this long once every number is answered
    idle: float = 12.0  # no request at all to the stand-in for this long: the bot is done
    settle_within: float = 90.0
    stop_within: float = 30.0  # for the process to exit after SIGTERM before it is killed
    redeliver_within: float = 30.0
    calibration_quiet: float = 1.0  # the calibration answer's parts have all come


class Harness:
    """One backend's bot process and stand-in; the cases run one after the other."""

    def __init__(
        self,
        backend: str,
        database_url: str,
        workdir: Path,
        *,
        pythonpath: str | None = None,
        timings: Timings | None = None,
    ) -> None:
        self.backend = backend
        self.database_url = database_url
        self.workdir = workdir
        self.pythonpath = pythonpath
        self.timings = timings or Timings()
        self.standin = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN)
        self.bot: Bot | None = None
        self.shape: AnswerShape | None = None

    async def __aenter__(self) -> Harness:
        await self.standin.__aenter__()
        self.bot = Bot(
            self.database_url,
            self.standin.base_url,
            self.workdir / f"bot-{self.backend}.log",
            pythonpath=self.pythonpath,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.bot is not None:
                await self.bot.stop()
        finally:
            await self.standin.__aexit__(None, None, None)

    def _bot(self) -> Bot:
        if self.bot is None:
            raise HarnessError("use the harness inside `async with`")
        return self.bot

    async def prepare(self) -> None:
        """Load the demo studio (the database must be empty or already a demo)."""
        await self._bot().prepare_database()

    async def _started(self, webhooks: Webhooks) -> AnswerShape:
        bot = self._bot()
        if not bot.running:
            await bot.start()
        if self.shape is None:
            self.shape = await calibrate(
                webhooks, self.standin, quiet=self.timings.calibration_quiet
            )
        return self.shape

    async def stop_case(self, sig: signal.Signals, messages: int, stop_after: int) -> CaseResult:
        """A burst of first messages; `sig` once `stop_after` are acknowledged; restart;
        Twilio's retries of the unacknowledged; count the answers."""
        bot, timings = self._bot(), self.timings
        case = "kill -9" if sig is signal.SIGKILL else "SIGTERM"
        async with Webhooks(bot.url) as webhooks:
            shape = await self._started(webhooks)
            began = time.monotonic()
            burst = [Inbound(n) for n in customer_numbers(messages)]
            at_stop: list[int] = []

            def stop_at(acks: int) -> None:
                if acks >= stop_after and not at_stop:
                    bot.send_signal(sig)
                    at_stop.append(acks)

            await webhooks.post_all(burst, on_ack=stop_at)
            notes = [f"burst: {outcome_counts(burst)}"]
            if not at_stop:  # fewer acknowledgements than stop_after: stop after the burst
                bot.send_signal(sig)
                at_stop.append(sum(m.acknowledged for m in burst))
                notes.append(f"only {at_stop[0]} acknowledged in the burst")
            if await bot.wait_exit(timings.stop_within) is None:
                bot.kill()
                await bot.wait_exit(10)
                notes.append(f"still running {timings.stop_within:g} s after {sig.name}: killed")
            acked_before = sum(m.acknowledged for m in burst)
            await bot.start()
            await webhooks.redeliver(burst, within=timings.redeliver_within)
            acked_after = sum(m.acknowledged for m in burst) - acked_before
            notes.append(f"acknowledged before the restart {acked_before}, after {acked_after}")
            settled = await self._settle(burst, shape)
        return self._tally(
            case, burst, shape, began=began, settled=settled, acked_at_stop=at_stop[0], notes=notes
        )

    async def outage_case(self, messages: int, outage: float = 10.0) -> CaseResult:
        """The REST API fails for `outage` s from just before a burst of first messages."""
        bot = self._bot()
        async with Webhooks(bot.url) as webhooks:
            shape = await self._started(webhooks)
            began = time.monotonic()
            burst = [Inbound(n) for n in customer_numbers(messages)]
            failed_before = self.standin.requests
            self.standin.outage(outage)
            await webhooks.post_all(burst)
            await webhooks.redeliver(burst, within=self.timings.redeliver_within)
            settled = await self._settle(burst, shape)
            notes = [
                f"burst: {outcome_counts(burst)}",
                f"{self.standin.requests - failed_before} REST requests in all",
            ]
        return self._tally("outage", burst, shape, began=began, settled=settled, notes=notes)

    def _tally(
        self,
        case: str,
        messages: Sequence[Inbound],
        shape: AnswerShape,
        *,
        began: float,
        settled: str,
        acked_at_stop: int | None = None,
        notes: list[str] | None = None,
    ) -> CaseResult:
        """One message per number: count each number's replies."""
        by_number = {m.number: m for m in messages}
        if len(by_number) != len(messages):
            raise ValueError("tally counts one message per number")
        answers = shape.replies(self.standin, by_number)
        acked = [m for m in messages if m.acknowledged]
        lost = sorted(m.number for m in acked if not answers[m.number])
        duplicated = sorted(n for n, times in answers.items() if len(times) > 1)
        latencies = [
            answers[m.number][0] - m.first_posted_at
            for m in messages
            if answers[m.number] and m.first_posted_at is not None
        ]
        notes = list(notes or [])
        if others := shape.others(self.standin, by_number):
            notes.append(f"{others} captured message(s) that are not part of an answer to Hi")
        return CaseResult(
            backend=self.backend,
            case=case,
            posted=len(messages),
            posts=sum(len(m.outcomes) for m in messages),
            acknowledged=len(acked),
            acked_at_stop=acked_at_stop,
            answered=sum(1 for times in answers.values() if times),
            lost=len(lost),
            duplicated=len(duplicated),
            unacknowledged=len(messages) - len(acked),
            p50=percentile(latencies, 50),
            p95=percentile(latencies, 95),
            slowest=max(latencies, default=None),
            seconds=time.monotonic() - began,
            settled=settled,
            notes=notes,
            lost_numbers=lost,
            duplicated_numbers=duplicated,
        )

    async def _settle(self, burst: Sequence[Inbound], shape: AnswerShape) -> str:
        numbers = [m.number for m in burst if m.acknowledged]

        def complete() -> bool:
            answers = shape.replies(self.standin, numbers)
            return all(answers[n] for n in numbers)

        timings = self.timings
        return await settle(
            self.standin,
            complete,
            quiet=timings.quiet,
            idle=timings.idle,
            within=timings.settle_within,
        )

    async def flood_case(
        self, rate: float = 500.0, seconds: float = 5.0, every: float = 0.5
    ) -> FloodResult:
        """One number posts `rate`/s for `seconds` s while a bystander posts every `every` s;
        the bystander's answer latency."""
        bot = self._bot()
        async with Webhooks(bot.url) as flood_hooks, Webhooks(bot.url, in_flight=4) as hooks:
            shape = await self._started(flood_hooks)
            memory = Memory(bot.process.pid if bot.process else None)
            sampling = asyncio.create_task(memory.sample())
            began = time.monotonic()
            flood = [Inbound(FLOOD_NUMBER) for _ in range(int(rate * seconds))]
            bystander = [Inbound(BYSTANDER_NUMBER) for _ in range(int(seconds / every))]

            async def bystanding() -> None:
                for i, message in enumerate(bystander):
                    await asyncio.sleep(max(0.0, began + i * every - time.monotonic()))
                    await hooks.post(message)

            await asyncio.gather(flood_hooks.post_all(flood, rate=rate), bystanding())
            flood_done = time.monotonic()
            await hooks.redeliver(bystander, within=self.timings.redeliver_within)
            acked = sum(m.acknowledged for m in bystander)

            def complete() -> bool:
                replies = shape.replies(self.standin, [BYSTANDER_NUMBER])
                return len(replies[BYSTANDER_NUMBER]) >= acked

            settled = await settle(
                self.standin, complete, quiet=self.timings.quiet, idle=self.timings.idle,
                within=self.timings.settle_within,
            )  # fmt: skip
            await asyncio.sleep(5.0)  # the burst is over: does the memory go back down?
            sampling.cancel()
            rss_after = memory.now()
        # The bystander's k-th reply goes with its k-th acknowledged message (in order).
        replies = shape.replies(self.standin, [BYSTANDER_NUMBER])[BYSTANDER_NUMBER]
        posted_at = [m.first_posted_at for m in bystander if m.acknowledged and m.first_posted_at]
        latencies = [at - t for t, at in zip(posted_at, replies, strict=False)]
        return FloodResult(
            backend=self.backend,
            flood_posted=len(flood),
            flood_acknowledged=sum(m.acknowledged for m in flood),
            flood_post_rate=len(flood) / max(flood_done - began, 1e-9),
            flood_replies=len(shape.replies(self.standin, [FLOOD_NUMBER])[FLOOD_NUMBER]),
            bystander_posted=len(bystander),
            bystander_acknowledged=acked,
            bystander_replies=len(replies),
            p50=percentile(latencies, 50),
            p95=percentile(latencies, 95),
            seconds=time.monotonic() - began,
            settled=settled,
            shape_parts=len(shape.parts),
            rss_before=memory.before,
            rss_peak=memory.peak,
            rss_after=rss_after,
        )


class Memory:
    """The bot process's resident memory (MiB, from /proc): before, at its peak, now."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.before = self.now()
        self.peak = self.before

    def now(self) -> float | None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        kib = next(
            (line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")), None
        )
        return int(kib) / 1024 if kib else None

    async def sample(self) -> None:
        while True:
            current = self.now()
            if current is not None and (self.peak is None or current > self.peak):
                self.peak = current
            await asyncio.sleep(0.2)


@dataclass
class FloodResult:
    backend: str
    flood_posted: int
    flood_acknowledged: int
    flood_post_rate: float
    flood_replies: int  # replies captured for the flooding number
    bystander_posted: int
    bystander_acknowledged: int
    bystander_replies: int
    p50: float | None
    p95: float | None
    seconds: float
    settled: str
    shape_parts: int
    rss_before: float | None = None  # MiB
    rss_peak: float | None = None
    rss_after: float | None = None  # 5 s after the burst settled
