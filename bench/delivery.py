"""Delivery throughput and durability: the outbox worker against a local stand-in channel.

On SQLite and (when configured) PostgreSQL, it queues due reminders with
`bookbot.services.outbox.enqueue` and delivers them with `bookbot.jobs.delivery.DeliveryWorker`
(real time: `SystemClock`, since rate limits are real time) through a bench `Transport` that
POSTs each message to a stand-in channel. The stand-in is a small aiohttp server in its own
process (so it does not share the worker's event loop, and outlives a killed worker): it
counts every POST per dedupe key and, the first time it sees a key, answers a fraction of
them (`--reject`, default 2%) with Telegram's 429 `{"parameters": {"retry_after": 1}}`.

Runs, per backend:

* limit: `--messages` (10,000) reminders in all. The first `--slow-messages` (300, i.e.
  ~10 s) are queued and delivered at Telegram's real limit, `--slow-limit` 30/s; then the
  rest are queued and a fresh worker delivers them at a raised limit, `--fast-limit`
  1,000/s, to show the loop's own ceiling. The per-chat limit stays at Telegram's 1/s: every reminder goes
  to a distinct chat (the address is the outbox id), as reminders for different
  customers do, so it never binds here.
* stop runs: three times another `--crash-messages` (10,000) reminders; a worker in a
  subprocess (`bench/delivery.py --worker ...`, limit `--fast-limit`) is stopped once the
  stand-in has accepted half of them, then a fresh worker delivers until none is left:
  - "kill, asks": SIGKILL, and the fresh worker asks the stand-in (`GET /arrived`) about
    each in-doubt row (a send that began and was never marked), as the Twilio transport
    asks Twilio;
  - "kill, can't ask": SIGKILL, and the fresh worker cannot ask, as with Telegram, so it
    sends in-doubt rows again;
  - "stop, can't ask": SIGTERM, which the worker handles as `bookbot run` does (finish
    the sends under way, give back the rest).
  These runs use a short lease, `--lease` 2 s (the worker's default, which the limit runs
  use, is 10 s, renewed while held), so the rows the dead worker left 'sending' are
  reclaimed quickly. `--crash-runs` repeats the three.

What is measured: sends/s is the stand-in's count of POSTs (429s included: the limit caps
requests, not successes) over the span from a run's first POST to its last first-attempt
POST, i.e. while a backlog was due; it leaves out the idle tail where only a 429'd
message's retry (due `retry_after` later) is left. The seconds column is the run's whole
wall time, tail included. Duplicates are POSTs the stand-in accepted beyond one per key;
lost are queued keys it never accepted. The verdict is >= 90% of the configured limit with
0 duplicates and 0 lost; the stop runs are judged on duplicates and lost only (their time
includes the kill, the restart and the lease wait), and "kill, can't ask" on lost only:
there the sends the channel had taken but the dead worker had not marked are sent again
(at least once), and the bench reports how many there were.

Run from the repository root:

    PYTHONPATH=src python bench/delivery.py [--postgres-url URL] [--only sqlite|postgresql]
                                            [--messages N] [--slow-limit R] [--fast-limit R]
                                            [--crash-runs K] [--lease S] [--reject F] [--smoke]

It takes about 1.5-2 minutes with both backends. `--fast-limit 0` removes the channel
limit, which shows the loop's ceiling without the rate limiter. It exits 1 when any row
misses its verdict or a run errs. The last line, "check: ok" or "check: FAILED", judges
correctness alone (nothing lost, no duplicate where one is judged). `--smoke` is a quick
correctness run (200 reminders, 30 of them slow, 200 per stop run; rates not judged), which
tests/test_benches.py runs.

SQLite uses a fresh temporary file. PostgreSQL comes from --postgres-url, else
BOOKBOT_BENCH_POSTGRES_URL, else BOOKBOT_TEST_POSTGRES_URL, and is skipped with a note when
none is set. WARNING: the bench wipes that database's `public` schema (DROP SCHEMA public
CASCADE) and migrates it afresh, so it refuses a database whose name does not contain
"test" or "bench"; do not point it at a database a test run is using at the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import aiohttp
import asyncpg
from aiohttp import web

from bookbot.engine.clock import SystemClock
from bookbot.jobs.delivery import DeliveryStats, DeliveryWorker, RateLimits
from bookbot.services import outbox
from bookbot.services.outbox import OutboundMessage
from bookbot.services.transport import DeliveryError, Route
from bookbot.store import migrate
from bookbot.store.db import Database, connect
from disposable_postgres import postgres_url, refuse_unless_disposable, wipe
from machine_line import machine_line

TARGET = 0.9
CHANNEL = "telegram"
HOST = "127.0.0.1"
ENQUEUE_CHUNK = 1000  # reminders per enqueue transaction
DRAIN_TIMEOUT = 120.0  # seconds a run may take before the bench gives up on it
SMOKE_SIZES = (200, 30, 200)  # --smoke: --messages, --slow-messages, --crash-messages
DEFAULT_LEASE = DeliveryWorker.lease.total_seconds()  # the limit runs' lease, as deployed
SCRIPT = str(Path(__file__).resolve())  # the bench starts itself as stand-in and worker

Event = tuple[float, int, bool]  # (stand-in monotonic time, HTTP status, first POST of the key)


# --- the stand-in channel (its own process) ----------------------------------------------


class StandIn:
    """POST /send {dedupe_key, address}: 200, or 429 for a fraction of first sightings."""

    def __init__(self, reject: float, seed: int) -> None:
        self.reject = reject
        self.rng = random.Random(seed)
        self.seen: set[str] = set()
        self.accepted: dict[str, int] = {}
        self.total_accepted = 0
        self.events: list[Event] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/send", self.send)
        app.router.add_get("/count", self.count)
        app.router.add_get("/events", self.list_events)
        app.router.add_get("/accepted", self.list_accepted)
        app.router.add_get("/arrived", self.arrived)
        return app

    async def arrived(self, request: web.Request) -> web.Response:
        """How many times a key was accepted: what a channel like Twilio can be asked."""
        return web.json_response({"count": self.accepted.get(request.query["key"], 0)})

    async def send(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = str(body["dedupe_key"])
        first = key not in self.seen
        self.seen.add(key)
        now = time.monotonic()
        if first and self.rng.random() < self.reject:
            self.events.append((now, 429, True))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        self.accepted[key] = self.accepted.get(key, 0) + 1
        self.total_accepted += 1
        self.events.append((now, 200, first))
        return web.json_response({"ok": True})

    async def count(self, _request: web.Request) -> web.Response:
        return web.json_response({"events": len(self.events), "accepted": self.total_accepted})

    async def list_events(self, request: web.Request) -> web.Response:
        start = int(request.query.get("from", "0"))
        return web.json_response(self.events[start:])

    async def list_accepted(self, request: web.Request) -> web.Response:
        prefix = request.query.get("prefix", "")
        return web.json_response({k: n for k, n in self.accepted.items() if k.startswith(prefix)})


async def serve_standin(reject: float, seed: int) -> None:
    """Serve on a free port of 127.0.0.1, print its URL, run until terminated."""
    runner = web.AppRunner(StandIn(reject, seed).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    print(f"http://{HOST}:{runner.addresses[0][1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


class StandInClient:
    """The bench's view of the stand-in's counters."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def _get(self, path: str, **query: str) -> Any:
        async with self.session.get(f"{self.base_url}{path}", params=query) as response:
            response.raise_for_status()
            return await response.json()

    async def count(self) -> tuple[int, int]:
        """(events so far, POSTs accepted so far)."""
        found = await self._get("/count")
        return int(found["events"]), int(found["accepted"])

    async def events(self, start: int) -> list[Event]:
        return [
            (float(t), int(s), bool(f))
            for t, s, f in await self._get("/events", **{"from": str(start)})
        ]

    async def accepted(self, prefix: str) -> dict[str, int]:
        return {str(k): int(n) for k, n in (await self._get("/accepted", prefix=prefix)).items()}


# --- the bench transport and worker ---------------------------------------------------------


class StandInTransport:
    """A `Transport` that POSTs to the stand-in on one reused `aiohttp.ClientSession`.
    `can_confirm`: after a crash it asks the stand-in whether a send arrived, as the Twilio
    transport asks Twilio; without it, it cannot say, like Telegram."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, *, can_confirm: bool = True
    ) -> None:
        self.session = session
        self.base_url = base_url
        self.url = f"{base_url}/send"
        self.can_confirm = can_confirm

    async def already_sent(
        self,
        message: OutboundMessage,
        route: Route,  # noqa: ARG002 - the stand-in records by message key alone
        since: datetime,  # noqa: ARG002
    ) -> bool | None:
        if not self.can_confirm:
            return None
        try:
            url = f"{self.base_url}/arrived"
            async with self.session.get(url, params={"key": message.dedupe_key}) as response:
                response.raise_for_status()
                return int((await response.json())["count"]) > 0
        except aiohttp.ClientError as error:
            raise DeliveryError(f"stand-in unreachable: {error}") from error

    async def route(self, message: OutboundMessage) -> Route | None:
        return Route(CHANNEL, str(message.outbox_id))  # a distinct chat per reminder

    async def send(self, message: OutboundMessage, route: Route) -> None:
        payload = {"dedupe_key": message.dedupe_key, "address": route.address}
        try:
            async with self.session.post(self.url, json=payload) as response:
                status = response.status
                body = await response.json(content_type=None)
        except aiohttp.ClientError as error:
            raise DeliveryError(f"stand-in unreachable: {error}") from error
        if status == 200:
            return
        if status == 429:
            retry_after = float(body.get("parameters", {}).get("retry_after", 1))
            raise DeliveryError("429 Too Many Requests", retry_after=retry_after)
        raise DeliveryError(f"HTTP {status}", permanent=400 <= status < 500)


@dataclass(frozen=True)
class WorkerSettings:
    limit: float
    lease: float
    batch: int
    in_flight: int


def make_worker(
    db: Database, transport: StandInTransport, settings: WorkerSettings
) -> DeliveryWorker:
    """A worker at `limit`/s for Telegram (0: no channel limit), Telegram's 1/s per chat."""
    per_channel = {CHANNEL: settings.limit} if settings.limit else {}
    return DeliveryWorker(
        db,
        SystemClock(),
        transport,
        limits=RateLimits(per_channel=per_channel),
        batch=settings.batch,
        in_flight=settings.in_flight,
        lease=timedelta(seconds=settings.lease),
    )


async def outstanding(db: Database, prefix: str) -> int:
    """Rows of this run not finished yet (pending, possibly waiting out a retry, or leased)."""
    async with db.transaction(write=False) as tx:
        found = await tx.scalar(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')"
            " AND dedupe_key LIKE :prefix",
            {"prefix": f"{prefix}%"},
        )
    return int(found)


async def drain(worker: DeliveryWorker, db: Database, prefix: str) -> DeliveryStats:
    """`run_until_idle` until every row of the run is finished (it returns early while a
    429'd message waits out its retry_after or a dead worker's lease has not expired)."""
    total = DeliveryStats()
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while True:
        total.add(await worker.run_until_idle())
        if worker.stopping or await outstanding(db, prefix) == 0:
            return total
        if time.monotonic() > deadline:
            raise TimeoutError(f"{prefix}: rows still outstanding after {DRAIN_TIMEOUT:g} s")
        await asyncio.sleep(0.01)


async def run_worker_process(args: argparse.Namespace) -> None:
    """`--worker`: deliver everything due until killed, or until SIGTERM, which stops it as
    `bookbot run` and `bookbot jobs` stop (the sends under way finish, the rest go back)."""
    settings = WorkerSettings(args.fast_limit, args.lease, args.batch, args.in_flight)
    db = await connect(args.db)
    async with aiohttp.ClientSession() as session:
        worker = make_worker(db, StandInTransport(session, args.standin), settings)
        stopping: list[asyncio.Task[None]] = []
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGTERM, lambda: stopping.append(asyncio.create_task(worker.stop()))
        )
        await drain(worker, db, "")
        await asyncio.gather(*stopping)
    await db.close()


# --- queueing ---------------------------------------------------------------------------------


async def add_studio(db: Database) -> int:
    async with db.transaction() as tx:
        studio_id = await tx.scalar(
            "INSERT INTO studios (slug, name, timezone, currency, default_language)"
            " VALUES ('bench', 'Bench Studio', 'Europe/London', 'GBP', 'en') RETURNING id"
        )
    return int(studio_id)


async def queue(db: Database, studio_id: int, prefix: str, n: int, first: int = 0) -> list[str]:
    """Queue `n` reminders due now (numbered from `first`), `ENQUEUE_CHUNK` to a
    transaction; their dedupe keys."""
    keys = [f"{prefix}reminder-24h:reservation-{i}" for i in range(first, first + n)]
    clock = SystemClock()
    for start in range(0, n, ENQUEUE_CHUNK):
        now = clock.now()
        async with db.transaction() as tx:
            for i, key in enumerate(keys[start : start + ENQUEUE_CHUNK], first + start):
                await outbox.enqueue(
                    tx,
                    now=now,
                    studio_id=studio_id,
                    customer_id=None,
                    template="reminder_24h",
                    params={"reservation_id": i},
                    due_at=now,
                    dedupe_key=key,
                )
    return keys


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Row:
    backend: str
    run: str
    limit: float
    sends: int  # POSTs, 429s included
    delivered: int  # POSTs accepted
    seconds: float
    rate: float  # sends/s while a backlog was due
    duplicates: int | None = None
    lost: int | None = None
    judge_rate: bool = True
    judge_duplicates: bool = True
    window: int | None = None  # crash runs: keys accepted but not marked sent at the kill

    def problems(self) -> list[str]:
        found = []
        if self.judge_rate and self.limit and self.rate < TARGET * self.limit:
            found.append(f"{self.rate / self.limit:.0%} of the limit")
        if self.duplicates and self.judge_duplicates:
            found.append(f"duplicates: {self.duplicates:,}")
        if self.lost:
            found.append(f"lost: {self.lost:,}")
        return found


def backlog_rate(events: Sequence[Event]) -> float:
    """POSTs per second from the first POST to the last first-attempt POST."""
    firsts = [t for t, _, first in events if first]
    if not events or not firsts:
        return 0.0
    start, end = events[0][0], max(firsts)
    posts = sum(1 for t, _, _ in events if t <= end)
    return (posts - 1) / (end - start) if end > start else 0.0


def tally(keys: Sequence[str], accepted: dict[str, int]) -> tuple[int, int]:
    """(duplicates, lost) of queued `keys` against the stand-in's accepted counts."""
    duplicates = sum(n - 1 for n in accepted.values() if n > 1)
    lost = sum(1 for key in keys if key not in accepted)
    return duplicates, lost


@dataclass
class Bench:
    """What every run of one backend shares."""

    backend: str
    db: Database
    studio_id: int
    url: str
    standin: StandInClient
    transport: StandInTransport
    args: argparse.Namespace
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def settings(self, limit: float, lease: float = DEFAULT_LEASE) -> WorkerSettings:
        return WorkerSettings(limit, lease, self.args.batch, self.args.in_flight)

    async def measured(self, run: str, limit: float, began: float, mark: int) -> Row:
        seconds = time.perf_counter() - began
        events = await self.standin.events(mark)
        delivered = sum(1 for _, status, _ in events if status == 200)
        return Row(self.backend, run, limit, len(events), delivered, seconds, backlog_rate(events))

    async def limit_runs(self) -> None:
        """The first reminders at Telegram's limit, then the rest at the raised one."""
        args = self.args
        prefix = f"{self.backend}-rate:"
        keys = await queue(self.db, self.studio_id, prefix, args.slow_messages)
        mark, _ = await self.standin.count()
        began = time.perf_counter()
        slow = make_worker(self.db, self.transport, self.settings(args.slow_limit))
        await drain(slow, self.db, prefix)
        slow_row = await self.measured("telegram limit", args.slow_limit, began, mark)
        slow_row.duplicates, slow_row.lost = tally(keys, await self.standin.accepted(prefix))
        rest = args.messages - args.slow_messages
        keys += await queue(self.db, self.studio_id, prefix, rest, first=args.slow_messages)
        mark, _ = await self.standin.count()
        began = time.perf_counter()
        fast = make_worker(self.db, self.transport, self.settings(args.fast_limit))
        await drain(fast, self.db, prefix)
        fast_row = await self.measured("raised limit", args.fast_limit, began, mark)
        fast_row.duplicates, fast_row.lost = tally(keys, await self.standin.accepted(prefix))
        self.rows += [slow_row, fast_row] if args.slow_messages else [fast_row]

    async def crash_run(self, number: int, how: signal.Signals, *, can_confirm: bool) -> None:
        """Stop a worker subprocess halfway with `how` (SIGKILL: a crash; SIGTERM: a clean
        stop), restart in-process with a transport that can or cannot ask the channel about
        interrupted sends, and count duplicates and lost."""
        args = self.args
        prefix = f"{self.backend}-crash{number}:"
        keys = await queue(self.db, self.studio_id, prefix, args.crash_messages)
        mark, accepted_before = await self.standin.count()
        began = time.perf_counter()
        # Halfway, plus a random part of a batch so the kill does not land on a fixed phase.
        target = accepted_before + len(keys) // 2 + random.randint(0, args.batch)
        await self.kill_halfway(target, how)
        await asyncio.sleep(0.2)  # let the stand-in finish requests already on the wire
        window = await self.note_window(number, prefix, how)
        transport = StandInTransport(
            self.standin.session, self.standin.base_url, can_confirm=can_confirm
        )
        fresh = make_worker(self.db, transport, self.settings(args.fast_limit, args.lease))
        stats = await drain(fresh, self.db, prefix)
        kind = "kill" if how is signal.SIGKILL else "stop"
        asks = "asks" if can_confirm else "can't ask"
        row = await self.measured(f"{kind}, {asks}", args.fast_limit, began, mark)
        row.duplicates, row.lost = tally(keys, await self.standin.accepted(prefix))
        row.judge_rate = False
        # A channel that cannot be asked gets the interrupted sends again: at least once.
        row.judge_duplicates = can_confirm or how is not signal.SIGKILL
        row.window = window
        self.rows.append(row)
        self.notes.append(
            f"{self.backend} {row.run}: after the restart {stats.confirmed:,} interrupted"
            f" send(s) confirmed with the channel, {stats.resent_unsure:,} sent again unsure"
        )

    async def kill_halfway(self, accepted_target: int, how: signal.Signals) -> None:
        args = self.args
        command = [
            sys.executable,
            SCRIPT,
            "--worker",
            f"--db={self.url}",
            f"--standin={self.standin.base_url}",
            f"--fast-limit={args.fast_limit}",
            f"--lease={args.lease}",
            f"--batch={args.batch}",
            f"--in-flight={args.in_flight}",
        ]
        process = await asyncio.create_subprocess_exec(*command)
        try:
            while (await self.standin.count())[1] < accepted_target:
                if process.returncode is not None:
                    raise RuntimeError(f"worker exited early ({process.returncode})")
                await asyncio.sleep(0.005)
        finally:
            if process.returncode is None:
                # SIGKILL: no cleanup, rows stay 'sending'. SIGTERM: a clean stop.
                process.send_signal(how)
            await process.wait()

    async def note_window(self, number: int, prefix: str, how: signal.Signals) -> int:
        """Note what the dead worker left, per status; return how many keys the channel
        accepted that the worker had not marked sent (they will be sent again)."""
        async with self.db.transaction(write=False) as tx:
            rows = await tx.all(
                "SELECT dedupe_key, status FROM outbox WHERE dedupe_key LIKE :prefix",
                {"prefix": f"{prefix}%"},
            )
        status = {str(r[0]): str(r[1]) for r in rows}
        counts: dict[str, int] = {}
        for value in status.values():
            counts[value] = counts.get(value, 0) + 1
        accepted = await self.standin.accepted(prefix)
        unmarked = sum(1 for key in accepted if status.get(key) != "sent")
        listed = ", ".join(f"{n:,} {s}" for s, n in sorted(counts.items()))
        self.notes.append(
            f"{self.backend} run {number} after {how.name}: rows {listed}; the channel had"
            f" accepted {len(accepted):,} keys, {unmarked} of them not yet marked sent"
        )
        return unmarked


# --- backends ----------------------------------------------------------------------------------


async def run_backend(bench: Bench) -> None:
    await bench.limit_runs()
    runs = [(signal.SIGKILL, True), (signal.SIGKILL, False), (signal.SIGTERM, False)]
    for number, (how, can_confirm) in enumerate(runs * bench.args.crash_runs, 1):
        await bench.crash_run(number, how, can_confirm=can_confirm)


async def bench_on(
    backend: str, url: str, args: argparse.Namespace, standin: StandInClient, report: Report
) -> None:
    await migrate.upgrade_async(url)
    db = await connect(url)
    try:
        transport = StandInTransport(standin.session, standin.base_url)
        bench = Bench(backend, db, await add_studio(db), url, standin, transport, args)
        try:
            await run_backend(bench)
        finally:
            report.rows += bench.rows
            report.notes += bench.notes
    finally:
        await db.close()


async def start_standin(args: argparse.Namespace) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        SCRIPT,
        "--serve-standin",
        f"--reject={args.reject}",
        f"--seed={args.seed}",
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None  # noqa: S101 - PIPE was asked for
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    if not line.startswith(b"http://"):
        process.kill()
        await process.wait()
        raise RuntimeError("the stand-in did not start")
    return process, line.decode().strip()


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def run(args: argparse.Namespace, pg_url: str | None) -> Report:
    report = Report()
    process, base_url = await start_standin(args)
    try:
        async with aiohttp.ClientSession() as session:
            standin = StandInClient(session, base_url)
            if args.only in (None, "sqlite"):
                with tempfile.TemporaryDirectory(prefix="bookbot-bench-") as tmp:
                    url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                    await guarded("sqlite", url, args, standin, report)
            if args.only in (None, "postgresql"):
                await postgres(pg_url, args, standin, report)
    finally:
        process.terminate()
        await process.wait()
    return report


async def postgres(
    url: str | None, args: argparse.Namespace, standin: StandInClient, report: Report
) -> None:
    if url is None:
        report.setup.append(
            "postgresql: skipped (set --postgres-url, BOOKBOT_BENCH_POSTGRES_URL"
            " or BOOKBOT_TEST_POSTGRES_URL)"
        )
        return
    try:
        report.setup.append(f"postgresql server {await wipe(url)}")
    except (OSError, asyncpg.PostgresError) as error:
        report.failures.append(f"postgresql: cannot prepare {url}: {error}")
        return
    await guarded("postgresql", url, args, standin, report)


async def guarded(
    backend: str, url: str, args: argparse.Namespace, standin: StandInClient, report: Report
) -> None:
    """One backend; an error fails the run but the other backend still runs."""
    try:
        await bench_on(backend, url, args, standin, report)
    except Exception as error:  # any error fails the bench, reported at the end
        report.failures.append(f"{backend}: {type(error).__name__}: {error}")


# --- command line and report ---------------------------------------------------------------


def per_second(limit: float) -> str:
    return f"{limit:,g}/s" if limit else "none"


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def format_row(row: Row) -> str:
    share = f"{row.rate / row.limit:.0%}" if row.limit else "-"
    return (
        f"{row.backend:<11} {row.run:<15} {per_second(row.limit):>9} {row.sends:>8,}"
        f" {row.delivered:>9,} {row.seconds:>8.1f} {row.rate:>8,.1f} {share:>6}"
        f" {count(row.duplicates):>5} {count(row.lost):>5}"
    )


HEADINGS = (
    f"{'backend':<11} {'run':<15} {'limit':>9} {'sends':>8} {'delivered':>9} {'seconds':>8}"
    f" {'sends/s':>8} {'%limit':>6} {'dups':>5} {'lost':>5}"
)


def verdict(row: Row) -> str:
    problems = row.problems()
    what = "meets" if not problems else "FAILS"
    target = f">= {TARGET:.0%} of the limit, " if row.judge_rate and row.limit else ""
    dups = "0 duplicates, " if row.judge_duplicates else ""
    why = f" ({'; '.join(problems)})" if problems else ""
    lost = " (lost: counted after the next run)" if row.lost is None else ""
    if not row.judge_duplicates:
        lost += (
            f"; at least once: {count(row.duplicates)} duplicate(s), of {row.window} send(s)"
            " the channel had taken but the dead worker had not marked"
        )
    name = f"{row.backend:<11} {row.run:<15}"
    return f"{name} {what} {target}{dups}0 lost{why}{lost}"


def header(args: argparse.Namespace) -> str:
    return (
        f"bookbot delivery bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        f"{machine_line(aiohttp)}\n"
        f"workload: {args.messages:,} reminders (first {args.slow_messages:,} at"
        f" {per_second(args.slow_limit)}, the rest at {per_second(args.fast_limit)}),"
        f" then {args.crash_runs} x 3 x {args.crash_messages:,} stopped halfway (SIGKILL,"
        " restart asking the channel; SIGKILL, restart unable to ask; SIGTERM)"
        f" (lease {args.lease:g} s); a distinct chat per reminder (1/s per chat);"
        f" batch {args.batch}, in flight {args.in_flight};"
        f" stand-in answers 429 (retry_after 1 s) to {args.reject:.0%} of first sends"
    )


def print_report(report: Report) -> None:
    for note in report.setup:
        print(note)
    print()
    print(HEADINGS)
    for row in report.rows:
        print(format_row(row))
    print()
    for row in report.rows:
        print(verdict(row))
    print()
    for note in report.notes:
        print(note)
    for failure in report.failures:
        print(f"FAILURE: {failure}")
    wrong = [row for row in report.rows if row.lost or (row.duplicates and row.judge_duplicates)]
    if report.failures or wrong or not report.rows:
        print(f"check: FAILED ({len(wrong)} run(s) lost or repeated reminders)")
    else:
        print(f"check: ok ({len(report.rows)} runs, 0 lost, 0 duplicates where judged)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--postgres-url", help="a disposable test/bench database (it is wiped)")
    parser.add_argument("--messages", type=int, default=10_000, help="reminders for the limit runs")
    parser.add_argument("--slow-messages", type=int, default=300, help="sent at --slow-limit")
    parser.add_argument("--slow-limit", type=float, default=30.0, help="Telegram's: 30/s")
    parser.add_argument("--fast-limit", type=float, default=1000.0, help="raised (0: none)")
    parser.add_argument("--crash-messages", type=int, default=10_000)
    parser.add_argument("--crash-runs", type=int, default=1)
    parser.add_argument("--lease", type=float, default=2.0, help="seconds, for the crash runs")
    parser.add_argument("--batch", type=int, default=100, help="the worker's claim size")
    parser.add_argument("--in-flight", type=int, default=20, help="the worker's concurrency")
    parser.add_argument("--reject", type=float, default=0.02, help="429 share of first sends")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one backend")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a quick correctness run: few reminders, rates shown but not judged",
    )
    # internal: the processes the bench starts
    parser.add_argument("--serve-standin", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--standin", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        asyncio.run(run_worker_process(args))
        return 0
    if args.serve_standin:
        asyncio.run(serve_standin(args.reject, args.seed))
        return 0
    pg_url = postgres_url(args.postgres_url)
    if pg_url is not None:
        refuse_unless_disposable(pg_url)
    if args.smoke:
        args.messages, args.slow_messages, args.crash_messages = SMOKE_SIZES
    print(header(args), flush=True)
    report = asyncio.run(run(args, pg_url))
    if args.smoke:
        for row in report.rows:
            row.judge_rate = False
    print_report(report)
    failed = report.failures or any(row.problems() for row in report.rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
