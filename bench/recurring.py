"""How long does the daily 02:00 job take to keep recurring bookings placed 6 weeks ahead,
and how does that grow with the number of series?

For N = 250, 500 and 1,000 active weekly series (a London studio, 25 staff members working
Monday to Friday 08:00-18:00, a 60-minute lesson, each series its own staff member, weekday
and hour, so nothing clashes), on a fresh database each time:

* materialise: the series written as due, then one run of the job (`recurring.extend_due`)
  places each one's next 6 weeks: 6 x N confirmed appointments, with their reminders;
* next night: the run at 02:00 the following night: every series is due (the job extends
  each daily), about N/7 of them gain a date (the window moved by one day), each in its own
  transaction; the others are moved on together;
* again: the same run repeated at once: nothing is due any more (the due read through the
  partial index ix_recurring_bookings_due only);
* forced re-run: every series made due again with nothing new to place: read a page at a
  time and moved on to the next night together (one UPDATE per page and studio).

It also times `recurring.create` (the chat's and the CLI's path: the series and its 6 weeks
in one transaction) over 50 series, and prints the plan of the due read.

Then the check: every size placed 6 x N, stored that many plus the next night's, and the
repeated and forced runs placed nothing. It prints "check: ok", else what was wrong, and
exits 1.

Run from the repository root:

    PYTHONPATH=src python bench/recurring.py [--postgres-url URL] [--sizes 250,500,1000]

With --postgres-url the bench drops and recreates that database's `public` schema, so its
name must contain "test" or "bench". Wall-clock and this process's CPU time are printed
(on a shared machine other processes inflate the wall figure).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time as clock
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bookbot.engine.clock import FrozenClock
from bookbot.services import recurring
from bookbot.store import migrate
from bookbot.store.db import Database, connect
from disposable_postgres import refuse_unless_disposable, wipe

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 01:00 London (GMT)
STAFF = 25
HOURS = ("09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00")
SIZES = (250, 500, 1000)
MAX_SERIES = STAFF * 5 * len(HOURS)  # every series its own staff member, weekday and hour
CREATED = 50


async def _studio(db: Database, series: int) -> tuple[int, int, list[int], list[int]]:
    """The studio, its lesson, staff and customers; `series` due series written directly."""
    async with db.transaction() as tx:
        studio = int(
            await tx.scalar(
                "INSERT INTO studios (slug, name, timezone, currency, default_language)"
                " VALUES ('bench', 'Bench studio', 'Europe/London', 'GBP', 'en') RETURNING id"
            )
        )
        service = int(
            await tx.scalar(
                "INSERT INTO services (studio_id, key, name, duration_minutes, price_minor)"
                " VALUES (:s, 'lesson', 'Lesson', 60, 4000) RETURNING id",
                {"s": studio},
            )
        )
        staff = []
        for n in range(STAFF):
            staff_id = int(
                await tx.scalar(
                    "INSERT INTO staff (studio_id, key, name) VALUES (:s, :k, :n) RETURNING id",
                    {"s": studio, "k": f"coach{n}", "n": f"Coach {n}"},
                )
            )
            staff.append(staff_id)
        await tx.execute_many(
            "INSERT INTO service_staff (studio_id, service_id, staff_id) VALUES (:s, :sv, :p)",
            [{"s": studio, "sv": service, "p": p} for p in staff],
        )
        await tx.execute_many(
            "INSERT INTO availability_windows (studio_id, staff_id, weekday, start_time,"
            " end_time, source) VALUES (:s, :p, :d, '08:00', '18:00', 'file')",
            [{"s": studio, "p": p, "d": d} for p in staff for d in range(5)],
        )
        customers = []
        for n in range(series + CREATED):
            customers.append(
                int(
                    await tx.scalar(
                        "INSERT INTO customers (studio_id, name, created_at)"
                        " VALUES (:s, :n, :now) RETURNING id",
                        {"s": studio, "n": f"Member {n}", "now": NOW},
                    )
                )
            )
        await tx.execute_many(
            "INSERT INTO recurring_bookings (studio_id, customer_id, service_id, staff_id,"
            " weekday, start_time, timezone, interval_weeks, starts_on, guest_count, status,"
            " source, next_extension_at, created_at, end_reason) VALUES (:s, :c, :sv, :p, :d,"
            " :t, 'Europe/London', 1, :on, 1, 'active', 'cli', :now, :now, '')",
            [
                {
                    "s": studio,
                    "c": customers[n],
                    "sv": service,
                    "p": staff[n % STAFF],
                    "d": (n // STAFF) % 5,
                    "t": HOURS[n // (STAFF * 5)],
                    "on": date(2026, 11, 2),
                    "now": NOW,
                }
                for n in range(series)
            ],
        )
    return studio, service, staff, customers[series:]


async def _timed(call: object) -> tuple[float, float, int]:
    wall, cpu = clock.perf_counter(), clock.process_time()
    result = await call  # type: ignore[misc]
    return clock.perf_counter() - wall, clock.process_time() - cpu, int(result)


def _line(label: str, n: int, wall: float, cpu: float, placed: int) -> str:
    return (
        f"  {label:<16} {placed:>6} placed  {wall * 1000:>9.0f} ms wall ({wall / n * 1000:6.2f}"
        f" ms/series)  {cpu * 1000:>8.0f} ms CPU"
    )


async def _due_plan(db: Database) -> str:
    sql = recurring.DUE_SQL.replace(":now", "'2026-11-03 02:00:00.000000+00:00'").replace(
        ":limit", "100"
    )
    async with db.transaction(write=False) as tx:
        if tx.dialect == "postgresql":
            await tx.execute("ANALYZE recurring_bookings")
            rows = await tx.all("EXPLAIN " + sql)
            lines = [str(r["QUERY PLAN"]).strip() for r in rows]
            return " / ".join(line for line in lines if "Scan" in line or "Cond" in line)
        rows = await tx.all("EXPLAIN QUERY PLAN " + sql)
        return " / ".join(str(r["detail"]) for r in rows)


async def _check(db: Database, studio: int, n: int, placed: dict[str, int]) -> list[str]:
    """What the job must have done: 6 weeks per series, then nothing left to place."""
    booked = await db.scalar(
        "SELECT COUNT(*) FROM appointments WHERE studio_id = :s AND status = 'confirmed'",
        {"s": studio},
    )
    problems = [
        f"{n} series: {label} placed {placed[label]}, expected {expected}"
        for label, expected in (("materialise", 6 * n), ("again", 0), ("forced", 0))
        if placed[label] != expected
    ]
    if booked != 6 * n + placed["next night"]:
        problems.append(f"{n} series: {booked} confirmed appointments stored")
    return problems


async def bench_size(url: str, n: int, *, last: bool, problems: list[str]) -> dict[str, float]:
    await asyncio.to_thread(migrate.upgrade, url)
    db = await connect(url)
    try:
        studio, service, staff, spare = await _studio(db, n)
        at = FrozenClock(NOW)
        results: dict[str, float] = {}
        placed: dict[str, int] = {}
        wall, cpu, placed["materialise"] = await _timed(recurring.extend_due(db, at))
        print(_line("materialise", n, wall, cpu, placed["materialise"]))
        results["materialise"] = wall
        at.set(NOW + timedelta(days=1, hours=1, seconds=1))  # Tuesday 02:00:01 London
        wall, cpu, placed["next night"] = await _timed(recurring.extend_due(db, at))
        print(_line("next night", n, wall, cpu, placed["next night"]))
        results["next night"] = wall
        wall, cpu, placed["again"] = await _timed(recurring.extend_due(db, at))
        print(_line("again", n, wall, cpu, placed["again"]))
        await db.execute(
            "UPDATE recurring_bookings SET next_extension_at = :now WHERE studio_id = :s",
            {"now": at.now(), "s": studio},
        )
        wall, cpu, placed["forced"] = await _timed(recurring.extend_due(db, at))
        print(_line("forced re-run", n, wall, cpu, placed["forced"]))
        results["forced"] = wall
        problems += await _check(db, studio, n, placed)
        if last:
            await _bench_create(db, at, studio, service=service, staff=staff, spare=spare)
            print(f"  plan of the due read: {await _due_plan(db)}")
        return results
    finally:
        await db.close()


async def _bench_create(
    db: Database,
    at: FrozenClock,
    studio: int,
    *,
    service: int,
    staff: list[int],
    spare: list[int],
) -> None:
    times = []
    for n, customer in enumerate(spare):
        spec = recurring.NewSeries(
            customer_id=customer,
            service_id=service,
            staff_id=staff[n % STAFF],
            weekday=(n // STAFF) % 5,
            start_time="08:00" if n < STAFF * 5 else "17:00",
            interval_weeks=1,
            starts_on=date(2026, 11, 3),
        )
        start = clock.perf_counter()
        await recurring.create(db, at, studio, spec)
        times.append(clock.perf_counter() - start)
    times.sort()
    print(
        f"  recurring.create x{len(times)} (the series and its 6 weeks in one transaction):"
        f" median {times[len(times) // 2] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms"
    )


async def bench(postgres_url: str | None, sizes: tuple[int, ...]) -> list[str]:
    """Print the figures; return what the check found wrong."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bookbot-recurring-bench-") as tmp:
        targets = [(f"sqlite:///{tmp}/{{n}}.db", "sqlite")]
        if postgres_url:
            targets.append((postgres_url, "postgresql"))
        for url, name in targets:
            print(f"\n{name}")
            found = {}
            for n in sizes:
                if name == "postgresql":
                    await wipe(url)
                print(f" {n} series")
                found[n] = await bench_size(
                    url.format(n=n), n, last=n == sizes[-1], problems=problems
                )
            small, large = found[sizes[0]], found[sizes[-1]]
            ratio = sizes[-1] / sizes[0]
            print(
                f" growth {sizes[0]} -> {sizes[-1]} series (x{ratio:.0f}):"
                + "".join(
                    f"  {k} x{large[k] / small[k]:.1f}"
                    for k in ("materialise", "next night", "forced")
                )
            )
    return problems


def sizes_arg(text: str) -> tuple[int, ...]:
    sizes = tuple(sorted(int(n) for n in text.split(",")))
    if not sizes or sizes[0] < 1 or sizes[-1] > MAX_SERIES:
        raise argparse.ArgumentTypeError(f"series counts from 1 to {MAX_SERIES}")
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", help="also on this disposable PostgreSQL database")
    parser.add_argument(
        "--sizes",
        type=sizes_arg,
        default=SIZES,
        help="comma-separated series counts (default 250,500,1000)",
    )
    args = parser.parse_args()
    if args.postgres_url:
        refuse_unless_disposable(args.postgres_url)
    print(f"bench/recurring.py  {datetime.now(UTC):%Y-%m-%d %H:%M}Z")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.system()}"
        f" {platform.release()}; Python {platform.python_version()};"
        f" load average {os.getloadavg()[0]:.2f} at start"
    )
    problems = asyncio.run(bench(args.postgres_url, args.sizes))
    if problems:
        print("\ncheck: FAILED\n" + "\n".join(f"  {p}" for p in problems))
        return 1
    print("\ncheck: ok (every series placed 6 weeks ahead, then nothing left to place)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
