"""A staff member's open windows, per local date in their zone: weekly windows expanded date
by date (an override replaces a date's), additions added, blocks removed, all merged. The
DST rules are `slots`'s; `slots` sweeps these windows for slots."""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from operator import itemgetter
from zoneinfo import ZoneInfo

from bookbot.engine.recurrence import resolve_local, zone
from bookbot.engine.slot_inputs import Availability, Interval, LocalWindow, WeeklyWindow

DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)  # datetime's resolution: t < end  <=>  t <= end - TICK
Span = tuple[datetime, datetime]


class Days:
    """Local dates first..last (and the day after) in a zone: each date's midnight as a UTC
    instant, and its UTC offset when the whole date has one (None on a transition date)."""

    def __init__(self, zone_name: str, first: date, last: date) -> None:
        self.zone_name = zone_name
        self.zone: ZoneInfo = zone(zone_name)
        self.dates = [first + DAY * n for n in range((last - first).days + 2)]
        # The offset at each local midnight read as resolve_local does (fold=0), so
        # midnight - offset is resolve_local's instant even when midnight is in a gap; a
        # date whose midnight offset differs from the next one's has a transition.
        offsets = [_midnight_offset(self.zone, d) for d in (*self.dates, last + 2 * DAY)]
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
            yield index, lo, min(hi, next_midnight - TICK)
            index += 1
            lo = max(lo, next_midnight)


def _midnight_offset(local_zone: ZoneInfo, day: date) -> timedelta:
    offset = local_zone.utcoffset(datetime.combine(day, time()))
    if offset is None:  # never for a ZoneInfo; said for the type checker
        raise ValueError(f"no UTC offset in {local_zone}")
    return offset


@lru_cache(maxsize=4096)  # a schedule has few distinct wall times; building them is slow
def since_midnight(wall: time) -> timedelta:
    return timedelta(
        hours=wall.hour, minutes=wall.minute, seconds=wall.second, microseconds=wall.microsecond
    )


_Wall = tuple[time, time, timedelta, timedelta]  # start, end, each as time since midnight


def _walls(windows: Sequence[LocalWindow | WeeklyWindow], group: bool | None) -> list[_Wall]:
    """The windows open to the service kind (`group` None: all), ready for `Days.instant`."""
    return [
        (w.start, w.end, since_midnight(w.start), since_midnight(w.end))
        for w in windows
        if group is None or (w.group if group else w.individual)
    ]


class Plan:
    """A staff member's availability read once for one kind of service (`group` None: all)."""

    def __init__(self, availability: Availability, group: bool | None) -> None:
        self.zone_name = availability.timezone
        self.weekly = [
            _walls([w for w in availability.weekly if w.weekday == weekday], group)
            for weekday in range(7)
        ]
        self.overrides = {o.day: _walls(o.windows, group) for o in availability.overrides}
        self.additions = [(a.start, a.end) for a in availability.additions if a.end > a.start]
        self.blocks = merge([(b.start, b.end) for b in availability.blocks if b.end > b.start])

    def days(self, start: datetime, end: datetime) -> Days:
        """The local dates around [start, end], a day more each side."""
        local_zone = zone(self.zone_name)
        first = start.astimezone(local_zone).date() - DAY
        return Days(self.zone_name, first, end.astimezone(local_zone).date() + DAY)

    def open_spans(self, days: Days) -> list[Span]:
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
        return subtract(merge(spans), self.blocks)


def merge(spans: list[Span]) -> list[Span]:
    """Spans sorted, overlapping or touching ones joined."""
    spans.sort(key=itemgetter(0))
    merged: list[Span] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    """Sorted disjoint `spans` minus sorted disjoint `holes`."""
    result: list[Span] = []
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
    plan = Plan(availability, group)
    spans = plan.open_spans(plan.days(start, end))
    return [Interval(s, e) for s, e in spans if e > start and s < end]
