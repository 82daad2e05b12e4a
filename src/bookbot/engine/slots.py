"""Bookable appointment slots from a staff member's availability (pure: `now` is passed in).

The rules:

* Instants are aware UTC datetimes; every interval is half-open, [start, end): an
  appointment ending at 10:00 and one starting at 10:00 touch and do not overlap.
* Open windows. A staff member's weekly windows are local wall times in their zone
  (`Availability.timezone`), expanded per local date: Monday 09:00-12:00 stays 09:00-12:00
  local across DST, so its UTC instants move with the offset. A `DateOverride` replaces
  that date's weekly windows (an empty one makes the date unavailable); `additions` add
  absolute intervals (open to every service); `blocks` remove absolute intervals from the
  result. Overlapping or touching windows merge into one (rooms are not told apart: a
  staff member is in one place at a time).
* Window flags: a service of capacity 1 (`ServiceRules.group` False) only uses windows with
  `individual=True`, a small-group service only those with `group=True`.
* DST: a window boundary that does not exist (the spring-forward gap) or happens twice
  (fall-back) follows `engine.recurrence.resolve_local`: a gap time is shifted forward by
  the gap (01:00-02:30 on a night when 02:00 becomes 03:00 ends at 03:30 summer time), an
  ambiguous time takes its first instant.
* The grid: a candidate start is an instant whose local wall reading is a whole number of
  `step`s after local midnight of its local date (09:00, 09:15, ...). During a repeated
  hour both readings of a grid time are candidates (they are different instants); in a gap
  there is no wall time, so no candidate.
* A candidate is a slot when its footprint, [start - buffer_before, start + duration +
  buffer_after), lies inside one merged open window and overlaps no busy interval (other
  appointments' footprints, sessions taught), and now + min_notice <= start <= now +
  horizon.
* `fits` is `free_slots` asked about one instant, so the booking re-check under the lock
  can never disagree with the slots shown.

Speed: windows are computed per local date with one offset lookup per date (the slow exact
path only on the rare dates with a transition), busy intervals are merged and swept once
with a pointer, and `first_available` searches all staff a day, then 2, 4, ... days at a
time, stopping at the first span in which anybody has a slot.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter, itemgetter
from zoneinfo import ZoneInfo

from bookbot.engine.slot_inputs import (
    Availability,
    DateOverride,
    Interval,
    LocalWindow,
    ServiceRules,
    Slot,
    WeeklyWindow,
)
from bookbot.engine.slot_windows import (
    DAY,
    TICK,
    Plan,
    Span,
    merge,
    open_windows,
    since_midnight,
)

__all__ = [
    "Availability",
    "DateOverride",
    "Interval",
    "LocalWindow",
    "ServiceRules",
    "Slot",
    "WeeklyWindow",
    "first_available",
    "fits",
    "free_slots",
    "open_windows",
]

_UNLIMITED = 2**62

_new_tuple = tuple.__new__


class _Sweep:
    """Collects free starts in increasing order, sweeping merged busy spans with one pointer."""

    def __init__(self, busy: list[Span], rules: ServiceRules, limit: int | None) -> None:
        self.busy, self.next_busy = busy, 0
        self.before, self.after = rules.buffer_before, rules.duration + rules.buffer_after
        self.duration, self.step = rules.duration, rules.step
        self.room = _UNLIMITED if limit is None else limit  # slots still wanted
        self.found: list[Slot] = []

    def _blocking(self, t: datetime) -> int:
        """Index of the first busy span not ending before t's footprint starts."""
        busy, footprint_start = self.busy, t - self.before
        while self.next_busy < len(busy) and busy[self.next_busy][1] <= footprint_start:
            self.next_busy += 1
        return self.next_busy

    def grid_run(self, base: datetime, lo: datetime, hi: datetime) -> None:
        """Free grid instants base + k * step in [lo, hi] (a date with one offset), taking
        whole free stretches between busy spans at once."""
        busy, step, before, after = self.busy, self.step, self.before, self.after
        k, last_k = -((base - lo) // step), (hi - base) // step
        while k <= last_k and self.room > 0:
            t = base + k * step
            index = self._blocking(t)
            if index < len(busy) and busy[index][0] < t + after:
                k = -((base - busy[index][1] - before) // step)  # first k clear of it
                continue
            free_k = (
                last_k
                if index == len(busy)
                else min(last_k, (busy[index][0] - after - base) // step)
            )
            self._take(t, free_k - k + 1)
            k = free_k + 1

    def exact_run(self, local_zone: ZoneInfo, lo: datetime, hi: datetime) -> None:
        """Free grid instants in [lo, hi] on a transition date, reading each wall time."""
        t, step = lo, self.step
        while t <= hi and self.room > 0:
            behind = since_midnight(t.astimezone(local_zone).time()) % step
            if behind:
                t += step - behind
                continue
            index = self._blocking(t)
            if index < len(self.busy) and self.busy[index][0] < t + self.after:
                t = self.busy[index][1] + self.before
                continue
            self._take(t, 1)
            t += step

    def _take(self, first: datetime, count: int) -> None:
        count = min(count, self.room)
        self.room -= count
        found, step, duration = self.found, self.step, self.duration
        for _ in range(count):
            # What Slot._make does, without its Python-level call: hundreds of slots a call.
            found.append(_new_tuple(Slot, (first, first + duration)))
            first += step


class _BusyScan:
    """Busy intervals for one question: a scan is cheaper than sorting them."""

    def __init__(self, busy: Sequence[Interval]) -> None:
        self.busy = busy

    def spans(self, lo: datetime, hi: datetime) -> list[Span]:
        """The busy intervals overlapping [lo, hi], merged."""
        return merge(
            [
                (b.start, b.end)
                for b in self.busy
                if b.end > lo and b.start <= hi and b.end > b.start
            ]
        )


class _BusyIndex(_BusyScan):
    """Busy intervals for many questions: sorted by start, with the latest end so far at each
    position (non-decreasing), so those touching a range are found by two bisections."""

    def __init__(self, busy: Sequence[Interval]) -> None:
        super().__init__(sorted(busy, key=attrgetter("start")))
        self.starts = [b.start for b in self.busy]
        self.reach = list(itertools.accumulate((b.end for b in self.busy), max))

    def spans(self, lo: datetime, hi: datetime) -> list[Span]:
        first, last = bisect_right(self.reach, lo), bisect_right(self.starts, hi)
        return merge(
            [(b.start, b.end) for b in self.busy[first:last] if b.end > lo and b.end > b.start]
        )


class _Search:
    """One staff member's slot search for one service: availability read once."""

    def __init__(
        self, availability: Availability, rules: ServiceRules, busy: _BusyScan, now: datetime
    ) -> None:
        self.plan = Plan(availability, rules.group)
        self.rules, self.busy, self.now = rules, busy, now

    def slots(self, start: datetime, end: datetime, *, limit: int | None = None) -> list[Slot]:
        rules = self.rules
        earliest = max(start, self.now + rules.min_notice)
        latest = min(end - TICK, self.now + rules.horizon)
        if earliest > latest:
            return []
        before, after = rules.buffer_before, rules.duration + rules.buffer_after
        days = self.plan.days(earliest - before, latest + after)
        sweep = _Sweep(self.busy.spans(earliest - before, latest + after), rules, limit)
        for open_from, open_until in self.plan.open_spans(days):
            lo, hi = max(open_from + before, earliest), min(open_until - after, latest)
            for index, run_lo, run_hi in days.runs(lo, hi):
                if days.offsets[index] is None:
                    sweep.exact_run(days.zone, run_lo, run_hi)
                else:
                    sweep.grid_run(days.midnights[index], run_lo, run_hi)
            if sweep.room <= 0:
                break
        return sweep.found


def free_slots(
    availability: Availability,
    rules: ServiceRules,
    busy: Sequence[Interval],
    *,
    now: datetime,
    start: datetime,
    end: datetime,
) -> list[Slot]:
    """Bookable slots whose start lies in [start, end), sorted (the module's rules).

    Candidates sit on the local wall grid (`step` from local midnight); a candidate's
    footprint [start - buffer_before, end + buffer_after) lies inside one merged open window
    (blocks already removed) and overlaps no `busy` interval; now + min_notice <= start <=
    now + horizon. DST follows `engine.recurrence.resolve_local` (gap: shifted forward by
    the gap; ambiguous: first instant).
    """
    return _Search(availability, rules, _BusyScan(busy), now).slots(start, end)


def first_available(
    candidates: Sequence[tuple[int, Availability, Sequence[Interval]]],
    rules: ServiceRules,
    *,
    now: datetime,
    start: datetime,
    end: datetime,
) -> tuple[int, Slot] | None:
    """The earliest slot across staff members (candidates: (staff_id, availability, busy));
    ties go to the lowest staff_id.

    Searches everybody one day at a time at first, then spans doubling in length, and
    stops after the first span in which anybody has a slot; within a span each staff
    member stops at their first slot, and at the best start found so far.
    """
    searches = sorted(
        (
            (staff_id, _Search(availability, rules, _BusyIndex(busy), now))
            for staff_id, availability, busy in candidates
        ),
        key=itemgetter(0),
    )
    span_start, span = max(start, now + rules.min_notice), DAY
    search_end = min(end, now + rules.horizon + TICK)
    while span_start < search_end:
        span_end = min(span_start + span, search_end)
        best: tuple[int, Slot] | None = None
        for staff_id, search in searches:
            bound = span_end if best is None else best[1].start
            found = search.slots(span_start, bound, limit=1)
            if found:
                best = (staff_id, found[0])
        if best is not None:
            return best
        span_start, span = span_end, span * 2
    return None


def fits(
    availability: Availability,
    rules: ServiceRules,
    busy: Sequence[Interval],
    *,
    now: datetime,
    slot_start: datetime,
) -> bool:
    """Whether one given start is still a free slot (the booking re-check under the lock):
    exactly `free_slots` over [slot_start, slot_start + 1 microsecond)."""
    window = slot_start + TICK
    found = free_slots(availability, rules, busy, now=now, start=slot_start, end=window)
    return [slot.start for slot in found] == [slot_start]
