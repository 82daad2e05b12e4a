"""Checks of a studio file's schedule as a whole: each pattern makes sessions, and nobody
works two patterns at the same time.

Both expand the patterns with `bookbot.engine.recurrence`, each over a year: a pattern
must make a session within a year of its start date, and two patterns clash when they
overlap within a year of the later one's start. A year is long enough for any weekly or
monthly rhythm and both clock changes to show, and short enough to stay fast (a rule
cannot repeat more often than daily). Each pattern is expanded once, over every window
asked about. A rule that never matches (30 February) costs dateutil a walk to the year
9999 (up to a few seconds for a daily rule) before it is refused; it is left out of the
clash check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from itertools import combinations
from typing import TYPE_CHECKING

from bookbot.engine import recurrence
from bookbot.engine.recurrence import Occurrence

if TYPE_CHECKING:
    from bookbot.studio.model import StudioFile

WINDOW = timedelta(days=366)
# Looking back this far from a window's start finds an occurrence still running then (a
# multi-day session runs up to 31 days).
LONGEST_SESSION = timedelta(days=32)


class _Expansions:
    """Each pattern's occurrences, expanded once over all the windows the checks will ask
    about: its own first year, and a year from when each pattern sharing a person with it
    begins."""

    def __init__(self, spec: StudioFile) -> None:
        self.spec = spec
        self._latest = _latest_partner_start(spec, self.start)
        self._found: dict[int, tuple[datetime, datetime, list[Occurrence]]] = {}

    def start(self, index: int) -> datetime:
        """Midnight of the pattern's start date, in its zone, as a UTC instant."""
        pattern = self.spec.patterns[index]
        zone = recurrence.zone(self.spec.timezone_of(pattern))
        return datetime.combine(pattern.start_date, time(0), tzinfo=zone).astimezone(UTC)

    def between(self, index: int, start: datetime, end: datetime) -> list[Occurrence]:
        """Occurrences starting in [start, end); ValueError if the pattern cannot expand."""
        low, high, found = self._expanded(index)
        if low <= start and end <= high:
            return [o for o in found if start <= o.starts_at < end]
        return self._expand(index, start, end)  # more than one expansion may hold

    def _expanded(self, index: int) -> tuple[datetime, datetime, list[Occurrence]]:
        if index not in self._found:
            low = self.start(index) - LONGEST_SESSION
            high = max(self.start(index), self._latest.get(index, low)) + WINDOW
            try:
                found = self._expand(index, low, high)
            except ValueError:  # a daily rule over years: just its first year, then
                high = self.start(index) + WINDOW
                found = self._expand(index, low, high)
            self._found[index] = (low, high, found)
        return self._found[index]

    def _expand(self, index: int, start: datetime, end: datetime) -> list[Occurrence]:
        pattern = self.spec.patterns[index]
        rule = recurrence.PatternRule(
            pattern.rrule,
            pattern.start_date,
            pattern.start_time,
            timedelta(minutes=pattern.duration_minutes),
            self.spec.timezone_of(pattern),
        )
        found = recurrence.expand(rule, window_start=start, window_end=end)
        if pattern.days == 1:
            return found
        # A multi-day session holds its people from the first day's start to the last's end.
        span = timedelta(days=pattern.days - 1)
        return [replace(o, ends_at=o.ends_at + span) for o in found]


def _latest_partner_start(
    spec: StudioFile, start: Callable[[int], datetime]
) -> dict[int, datetime]:
    """For each pattern, when the last pattern sharing a person with it begins."""
    latest: dict[int, datetime] = {}
    for shifts in _shifts(spec, range(len(spec.patterns))).values():
        begins = max(start(index) for index, _ in shifts)
        for index, _ in shifts:
            latest[index] = max(begins, latest.get(index, begins))
    return latest


def schedule_problems(spec: StudioFile) -> Iterator[str]:
    """Patterns that make no session, and people booked into two patterns at once."""
    expansions = _Expansions(spec)
    usable = []
    for index, pattern in enumerate(spec.patterns):
        where = f"patterns[{index}].rrule"
        try:
            begins = expansions.start(index)
            found = expansions.between(index, begins, begins + WINDOW)
        except (ValueError, OverflowError) as error:
            yield f"{where}: {error}"
            continue
        if found:
            usable.append(index)
        else:
            yield (
                f"{where}: makes no session in the year from start_date {pattern.start_date}"
                " (a date that never comes, such as 30 February, or an end before the start)"
            )
    yield from _clashes(spec, expansions, usable)


def _shifts(spec: StudioFile, usable: Iterable[int]) -> dict[str, list[tuple[int, str]]]:
    """Each person's patterns, with the field that puts them there."""
    work: dict[str, list[tuple[int, str]]] = {}
    for index in usable:
        pattern = spec.patterns[index]
        if pattern.instructor is not None:
            work.setdefault(pattern.instructor, []).append((index, f"patterns[{index}].instructor"))
        for position, key in enumerate(pattern.assistants):
            work.setdefault(key, []).append((index, f"patterns[{index}].assistants[{position}]"))
    return work


def _clashes(spec: StudioFile, expansions: _Expansions, usable: Iterable[int]) -> Iterator[str]:
    for person, shifts in _shifts(spec, usable).items():
        for (first, _), (second, field) in combinations(shifts, 2):
            if first == second:
                continue  # the instructor listed as an assistant too: reported elsewhere
            day = _first_clash(expansions, first, second)
            if day is not None:
                keys = spec.patterns[first].key, spec.patterns[second].key
                yield (
                    f'{field}: "{person}" would work two patterns at once: "{keys[1]}"'
                    f' overlaps "{keys[0]}" (patterns[{first}]), first on {day}'
                )


def _first_clash(expansions: _Expansions, first: int, second: int) -> str | None:
    """The local date of the earliest session of `second` that overlaps one of `first`,
    within a year from when both have begun."""
    start = max(expansions.start(first), expansions.start(second)) - LONGEST_SESSION
    end = start + LONGEST_SESSION + WINDOW
    ours, theirs = expansions.between(first, start, end), expansions.between(second, start, end)
    i = j = 0
    while i < len(ours) and j < len(theirs):
        a, b = ours[i], theirs[j]
        if a.starts_at < b.ends_at and b.starts_at < a.ends_at:
            return b.local_date.isoformat()
        if a.ends_at <= b.ends_at:
            i += 1
        else:
            j += 1
    return None
