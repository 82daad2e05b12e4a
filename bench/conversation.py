"""Conversation throughput: simulated customers booking by chat, database included.

It runs N simulated customers (default 1,000) through a full booking conversation on the
channel-agnostic conversation layer, `bookbot.conversations.dialogue.Dialogues.handle`,
with the real database underneath and no channel library on top, and measures:

* messages handled per second over the whole run (wall clock, all customers);
* latency per message: the time of each `handle` call (any wait for the database
  inside it included), as p50/p95/p99/max, overall and per conversation step.

Every customer has their own address and says, in order: "/start", "1" (book a class),
the class, a date, "2" (people), "confirm", then "my bookings" (7 messages). Even
customers type everything, as over SMS (the class by name, the date by its number);
odd customers press the buttons of the previous reply, as on Telegram (the `Inbound`
carries the option's token; no Telegram library is involved). Customers are spread
round-robin over three single-session classes of the example studio (Wheel Throwing
Taster, Saturday Glazing Workshop, Mug Making) and over the 6 dates its first page offers (`DATE_PAGE`).
Each reply is checked for what that step should show; a customer whose conversation
goes astray fails the run.

It is run with 1 and with 50 concurrent customers (tasks pulling customers from a shared
queue, each customer's messages in order, yielding between messages as separate people
would), each level on a fresh copy of the same seeded database, after a warm-up of
WARMUP customers whose messages are not timed. At the end of each level it checks in the
database that every customer (warm-up included) has exactly one confirmed booking for 2
people: it prints "check: ok", else the failures, and exits 1.

"in flight at once" reports how many `handle` calls were ever open together. On SQLite
that is 1 even with 50 customers: the driver runs on the event-loop thread and nothing
inside `handle` suspends unless another process holds the file's lock, so each message
runs start to finish and its latency is pure service time; concurrency only interleaves
50 open dialogues. A message arriving while the loop is busy would also wait for the
loop, which a closed-loop bench like this one does not see. On PostgreSQL the calls do
overlap (a pool of 10 connections) and the latency includes waiting for a connection.

The data: examples/clay-studio.toml loaded, sessions generated for HORIZON ahead of a
FrozenClock fixed at Friday 20 Nov 2026 09:00 UTC (before the first bookable session),
then, so that every customer finds 2 seats and 2 units of every equipment, the bench
raises (SQL, setup only) every session's capacity and every resource's quantity to
2 x ceil(customers / 18) (18 = 3 classes x 6 dates) where they are lower. The example's
own 6 seats and 8 wheels per session would take only 3-4 parties per date. On PostgreSQL
the seeded database is then ANALYZEd: a live database has planner statistics (autovacuum
gathers them within a minute of such a load), and without them the class list plans badly.
SQLite is left as `bookbot` leaves it.

The loop: the bench runs on the event loop `bookbot run` runs on (bookbot.cli.event_loop:
uvloop where it is installed, unless BOOKBOT_EVENT_LOOP=asyncio); --loop asyncio|uvloop
picks one to compare, and the header's machine line names the one in use.

Database work: during the warm-up (not timed), every statement the driver sends is counted
per message and step (asyncpg's calls; SQLite's statement trace): transactions (a BEGIN,
or a statement that commits by itself) and round trips (every statement, BEGIN and COMMIT
included; on SQLite there is no network, so these are statements). The dialogue's own
share (claiming and loading the dialogue, saving it) is told from the steps' by the
dispatcher frame on the stack; its least over the steps is the fixed cost of a message.

Targets (from the issues): on SQLite >= 500 messages/s and p95 < 20 ms per message; on
PostgreSQL >= 1,000 messages/s and p95 < 50 ms with 50 customers, and at most 3 round trips
of fixed cost per message; 2 cores. The verdict is printed per backend and concurrency;
missing it does not fail the run (only a failed check does).

Run from the repository root (the default SQLite run takes about 20 s on 2 cores;
--postgres-url adds about 70 s there):

    PYTHONPATH=src python bench/conversation.py [--customers N] [--concurrency 1,50]
                                                [--postgres-url URL] [--loop asyncio|uvloop]

SQLite uses fresh files in a temporary directory. With --postgres-url it also runs on
PostgreSQL. WARNING: that database's `public` schema is wiped (DROP SCHEMA public
CASCADE) and migrated afresh for every level, so it refuses a database whose name does
not contain "test" or "bench".
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import asyncpg

from bookbot.cli import event_loop
from bookbot.cli.demo import example_path
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.engine.clock import FrozenClock
from bookbot.services import generation
from bookbot.services.date_pages import DATE_PAGE
from bookbot.store import migrate
from bookbot.store.db import Database, connect
from bookbot.store.sqlite_db import SQLiteDatabase
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_file
from cpu_use import CpuMark, CpuUse, Floor, round_trip_floor
from disposable_postgres import refuse_unless_disposable, wipe

# Messages per second and p95 seconds per message, by backend.
TARGETS = {"sqlite": (500.0, 0.020), "postgresql": (1000.0, 0.050)}
FIXED_ROUND_TRIPS = 3  # at most, per message on PostgreSQL: the dialogue's own
CONCURRENCY = (1, 50)
DEFAULT_CUSTOMERS = 1000
WARMUP = 20  # customers per level whose messages are not timed
GUESTS = 2
# Friday 20 Nov 2026, 09:00 UTC: before the first session of every bench class.
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HORIZON = timedelta(weeks=36)  # long enough for 8 monthly Mug Making dates
CLASSES = ("Wheel Throwing Taster", "Saturday Glazing Workshop", "Mug Making")
DATES_SHOWN = DATE_PAGE  # the class screen offers a page of the next dates
LOCK_TIMEOUT = 5.0
FLOOR_STATEMENTS = 5000  # bare `SELECT 1`s timed after each PostgreSQL level


# --- what a customer says ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One message: what a typing customer sends, which button a pressing one presses
    (a label prefix, or an option index), and what the reply must contain."""

    name: str
    text: str
    button: str | int | None  # None: a pressing customer types `text` too
    expect: str


@dataclass(frozen=True)
class Customer:
    number: int
    channel: Channel
    address: str
    presses: bool
    steps: tuple[Step, ...]


STEP_NAMES = ("start", "book", "class", "date", "guests", "confirm", "my bookings")


def script(class_name: str, date_index: int) -> tuple[Step, ...]:
    return (
        Step("start", "/start", None, "What would you like to do?"),
        Step("book", "1", "📅 Book a class", "Our classes:"),
        Step("class", class_name, class_name, "Choose a date:"),
        Step("date", str(date_index + 1), date_index, "How many people"),
        Step("guests", str(GUESTS), str(GUESTS), "Please check your booking"),
        Step("confirm", "confirm", "✅ Confirm", "🎉 Booked!"),
        Step("my bookings", "my bookings", "🗓 My bookings", "Your upcoming bookings"),
    )


def customer(number: int) -> Customer:
    """Customer `number`: class number % 3, date (number // 3) % DATES_SHOWN; even ones type (SMS),
    odd ones press buttons (Telegram)."""
    steps = script(CLASSES[number % len(CLASSES)], (number // len(CLASSES)) % DATES_SHOWN)
    if number % 2:
        return Customer(number, Channel.TELEGRAM, str(700_000_000 + number), True, steps)
    return Customer(number, Channel.SMS, f"+4477{number:08d}", False, steps)


def per_session(customers: int) -> int:
    """Seats every session needs so that `customers` spread round-robin all fit."""
    return GUESTS * math.ceil(customers / (len(CLASSES) * DATES_SHOWN))


class Astray(Exception):
    """A reply did not show what the step should have led to."""


def inbound(c: Customer, step: Step, last: list[Reply]) -> Inbound:
    phone = c.address if c.channel is Channel.SMS else None
    name = f"Customer {c.number}"
    if not c.presses or step.button is None:
        return Inbound(c.channel, c.address, text=step.text, display_name=name, phone=phone)
    options = last[-1].options if last else ()
    if isinstance(step.button, int):
        found = options[step.button : step.button + 1]
    else:
        found = tuple(o for o in options if o.label.startswith(step.button))
    if len(found) != 1:
        labels = [o.label for o in options]
        raise Astray(f"customer {c.number} at {step.name}: no button {step.button!r} in {labels}")
    return Inbound(c.channel, c.address, token=found[0].token, display_name=name, phone=phone)


# --- counting what reaches the database ----------------------------------------------------

PARTS = ("dialogue", "step")
# The dispatcher's own work on every message: claim and load the dialogue, save it (and
# anything it does to know who is writing, e.g. a first contact's customer row).
DISPATCH = frozenset({"handle", "push", "apologise"})
# Its modules: the dialogue's lease and row, and the turn's context (who is writing, to which
# studio), are all the dispatcher's; choosing an option, running its action and entering the
# next screen are the step's.
DIALOGUE_MODULES = frozenset(
    {
        "bookbot.conversations.store",  # the lease: claim, create, renew, release
        "bookbot.conversations.dialogue_rows",  # the row: save, find
        "bookbot.conversations.dialogue_context",
    }
)
STEP_MODULES = frozenset(
    {
        "bookbot.conversations.choosing",
        "bookbot.conversations.choice_actions",
        "bookbot.conversations.entering",
    }
)


@dataclass
class Tally:
    """What messages cost the database: transactions (BEGIN ... COMMIT, or a statement that
    commits on its own) and round trips (every statement, BEGIN and COMMIT included; on SQLite
    statements, which cross no network), split into the dialogue's own load and save and the
    step's work (screens, bookings)."""

    messages: int = 0
    transactions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PARTS, 0))
    round_trips: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PARTS, 0))

    def add(self, other: Tally) -> None:
        self.messages += other.messages
        for part in PARTS:
            self.transactions[part] += other.transactions[part]
            self.round_trips[part] += other.round_trips[part]

    def per_message(self, counts: dict[str, int], part: str | None = None) -> float:
        total = sum(counts.values()) if part is None else counts[part]
        return total / self.messages if self.messages else math.nan


def summed(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return total


_TALLY: ContextVar[Tally | None] = ContextVar("tally", default=None)


def _part() -> str:
    """Whose statement this is, from the innermost dispatcher frame on the stack."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module in DIALOGUE_MODULES:
            return "dialogue"
        if module in STEP_MODULES:
            return "step"
        if module == "bookbot.conversations.dialogue":
            return "dialogue" if frame.f_code.co_name in DISPATCH else "step"
        frame = frame.f_back
    return "step"


def _count(statement: str, in_transaction: bool) -> None:
    tally = _TALLY.get()
    if tally is None:
        return
    part = _part()
    tally.round_trips[part] += 1
    if statement.lstrip()[:5].upper() == "BEGIN" or not in_transaction:
        tally.transactions[part] += 1


_ASYNCPG_CALLS = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


@contextmanager
def counting(db: Database) -> Iterator[None]:
    """Count, while inside, each statement the driver sends (asyncpg's calls, SQLite's trace
    of statements), into the `Tally` of the message being handled."""
    if isinstance(db, SQLiteDatabase):
        conn = db._conn  # the bench watches the driver under the seam
        assert conn is not None, "open the connection first"  # noqa: S101
        conn.set_trace_callback(
            lambda sql: None if sql.startswith("--") else _count(sql, conn.in_transaction)
        )
        try:
            yield
        finally:
            conn.set_trace_callback(None)
        return
    originals = {name: getattr(asyncpg.Connection, name) for name in _ASYNCPG_CALLS}

    def counted(call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call_counted(conn: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            _count(query, conn.is_in_transaction())
            return await call(conn, query, *args, **kwargs)

        return call_counted

    for name, original in originals.items():
        setattr(asyncpg.Connection, name, counted(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(asyncpg.Connection, name, original)


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Result:
    customers: int = 0
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    in_flight: int = 0  # `handle` calls begun and not yet returned
    most_in_flight: int = 0
    cpu: CpuUse | None = None  # over the timed run

    @property
    def all(self) -> list[float]:
        return [t for times in self.latencies.values() for t in times]

    @property
    def messages(self) -> int:
        return sum(len(times) for times in self.latencies.values())

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))] if ordered else math.nan


async def converse(
    dialogues: Dialogues, c: Customer, result: Result | None, tallies: dict[str, Tally] | None
) -> None:
    """One customer's whole conversation; each `handle` call timed into `result`, or its
    database work counted into `tallies` (by step)."""
    last: list[Reply] = []
    for step in c.steps:
        message = inbound(c, step, last)
        if result is not None:
            result.in_flight += 1
            result.most_in_flight = max(result.most_in_flight, result.in_flight)
        tally = Tally(messages=1)
        counted = _TALLY.set(tally if tallies is not None else None)
        began = time.perf_counter()
        try:
            last = await dialogues.handle(message)
        finally:
            took = time.perf_counter() - began
            _TALLY.reset(counted)
            if result is not None:
                result.in_flight -= 1
        if tallies is not None:
            tallies[step.name].add(tally)
        if result is not None:
            result.latencies[step.name].append(took)
        shown = "\n".join(r.text for r in last)
        if step.expect not in shown:
            raise Astray(f"customer {c.number} at {step.name}: {shown[:200]!r}")
        await asyncio.sleep(0)  # let the other customers in, as separate people would


async def run_customers(
    dialogues: Dialogues,
    customers: list[Customer],
    concurrency: int,
    result: Result | None,
    tallies: dict[str, Tally] | None = None,
) -> None:
    queue: Iterator[Customer] = iter(customers)
    errors: list[str] = [] if result is None else result.errors

    async def worker() -> None:
        for c in queue:  # one shared iterator: each customer is taken once
            try:
                await converse(dialogues, c, result, tallies)
            except Exception as error:  # any failure is reported and fails the run
                errors.append(f"{type(error).__name__}: {error}")
            else:
                if result is not None:
                    result.customers += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if result is None and errors:
        raise RuntimeError(f"warm-up failed: {errors[0]}")


# --- the data ----------------------------------------------------------------------------


async def seed(db: Database, clock: FrozenClock, customers: int) -> None:
    """The example studio, HORIZON of sessions, and room for every customer."""
    report = await load_studio(db, parse_studio_file(example_path()))
    studio_id = report.studio_id
    for pattern_id in await generation.pattern_ids(db, studio_id):
        await generation.generate_sessions(
            db, clock, studio_id, pattern_id, preview=False, horizon=HORIZON
        )
    room = {"cap": per_session(customers), "s": studio_id}
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET capacity = :cap WHERE studio_id = :s AND capacity < :cap", room
        )
        await tx.execute(
            "UPDATE resources SET total_quantity = :cap"
            " WHERE studio_id = :s AND total_quantity < :cap",
            room,
        )
        for name in CLASSES:
            dates = await tx.scalar(
                "SELECT COUNT(*) FROM sessions s JOIN classes c ON c.id = s.class_id"
                " WHERE c.studio_id = :s AND c.name = :name AND s.status = 'open'"
                " AND s.starts_at > :now",
                {"s": studio_id, "name": name, "now": clock.now()},
            )
            if int(dates) < DATES_SHOWN:
                raise SystemExit(f"{name} has only {dates} dates; raise HORIZON")


CHECK_SQL = """SELECT i.channel, i.address, COUNT(g.id), COALESCE(SUM(g.guest_count), 0)
FROM channel_identities i
LEFT JOIN registrations g ON g.customer_id = i.customer_id AND g.studio_id = i.studio_id
  AND g.status = 'confirmed'
GROUP BY i.channel, i.address"""

SEATS_SQL = (
    "SELECT COALESCE(SUM(guest_count), 0) FROM registration_sessions WHERE status = 'booked'"
)


async def check(db: Database, customers: list[Customer]) -> list[str]:
    """Every customer has exactly one confirmed booking for GUESTS, and no one else has any."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(CHECK_SQL)
        seats = int(await tx.scalar(SEATS_SQL))
    found = {(r[0], r[1]): (int(r[2]), int(r[3])) for r in rows}
    problems = []
    for c in customers:
        bookings, guests = found.pop((c.channel.value, c.address), (0, 0))
        if (bookings, guests) != (1, GUESTS):
            problems.append(f"customer {c.number}: {bookings} bookings for {guests} people")
    problems += [f"unexpected identity {key}" for key in found]
    if seats != GUESTS * len(customers):
        problems.append(f"booked seats = {seats:,}, expected {GUESTS * len(customers):,}")
    return problems


# --- backends ----------------------------------------------------------------------------


@dataclass
class Row:
    backend: str
    concurrency: int
    result: Result
    setup_seconds: float
    problems: list[str]
    tallies: dict[str, Tally]
    floor: Floor | None = None  # PostgreSQL: what a bare round trip costs, same pool


async def run_level(backend: str, url: str, concurrency: int, n: int, setup: float) -> Row:
    """Warm up, then N customers at `concurrency`, then the check, on a fresh database."""
    db = await connect(url, lock_timeout=LOCK_TIMEOUT)
    try:
        dialogues = Dialogues(db, FrozenClock(NOW))
        everyone = [customer(k) for k in range(WARMUP + n)]
        tallies: dict[str, Tally] = defaultdict(Tally)
        async with db.transaction(write=False):  # opens SQLite's connection, to watch it
            pass
        with counting(db):  # the warm-up's messages are counted, not timed
            await run_customers(
                dialogues, everyone[:WARMUP], min(concurrency, WARMUP), None, tallies
            )
        result = Result()
        mark = CpuMark.start(server=backend == "postgresql")
        began = time.perf_counter()
        await run_customers(dialogues, everyone[WARMUP:], concurrency, result)
        result.seconds = time.perf_counter() - began
        result.cpu = mark.stop()
        problems = result.errors[:5] + await check(db, everyone)
        if len(result.errors) > 5:
            problems.append(f"... and {len(result.errors) - 5} more conversation errors")
        floor = None
        if backend == "postgresql":
            floor = await round_trip_floor(db, statements=FLOOR_STATEMENTS, concurrency=concurrency)
    finally:
        await db.close()
    return Row(backend, concurrency, result, setup, problems, tallies, floor)


async def bench_sqlite(tmp: Path, levels: tuple[int, ...], n: int) -> list[Row]:
    """Seed one SQLite file, then give each level its own copy of it."""
    began = time.perf_counter()
    template = tmp / "template.db"
    url = f"sqlite:///{template}"
    await migrate.upgrade_async(url)
    db = await connect(url, lock_timeout=LOCK_TIMEOUT)
    try:
        await seed(db, FrozenClock(NOW), WARMUP + n)
    finally:
        await db.close()
    setup = time.perf_counter() - began
    rows = []
    for level, concurrency in enumerate(levels):
        path = tmp / f"level-{level}.db"
        shutil.copyfile(template, path)
        rows.append(await run_level("sqlite", f"sqlite:///{path}", concurrency, n, setup))
    return rows


async def bench_postgres(url: str, levels: tuple[int, ...], n: int) -> list[Row]:
    """Wipe, migrate and seed the database afresh before each level."""
    rows = []
    for concurrency in levels:
        began = time.perf_counter()
        await wipe(url)
        await migrate.upgrade_async(url)
        db = await connect(url, lock_timeout=LOCK_TIMEOUT)
        try:
            await seed(db, FrozenClock(NOW), WARMUP + n)
            await db.execute("ANALYZE")  # the statistics autovacuum would soon have gathered
        finally:
            await db.close()
        rows.append(await run_level("postgresql", url, concurrency, n, time.perf_counter() - began))
    return rows


# --- command line and report ---------------------------------------------------------------


def levels_arg(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from error
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("concurrency levels must be >= 1")
    return levels


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument(
        "--customers", type=positive, default=DEFAULT_CUSTOMERS, help="customers per level"
    )
    parser.add_argument(
        "--concurrency",
        type=levels_arg,
        default=CONCURRENCY,
        help="comma-separated concurrent customers per level (default 1,50)",
    )
    parser.add_argument("--postgres-url", help="also run on this disposable test/bench database")
    parser.add_argument(
        "--loop",
        choices=event_loop.CHOICES,
        help="the event loop (default: as `bookbot run`, uvloop where installed, unless "
        f"{event_loop.ENV}=asyncio)",
    )
    return parser.parse_args(argv)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(loop: str) -> str:
    usable = usable_cores()
    return (
        f"bookbot conversation bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        f"machine: {os.cpu_count()} CPUs ({usable} usable), {cpu_model()}, {platform.system()}"
        f" {platform.release()}; Python {platform.python_version()};"
        f" SQLite {sqlite3.sqlite_version}; asyncpg {asyncpg.__version__}; loop: {loop}"
    )


def workload(n: int) -> str:
    return (
        f"workload: {n:,} customers per level (+{WARMUP} untimed warm-up), each"
        f" {len(STEP_NAMES)} messages ({', '.join(STEP_NAMES)}); half type, half press"
        f" buttons; {len(CLASSES)} classes x {DATES_SHOWN} dates, {GUESTS} people each;"
        f" session capacity and equipment raised to {per_session(WARMUP + n)} per session"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.2f} ms"


def format_row(row: Row) -> str:
    r, times = row.result, row.result.all
    return (
        f"{row.backend:<10} concurrency={row.concurrency:<3} {r.messages:>6,} messages"
        f" in {r.seconds:6.2f} s = {r.rate:>6,.0f} msg/s"
        f"  p50 {ms(percentile(times, 0.5))}  p95 {ms(percentile(times, 0.95))}"
        f"  p99 {ms(percentile(times, 0.99))}  max {ms(max(times, default=math.nan))}"
        f"  (in flight at once: max {r.most_in_flight}; setup {row.setup_seconds:.1f} s)"
    )


def step_table(rows: list[Row]) -> list[str]:
    heads = "".join(f"  {r.backend[:6]} c={r.concurrency:<3} p50 / p95   " for r in rows)
    lines = [f"{'per step':<12}{heads}"]
    for name in STEP_NAMES:
        cells = "".join(
            f"  {ms(percentile(r.result.latencies[name], 0.5))} / {ms(percentile(r.result.latencies[name], 0.95))}"
            for r in rows
        )
        lines.append(f"{name:<12}{cells}")
    return lines


def fixed_round_trips(row: Row) -> float:
    """The dialogue's own round trips in the step that needs the fewest (a message that is
    not a first contact): what every message costs before its step's work."""
    return min(t.per_message(t.round_trips, "dialogue") for t in row.tallies.values())


def database_table(rows: list[Row]) -> list[str]:
    """Transactions / round trips per message by step, the dialogue's own in brackets."""
    heads = "".join(f"  {r.backend[:6]} c={r.concurrency:<3} txns / trips (own)" for r in rows)
    lines = [f"{'db per msg':<12}{heads}"]
    for name in (*STEP_NAMES, "all"):
        cells = []
        for r in rows:
            tally = r.tallies[name] if name != "all" else summed(r.tallies.values())
            txns = tally.per_message(tally.transactions)
            trips = tally.per_message(tally.round_trips)
            own = tally.per_message(tally.round_trips, "dialogue")
            cells.append(f"  {txns:14.2f} / {trips:6.2f} ({own:5.2f})")
        lines.append(f"{name:<12}{''.join(cells)}")
    return lines


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_table(rows: list[Row]) -> list[str]:
    """CPU per message, and the rate it allows: the client runs on one thread (one core at
    most) and shares the machine's cores with a local server."""
    cores = usable_cores()
    lines = [
        "CPU per message over the timed run: this process (client) and, for PostgreSQL, the"
        f" server's processes on this machine; the ceiling they allow on {cores} cores"
    ]
    for row in rows:
        if row.result.cpu is None:
            continue
        client, server = row.result.cpu.per(row.result.messages)
        ceiling = min(1 / client, cores / (client + (server or 0.0)))
        shown = f"  server {ms(server)}" if server is not None else " " * 18
        lines.append(
            f"{row.backend:<10} concurrency={row.concurrency:<3} client {ms(client)}{shown}"
            f"  ceiling {ceiling:>7,.0f} msg/s  (measured {row.result.rate:,.0f})"
        )
    for row in rows:
        floor = row.floor
        if floor is None:
            continue
        trips = summed(row.tallies.values())
        per_message = trips.per_message(trips.round_trips)
        server = f" + server {floor.server * 1e6:.0f} us" if floor.server is not None else ""
        each = floor.client + (floor.server or 0.0)
        lines.append(
            f"{row.backend:<10} concurrency={row.concurrency:<3} round trip floor: SELECT 1"
            f" through the pool {floor.rate:,.0f}/s, client {floor.client * 1e6:.0f} us{server}"
            f" CPU each; x {per_message:.2f} round trips = {ms(each * per_message)} a message"
        )
    return lines


def verdict(row: Row) -> str:
    target_rate, target_p95 = TARGETS[row.backend]
    rate_ok = row.result.rate >= target_rate
    p95 = percentile(row.result.all, 0.95)
    p95_ok = p95 < target_p95
    fixed = fixed_round_trips(row)
    fixed_ok = row.backend != "postgresql" or fixed <= FIXED_ROUND_TRIPS
    met = "meets" if rate_ok and p95_ok and fixed_ok else "BELOW"
    trips = (
        f", fixed round trips {fixed:.0f} {'<=' if fixed_ok else '>'} {FIXED_ROUND_TRIPS}"
        if row.backend == "postgresql"
        else ""
    )
    return (
        f"{row.backend:<10} concurrency={row.concurrency:<3} {met} the target:"
        f" {row.result.rate:,.0f} msg/s {'>=' if rate_ok else '<'} {target_rate:,.0f},"
        f" p95 {p95 * 1000:.2f} ms {'<' if p95_ok else '>='} {target_p95 * 1000:.0f} ms{trips}"
    )


def figures(rows: list[Row]) -> list[str]:
    """Rates, latency per step, database work per message, verdicts."""
    return [
        *(format_row(row) for row in rows),
        "",
        *step_table(rows),
        "",
        "database work per message, counted over the warm-up: transactions / round trips"
        " (on SQLite: statements, no network), and in brackets the round trips that are the"
        " dialogue's own (claim and load it, save it); the rest is the step's work",
        *database_table(rows),
        "",
        *cpu_table(rows),
        "",
        *(verdict(row) for row in rows),
    ]


def print_report(rows: list[Row], notes: list[str], n: int) -> bool:
    """Print the figures, verdicts and checks; True if every check passed."""
    print(workload(n))
    for note in notes:
        print(note)
    print()
    print("\n".join(figures(rows)))
    print()
    ok = True
    for row in rows:
        label = f"{row.backend} concurrency={row.concurrency}"
        if row.problems:
            ok = False
            print(f"check: FAILED ({label})")
            for problem in row.problems[:10]:
                print(f"  {problem}")
            if len(row.problems) > 10:
                print(f"  ... and {len(row.problems) - 10} more")
    if ok:
        checked = sum(r.result.customers for r in rows) + WARMUP * len(rows)
        print(
            f"check: ok ({checked:,} customers over {len(rows)} runs, each exactly one confirmed"
            f" booking for {GUESTS} people)"
        )
    return ok


async def run(args: argparse.Namespace) -> tuple[list[Row], list[str]]:
    print(header(event_loop.describe(asyncio.get_running_loop())), flush=True)
    notes = []
    with tempfile.TemporaryDirectory(prefix="bookbot-conversation-bench-") as tmp:
        rows = await bench_sqlite(Path(tmp), args.concurrency, args.customers)
    if args.postgres_url:
        notes.append(f"postgresql server {await wipe(args.postgres_url)}")
        rows += await bench_postgres(args.postgres_url, args.concurrency, args.customers)
    else:
        notes.append("postgresql: skipped (pass --postgres-url to include it)")
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.postgres_url:
        refuse_unless_disposable(args.postgres_url)
    rows, notes = event_loop.run(run(args), loop=args.loop)
    return 0 if print_report(rows, notes, args.customers) else 1


if __name__ == "__main__":
    sys.exit(main())
