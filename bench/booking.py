"""Booking throughput: the engine against the raw driver ceiling, on SQLite and PostgreSQL.

In one run, on the same database file (SQLite) or server (PostgreSQL), it measures:

* engine: `bookbot.services.booking.book_session` booking one seat of a class that needs
  one potter's wheel per student (so every booking runs the resource check), through
  `bookbot.store.db`, in operations per second;
* raw: the minimal equivalent transaction written directly against the driver the
  engine uses, with the same concurrency model: lock and read the session's capacity and
  booked count, insert one booking row, update the counter, commit. SQLite uses stdlib
  `sqlite3` on the event-loop thread behind an `asyncio.Lock` with `BEGIN IMMEDIATE`
  (WAL, synchronous=NORMAL); PostgreSQL uses an `asyncpg` pool of the engine's size with
  `SELECT ... FOR UPDATE`. Its rows live in two bench tables, `raw_sessions` and
  `raw_bookings`, created next to the engine's schema.

Each is run with 1 and with 50 concurrent bookers (tasks pulling operation numbers from a
shared counter, yielding to each other between operations as separate clients would)
after a short warm-up, in three alternating raw/engine slices so that drifting machine
load affects both alike. The bench prints operations per second, the engine/raw ratio,
p50/p99 latency per operation (queueing for the lock or the pool included), and a
verdict against the target: the engine at >= 50% of the raw ceiling.
Every operation books a distinct (customer, session) pair spread over many sessions, so
bookers never contend for one row. At the end it checks that the seats booked in the
database equal the successful operations; any booking error fails the run (exit 1).

Run from the repository root:

    PYTHONPATH=src python bench/booking.py [--sqlite-path P] [--postgres-url URL]
                                           [--ops N] [--seconds S]

SQLite uses a fresh file: a temporary one, or --sqlite-path if that file does not exist
yet. PostgreSQL comes from --postgres-url, else BOOKBOT_BENCH_POSTGRES_URL, else
BOOKBOT_TEST_POSTGRES_URL, and is skipped with a note when none is set. WARNING: the
bench wipes that database's `public` schema (DROP SCHEMA public CASCADE) and migrates it
afresh, so it refuses a database whose name does not contain "test" or "bench".
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import asyncpg

from bookbot.engine.clock import FrozenClock
from bookbot.services.booking import book_session
from bookbot.services.facts import FACTS_SQL, LOCK_SQL
from bookbot.services.registration_rows import (
    ALLOCATION_SQL,
    REGISTRATION_SQL,
    SESSION_SQL,
)
from bookbot.store import migrate
from bookbot.store.db import Database, DatabaseURL, Tx, connect
from disposable_postgres import postgres_url, refuse_unless_disposable, wipe
from machine_line import machine_line

TARGET = 0.5
CONCURRENCY = (1, 50)
WARMUP_OPS = 200
WARMUP_BOOKERS = 10
ROUNDS = 3  # each measurement alternates raw and engine slices this many times
N_SESSIONS = 4000  # N_SESSIONS + 1 is prime, so every customer count below it works
N_CUSTOMERS = 1000
CAPACITY = 50
POOL_SIZE = 10  # PostgreSQL connections, for the engine and the raw pool alike
LOCK_TIMEOUT = 5.0
DEFAULT_OPS = {"sqlite": 3000, "postgresql": 2000}
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FIRST_START = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)

Op = Callable[[int], Awaitable[Any]]


# --- what one operation books ------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Maps operation number i to a distinct (session, customer) pair, spread over both.

    Session i % S and customer (i + i // S) % C: two operations on one session are a
    multiple m of S apart and get customers m * (S + 1) apart mod C, distinct while
    gcd(S + 1, C) == 1 and i < S * C.
    """

    session_ids: list[int]
    customer_ids: list[int]

    def __post_init__(self) -> None:
        if math.gcd(len(self.session_ids) + 1, len(self.customer_ids)) != 1:
            raise ValueError("session count + 1 and customer count must be coprime")

    @property
    def seats(self) -> int:
        """How many operations fit before a session would be full or a pair repeat."""
        return len(self.session_ids) * min(CAPACITY, len(self.customer_ids))

    def pair(self, i: int) -> tuple[int, int]:
        n = len(self.session_ids)
        return self.session_ids[i % n], self.customer_ids[(i + i // n) % len(self.customer_ids)]


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Counter:
    """Operation numbers shared by all bookers of one kind, across all its runs."""

    limit: int
    next: int = 0
    done: int = 0


@dataclass
class Result:
    ops: int
    seconds: float
    latencies: list[float]
    errors: list[BaseException] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[round(q * (len(ordered) - 1))] if ordered else math.nan


async def measure(op: Op, counter: Counter, bookers: int, ops: int, seconds: float) -> Result:
    """Run `bookers` tasks until `ops` operations are done or `seconds` (if > 0) pass."""
    start = time.perf_counter()
    deadline = start + seconds if seconds > 0 else math.inf
    end = counter.limit if seconds > 0 else min(counter.next + ops, counter.limit)
    latencies: list[float] = []
    errors: list[BaseException] = []

    async def booker() -> None:
        while not errors and counter.next < end and time.perf_counter() < deadline:
            i = counter.next
            counter.next += 1
            began = time.perf_counter()
            try:
                await op(i)
            except Exception as error:  # any refusal or driver error fails the bench
                errors.append(error)
                return
            latencies.append(time.perf_counter() - began)
            counter.done += 1
            await asyncio.sleep(0)  # let the other bookers in, as separate clients would

    await asyncio.gather(*(booker() for _ in range(bookers)))
    exhausted = counter.next >= counter.limit and (seconds > 0 or len(latencies) < ops)
    if exhausted and not errors:
        errors.append(RuntimeError(f"seat budget exhausted ({counter.limit:,} operations)"))
    return Result(len(latencies), time.perf_counter() - start, latencies, errors)


# --- the engine's data -------------------------------------------------------------------


async def _insert(tx: Tx, table: str, **values: object) -> int:
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING id"  # noqa: S608
    return int(await tx.scalar(sql, values))


async def _studio(tx: Tx) -> tuple[int, int]:
    """A studio with `CAPACITY` potter's wheels and one single class needing one each."""
    sid = await _insert(
        tx,
        "studios",
        slug="bench",
        name="Bench Studio",
        timezone="Europe/London",
        currency="GBP",
        default_language="en",
    )
    wheels = await _insert(
        tx, "resources", studio_id=sid, key="wheel", name="potter's wheel", total_quantity=CAPACITY
    )
    class_id = await _insert(
        tx, "classes", studio_id=sid, key="taster", name="Taster", price_minor=4500, kind="single"
    )
    await tx.execute(
        "INSERT INTO class_requirements (studio_id, class_id, resource_id, quantity_per_student)"
        " VALUES (:s, :c, :r, 1)",
        {"s": sid, "c": class_id, "r": wheels},
    )
    return sid, class_id


async def _sessions(tx: Tx, studio_id: int, class_id: int) -> list[int]:
    rows = []
    for n in range(N_SESSIONS):
        starts = FIRST_START + timedelta(hours=n)
        rows.append(
            {
                "s": studio_id,
                "c": class_id,
                "d": starts.date(),
                "start": starts,
                "end": starts + timedelta(hours=2),
                "cap": CAPACITY,
            }
        )
    await tx.execute_many(
        "INSERT INTO sessions (studio_id, class_id, occurrence_date, starts_at, ends_at,"
        " capacity, location, status) VALUES (:s, :c, :d, :start, :end, :cap, 'Studio A', 'open')",
        rows,
    )
    found = await tx.all(
        "SELECT id FROM sessions WHERE studio_id = :s ORDER BY id", {"s": studio_id}
    )
    return [r[0] for r in found]


async def _customers(tx: Tx, studio_id: int) -> list[int]:
    rows = [{"s": studio_id, "n": f"Customer {n}", "t": NOW} for n in range(N_CUSTOMERS)]
    await tx.execute_many(
        "INSERT INTO customers (studio_id, name, created_at) VALUES (:s, :n, :t)", rows
    )
    found = await tx.all(
        "SELECT id FROM customers WHERE studio_id = :s ORDER BY id", {"s": studio_id}
    )
    return [r[0] for r in found]


async def seed(db: Database) -> tuple[int, Plan]:
    """The engine's studio, sessions and customers, plus the raw bench tables."""
    async with db.transaction() as tx:
        studio_id, class_id = await _studio(tx)
        plan = Plan(await _sessions(tx, studio_id, class_id), await _customers(tx, studio_id))
        await _raw_tables(tx)
    return studio_id, plan


async def _raw_tables(tx: Tx) -> None:
    key = "INTEGER PRIMARY KEY"
    if tx.dialect == "postgresql":
        key = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    await tx.execute(
        "CREATE TABLE raw_sessions (id INTEGER PRIMARY KEY, capacity INTEGER NOT NULL,"
        " booked INTEGER NOT NULL)"
    )
    await tx.execute(
        f"CREATE TABLE raw_bookings (id {key}, session_id INTEGER NOT NULL,"
        " customer_id INTEGER NOT NULL)"
    )
    await tx.execute_many(
        "INSERT INTO raw_sessions (id, capacity, booked) VALUES (:id, :cap, 0)",
        [{"id": n, "cap": CAPACITY} for n in range(1, N_SESSIONS + 1)],
    )


def raw_plan() -> Plan:
    return Plan(list(range(1, N_SESSIONS + 1)), list(range(1, N_CUSTOMERS + 1)))


# --- the raw minimal transaction -----------------------------------------------------------

RAW_READ = "SELECT capacity, booked FROM raw_sessions WHERE id = ?"
RAW_INSERT = "INSERT INTO raw_bookings (session_id, customer_id) VALUES (?, ?)"
RAW_UPDATE = "UPDATE raw_sessions SET booked = booked + 1 WHERE id = ?"


class SessionFull(Exception):
    """The raw transaction found no seat left (the bench sizes data so this never fires)."""


class RawSQLite:
    """One `sqlite3` connection on the loop thread behind an `asyncio.Lock`, like the engine."""

    def __init__(self, path: Path, plan: Plan) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._lock = asyncio.Lock()
        self._plan = plan

    async def book(self, i: int) -> None:
        session_id, customer_id = self._plan.pair(i)
        async with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                capacity, booked = conn.execute(RAW_READ, (session_id,)).fetchone()
                if booked >= capacity:
                    raise SessionFull(session_id)
                conn.execute(RAW_INSERT, (session_id, customer_id))
                conn.execute(RAW_UPDATE, (session_id,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    async def close(self) -> None:
        self._conn.close()


class SameSQLSQLite:
    """The engine's own statements, in order, straight on `sqlite3`: no layer, no rules.

    It separates what the booking's SQL costs from what bookbot's code around it costs.
    """

    OFFSET = 100_000  # its (session, customer) pairs never meet the engine's

    def __init__(self, path: Path, plan: Plan, studio_id: int) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
        self._conn.row_factory = sqlite3.Row  # rows by name: the engine's columns move
        self._lock = asyncio.Lock()
        self._plan = plan
        self._studio_id = studio_id
        self._lock_sql = LOCK_SQL.format(where="s.id IN (:s0)")
        self._facts_sql = FACTS_SQL.format(body=":s0")
        self._now = NOW.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")

    async def book(self, i: int) -> None:
        session_id, customer_id = self._plan.pair(i + self.OFFSET)
        ids = {"studio_id": self._studio_id, "customer_id": customer_id, "s0": session_id}
        async with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._transaction(conn, ids)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _transaction(self, conn: sqlite3.Connection, ids: dict[str, int]) -> None:
        locked = conn.execute(self._lock_sql, ids).fetchone()
        facts = conn.execute(self._facts_sql, {**ids, "now": self._now}).fetchone()
        if int(facts["booked"]) >= locked["capacity"]:
            raise SessionFull(ids["s0"])
        reg = {"studio_id": ids["studio_id"], "customer_id": ids["customer_id"]}
        reg_id = conn.execute(
            REGISTRATION_SQL,
            {
                **reg,
                "class_id": locked["class_id"],
                "pattern_id": None,
                "kind": "single",
                "guests": 1,
                "price": locked["price_minor"],
                "currency": locked["currency"],
                "now": self._now,
                "status": "confirmed",
                "held_until": None,
                "last_starts_at": locked["starts_at"],  # one-day sessions: the start
            },
        ).fetchone()["id"]
        row = {
            **reg,
            "registration_id": reg_id,
            "session_id": ids["s0"],
            "seat_status": "booked",
            "held_until": None,
        }
        conn.execute(SESSION_SQL, {**row, "guests": 1})
        conn.execute(ALLOCATION_SQL, {**row, "resource_id": facts["resource_id"], "quantity": 1})

    async def close(self) -> None:
        self._conn.close()


class RawPostgres:
    """An `asyncpg` pool sized and configured like the engine's; one row lock per booking."""

    def __init__(self, pool: Any, plan: Plan) -> None:
        self._pool = pool
        self._plan = plan

    @classmethod
    async def open(cls, dsn: str, plan: Plan) -> RawPostgres:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=POOL_SIZE,
            server_settings={"lock_timeout": str(int(LOCK_TIMEOUT * 1000)), "timezone": "UTC"},
        )
        return cls(pool, plan)

    async def book(self, i: int) -> None:
        session_id, customer_id = self._plan.pair(i)
        async with self._pool.acquire() as conn, conn.transaction():
            capacity, booked = await conn.fetchrow(
                "SELECT capacity, booked FROM raw_sessions WHERE id = $1 FOR UPDATE", session_id
            )
            if booked >= capacity:
                raise SessionFull(session_id)
            await conn.execute(
                "INSERT INTO raw_bookings (session_id, customer_id) VALUES ($1, $2)",
                session_id,
                customer_id,
            )
            await conn.execute(
                "UPDATE raw_sessions SET booked = booked + 1 WHERE id = $1", session_id
            )

    async def close(self) -> None:
        await self._pool.close()


# --- one backend -------------------------------------------------------------------------


@dataclass
class Row:
    backend: str
    bookers: int
    engine: Result
    raw: Result
    same: Result | None = None

    @property
    def ratio(self) -> float:
        return self.engine.rate / self.raw.rate if self.raw.rate else 0.0


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    ops: int | None
    seconds: float


CHECKS = (
    (
        "engine booked seats",
        "engine",
        "SELECT SUM(guest_count) FROM registration_sessions WHERE status = 'booked'",
    ),
    ("engine wheel allocations", "engine", "SELECT SUM(quantity) FROM resource_allocations"),
    ("raw booking rows", "raw", "SELECT COUNT(*) FROM raw_bookings"),
    ("raw booked counters", "raw", "SELECT SUM(booked) FROM raw_sessions"),
)


async def check(db: Database, counters: dict[str, Counter]) -> list[str]:
    """Booked seats and allocations equal successful engine operations; raw rows likewise."""
    problems = []
    async with db.transaction(write=False) as tx:
        for label, kind, sql in CHECKS:
            found = int(await tx.scalar(sql) or 0)
            expected = counters[kind].done + (
                counters["same"].done if "same" in counters and kind == "engine" else 0
            )
            if found != expected:
                problems.append(f"{label} = {found:,}, expected {expected:,}")
    return problems


async def compare(
    ops: dict[str, Op], counters: dict[str, Counter], bookers: int, n_ops: int, seconds: float
) -> dict[str, Result]:
    """Measure each kind in `ROUNDS` alternating slices, so drifting load hits both alike."""
    parts: dict[str, list[Result]] = {kind: [] for kind in ops}
    for _ in range(ROUNDS):
        for kind, op in ops.items():
            parts[kind].append(
                await measure(
                    op, counters[kind], bookers, max(n_ops // ROUNDS, 1), seconds / ROUNDS
                )
            )
        if any(p.errors for results in parts.values() for p in results):
            break
    return {kind: merge(results) for kind, results in parts.items()}


def merge(parts: list[Result]) -> Result:
    return Result(
        sum(p.ops for p in parts),
        sum(p.seconds for p in parts),
        [t for p in parts for t in p.latencies],
        [e for p in parts for e in p.errors],
    )


async def run_backend(
    name: str,
    db: Database,
    raw: RawSQLite | RawPostgres,
    plan: Plan,
    *,
    studio_id: int,
    settings: Settings,
    report: Report,
    extra: dict[str, Op] | None = None,
) -> None:
    """Warm up, then raw and engine at each concurrency, then the correctness check."""
    clock = FrozenClock(NOW)

    async def engine_op(i: int) -> None:
        session_id, customer_id = plan.pair(i)
        await book_session(db, clock, studio_id, customer_id, session_id, guests=1)

    ops: dict[str, Op] = {"raw": raw.book, "engine": engine_op, **(extra or {})}
    counters = {kind: Counter(plan.seats) for kind in ops}
    for kind, op in ops.items():
        warm = await measure(op, counters[kind], WARMUP_BOOKERS, WARMUP_OPS, 0)
        _record_errors(report, name, f"{kind} warm-up", warm)
    n_ops = settings.ops or DEFAULT_OPS[db.dialect]
    for bookers in CONCURRENCY:
        results = await compare(ops, counters, bookers, n_ops, settings.seconds)
        for kind, result in results.items():
            _record_errors(report, name, f"{kind} bookers={bookers}", result)
        report.rows.append(
            Row(name, bookers, results["engine"], results["raw"], results.get("same"))
        )
    problems = await check(db, counters)
    report.failures += [f"{name} check: {p}" for p in problems]
    report.checks.append(f"{name} check: {'ok' if not problems else 'FAILED'}")


def _record_errors(report: Report, backend: str, what: str, result: Result) -> None:
    for error in result.errors:
        report.failures.append(f"{backend} {what}: {type(error).__name__}: {error}")


async def bench_sqlite(path: Path, settings: Settings, report: Report) -> None:
    url = f"sqlite:///{path}"
    await migrate.upgrade_async(url)
    db = await connect(url, lock_timeout=LOCK_TIMEOUT, pool_size=POOL_SIZE)
    studio_id, plan = await seed(db)
    raw = RawSQLite(path, raw_plan())
    same = SameSQLSQLite(path, plan, studio_id)
    try:
        await run_backend(
            "sqlite",
            db,
            raw,
            plan,
            studio_id=studio_id,
            settings=settings,
            report=report,
            extra={"same": same.book},
        )
    finally:
        await raw.close()
        await same.close()
        await db.close()


async def bench_postgres(url: str, settings: Settings, report: Report) -> None:
    dsn = DatabaseURL.parse(url).target
    report.notes.append(f"postgresql server {await wipe(url)}")
    await migrate.upgrade_async(url)
    db = await connect(url, lock_timeout=LOCK_TIMEOUT, pool_size=POOL_SIZE)
    studio_id, plan = await seed(db)
    raw = await RawPostgres.open(dsn, raw_plan())
    try:
        await run_backend(
            "postgresql", db, raw, plan, studio_id=studio_id, settings=settings, report=report
        )
    finally:
        await raw.close()
        await db.close()


# --- command line and report ---------------------------------------------------------------


def refuse_existing(flag: str | None) -> None:
    """Exit if --sqlite-path names an existing file: the bench only writes fresh ones."""
    if flag is not None and Path(flag).exists():
        raise SystemExit(f"--sqlite-path {flag} exists; the bench needs a new file")


def sqlite_file(flag: str | None, tmp: str) -> Path:
    return Path(tmp) / "bench.db" if flag is None else Path(flag)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def format_row(row: Row) -> str:
    e, r = row.engine, row.raw
    return (
        f"{row.backend:<11} bookers={row.bookers:<3} engine {e.rate:>7,.0f}/s"
        f"  raw {r.rate:>7,.0f}/s  ratio {row.ratio:>4.0%}"
        f"  (engine p50 {ms(e.percentile(0.5))} p99 {ms(e.percentile(0.99))};"
        f" raw p50 {ms(r.percentile(0.5))} p99 {ms(r.percentile(0.99))})"
    )


def same_sql(row: Row) -> str | None:
    if row.same is None:
        return None
    share = row.engine.rate / row.same.rate if row.same.rate else 0.0
    return (
        f"{row.backend:<11} bookers={row.bookers:<3} the engine's own statements on the raw"
        f" driver {row.same.rate:>7,.0f}/s: the engine runs at {share:.0%} of its SQL's ceiling"
    )


def verdict(row: Row) -> str:
    met = "meets" if row.ratio >= TARGET else "BELOW"
    return (
        f"{row.backend:<11} bookers={row.bookers:<3} engine at {row.ratio:.0%} of raw:"
        f" {met} the {TARGET:.0%} target"
    )


def header() -> str:
    return f"bookbot booking bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n{machine_line()}"


def workload(settings: Settings) -> str:
    if settings.seconds > 0:
        size = f"{settings.seconds:g} s per run"
    elif settings.ops:
        size = f"{settings.ops:,} ops per run"
    else:
        size = ", ".join(f"{k} {v:,}" for k, v in DEFAULT_OPS.items()) + " ops per run"
    return (
        f"workload: book 1 seat (1 wheel each) over {N_SESSIONS:,} sessions x {CAPACITY} seats,"
        f" {N_CUSTOMERS:,} customers; warm-up {WARMUP_OPS} ops; {size}"
    )


def print_report(report: Report, settings: Settings) -> None:
    print(workload(settings))
    for note in report.notes:
        print(note)
    print()
    for row in report.rows:
        print(format_row(row))
    print()
    for row in report.rows:
        print(verdict(row))
    print()
    for line in filter(None, map(same_sql, report.rows)):
        print(line)
    print()
    for line in report.checks:
        print(line)
    for failure in report.failures:
        print(f"FAILURE: {failure}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sqlite-path", help="a new SQLite file (default: a temporary one)")
    parser.add_argument("--postgres-url", help="a disposable test/bench database (it is wiped)")
    parser.add_argument("--ops", type=int, help="operations per measured run")
    parser.add_argument("--seconds", type=float, default=0.0, help="time per run instead of --ops")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, pg_url: str | None) -> Report:
    settings = Settings(args.ops, args.seconds)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="bookbot-bench-") as tmp:
        await bench_sqlite(sqlite_file(args.sqlite_path, tmp), settings, report)
    if pg_url is None:
        report.notes.append(
            "postgresql: skipped (set --postgres-url, BOOKBOT_BENCH_POSTGRES_URL"
            " or BOOKBOT_TEST_POSTGRES_URL)"
        )
    else:
        await bench_postgres(pg_url, settings, report)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    refuse_existing(args.sqlite_path)
    pg_url = postgres_url(args.postgres_url)
    if pg_url is not None:
        refuse_unless_disposable(pg_url)
    print(header())
    report = asyncio.run(run(args, pg_url))
    print_report(report, Settings(args.ops, args.seconds))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
