"""GET /calendar/{token}.ics: the calendar a staff member subscribes to in their calendar app.

The token (staff.calendar_token, a random secret set by the studio loader) is the only
credential, as with any calendar subscription URL: an unknown or malformed token gets a bare
404 that says nothing about why, and the page is never cached or sent on as a referrer.

The feed holds what happens in the staff member's time from 30 days ago onwards, up to a
year ahead: their appointments (confirmed, completed and no-shows; cancelled ones as
STATUS:CANCELLED so a subscribed calendar drops them visibly) and the class sessions they
teach or assist (cancelled ones likewise). Holds are not there: nothing is booked yet.
Each read goes through an index in that range ((staff_id, busy_from) for appointments,
(studio_id, starts_at) for sessions), so a feed costs its range, not the staff's history.
Texts are in the studio's default language.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from bookbot.engine.clock import Clock
from bookbot.presentation.calendar_ics import (
    CalendarEvent,
    appointment_event,
    staff_feed_calendar,
    taught_session_event,
)
from bookbot.presentation.i18n import translator
from bookbot.services.appointment_rows import APPOINTMENT_SELECT, appointment_from
from bookbot.services.availability import longest_footprint, staff_by_calendar_token
from bookbot.store.db import Database, Reads, Row

FEED_PATH = "/calendar/{token:[A-Za-z0-9_-]{1,64}}.ics"
PAST = timedelta(days=30)
AHEAD = timedelta(days=366)
HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
SHOWN = "'confirmed', 'completed', 'no_show', 'cancelled_by_customer', 'cancelled_by_staff'"

# starts_at - busy_from is a buffer, at most the studio's longest footprint: the index range
# on busy_from from `floor` holds every appointment starting in the window.
_APPOINTMENTS = (
    APPOINTMENT_SELECT + " WHERE a.staff_id = :staff_id AND a.studio_id = :studio_id"
    " AND a.busy_from >= :floor AND a.busy_from < :end"
    " AND a.starts_at >= :start AND a.starts_at < :end"
    f" AND a.status IN ({SHOWN})"
)

# Driven by the studio's sessions in the range (index studio_id, starts_at): the instructor
# and assistant indexes alone would read everything the staff member ever taught.
_SESSIONS = """SELECT s.id, c.name AS class_name, s.starts_at, s.ends_at, s.location, s.status
FROM sessions s JOIN classes c ON c.id = s.class_id
WHERE s.studio_id = :studio_id AND s.starts_at >= :start AND s.starts_at < :end
  AND (s.instructor_id = :staff_id OR EXISTS (SELECT 1 FROM session_assistants sa
       WHERE sa.session_id = s.id AND sa.staff_id = :staff_id))"""

_STAFF = """SELECT sf.name, COALESCE(sf.timezone, st.timezone) AS timezone,
    st.name AS studio_name, st.default_language
FROM staff sf JOIN studios st ON st.id = sf.studio_id
WHERE sf.studio_id = :studio_id AND sf.id = :staff_id"""


class CalendarFeed:
    """The staff members' calendar feeds, served by the webhook server."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [web.get(FEED_PATH, self._feed)]

    async def _feed(self, request: web.Request) -> web.Response:
        """The feed of the staff member the token belongs to; 404 for any other token."""
        async with self.db.transaction(write=False) as tx:  # one snapshot for the whole feed
            body = await feed_for(tx, request.match_info["token"], now=self.clock.now())
        if body is None:
            raise web.HTTPNotFound(text="not found")
        return web.Response(
            body=body, content_type="text/calendar", charset="utf-8", headers=HEADERS
        )


async def feed_for(reads: Reads, token: str, *, now: datetime) -> bytes | None:
    """The .ics for `token`'s staff member, or None when no one has that token."""
    found = await staff_by_calendar_token(reads, token)
    if found is None:
        return None
    studio_id, staff_id = found
    staff = await reads.one(_STAFF, {"studio_id": studio_id, "staff_id": staff_id})
    if staff is None:
        return None
    params = {
        "studio_id": studio_id,
        "staff_id": staff_id,
        "start": now - PAST,
        "floor": now - PAST - await longest_footprint(reads, studio_id),
        "end": now + AHEAD,
    }
    t = translator(staff["default_language"])
    events: list[CalendarEvent] = [
        appointment_event(
            appointment_from(row), t, studio_name=staff["studio_name"], for_staff=True
        )
        for row in await reads.all(_APPOINTMENTS, params)
    ]
    events += [_session(row) for row in await reads.all(_SESSIONS, params)]
    events.sort(key=lambda e: (e.starts_at, e.uid))
    return staff_feed_calendar(
        events, staff_name=staff["name"], stamp=now, timezone=staff["timezone"]
    )


def _session(row: Row) -> CalendarEvent:
    return taught_session_event(
        session_id=row["id"],
        class_name=row["class_name"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        location=row["location"] or "",
        cancelled=row["status"] == "cancelled",
    )
