"""A time of day typed in English or Spanish ('6pm', '18:00', 'a las 6 de la tarde'); read
with `answers.time_of_day`. Bounded like every answer parser: it never raises."""

from __future__ import annotations

import re
from datetime import time

from bookbot.conversations import answer_words as w

_PM_WORDS = frozenset({"pm", "tarde", "noche", "evening", "afternoon", "night", "tonight"})
_AM_WORDS = frozenset({"am", "morning", "madrugada"})


def time_of_day(text: str, lang: str) -> time | None:  # noqa: ARG001 - both languages are read
    """'6pm', '6:30 pm', '18:00', '18h', 'a las 6 de la tarde', 'at 6' (an hour from 1 to 7
    without am/pm is read as the afternoon: classes run then, not at 3 in the night),
    'noon', 'mediodía'. None without a mark of time ('6' alone is not a time)."""
    read = w.words(text)
    toks = [
        ":"
        if t == "." and read[i - 1 : i] != [] and read[i - 1].isdigit() and _minutes(read, i)
        else t
        for i, t in enumerate(read)
    ]
    toks = [t for t in toks if t != "."]
    if {"noon", "midday", "mediodia"} & set(toks):
        return time(12)
    if {"midnight", "medianoche"} & set(toks):
        return time(0)
    for i, tok in enumerate(toks):
        if tok.isdigit() and len(tok) <= 2:
            found = _time_at(toks, i)
            if found is not None:
                return found
    return None


# Between a start and an end typed together: a dash of any kind, "to", "until", "hasta", and
# a Spanish "a" unless it leads a time ("de 9:00 a 17:00", but not "a las 5").
_RANGE = re.compile(
    r"\s*(?:[-\u2010-\u2015]|\bto\b|\btill?\b|\buntil\b|\bhasta\b|\ba\b(?!\s+las?\b))\s*",
    re.IGNORECASE,
)


def time_range(text: str, lang: str) -> tuple[time, time] | None:
    """'09:00-17:00', '9am-5pm', '9:00 – 17:00', 'de 9:00 a 17:00': the start and the end,
    each a time `time_of_day` reads; None unless the text is exactly two of them."""
    parts = [p for p in _RANGE.split(text[:100].strip()) if p]
    if len(parts) != 2:  # a start and an end
        return None
    start, end = time_of_day(parts[0], lang), time_of_day(parts[1], lang)
    return None if start is None or end is None else (start, end)


def _minutes(toks: list[str], i: int) -> bool:
    """Whether the mark at `i` is followed by two digits of minutes ('6.30')."""
    after = toks[i + 1] if i + 1 < len(toks) else ""
    return after.isdigit() and len(after) == 2


def _time_at(toks: list[str], i: int) -> time | None:
    """The time the hour at `i` starts, if something marks it as one."""
    hour, minute, marked = int(toks[i]), 0, False
    rest = toks[i + 1 :]
    if rest[:1] == [":"] and len(rest) > 1 and rest[1].isdigit() and len(rest[1]) == 2:
        minute, marked, rest = int(rest[1]), True, rest[2:]
    meridiem = _meridiem(rest[:2], toks)
    marked = marked or (bool(rest[:1]) and rest[0] in w.TIME_MARKS)
    before = toks[max(0, i - 2) : i]
    led = before[-1:] in (["at"], ["@"], ["past"]) or before in (["a", "las"], ["a", "la"])
    if not (marked or led or meridiem is not None):
        return None
    minute = _quarter(rest, minute, " ".join(toks))
    if meridiem == "pm":
        hour = hour + 12 if hour < 12 else hour
    elif meridiem == "am":
        hour = 0 if hour == 12 else hour
    elif 1 <= hour <= 7 and not marked:
        hour += 12
    return time(hour, minute) if 0 <= hour <= 23 and 0 <= minute <= 59 else None


def _meridiem(near: list[str], toks: list[str]) -> str | None:
    if near[:1] == ["pm"] or near[:2] == ["p", "m"]:
        return "pm"
    if near[:1] == ["am"] or near[:2] == ["a", "m"]:
        return "am"
    words = set(toks)
    if words & _PM_WORDS:
        return "pm"
    if words & _AM_WORDS or "manana" in words and ("la" in words or "in" in words):
        return "am"
    return None


def _quarter(rest: list[str], minute: int, joined: str) -> int:
    if rest[:2] == ["y", "media"] or " half past " in f" {joined} ":
        return 30
    if rest[:2] == ["y", "cuarto"] or " quarter past " in f" {joined} ":
        return 15
    return minute
