"""The `.ics` file a customer gets after booking: one VCALENDAR, one VEVENT per session.

Written by hand, not with the `icalendar` library. The part of RFC 5545 we emit is small
(a dozen properties, all UTC date-times or TEXT), and the rules that matter fit on one screen:
TEXT escaping, folding at 75 octets without splitting a UTF-8 character, CRLF line ends.
Doing it here keeps a runtime dependency (and its API changes between major versions) out of
the bot, keeps the bytes fully ours and deterministic, and lets the tests use `icalendar` and
Mozilla's `ical.js` as two independent parsers of our output rather than checking a library
against itself. `icalendar` is therefore only in the `test` extra.

Nothing here reads the clock: the DTSTAMP instant is passed in as `stamp`.

ORGANIZER, when `organizer_name` is given, carries that name as CN; RFC 5545 requires a
calendar address as the value and we have none, so it is `mailto:` a reserved `.invalid`
address (RFC 2606) that no mail can reach, rather than a made-up real-looking mailbox.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["CalendarEvent", "booking_calendar"]

_LINE_OCTETS = 75
# Control characters other than HTAB are not allowed in TEXT values (RFC 5545 section 3.3.11).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})


@dataclass(frozen=True)
class CalendarEvent:
    """One booked session, as it should appear in the customer's calendar."""

    uid: str  # stable across re-sends, e.g. "registration-42-session-7@bookbot"
    starts_at: datetime  # aware; written in UTC
    ends_at: datetime
    summary: str
    location: str
    description: str
    organizer_name: str | None = None


def booking_calendar(
    events: Sequence[CalendarEvent], *, stamp: datetime, prodid_domain: str = "bookbot"
) -> bytes:
    """Return an RFC 5545 calendar (UTF-8, CRLF, folded) publishing `events`.

    Raises ValueError for naive or reversed times, an empty or duplicated UID, or no events.
    """
    if not events:
        raise ValueError("a calendar needs at least one event")
    uids = [e.uid for e in events]
    if len(set(uids)) != len(uids):
        raise ValueError("each event needs its own UID")
    dtstamp = _utc(stamp, "stamp")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{_text(prodid_domain)}//bookbot//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    for event in events:
        lines += _vevent(event, dtstamp, prodid_domain)
    lines.append("END:VCALENDAR")
    return b"".join(_fold(line) for line in lines)


def _vevent(event: CalendarEvent, dtstamp: str, prodid_domain: str) -> list[str]:
    if not event.uid.strip():
        raise ValueError("an event needs a UID")
    start, end = _utc(event.starts_at, "starts_at"), _utc(event.ends_at, "ends_at")
    if end <= start:  # same fixed-width UTC format, so text order is time order
        raise ValueError(f"event {event.uid} must end after it starts")
    lines = [
        "BEGIN:VEVENT",
        f"UID:{_text(event.uid)}",
        f"DTSTAMP:{dtstamp}",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{_text(event.description)}")
    if event.organizer_name:
        lines.append(
            f"ORGANIZER;CN={_param(event.organizer_name)}:mailto:noreply@{prodid_domain}.invalid"
        )
    lines += ["STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT"]
    return lines


def _utc(moment: datetime, name: str) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _plain(value: str) -> str:
    """Newlines as LF, other control characters dropped."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newline escaped (RFC 5545 3.3.11)."""
    return _plain(value).translate(_TEXT_ESCAPES)


def _param(value: str) -> str:
    """A quoted parameter value; `^`, `"` and newline in RFC 6868 caret encoding."""
    encoded = _plain(value).replace("^", "^^").replace('"', "^'").replace("\n", "^n")
    return f'"{encoded}"'


def _fold(line: str) -> bytes:
    """The line as CRLF-ended UTF-8, folded so no physical line exceeds 75 octets.

    Breaks fall between characters, never inside one; each continuation starts with a space.
    """
    out = bytearray()
    used = 0
    for char in line:
        octets = char.encode()
        if used + len(octets) > _LINE_OCTETS:
            out += b"\r\n "
            used = 1
        out += octets
        used += len(octets)
    out += b"\r\n"
    return bytes(out)
