"""Calendars in RFC 5545: the `.ics` a customer gets after booking (one VEVENT per session or
appointment), and the feed a staff member subscribes to (their appointments and the classes
they teach, refreshed by their calendar app from `/calendar/<token>.ics`).

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

SEQUENCE is written only when an event has one (`sequence` not None): an absent SEQUENCE
means 0 (RFC 5545 3.8.7.4), so class bookings, which carry none, keep their bytes. An
appointment always writes it (`appointment.sequence`, +1 per reschedule), so a calendar that
already holds the event takes the moved one as the newer version. UIDs of appointments are
`appointment-{id}@bookbot`: ids are unique across studios, and the same UID in the chat's
attachment and in the staff feed lets a calendar app match the two.

A multi-day session (a course 15-17 Jan, 09:00-17:00 each day) is one booking but an event
per day (`day_events`): a calendar shows the hours the person is there, not three days
blocked through the nights. Each day's UID is the session's with `-day-N` before the `@`,
and every day carries the booking's SEQUENCE, so a move updates each day's event.

The feed is a PUBLISH calendar that may be empty (a staff member with nothing booked still
subscribes to a valid calendar); it names itself with X-WR-CALNAME, typed VALUE=TEXT because
parsers (icalendar, ical.js) otherwise keep an X- property's escapes, and asks to be refreshed
hourly (REFRESH-INTERVAL, X-PUBLISHED-TTL). A cancelled appointment or class stays in the feed
as STATUS:CANCELLED (and TRANSPARENT), so subscribers see it go rather than vanish.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bookbot.engine.multi_day import days_of
from bookbot.presentation.i18n import Translator
from bookbot.services.appointment_rows import Appointment

__all__ = [
    "CANCELLED_STATUSES",
    "CalendarEvent",
    "appointment_event",
    "appointment_uid",
    "booking_calendar",
    "day_events",
    "staff_feed_calendar",
    "taught_session_event",
]

CANCELLED_STATUSES = frozenset({"cancelled_by_customer", "cancelled_by_staff"})
FEED_REFRESH = "PT1H"

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
    sequence: int | None = None  # None: not written (RFC 5545 reads it as 0)
    url: str = ""  # e.g. an online appointment's meeting link
    cancelled: bool = False  # STATUS:CANCELLED rather than CONFIRMED


def day_events(event: CalendarEvent, days: int, zone_name: str) -> list[CalendarEvent]:
    """`event` of a session over `days` consecutive days as one event per day (the same
    wall-clock hours each day in `zone_name`); a one-day session's event as it is."""
    if days <= 1:
        return [event]
    local, _, domain = event.uid.partition("@")
    return [
        replace(
            event, uid=f"{local}-day-{d.number}@{domain}", starts_at=d.starts_at, ends_at=d.ends_at
        )
        for d in days_of(event.starts_at, event.ends_at, days, zone_name)
    ]


def booking_calendar(
    events: Sequence[CalendarEvent], *, stamp: datetime, prodid_domain: str = "bookbot"
) -> bytes:
    """Return an RFC 5545 calendar (UTF-8, CRLF, folded) publishing `events`.

    Raises ValueError for naive or reversed times, an empty or duplicated UID, or no events.
    """
    if not events:
        raise ValueError("a calendar needs at least one event")
    return _calendar(events, [], stamp=stamp, prodid_domain=prodid_domain)


def staff_feed_calendar(
    events: Sequence[CalendarEvent],
    *,
    staff_name: str,
    stamp: datetime,
    timezone: str | None = None,
    prodid_domain: str = "bookbot",
) -> bytes:
    """Return the calendar a staff member subscribes to: `events` (possibly none), named
    after them, with their zone as X-WR-TIMEZONE (a display hint; times stay in UTC).

    Raises ValueError for naive or reversed times or an empty or duplicated UID.
    """
    # X- properties default to a raw value: VALUE=TEXT makes parsers undo the TEXT escapes.
    header = [f"X-WR-CALNAME;VALUE=TEXT:{_text(staff_name)}"]
    if timezone:
        header.append(f"X-WR-TIMEZONE:{_text(timezone)}")
    header += [f"REFRESH-INTERVAL;VALUE=DURATION:{FEED_REFRESH}", f"X-PUBLISHED-TTL:{FEED_REFRESH}"]
    return _calendar(events, header, stamp=stamp, prodid_domain=prodid_domain)


def appointment_uid(appointment_id: int) -> str:
    return f"appointment-{appointment_id}@bookbot"


def appointment_event(
    appointment: Appointment, t: Translator, *, studio_name: str, for_staff: bool = False
) -> CalendarEvent:
    """An appointment as the customer's calendar shows it (service and staff member), or as
    the staff member's (`for_staff`: service and customer, party size when more than one).

    LOCATION is the place, or the meeting link for an online service (also its URL).
    """
    if for_staff:
        who = appointment.customer_name
        if appointment.guest_count > 1:
            who = t.n_("{name}, {count} person", "{name}, {count} people", appointment.guest_count)
            who = who.format(name=appointment.customer_name, count=appointment.guest_count)
        lines = [
            t._("Appointment {number} with {customer}.").format(number=appointment.id, customer=who)
        ]
    else:
        who = appointment.staff_name
        lines = [
            t._("Appointment {number} with {staff} at {studio}.").format(
                number=appointment.id, staff=appointment.staff_name, studio=studio_name
            )
        ]
    link = appointment.meeting_url if appointment.online else ""
    if link:
        lines.append(t._("Join online: {url}").format(url=link))
    cancelled = appointment.status in CANCELLED_STATUSES
    if cancelled:
        lines.append(_cancelled_line(t, appointment.cancel_reason))
    return CalendarEvent(
        uid=appointment_uid(appointment.id),
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        summary=f"{appointment.service_name} · {who}",
        location=link or appointment.location,
        description="\n".join(lines),
        sequence=appointment.sequence,
        url=link,
        cancelled=cancelled,
    )


def taught_session_event(
    *,
    session_id: int,
    class_name: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str,
    cancelled: bool = False,
) -> CalendarEvent:
    """A class session the staff member teaches, for their feed."""
    return CalendarEvent(
        uid=f"session-{session_id}@bookbot",
        starts_at=starts_at,
        ends_at=ends_at,
        summary=class_name,
        location=location,
        description="",
        cancelled=cancelled,
    )


def _cancelled_line(t: Translator, reason: str) -> str:
    if reason.strip():
        return t._("Cancelled: {reason}").format(reason=reason.strip())
    return t._("Cancelled.")


def _calendar(
    events: Sequence[CalendarEvent], header: list[str], *, stamp: datetime, prodid_domain: str
) -> bytes:
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
        *header,
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
    if event.url:
        lines.append(f"URL:{_uri(event.url)}")
    if event.organizer_name:
        lines.append(
            f"ORGANIZER;CN={_param(event.organizer_name)}:mailto:noreply@{prodid_domain}.invalid"
        )
    if event.sequence is not None:
        if event.sequence < 0:
            raise ValueError(f"event {event.uid} has a negative SEQUENCE")
        lines.append(f"SEQUENCE:{event.sequence}")
    status = "CANCELLED" if event.cancelled else "CONFIRMED"
    # A cancelled event no longer takes the attendee's time.
    transp = "TRANSPARENT" if event.cancelled else "OPAQUE"
    lines += [f"STATUS:{status}", f"TRANSP:{transp}", "END:VEVENT"]
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


def _uri(value: str) -> str:
    """A URI value is not TEXT: no escapes, but no whitespace or control characters either."""
    uri = _plain(value).strip()
    if not uri or any(char.isspace() for char in uri):
        raise ValueError(f"not a URI: {value!r}")
    return uri


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
