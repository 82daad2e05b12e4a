"""How fast does the engine turn availability and busy time into bookable slots?

Pure engine timings (`bookbot.engine.slots`), no database: reading a staff member's
availability and busy rows is the services layer's separate job, and it reads only the
rows of the asked range through an index (appointments by (staff_id, busy_from), blocks by
(staff_id, ends_at)), so the engine normally sees a range's rows, not a studio's history.

It measures, each as the median and p95 of --runs calls after a warm-up, in wall-clock time
and in this process's CPU time (on a shared, loaded machine other processes' turns on the
CPU inflate the wall figure; the CPU figure is what the call itself costs):

* slots: `free_slots` for one staff member (Europe/Madrid, weekdays 09:00-13:00 and
  15:00-19:00, Saturday mornings, an override, a blocked week, an extra window) over 60
  days with 200 existing appointments, for a 60-minute service with a 15-minute buffer
  after on a 15-minute grid. Target: median < 2 ms.
* first available: `first_available` across 100 staff members (four zones, 200
  appointments each over the 60 days), as a customer asks for "first available"; then the
  same when everybody is fully booked for the next 14 days, so the search, which looks a
  day, then 2, 4, 8 ... days ahead for everybody and stops at the first span with a slot,
  must go far.
  Target: median < 50 ms for the first; the second is shown for growth.
* growth: `free_slots` over 60 days as the staff member's appointments go from 0 to 10,000,
  spread over a year before and a year after now (a busy tutor's history and bookings);
  once with every row passed in (the engine filters them), once with only the rows
  overlapping the range (what the services layer passes).

* through the database: `services.appointments.free_slots` (the read of availability and
  busy time, then the engine) for Lucía of examples/tutor-studio.toml over 60 days, on
  SQLite (a temporary file) and, with --postgres-url, PostgreSQL, with 200 appointments in
  the range and 0 or 10,000 more in her past (two years of history): the read goes through
  (staff_id, busy_from) over the range, so the history must cost nothing. The plan of the
  busy read is printed.

Run from the repository root:

    PYTHONPATH=src python bench/slots.py [--runs N] [--postgres-url URL]

With --postgres-url the bench drops and recreates that database's `public` schema, so its
name must contain "test" or "bench".

It prints ok or FAIL against each target (ok when the wall median meets it; "ok on CPU time"
when only the CPU median does); the targets do not change the exit status. The last line is
the check: the database read finds slots, the same with and without the history ("check:
ok"; else "check: FAILED" and exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bookbot.engine.slots import (
    Availability,
    DateOverride,
    Interval,
    LocalWindow,
    ServiceRules,
    WeeklyWindow,
    first_available,
    free_slots,
)
from bookbot.store.db import Database
from disposable_postgres import refuse_unless_disposable, wipe

NOW = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
HORIZON = timedelta(days=60)
RULES = ServiceRules(duration=timedelta(minutes=60), buffer_after=timedelta(minutes=15))
ZONES = ("Europe/Madrid", "America/New_York", "Europe/London", "Asia/Kolkata")
SLOTS_TARGET_MS = 2.0
FIRST_TARGET_MS = 50.0
T = TypeVar("T")


def availability(zone: str) -> Availability:
    weekdays = [
        WeeklyWindow(day, start, end)
        for day in range(5)
        for start, end in ((time(9), time(13)), (time(15), time(19)))
    ]
    saturday = WeeklyWindow(5, time(10), time(14), individual=True, group=False)
    extra = datetime(2026, 12, 12, 15, tzinfo=UTC)
    holiday = datetime(2026, 12, 21, tzinfo=UTC)
    return Availability(
        timezone=zone,
        weekly=(*weekdays, saturday),
        overrides=(
            DateOverride(date(2026, 12, 24), ()),
            DateOverride(date(2026, 12, 31), (LocalWindow(time(10), time(12)),)),
        ),
        additions=(Interval(extra, extra + timedelta(hours=3), "Extra Saturday"),),
        blocks=(Interval(holiday, holiday + timedelta(days=7), "Holiday"),),
    )


def appointments(rng: random.Random, count: int, start: datetime, end: datetime) -> list[Interval]:
    """`count` one-hour appointments (75-minute footprints) at random quarter hours in
    [start, end), sorted as the services layer reads them (by busy_from)."""
    quarters = int((end - start) / timedelta(minutes=15))
    starts = sorted(start + timedelta(minutes=15 * rng.randrange(quarters)) for _ in range(count))
    return [Interval(s, s + timedelta(minutes=75), "Lesson") for s in starts]


@dataclass(frozen=True)
class Timing:
    """Milliseconds per call: wall clock, and CPU time of this process (which leaves out the
    time other processes held the CPU: on a shared machine the wall figure is inflated)."""

    wall_median: float
    wall_p95: float
    cpu_median: float
    cpu_p95: float

    def __str__(self) -> str:
        return (
            f"wall median {self.wall_median:7.3f} p95 {self.wall_p95:7.3f}"
            f" | cpu median {self.cpu_median:7.3f} p95 {self.cpu_p95:7.3f} ms"
        )

    def verdict(self, target: float) -> str:
        if self.wall_median < target:
            return f"target < {target:g} ms: ok"
        if self.cpu_median < target:
            return f"target < {target:g} ms: ok on CPU time (wall inflated by the machine's load)"
        return f"target < {target:g} ms: FAIL"


def timed(call: Callable[[], T], runs: int) -> tuple[Timing, T]:
    """Timing of `runs` calls after a warm-up, and the last result."""
    result = call()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = clock.perf_counter_ns(), clock.process_time_ns()
        result = call()
        cpus.append((clock.process_time_ns() - cpu) / 1e6)
        walls.append((clock.perf_counter_ns() - wall) / 1e6)
    return Timing(*percentiles(walls), *percentiles(cpus)), result


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(round(len(ordered) * 0.95) - 1, 0)]


def bench_slots(runs: int) -> None:
    busy = appointments(random.Random(14), 200, NOW, NOW + HORIZON)
    staff = availability("Europe/Madrid")
    timing, found = timed(
        partial(free_slots, staff, RULES, busy, now=NOW, start=NOW, end=NOW + HORIZON), runs
    )
    print(f"slots: 1 staff, 60 days, 200 appointments ({len(found)} slots)")
    print(f"  {timing}  {timing.verdict(SLOTS_TARGET_MS)}")


def bench_first_available(runs: int) -> None:
    rng = random.Random(15)
    candidates: list[tuple[int, Availability, Sequence[Interval]]] = [
        (staff_id, availability(ZONES[staff_id % 4]), appointments(rng, 200, NOW, NOW + HORIZON))
        for staff_id in range(1, 101)
    ]
    booked = Interval(NOW - timedelta(days=1), NOW + timedelta(days=14), "Booked")
    full: list[tuple[int, Availability, Sequence[Interval]]] = [
        (staff_id, staff, [booked, *busy]) for staff_id, staff, busy in candidates
    ]
    for label, staff, target in (
        ("100 staff, 200 appointments each", candidates, True),
        ("100 staff, all booked for 14 days", full, False),
    ):
        timing, found = timed(
            partial(first_available, staff, RULES, now=NOW, start=NOW, end=NOW + HORIZON), runs
        )
        where = f"staff {found[0]} at {found[1].start:%Y-%m-%d %H:%M}Z" if found else "none"
        print(f"first available: {label} ({where})")
        print(f"  {timing}  {timing.verdict(FIRST_TARGET_MS) if target else '(for growth)'}")


def bench_growth(runs: int) -> None:
    staff = availability("Europe/Madrid")
    print("\ngrowth: slots over 60 days, appointments spread over a year back and a year ahead")
    print(
        f"{'appointments':>12} {'in range':>9}   {'all rows passed':>32}   {'range rows passed':>32}"
    )
    for count in (0, 100, 1_000, 10_000):
        rng = random.Random(count)
        busy = appointments(rng, count, NOW - timedelta(days=365), NOW + timedelta(days=365))
        reach = NOW + HORIZON + timedelta(hours=2)
        in_range = [b for b in busy if b.end > NOW and b.start < reach]
        cells = []
        for rows in (busy, in_range):
            timing, _ = timed(
                partial(free_slots, staff, RULES, rows, now=NOW, start=NOW, end=NOW + HORIZON),
                max(runs // 4, 5),
            )
            cells.append(f"wall {timing.wall_median:7.3f} cpu {timing.cpu_median:7.3f} ms")
        print(f"{count:>12,} {len(in_range):>9,}   {cells[0]:>32}   {cells[1]:>32}")


# --- through the database ----------------------------------------------------------------

DB_NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # a Monday, before Lucía's first hour
TUTOR_FILE = Path(__file__).resolve().parents[1] / "examples" / "tutor-studio.toml"


async def _tutor_database(url: str, history: int) -> tuple[Database, int, int, int]:
    """The tutor studio migrated and loaded at `url`, Lucía with 200 appointments in the next
    60 days and `history` more in the two years before; (db, studio, staff, service)."""
    from bookbot.store import migrate
    from bookbot.store.db import connect
    from bookbot.studio.loader import load_studio
    from bookbot.studio.model import parse_studio_file

    await asyncio.to_thread(migrate.upgrade, url)
    db = await connect(url)
    report = await load_studio(db, parse_studio_file(TUTOR_FILE))
    studio = report.studio_id
    staff = int(await db.scalar("SELECT id FROM staff WHERE key = 'lucia'"))
    service = int(await db.scalar("SELECT id FROM services WHERE key = 'spanish-lesson'"))
    customer = int(
        await db.scalar(
            "INSERT INTO customers (studio_id, name, created_at) VALUES (:s, 'Bench', :now)"
            " RETURNING id",
            {"s": studio, "now": DB_NOW},
        )
    )
    rng = random.Random(7)
    ahead = appointments(rng, 200, DB_NOW, DB_NOW + HORIZON)
    past = appointments(rng, history, DB_NOW - timedelta(days=730), DB_NOW - timedelta(days=1))
    rows = [
        {
            "s": studio,
            "sv": service,
            "p": staff,
            "c": customer,
            "start": a.start,
            "end": a.start + timedelta(minutes=60),
            "until": a.end,
            "status": "confirmed" if a.start > DB_NOW else "completed",
        }
        for a in past + ahead
    ]
    async with db.transaction() as tx:  # written as they are: overlaps do not matter here
        await tx.execute_many(
            "INSERT INTO appointments (studio_id, service_id, staff_id, customer_id, starts_at,"
            " ends_at, busy_from, busy_until, status, price_minor, currency, created_at,"
            " updated_at) VALUES (:s, :sv, :p, :c, :start, :end, :start, :until, :status,"
            " 4000, 'EUR', :start, :start)",
            [r for r in rows if r["status"] == "completed"],
        )
    if tx.dialect == "postgresql":  # the exclusion constraint: the live ones must not overlap
        await db.execute("ALTER TABLE appointments DROP CONSTRAINT appointments_no_overlap")
    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO appointments (studio_id, service_id, staff_id, customer_id, starts_at,"
            " ends_at, busy_from, busy_until, status, price_minor, currency, created_at,"
            " updated_at) VALUES (:s, :sv, :p, :c, :start, :end, :start, :until, :status,"
            " 4000, 'EUR', :start, :start)",
            [r for r in rows if r["status"] == "confirmed"],
        )
    return db, studio, staff, service


async def _busy_plan(db: Database, staff: int) -> str:
    """How the database runs the busy read of the services layer (its appointments part),
    with this bench's range written in."""
    from bookbot.services.appointment_rows import LIVE
    from bookbot.services.availability_reads import _BUSY_APPOINTMENTS

    values = {
        ":staff_id": str(staff),
        ":floor": "'2026-11-22 07:00:00+00:00'",
        ":start": "'2026-11-30 07:00:00+00:00'",
        ":end": "'2027-01-29 07:00:00+00:00'",
        ":now": "'2026-11-30 07:00:00+00:00'",
        ":except": "0",
    }
    sql = _BUSY_APPOINTMENTS.format(live=LIVE)
    for name, value in values.items():
        sql = sql.replace(name, value)
    async with db.transaction(write=False) as tx:
        if tx.dialect == "postgresql":
            await tx.execute("ANALYZE appointments")
            rows = await tx.all("EXPLAIN " + sql)
            lines = [str(r["QUERY PLAN"]).strip() for r in rows]
            return " / ".join(line for line in lines if "Scan" in line or "Cond" in line)
        rows = await tx.all("EXPLAIN QUERY PLAN " + sql)
        return " / ".join(str(r["detail"]) for r in rows)


async def _time_db_slots(url: str, history: int, runs: int) -> tuple[Timing, int, str]:
    from bookbot.services import appointments as booking

    db, studio, staff, service = await _tutor_database(url, history)
    try:

        async def call() -> int:
            found = await booking.free_slots(
                db,
                studio,
                service_id=service,
                staff_id=staff,
                now=DB_NOW,
                start=DB_NOW,
                end=DB_NOW + HORIZON,
            )
            return len(found)

        for _ in range(5):  # warm: statement caches, the first connections
            count = await call()
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu = clock.perf_counter_ns(), clock.process_time_ns()
            await call()
            cpus.append((clock.process_time_ns() - cpu) / 1e6)
            walls.append((clock.perf_counter_ns() - wall) / 1e6)
        return Timing(*percentiles(walls), *percentiles(cpus)), count, await _busy_plan(db, staff)
    finally:
        await db.close()


async def bench_database(runs: int, postgres_url: str | None) -> list[str]:
    """Print the figures; return what the check found wrong: the history must change
    neither the slots found nor their being found."""
    problems: list[str] = []
    print(
        "\nthrough the database: services.appointments.free_slots, Lucía, 60 days,"
        " 200 appointments ahead"
    )
    with tempfile.TemporaryDirectory(prefix="bookbot-slots-bench-") as tmp:
        targets = [(f"sqlite:///{tmp}/{{history}}.db", "sqlite")]
        if postgres_url:
            targets.append((postgres_url, "postgresql"))
        for url, name in targets:
            counts = []
            for history in (0, 10_000):
                if name == "postgresql":
                    await wipe(url)
                timing, count, plan = await _time_db_slots(
                    url.format(history=history), history, runs
                )
                print(f"  {name:<10} {history:>6,} past: {count} slots  {timing}")
                counts.append(count)
            if not counts[0] or len(set(counts)) != 1:
                problems.append(f"{name}: slots found with 0 and 10,000 past: {counts}")
            print(f"  {name:<10} plan of the busy read with 10,000 past: {plan}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed calls per measurement")
    parser.add_argument(
        "--postgres-url", help="also time the database read on this disposable PostgreSQL"
    )
    args = parser.parse_args()
    if args.postgres_url:
        refuse_unless_disposable(args.postgres_url)
    print(f"bench/slots.py  {datetime.now(UTC):%Y-%m-%d %H:%M}Z")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.system()}"
        f" {platform.release()}; Python {platform.python_version()};"
        f" load average {os.getloadavg()[0]:.2f} at start"
    )
    print(f"now {NOW:%Y-%m-%d %H:%M}Z, horizon 60 days, 60-minute service + 15-minute buffer\n")
    bench_slots(args.runs)
    bench_first_available(max(args.runs // 4, 10))
    bench_growth(args.runs)
    problems = asyncio.run(bench_database(max(args.runs // 4, 20), args.postgres_url))
    if problems:
        print("\ncheck: FAILED\n" + "\n".join(f"  {p}" for p in problems))
        return 1
    print("\ncheck: ok (the same slots through the database with and without history)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
