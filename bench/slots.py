"""How fast does the engine turn availability and busy time into bookable slots?

Pure engine timings (`bookbot.engine.slots`), no database: reading a staff member's
availability and busy rows is the services layer's separate job, and it reads only the
rows of the asked range through an index (appointments by (staff_id, busy_from), blocks by
(staff_id, ends_at)), so the engine normally sees a range's rows, not a studio's history.

It measures, each as the median and p95 of --runs calls after a warm-up:

* slots: `free_slots` for one staff member (Europe/Madrid, weekdays 09:00-13:00 and
  15:00-19:00, Saturday mornings, an override, a blocked week, an extra window) over 60
  days with 200 existing appointments, for a 60-minute service with a 15-minute buffer
  after on a 15-minute grid. Target: median < 2 ms.
* first available: `first_available` across 100 staff members (four zones, 200
  appointments each over the 60 days), as a customer asks for "first available"; then the
  same when everybody is fully booked for the next 14 days (the search must go far).
  Target: median < 50 ms for the first; the second is shown for growth.
* growth: `free_slots` over 60 days as the staff member's appointments go from 0 to 10,000,
  spread over a year before and a year after now (a busy tutor's history and bookings);
  once with every row passed in (the engine filters them), once with only the rows
  overlapping the range (what the services layer passes).

Run from the repository root:

    PYTHONPATH=src python bench/slots.py [--runs N]

It prints ok or FAIL against each target and exits 0 either way.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

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

NOW = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
HORIZON = timedelta(days=60)
RULES = ServiceRules(duration=timedelta(minutes=60), buffer_after=timedelta(minutes=15))
ZONES = ("Europe/Madrid", "America/New_York", "Europe/London", "Asia/Kolkata")
SLOTS_TARGET_MS = 2.0
FIRST_TARGET_MS = 50.0


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


def timed(call: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """Median and p95 in milliseconds of `runs` calls after a warm-up, and the last result."""
    result = call()
    times = []
    for _ in range(runs):
        began = clock.perf_counter()
        result = call()
        times.append((clock.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], result


def verdict(median: float, target: float) -> str:
    return "ok" if median < target else "FAIL"


def bench_slots(runs: int) -> None:
    busy = appointments(random.Random(14), 200, NOW, NOW + HORIZON)
    staff = availability("Europe/Madrid")
    median, p95, result = timed(
        lambda: free_slots(staff, RULES, busy, now=NOW, start=NOW, end=NOW + HORIZON), runs
    )
    count = len(result) if isinstance(result, list) else 0
    print(
        f"slots, 1 staff, 60 days, 200 appointments   median {median:7.3f} ms  p95 {p95:7.3f} ms"
        f"  ({count} slots)  target < {SLOTS_TARGET_MS} ms: {verdict(median, SLOTS_TARGET_MS)}"
    )


def bench_first_available(runs: int) -> None:
    rng = random.Random(15)
    candidates = [
        (staff_id, availability(ZONES[staff_id % 4]), appointments(rng, 200, NOW, NOW + HORIZON))
        for staff_id in range(1, 101)
    ]
    booked_until = NOW + timedelta(days=14)
    full = [
        (staff_id, staff, [Interval(NOW - timedelta(days=1), booked_until), *busy])
        for staff_id, staff, busy in candidates
    ]
    for label, staff in (("100 staff", candidates), ("100 staff, booked 14 days", full)):
        median, p95, result = timed(
            lambda staff=staff: first_available(  # type: ignore[misc]
                staff, RULES, now=NOW, start=NOW, end=NOW + HORIZON
            ),
            runs,
        )
        found = f"staff {result[0]} at {result[1].start:%Y-%m-%d %H:%M}Z" if result else "none"
        check = f"target < {FIRST_TARGET_MS:.0f} ms: {verdict(median, FIRST_TARGET_MS)}"
        print(
            f"first available, {label:<26}  median {median:7.3f} ms  p95 {p95:7.3f} ms"
            f"  ({found})  {check if staff is candidates else '(shown for growth)'}"
        )


def bench_growth(runs: int) -> None:
    staff = availability("Europe/Madrid")
    print(f"\n{'appointments':>12} {'in range':>9} {'all rows ms':>12} {'range rows ms':>14}")
    for count in (0, 100, 1_000, 10_000):
        busy = appointments(
            random.Random(count), count, NOW - timedelta(days=365), NOW + timedelta(days=365)
        )
        in_range = [b for b in busy if b.end > NOW and b.start < NOW + HORIZON + timedelta(hours=2)]
        every, _, _ = timed(
            lambda busy=busy: free_slots(  # type: ignore[misc]
                staff, RULES, busy, now=NOW, start=NOW, end=NOW + HORIZON
            ),
            max(runs // 4, 5),
        )
        ranged, _, _ = timed(
            lambda busy=in_range: free_slots(  # type: ignore[misc]
                staff, RULES, busy, now=NOW, start=NOW, end=NOW + HORIZON
            ),
            max(runs // 4, 5),
        )
        print(f"{count:>12,} {len(in_range):>9,} {every:>12.3f} {ranged:>14.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed calls per measurement")
    args = parser.parse_args()
    print(f"bench/slots.py  {datetime.now(UTC):%Y-%m-%d %H:%M}Z")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.system()}"
        f" {platform.release()}; Python {platform.python_version()}"
    )
    print(f"now {NOW:%Y-%m-%d %H:%M}Z, horizon 60 days, 60-minute service + 15-minute buffer\n")
    bench_slots(args.runs)
    bench_first_available(max(args.runs // 4, 10))
    bench_growth(args.runs)


if __name__ == "__main__":
    main()
