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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bookbot.engine.recurrence import resolve_local, zone

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)  # datetime's resolution: t < end  <=>  t <= end - _TICK
_UNLIMITED = 2**62


@dataclass(frozen=True)
class WeeklyWindow:
    weekday: int  # 0=Mon..6=Sun
    start: time  # local wall time in Availability.timezone
    end: time  # > start; time(0) is not allowed (use time(23, 59) at most)
    room: str = ""
    individual: bool = True  # open to one-to-one services (capacity 1)
    group: bool = True  # open to small-group services (capacity > 1)

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}")
        _check_times(self.start, self.end)


@dataclass(frozen=True)
class LocalWindow:
    start: time
    end: time
    room: str = ""
    individual: bool = True
    group: bool = True

    def __post_init__(self) -> None:
        _check_times(self.start, self.end)


def _check_times(start: time, end: time) -> None:
    if end <= start:
        raise ValueError(f"a window must end after it starts ({start:%H:%M}-{end:%H:%M})")


@dataclass(frozen=True)
class DateOverride:
    day: date  # local date in Availability.timezone
    windows: tuple[LocalWindow, ...]  # replace that date's weekly windows; () = unavailable


@dataclass(frozen=True)
class Interval:
    start: datetime  # aware (UTC), half-open [start, end)
    end: datetime
    reason: str = ""  # for blocks / busy: shown to staff ("vacation", "Wheel Taster")


@dataclass(frozen=True)
class Availability:
    timezone: str  # the staff member's IANA zone
    weekly: tuple[WeeklyWindow, ...] = ()
    overrides: tuple[DateOverride, ...] = ()
    additions: tuple[Interval, ...] = ()  # one-off extra windows (absolute instants)
    blocks: tuple[Interval, ...] = ()  # unavailable periods (absolute instants)


@dataclass(frozen=True)
class ServiceRules:
    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    step: timedelta = timedelta(minutes=15)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)
    group: bool = False  # capacity > 1: only windows with group=True; else individual=True

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.step <= timedelta(0):
            raise ValueError("a service needs a positive duration and step")
        if min(self.buffer_before, self.buffer_after, self.min_notice) < timedelta(0):
            raise ValueError("buffers and notice cannot be negative")


class Slot(NamedTuple):
    """A bookable start. A named tuple rather than a frozen dataclass: free_slots builds
    hundreds a call, and a frozen dataclass's __init__ was a third of its time."""

    start: datetime  # aware UTC: the appointment's start (without buffers)
    end: datetime  # start + duration


_Span = tuple[datetime, datetime]
_new_tuple = tuple.__new__


class _Days:
    """Local dates first..last (and the day after) in a zone: each date's midnight as a UTC
    instant, and its UTC offset when the whole date has one (None on a transition date)."""

    def __init__(self, zone_name: str, first: date, last: date) -> None:
        self.zone_name = zone_name
        self.zone: ZoneInfo = zone(zone_name)
        self.dates = [first + _DAY * n for n in range((last - first).days + 2)]
        # The offset at each local midnight read as resolve_local does (fold=0), so
        # midnight - offset is resolve_local's instant even when midnight is in a gap; a
        # date whose midnight offset differs from the next one's has a transition.
        offsets = [_midnight_offset(self.zone, d) for d in (*self.dates, last + 2 * _DAY)]
        self.midnights: list[datetime] = [
            datetime.combine(d, time(), UTC) - offset
            for d, offset in zip(self.dates, offsets, strict=False)
        ]
        self.offsets: list[timedelta | None] = [
            offset if offset == following else None
            for offset, following in itertools.pairwise(offsets)
        ]

    def instant(self, index: int, wall: time) -> datetime:
        """The UTC instant of `wall` on transition date `index`, by resolve_local's rule."""
        return resolve_local(datetime.combine(self.dates[index], wall), self.zone_name)[0]

    def runs(self, lo: datetime, hi: datetime) -> list[tuple[int, datetime, datetime]]:
        """[lo, hi] cut at local midnights: (date index, first instant, last instant)."""
        index = max(bisect_right(self.midnights, lo) - 1, 0)
        if index < len(self.dates) - 1 and lo <= hi < self.midnights[index + 1]:
            return [(index, lo, hi)]  # the usual case: within one date
        return list(self._cut(index, lo, hi))

    def _cut(
        self, index: int, lo: datetime, hi: datetime
    ) -> Iterator[tuple[int, datetime, datetime]]:
        while lo <= hi and index < len(self.dates) - 1:
            next_midnight = self.midnights[index + 1]
            yield index, lo, min(hi, next_midnight - _TICK)
            index += 1
            lo = max(lo, next_midnight)


def _midnight_offset(local_zone: ZoneInfo, day: date) -> timedelta:
    offset = local_zone.utcoffset(datetime.combine(day, time()))
    if offset is None:  # never for a ZoneInfo; said for the type checker
        raise ValueError(f"no UTC offset in {local_zone}")
    return offset


@lru_cache(maxsize=4096)  # a schedule has few distinct wall times; building them is slow
def _since_midnight(wall: time) -> timedelta:
    return timedelta(
        hours=wall.hour, minutes=wall.minute, seconds=wall.second, microseconds=wall.microsecond
    )


class _Sweep:
    """Collects free starts in increasing order, sweeping merged busy spans with one pointer."""

    def __init__(self, busy: list[_Span], rules: ServiceRules, limit: int | None) -> None:
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
            behind = _since_midnight(t.astimezone(local_zone).time()) % step
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


_Wall = tuple[time, time, timedelta, timedelta]  # start, end, each as time since midnight


def _walls(windows: Sequence[LocalWindow | WeeklyWindow], group: bool | None) -> list[_Wall]:
    """The windows open to the service kind (`group` None: all), ready for `_Days.instant`."""
    return [
        (w.start, w.end, _since_midnight(w.start), _since_midnight(w.end))
        for w in windows
        if group is None or (w.group if group else w.individual)
    ]


class _Plan:
    """A staff member's availability read once for one kind of service (`group` None: all)."""

    def __init__(self, availability: Availability, group: bool | None) -> None:
        self.zone_name = availability.timezone
        self.weekly = [
            _walls([w for w in availability.weekly if w.weekday == weekday], group)
            for weekday in range(7)
        ]
        self.overrides = {o.day: _walls(o.windows, group) for o in availability.overrides}
        self.additions = [(a.start, a.end) for a in availability.additions if a.end > a.start]
        self.blocks = _merge([(b.start, b.end) for b in availability.blocks if b.end > b.start])

    def days(self, start: datetime, end: datetime) -> _Days:
        """The local dates around [start, end], a day more each side."""
        local_zone = zone(self.zone_name)
        first = start.astimezone(local_zone).date() - _DAY
        return _Days(self.zone_name, first, end.astimezone(local_zone).date() + _DAY)

    def open_spans(self, days: _Days) -> list[_Span]:
        """Merged open windows over `days` (whole, not cut to any range), blocks removed."""
        spans = list(self.additions)
        for index, day in enumerate(days.dates[:-1]):
            walls = self.overrides.get(day)
            if walls is None:
                walls = self.weekly[day.weekday()]
            if days.offsets[index] is not None:  # the usual date: midnight plus wall time
                midnight = days.midnights[index]
                spans += [(midnight + since, midnight + until) for _, _, since, until in walls]
                continue
            for start, end, _, _ in walls:
                span = (days.instant(index, start), days.instant(index, end))
                if span[1] > span[0]:
                    spans.append(span)
        return _subtract(_merge(spans), self.blocks)


def _merge(spans: list[_Span]) -> list[_Span]:
    """Spans sorted, overlapping or touching ones joined."""
    spans.sort(key=itemgetter(0))
    merged: list[_Span] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(spans: list[_Span], holes: list[_Span]) -> list[_Span]:
    """Sorted disjoint `spans` minus sorted disjoint `holes`."""
    result: list[_Span] = []
    first_hole = 0
    for start, end in spans:
        while first_hole < len(holes) and holes[first_hole][1] <= start:
            first_hole += 1
        cursor, index = start, first_hole
        while index < len(holes) and holes[index][0] < end:
            if holes[index][0] > cursor:
                result.append((cursor, holes[index][0]))
            cursor = max(cursor, holes[index][1])
            index += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def open_windows(
    availability: Availability, *, start: datetime, end: datetime, group: bool | None = None
) -> list[Interval]:
    """The staff member's open windows as UTC intervals overlapping [start, end): weekly
    windows expanded per local date (overrides replace a date's weekly windows), plus
    additions, minus blocks; overlapping/touching windows merged; sorted. `group` filters
    by the window flags (None: all). Used for "see my week" and conflict checks.

    Intervals are whole merged windows: one running past `start` or `end` is not cut.
    """
    plan = _Plan(availability, group)
    spans = plan.open_spans(plan.days(start, end))
    return [Interval(s, e) for s, e in spans if e > start and s < end]


class _BusyScan:
    """Busy intervals for one question: a scan is cheaper than sorting them."""

    def __init__(self, busy: Sequence[Interval]) -> None:
        self.busy = busy

    def spans(self, lo: datetime, hi: datetime) -> list[_Span]:
        """The busy intervals overlapping [lo, hi], merged."""
        return _merge(
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

    def spans(self, lo: datetime, hi: datetime) -> list[_Span]:
        first, last = bisect_right(self.reach, lo), bisect_right(self.starts, hi)
        return _merge(
            [(b.start, b.end) for b in self.busy[first:last] if b.end > lo and b.end > b.start]
        )


class _Search:
    """One staff member's slot search for one service: availability read once."""

    def __init__(
        self, availability: Availability, rules: ServiceRules, busy: _BusyScan, now: datetime
    ) -> None:
        self.plan = _Plan(availability, rules.group)
        self.rules, self.busy, self.now = rules, busy, now

    def slots(self, start: datetime, end: datetime, *, limit: int | None = None) -> list[Slot]:
        rules = self.rules
        earliest = max(start, self.now + rules.min_notice)
        latest = min(end - _TICK, self.now + rules.horizon)
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
    span_start, span = max(start, now + rules.min_notice), _DAY
    search_end = min(end, now + rules.horizon + _TICK)
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
    window = slot_start + _TICK
    found = free_slots(availability, rules, busy, now=now, start=slot_start, end=window)
    return [slot.start for slot in found] == [slot_start]
