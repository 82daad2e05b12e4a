"""What a staff member types to change their availability, read strictly.

A date is ISO ("2026-12-15") or a day and a month ("15 Dec", "15 dic 2026"), optionally
after a weekday that must agree with it ("Sat 12 Dec"). A date without a year is its next
occurrence on or after `today` (the last day of a period: on or after its first day).
Times are 24-hour "HH:MM". Anything else, anything too long, or a date in the calendar's
last days (`LAST_DAY`, where the end of a period is no date) raises `Unreadable`:
the caller writes nothing and says what works.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from bookbot.conversations.matching import fold

LONGEST_PERIOD = timedelta(days=366)
MOST_WINDOWS = 6  # windows in one weekday
TYPED_LIMIT = 300  # characters: more is not a date, a time or a reason
REASON_LIMIT = 120
# "28 Dec - 3 Jan" runs into next year; "20 Dec - 15 Dec" is refused, not read as a year.
YEAR_END_WRAP = timedelta(days=62)
# A period ends at midnight after its last day, and a local time may be a day later in UTC:
# past this day either is beyond the calendar (Python's dates end at 9999-12-31).
LAST_DAY = date.max - timedelta(days=2)

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january", "ene", "enero"),
            ("feb", "february", "febrero"),
            ("mar", "march", "marzo"),
            ("apr", "april", "abr", "abril"),
            ("may", "mayo"),
            ("jun", "june", "junio"),
            ("jul", "july", "julio"),
            ("aug", "august", "ago", "agosto"),
            ("sep", "sept", "september", "septiembre", "setiembre"),
            ("oct", "october", "octubre"),
            ("nov", "november", "noviembre"),
            ("dec", "december", "dic", "diciembre"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [
            ("mon", "monday", "lun", "lunes"),
            ("tue", "tues", "tuesday", "mar", "martes"),
            ("wed", "wednesday", "mie", "miercoles"),
            ("thu", "thur", "thurs", "thursday", "jue", "jueves"),
            ("fri", "friday", "vie", "viernes"),
            ("sat", "saturday", "sab", "sabado"),
            ("sun", "sunday", "dom", "domingo"),
        ]
    )
    for name in names
}
_OFF = {"off", "closed", "none", "no hours", "libre", "cerrado", "nada"}
_DATE = re.compile(
    r"\s*(?:(?P<weekday>[^\W\d_]{2,10})\.?,?\s+)?"
    r"(?:(?P<iso>\d{4}-\d{1,2}-\d{1,2})"
    r"|(?P<day>\d{1,2})\s*(?P<month>[^\W\d_]{3,10})\.?(?:\s+(?P<year>\d{4})(?![\d:]))?)"
)
_TO = re.compile(r"\s*(?:-|–|—|to\b|until\b|al\b|a\b|hasta\b)", re.IGNORECASE)
_CLOCK = r"(\d{1,2}):(\d{2})"
_SPAN = re.compile(rf"\s*{_CLOCK}\s*(?:-|–|—|to\b|a\b)\s*{_CLOCK}", re.IGNORECASE)
_REASON = re.compile(r"\s*[,:;]?\s*(?P<reason>.*)", re.DOTALL)


class Unreadable(ValueError):
    """What the staff member typed is not what the screen asks for (the message says why)."""


def _clock(hour: str, minute: str) -> time:
    if int(hour) > 23 or int(minute) > 59:
        raise Unreadable
    return time(int(hour), int(minute))


def _date_at(text: str, pos: int, *, on_or_after: date) -> tuple[date, int, bool]:
    """The date written at `pos` (ISO, or day and month, with an optional weekday that must
    agree), where it ends, and whether its year was written."""
    found = _DATE.match(text, pos)
    if found is None:
        raise Unreadable
    try:
        if found["iso"]:
            day = date.fromisoformat("-".join(f"{int(p):02d}" for p in found["iso"].split("-")))
        else:
            month = _MONTHS.get(fold(found["month"]))
            if month is None:
                raise Unreadable
            year = int(found["year"]) if found["year"] else on_or_after.year
            day = date(year, month, int(found["day"]))
            if not found["year"] and day < on_or_after:
                day = date(year + 1, month, int(found["day"]))
    except ValueError as error:  # 31 Feb, month 13
        raise Unreadable from error
    if found["weekday"] and _WEEKDAYS.get(fold(found["weekday"])) != day.weekday():
        raise Unreadable
    if day > LAST_DAY:
        raise Unreadable
    return day, found.end(), bool(found["iso"] or found["year"])


def _reason(text: str) -> str:
    """The optional words after a date or a time: printable, spaces collapsed, short."""
    kept = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    words = " ".join(kept.split()).lstrip(",:;- ").strip()
    if len(words) > REASON_LIMIT:
        raise Unreadable
    return words


def parse_period(typed: str, *, today: date) -> tuple[date, date, str]:
    """'15 Dec - 20 Dec, holiday' or '2026-12-15 to 2026-12-20': first and last day
    (inclusive) and a reason ('' if none)."""
    if len(typed) > TYPED_LIMIT:
        raise Unreadable
    first, pos, _ = _date_at(typed, 0, on_or_after=today)
    to = _TO.match(typed, pos)
    if to is None:
        raise Unreadable
    last, pos, year_written = _date_at(typed, to.end(), on_or_after=first)
    rest = _REASON.match(typed, pos)
    reason = _reason(rest["reason"] if rest else "")
    if last < first or last - first >= LONGEST_PERIOD or first < today:
        raise Unreadable
    if not year_written and last.year > first.year and last - first > YEAR_END_WRAP:
        raise Unreadable  # "20 Dec - 15 Dec" is a slip, not a year off
    return first, last, reason


def parse_window(typed: str, *, today: date) -> tuple[date, time, time, str]:
    """'Sat 12 Dec 10:00-13:00' or '2026-12-12 10:00-13:00', with an optional reason."""
    if len(typed) > TYPED_LIMIT:
        raise Unreadable
    day, pos, _ = _date_at(typed, 0, on_or_after=today)
    span = _SPAN.match(typed, pos)
    if span is None:
        raise Unreadable
    start, end = _clock(span[1], span[2]), _clock(span[3], span[4])
    if end <= start:
        raise Unreadable
    return day, start, end, _reason(typed[span.end() :])


def parse_hours(typed: str) -> list[tuple[time, time]]:
    """'09:00-12:00, 15:00-18:00' (sorted, not overlapping), or 'off' for none."""
    if len(typed) > TYPED_LIMIT:
        raise Unreadable
    if fold(typed) in _OFF:
        return []
    windows = []
    for part in re.split(r"\s*(?:,|;|\band\b|\by\b)\s*", typed.strip(), flags=re.IGNORECASE):
        span = _SPAN.fullmatch(part)
        if span is None:
            raise Unreadable
        windows.append((_clock(span[1], span[2]), _clock(span[3], span[4])))
    windows.sort()
    if len(windows) > MOST_WINDOWS or any(end <= start for start, end in windows):
        raise Unreadable
    if any(later[0] < earlier[1] for earlier, later in zip(windows, windows[1:], strict=False)):
        raise Unreadable
    return windows
