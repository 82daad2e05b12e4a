"""The two databases bench/scale.py compares, built fast.

* demo: what `bookbot demo` makes (the example pottery studio, its patterns generated 8
  weeks ahead of NOW), plus one customer and a small due outbox backlog.
* large: one studio of 50 classes loaded through the studio file loader, then two years
  of history written in bulk (executemany on SQLite, COPY on PostgreSQL), with explicit
  ids: ~20,857 sessions (96 weeks past, ~8 weeks ahead), ~199k bookings (registrations
  and pass reservations, closed as the sweeps would have left them), 50k customers,
  waitlist history and ~385k outbox rows (reminders, mostly sent, and a 30k due backlog).

Everything is a function of NOW and arithmetic on indexes (no randomness), so two builds
are identical. History is written as the sweeps leave it: past sessions closed
(`sessions.closed_at`, where the schema has it), then one tick at NOW settles anything
else. A migration adding bookkeeping the sweeps rely on must be written here too, or the
large database would owe them work that a real one does not.

`Fixture` is what the timed operations need on either database: bench customers and
passes, the regular's upcoming bookings, fresh sessions to book, and a minute's work for
the sweeps made on demand (`make_due`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
import tempfile
import time as _time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

import bookbot.store
from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.jobs.sweeps import Sweeps
from bookbot.services import generation, holds
from bookbot.store import migrate
from bookbot.store.db import Database, DatabaseURL, Tx, connect
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_data, parse_studio_file

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday noon: today has sessions either side
ZONE = "Europe/London"
# What `bookbot demo` loads (cli.demo.example_path; not imported: the cli pulls in everything).
DEMO_FILE = Path(bookbot.store.__file__).parents[1] / "examples" / "clay-studio.toml"
DEMO_WEEKS = 8  # as `bookbot demo`

DAYS_BEFORE = 672  # 96 weeks of history...
SMOKE_DAYS_BEFORE = 28  # bench/scale.py --smoke: 4 weeks, enough for REGULAR_PAST
DAYS_AFTER = 58  # ...and some weeks ahead: 730 days, 50 classes 4 days a week = 20,857 sessions
CLASSES = 50
CAPACITY = 12
CUSTOMERS = 50_000
BOOKERS = 40_000  # customers 1..BOOKERS book; then the pass holders; then the waitlisters
HOLDERS_PER_CLASS = 40
PAST_BOOKINGS, PAST_RESERVATIONS = 8, 2  # per past session
FUTURE_BOOKINGS, FUTURE_RESERVATIONS = 3, 1  # per session ahead
REGULAR_PAST = 500  # past bookings of the customer whose "my bookings" is timed
LARGE_BACKLOG = 30_000  # due outbox rows (a channel outage's worth)
DEMO_BACKLOG = 150
BACKLOG_SPAN = timedelta(hours=6)
HOUR = timedelta(hours=1)
KEEP_CACHED = 2  # large SQLite builds kept (e.g. before and after a schema change)

_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# Columns written per table, in insertion (foreign key) order; the rest take their defaults.
COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("id", "studio_id", "name", "phone", "language", "created_at"),
    "sessions": (
        *("id", "studio_id", "class_id", "pattern_id", "occurrence_date", "starts_at"),
        *("ends_at", "capacity", "location", "status", "makeup"),
    ),
    "passes": (
        *("id", "studio_id", "customer_id", "class_id", "kind", "max_advance", "sequential"),
        *("absence_grace_hours", "valid_from", "payment", "price_minor", "status", "created_at"),
    ),
    "registrations": (
        *("id", "studio_id", "customer_id", "class_id", "kind", "guest_count", "status"),
        *("price_minor", "currency", "created_at", "cancelled_at", "held_until"),
    ),
    "registration_sessions": (
        *("id", "studio_id", "registration_id", "session_id", "customer_id", "guest_count"),
        *("status", "attendance", "checked_in_at", "held_until"),
    ),
    "resource_allocations": (
        *("id", "studio_id", "registration_id", "session_id", "resource_id", "quantity"),
    ),
    "reservations": (
        *("id", "studio_id", "pass_id", "customer_id", "session_id", "status", "reserved_at"),
        *("checked_in_at", "closed_at", "punch_used", "cancelled_at", "absence_handled_at"),
    ),
    "waitlist_entries": (
        *("id", "studio_id", "session_id", "customer_id", "guest_count", "status"),
        *("created_at", "offered_at", "offer_expires_at"),
    ),
    "outbox": (
        *("id", "studio_id", "customer_id", "template", "params", "due_at", "status"),
        *("attempts", "channel", "sent_at", "created_at", "dedupe_key"),
    ),
}
COUNTED = (*COLUMNS, "schedule_patterns", "classes")
# Bookkeeping the application keeps, written where this schema has it (newer migrations):
# when the attendance sweep closed a session (0012), a registration's last start (0014).
OPTIONAL: dict[str, tuple[str, ...]] = {
    "sessions": ("closed_at",),
    "registrations": ("last_starts_at",),
}

Record = tuple[Any, ...]


@dataclass(frozen=True)
class Built:
    """A built database and what the bench needs to know about it."""

    label: str
    url: str
    studio_id: int
    zone: str
    regular_id: int  # the customer whose bookings are listed
    seconds: float
    counts: dict[str, int]


# --- writing rows in bulk ---------------------------------------------------------------


class Rows:
    """Rows per table (in `columns` order) with the next free id of each."""

    def __init__(self, first_ids: dict[str, int], columns: dict[str, tuple[str, ...]]) -> None:
        self.columns = columns
        self.rows: dict[str, list[Record]] = {table: [] for table in columns}
        self._next = dict(first_ids)
        self._optional = {t: columns[t][len(COLUMNS[t]) :] for t in columns}

    def add(self, table: str, *values: Any, **optional: Any) -> int:
        """Append a row: COLUMNS' values but the id, then the OPTIONAL ones by name (those
        this schema lacks are dropped). Its id."""
        new_id = self._next[table]
        self._next[table] = new_id + 1
        extra = (optional[name] for name in self._optional[table])
        self.rows[table].append((new_id, *values, *extra))
        return new_id


async def table_columns(db: Database) -> dict[str, tuple[str, ...]]:
    """COLUMNS, plus the OPTIONAL columns this schema has."""
    columns = dict(COLUMNS)
    async with db.transaction(write=False) as tx:
        for table, optional in OPTIONAL.items():
            if tx.dialect == "sqlite":
                rows = await tx.all("SELECT name FROM pragma_table_info(:t)", {"t": table})
            else:
                rows = await tx.all(
                    "SELECT column_name AS name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = :t",
                    {"t": table},
                )
            found = {r["name"] for r in rows}
            columns[table] += tuple(c for c in optional if c in found)
    return columns


async def first_ids(db: Database) -> dict[str, int]:
    async with db.transaction(write=False) as tx:
        return {
            table: int(await tx.scalar(f"SELECT COALESCE(MAX(id), 0) + 1 AS next FROM {table}"))  # noqa: S608
            for table in COLUMNS
        }


def _sqlite_value(value: Any) -> Any:
    """As bookbot.store.db writes it: fixed-width UTC text, so text order is time order."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_sqlite(path: Path, rows: Rows) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN IMMEDIATE")
        for table, columns in rows.columns.items():
            marks = ", ".join("?" * len(columns))
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                ([_sqlite_value(v) for v in row] for row in rows.rows[table]),
            )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def _write_postgres(url: str, rows: Rows) -> None:
    conn = await asyncpg.connect(DatabaseURL.parse(url).target)
    try:
        async with conn.transaction():
            try:  # skip the foreign key triggers while loading (needs a superuser)
                async with conn.transaction():
                    await conn.execute("SET LOCAL session_replication_role = replica")
            except asyncpg.PostgresError:
                pass
            for table, columns in rows.columns.items():
                if rows.rows[table]:
                    await conn.copy_records_to_table(
                        table, records=rows.rows[table], columns=list(columns)
                    )
            for table in COLUMNS:  # explicit ids: move each identity past them
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                    f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
        await conn.execute("ANALYZE")  # as autovacuum would, soon after such a load
    finally:
        await conn.close()


async def write(url: str, rows: Rows) -> None:
    if url.startswith("postgresql"):
        await _write_postgres(url, rows)
    else:
        await asyncio.to_thread(_write_sqlite, Path(DatabaseURL.parse(url).target), rows)


async def counts(db: Database) -> dict[str, int]:
    async with db.transaction(write=False) as tx:
        return {
            table: int(await tx.scalar(f"SELECT COUNT(*) AS n FROM {table}"))  # noqa: S608
            for table in COUNTED
        }


# --- the outbox backlog (both databases) -------------------------------------------------


def backlog(rows: Rows, studio_id: int, customer_ids: list[int], n: int) -> None:
    """`n` reminders due over the last BACKLOG_SPAN and not sent yet: a channel was down."""
    step = BACKLOG_SPAN / n
    for k in range(n):
        due = NOW - step * (n - k)
        rows.add(
            "outbox",
            *(studio_id, customer_ids[k % len(customer_ids)], "reminder_1h"),
            f'{{"backlog": {k}, "class_name": "Class", "starts_at": "{(due + timedelta(hours=1)).isoformat()}"}}',
            *(due, "pending", 0, None, None, due - timedelta(days=2), f"backlog:{k}"),
        )


# --- the demo ----------------------------------------------------------------------------


async def build_demo(url: str) -> Built:
    """`bookbot demo` at NOW, plus the regular customer and a due backlog of DEMO_BACKLOG."""
    started = _time.perf_counter()
    await migrate.upgrade_async(url)
    db = await connect(url)
    try:
        report = await load_studio(db, parse_studio_file(DEMO_FILE))
        for pattern_id in await generation.pattern_ids(db, report.studio_id):
            await generation.generate_sessions(
                db,
                FrozenClock(NOW),
                report.studio_id,
                pattern_id,
                preview=False,
                horizon=timedelta(weeks=DEMO_WEEKS),
            )
        rows = Rows(await first_ids(db), await table_columns(db))
    finally:
        await db.close()
    regular = rows.add("customers", report.studio_id, "Regular", "+447700900001", "en", NOW)
    backlog(rows, report.studio_id, [regular], DEMO_BACKLOG)
    await write(url, rows)
    return await _built("demo", url, report.studio_id, regular, started)


async def _built(label: str, url: str, studio_id: int, regular: int, started: float) -> Built:
    db = await connect(url)
    try:
        found = await counts(db)
        zone = await db.all("SELECT timezone FROM studios WHERE id = :id", {"id": studio_id})
    finally:
        await db.close()
    seconds = _time.perf_counter() - started
    return Built(label, url, studio_id, zone[0]["timezone"], regular, seconds, found)


# --- the large studio --------------------------------------------------------------------


def _weekdays(i: int) -> tuple[int, ...]:
    """Four days a week, rotated per class so every day has about as many sessions."""
    return tuple(sorted({(i + offset) % 7 for offset in (0, 2, 4, 5)}))


def large_spec() -> dict[str, Any]:
    """The large studio's file, as data: 50 classes, each on four days a week."""
    first = NOW.date() - timedelta(days=DAYS_BEFORE)
    classes, patterns = [], []
    for i in range(CLASSES):
        needs = [{"resource": "mat", "per_student": 1}] if i % 2 == 0 else []
        kind = "drop_in" if i % 10 == 9 else "single"
        classes.append(
            {"key": f"class-{i:02d}", "name": f"Class {i:02d}", "price": "12.00", "kind": kind}
            | {"requirements": needs}
        )
        patterns.append(
            {
                "key": f"weekly-{i:02d}",
                "class": f"class-{i:02d}",
                "rrule": "FREQ=WEEKLY;BYDAY=" + ",".join(_DAY_CODES[d] for d in _weekdays(i)),
                "start_date": first,
                "start_time": f"{7 + i % 13:02d}:00",
                "duration_minutes": 60,
                "capacity": CAPACITY,
                "location": f"Room {i % 5 + 1}",
            }
        )
    return {
        "studio": {
            "slug": "large-studio",
            "name": "Large Studio",
            "timezone": ZONE,
            "currency": "GBP",
            "policies": {
                "booking_cutoff_minutes": 60,
                "cancellation_cutoff_hours": 24,
                "waitlist_offer_minutes": 120,
                "hold_minutes": 10,
            },
        },
        "staff": [{"key": f"staff-{n}", "name": f"Staff {n}"} for n in range(5)],
        "resources": [{"key": "mat", "name": "Mat", "quantity": CAPACITY}],
        "classes": classes,
        "patterns": patterns,
    }


@dataclass(frozen=True)
class ClassInfo:
    index: int
    id: int
    kind: str
    price_minor: int
    pattern_id: int
    resource_id: int | None
    weekdays: tuple[int, ...]
    starts: time


@dataclass(frozen=True)
class Session:
    id: int
    klass: ClassInfo
    ordinal: int  # of its class
    starts_at: datetime
    ends_at: datetime


async def _classes(db: Database, studio_id: int) -> list[ClassInfo]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT c.key AS class_key, c.id AS class_id, c.kind, c.price_minor,"
            " p.id AS pattern_id, p.start_time, q.resource_id FROM classes c"
            " JOIN schedule_patterns p ON p.class_id = c.id"
            " LEFT JOIN class_requirements q ON q.class_id = c.id"
            " WHERE c.studio_id = :s ORDER BY c.key",
            {"s": studio_id},
        )
    found = []
    for r in rows:
        index = int(r["class_key"].removeprefix("class-"))
        starts = r["start_time"]
        found.append(
            ClassInfo(
                *(index, r["class_id"], r["kind"], r["price_minor"], r["pattern_id"]),
                r["resource_id"],
                _weekdays(index),
                starts if isinstance(starts, time) else time.fromisoformat(str(starts)),
            )
        )
    return found


def _booked_at(s: Session, customer: int) -> datetime:
    """Three days ahead, or one in six the evening before (they get the 1 h reminder only)."""
    return s.starts_at - (timedelta(hours=12) if (s.id + customer) % 6 == 1 else timedelta(days=3))


@dataclass
class History:
    """Writes the large studio's two years into `rows`."""

    rows: Rows
    studio_id: int
    days_before: int = DAYS_BEFORE
    customers: list[int] = field(default_factory=list)  # ids by customer index
    passes: dict[tuple[int, int], int] = field(default_factory=dict)  # (class, holder) -> id

    def people(self) -> None:
        created = NOW - timedelta(days=self.days_before + 30)
        for n in range(CUSTOMERS):
            name = "Regular" if n == 0 else f"Customer {n}"
            phone = f"+4477{n:08d}"
            self.customers.append(
                self.rows.add("customers", self.studio_id, name, phone, "en", created)
            )

    def pass_of(self, klass: ClassInfo, holder: int) -> tuple[int, int]:
        """The pass of the class's `holder`-th pass holder (issued on first use): id, customer."""
        customer = self.customers[BOOKERS + 1 + klass.index * HOLDERS_PER_CLASS + holder]
        key = (klass.index, holder)
        if key not in self.passes:
            self.passes[key] = self.rows.add(
                "passes",
                *(self.studio_id, customer, klass.id, "unlimited", 3, False, 0),
                *(NOW.date() - timedelta(days=self.days_before), "staff_issued", 12000),
                *("active", NOW - timedelta(days=self.days_before)),
            )
        return self.passes[key], customer

    def sessions(self, classes: list[ClassInfo]) -> Iterator[Session]:
        zone = ZoneInfo(ZONE)
        ordinals = dict.fromkeys((c.index for c in classes), 0)
        for offset in range(-self.days_before, DAYS_AFTER):
            day = NOW.date() + timedelta(days=offset)
            for klass in classes:
                if day.weekday() not in klass.weekdays:
                    continue
                starts = datetime.combine(day, klass.starts, tzinfo=zone).astimezone(UTC)
                ends = starts + timedelta(hours=1)
                session_id = self.rows.add(
                    "sessions",
                    *(self.studio_id, klass.id, klass.pattern_id, day, starts, ends, CAPACITY),
                    *(f"Room {klass.index % 5 + 1}", "open", False),
                    closed_at=ends if ends <= NOW else None,  # as the sweep leaves it
                )
                yield Session(session_id, klass, ordinals[klass.index], starts, ends)
                ordinals[klass.index] += 1

    def remind(
        self, s: Session, customer: int, ref: str, booked: datetime, *, withdrawn: bool = False
    ) -> None:
        """The reminders still ahead when it was booked (as `reminders.queue`): sent once
        due, withdrawn if it was cancelled."""
        params = f'{{"class_name": "Class {s.klass.index:02d}", "session_id": {s.id}, "starts_at": "{s.starts_at.isoformat()}"}}'
        for template, lead in (
            ("reminder_24h", timedelta(hours=24)),
            ("reminder_1h", timedelta(hours=1)),
        ):
            due = s.starts_at - lead
            if due <= booked:
                continue
            sent = due <= NOW and not withdrawn
            status = "withdrawn" if withdrawn else "sent" if sent else "pending"
            self.rows.add(
                "outbox",
                *(self.studio_id, customer, template, params, due, status, int(sent)),
                *("sms" if sent else None, due + timedelta(seconds=2) if sent else None),
                *(booked, f"{template}:{ref}-{s.id}"),
            )

    def book(self, s: Session, customer: int, status: str, guests: int = 1) -> None:
        """A single-session registration in `status`: confirmed, cancelled or expired (a
        lapsed hold); a confirmed one in the past was attended or missed."""
        k = s.klass
        created = _booked_at(s, customer)
        ended = {
            "cancelled": s.starts_at - timedelta(days=1),
            "expired": created + timedelta(minutes=10),
        }
        held_until = ended["expired"] if status == "expired" else None
        reg = self.rows.add(
            "registrations",
            *(self.studio_id, customer, k.id, k.kind, guests, status, k.price_minor * guests),
            *("GBP", created, ended.get(status), held_until),
            last_starts_at=s.starts_at,
        )
        live = status == "confirmed"
        past = s.ends_at <= NOW
        missed = past and (s.id + customer) % 10 == 0
        attendance = ("no_show" if missed else "attended") if live and past else None
        self.rows.add(
            "registration_sessions",
            *(self.studio_id, reg, s.id, customer, guests, "booked" if live else "cancelled"),
            attendance,
            s.starts_at - timedelta(minutes=5) if attendance == "attended" else None,
            held_until,
        )
        if live and k.resource_id is not None:
            self.rows.add("resource_allocations", self.studio_id, reg, s.id, k.resource_id, guests)
        if status != "expired":
            self.remind(s, customer, f"booking-{reg}", created, withdrawn=status == "cancelled")

    def reserve(self, s: Session, holder: int) -> None:
        """A pass reservation: closed (attended, or a no-show already acted on) in the past,
        pending ahead."""
        pass_id, customer = self.pass_of(s.klass, holder)
        reserved = _booked_at(s, customer)
        status = "pending"
        closed = checked = handled = None
        if s.ends_at <= NOW:
            status = "no_show" if (s.id + holder) % 10 == 0 else "attended"
            closed = s.ends_at
            checked = s.starts_at - timedelta(minutes=5) if status == "attended" else None
            handled = s.ends_at + timedelta(hours=12) if status == "no_show" else None
        res = self.rows.add(
            "reservations",
            *(self.studio_id, pass_id, customer, s.id, status, reserved),
            *(checked, closed, False, None, handled),
        )
        self.remind(s, customer, f"reservation-{res}", reserved)

    def wait(self, s: Session) -> None:
        """A waitlist entry long settled: its offer expired, was declined or accepted."""
        status = ("expired", "declined", "accepted", "cancelled")[s.ordinal % 4]
        customer = self.customers[BOOKERS + 1 + CLASSES * HOLDERS_PER_CLASS + s.id % 7_000]
        offered = s.starts_at - timedelta(days=1)
        self.rows.add(
            "waitlist_entries",
            *(self.studio_id, s.id, customer, 1, status, offered - timedelta(days=2)),
            *(offered, offered + timedelta(hours=2)),
        )

    def fill(self, s: Session, regular_every: int) -> None:
        past = s.ends_at <= NOW
        seats = PAST_BOOKINGS if past else FUTURE_BOOKINGS
        for seat in range(seats):
            customer = self.customers[1 + (s.id * 7919 + seat * 4999) % BOOKERS]
            h = (s.id * 31 + seat * 17) % 100
            status = "expired" if h < 3 else "cancelled" if h < 7 else "confirmed"
            self.book(s, customer, status, guests=2 if seat == 0 and s.id % 5 == 0 else 1)
        for seat in range(PAST_RESERVATIONS if past else FUTURE_RESERVATIONS):
            self.reserve(s, (s.ordinal * 2 + seat) % HOLDERS_PER_CLASS)
        if past and s.ordinal % 2 == 0:
            self.wait(s)
        if past and s.id % regular_every == 0:
            self.book(s, self.customers[0], "confirmed")


def large_rows(studio_id: int, classes: list[ClassInfo], rows: Rows, days_before: int) -> Rows:
    history = History(rows, studio_id, days_before)
    history.people()
    sessions = list(history.sessions(classes))
    past = sum(1 for s in sessions if s.ends_at <= NOW)
    every = past // REGULAR_PAST
    for s in sessions:
        history.fill(s, every)
    bookers = history.customers[1 : BOOKERS + 1]
    backlog(history.rows, studio_id, bookers, LARGE_BACKLOG)
    return history.rows


async def build_large(url: str, days_before: int = DAYS_BEFORE) -> Built:
    started = _time.perf_counter()
    await migrate.upgrade_async(url)
    db = await connect(url)
    try:
        report = await load_studio(db, parse_studio_data(large_spec()))
        classes = await _classes(db, report.studio_id)
        rows = Rows(await first_ids(db), await table_columns(db))
    finally:
        await db.close()
    await asyncio.to_thread(large_rows, report.studio_id, classes, rows, days_before)
    await write(url, rows)
    db = await connect(url)
    try:  # whatever the sweeps would still do at NOW, done, so their figures are steady
        await Sweeps(db, FrozenClock(NOW)).tick()
    finally:
        await db.close()
    regular = rows.rows["customers"][0][0]
    return await _built("large", url, report.studio_id, regular, started)


# --- the SQLite cache ---------------------------------------------------------------------


def schema_key() -> str:
    """Changes whenever the schema, its migrations or this builder change."""
    store = Path(bookbot.store.__file__).parent
    digest = hashlib.sha256()
    for path in [
        store / "schema.py",
        Path(__file__),
        *sorted(store.glob("migrations/versions/*.py")),
    ]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


async def large_sqlite(
    folder: Path, *, cache: bool = True, days_before: int = DAYS_BEFORE
) -> Built:
    """The large SQLite database in `folder`, copied from a cached build when the schema
    and this builder are unchanged (the build takes a minute or so; the copy, a second).
    A build of other than DAYS_BEFORE days of history is never cached."""
    cache = cache and days_before == DAYS_BEFORE
    target = folder / "large.db"
    cached = Path(tempfile.gettempdir()) / "bookbot-bench-scale" / f"large-{schema_key()}"
    db_file, about = cached.with_suffix(".db"), cached.with_suffix(".json")
    if cache and db_file.exists() and about.exists():
        started = _time.perf_counter()
        shutil.copyfile(db_file, target)
        kept = json.loads(about.read_text())
        seconds = _time.perf_counter() - started
        label = f"large (cached; built in {kept['seconds']:.1f} s)"
        return Built(**kept | {"label": label, "url": f"sqlite:///{target}", "seconds": seconds})
    built = await build_large(f"sqlite:///{target}", days_before)
    if cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        shutil.copyfile(target, partial)
        partial.replace(db_file)
        about.write_text(json.dumps(asdict(built)))
        _prune(cached.parent, keep=KEEP_CACHED)
    return built


def _prune(folder: Path, *, keep: int) -> None:
    """Drop all but the `keep` newest cached builds (each is ~200 MB)."""
    builds = sorted(folder.glob("large-*.db"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[keep:]:
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)


# --- what the timed operations need, on either database -----------------------------------

# Sessions a customer can book a seat on: a day or more ahead, of a class booked one
# session at a time (no parts), with two seats free or more.
_BOOKABLE = """SELECT s.id AS session_id, c.kind FROM sessions s
JOIN classes c ON c.id = s.class_id AND c.studio_id = s.studio_id
WHERE s.studio_id = :studio_id AND s.status = 'open' AND s.starts_at > :after
  AND c.kind IN ('single', 'drop_in')
  AND NOT EXISTS (SELECT 1 FROM class_parts p WHERE p.class_id = c.id)
  AND s.capacity - 2 >= (SELECT COALESCE(SUM(rs.guest_count), 0) FROM registration_sessions rs
      WHERE rs.session_id = s.id AND rs.status IN ('booked', 'held'))
    + (SELECT COUNT(*) FROM reservations r WHERE r.session_id = s.id
      AND r.status IN ('pending', 'checked_in'))
ORDER BY s.starts_at, s.id LIMIT :limit"""

_CUSTOMER = """INSERT INTO customers (studio_id, name, phone, language, created_at)
VALUES (:studio_id, :name, :phone, 'en', :now) RETURNING id"""

_ISSUE = """INSERT INTO passes (studio_id, customer_id, class_id, kind, max_advance, sequential,
    absence_grace_hours, valid_from, payment, price_minor, status, created_at)
VALUES (:studio_id, :customer_id, :class_id, 'unlimited', 3, :no, 0, :from, 'staff_issued',
    12000, 'active', :now) RETURNING id"""

_ENDED = """INSERT INTO sessions (studio_id, class_id, occurrence_date, starts_at, ends_at,
    capacity, location, status, makeup)
VALUES (:studio_id, :class_id, :day, :starts_at, :ends_at, 8, '', 'open', :no) RETURNING id"""

_RESERVATION = """INSERT INTO reservations (studio_id, pass_id, customer_id, session_id, status,
    reserved_at) VALUES (:studio_id, :pass_id, :customer_id, :session_id, 'pending', :at)"""

_OFFER = """INSERT INTO waitlist_entries (studio_id, session_id, customer_id, guest_count, status,
    created_at, offered_at, offer_expires_at)
VALUES (:studio_id, :session_id, :customer_id, 1, 'offered', :created, :offered, :expires)"""

DUE_BOOKINGS, DUE_RESERVATIONS = 6, 2  # people in the class that ends in a "due" minute


@dataclass(frozen=True)
class Bookable:
    session_id: int
    kind: RegistrationKind


@dataclass
class Fixture:
    """The people and sessions the operations use, the same on the demo and on large."""

    db: Database
    studio_id: int
    zone: str
    regular: int
    booker: int  # books a fresh session each run
    holder: int  # whose hold lapses in each "due" minute
    waiter: int  # whose offer lapses in each "due" minute
    due_people: list[int]
    passes: list[tuple[int, int]]  # (pass, customer) with a reservation in the ended class
    held: Bookable  # where the lapsing hold and offer are
    fresh: Iterator[Bookable]  # for the bookings, one each run
    backlog: int  # due outbox rows
    current: Bookable | None = None

    async def book(self, customer: int, session: Bookable, clock: FrozenClock) -> None:
        """Book as the chat does: hold, then confirm."""
        ids = [session.session_id]
        placed = await holds.hold(
            self.db, clock, self.studio_id, customer, session.kind, guests=1, session_ids=ids
        )
        await holds.confirm_hold(self.db, clock, self.studio_id, customer, placed.id)

    async def next_session(self) -> None:
        self.current = next(self.fresh)

    async def book_next(self) -> None:
        assert self.current is not None  # noqa: S101 - next_session runs first
        return await self.book(self.booker, self.current, FrozenClock(NOW))

    async def make_due(self) -> None:
        """A minute's work for the sweeps at NOW: a class that ended a minute ago with its
        people not closed yet, a hold and a waitlist offer that lapsed a minute ago."""
        start = {"studio_id": self.studio_id, "day": NOW.date(), "no": False}
        async with self.db.transaction() as tx:
            ended = await tx.scalar(
                _ENDED,
                start
                | {"class_id": await self._class_of(tx, self.held), "starts_at": NOW - HOUR * 2}
                | {"ends_at": NOW - timedelta(minutes=1)},
            )
        session = Bookable(int(ended), self.held.kind)
        earlier = FrozenClock(NOW - HOUR * 4)
        for person in self.due_people:
            await self.book(person, session, earlier)
        lapsed = NOW - timedelta(minutes=1)
        async with self.db.transaction() as tx:
            for pass_id, customer in self.passes:
                await tx.execute(
                    _RESERVATION,
                    {"studio_id": self.studio_id, "pass_id": pass_id, "customer_id": customer}
                    | {"session_id": session.session_id, "at": earlier.now()},
                )
            await tx.execute(
                _OFFER,
                {"studio_id": self.studio_id, "session_id": self.held.session_id}
                | {"customer_id": self.waiter, "created": NOW - HOUR * 3}
                | {"offered": NOW - HOUR * 2, "expires": lapsed},
            )
        hold_clock = FrozenClock(NOW - timedelta(minutes=11))  # the studios hold for 10
        await holds.hold(
            *(self.db, hold_clock, self.studio_id, self.holder, self.held.kind),
            guests=1,
            session_ids=[self.held.session_id],
        )

    async def _class_of(self, tx: Tx, session: Bookable) -> int:
        found = await tx.scalar(
            "SELECT class_id FROM sessions WHERE id = :id", {"id": session.session_id}
        )
        return int(found)


async def prepare(db: Database, built: Built, runs: int) -> Fixture:
    """The fixture's people (inserted), the regular's upcoming bookings, fresh sessions."""
    s = built.studio_id
    async with db.transaction() as tx:
        rows = await tx.all(
            _BOOKABLE, {"studio_id": s, "after": NOW + timedelta(days=1), "limit": runs + 8}
        )
        bookable = [Bookable(r["session_id"], RegistrationKind(r["kind"])) for r in rows]
        if len(bookable) < runs + 6:  # the hold's, the regular's 3, one a run, the plans'
            raise SystemExit(f"{built.label}: {len(bookable)} bookable sessions; lower --runs")
        people = []
        for n in range(5 + DUE_BOOKINGS):
            params = {"studio_id": s, "name": f"Bench {n}", "phone": f"+4478000{n:05d}", "now": NOW}
            people.append(int(await tx.scalar(_CUSTOMER, params)))
        held = bookable[0]
        class_id = await tx.scalar(
            "SELECT class_id FROM sessions WHERE id = :id", {"id": held.session_id}
        )
        passes = []
        for customer in people[3:5]:
            params = {"studio_id": s, "customer_id": customer, "class_id": class_id, "no": False}
            params |= {"from": NOW.date() - timedelta(days=7), "now": NOW}
            passes.append((int(await tx.scalar(_ISSUE, params)), customer))
        backlog = await tx.scalar(
            "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' AND due_at <= :now",
            {"now": NOW},
        )
    fixture = Fixture(
        *(db, s, built.zone, built.regular_id, people[0], people[1], people[2]),
        due_people=people[5:],
        passes=passes,
        held=held,
        fresh=iter(bookable[4:]),
        backlog=int(backlog),
    )
    for session in bookable[1:4]:  # the regular has bookings ahead too
        await fixture.book(built.regular_id, session, FrozenClock(NOW))
    return fixture
