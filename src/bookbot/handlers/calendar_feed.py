"""GET /calendar/{token}.ics: the calendar a staff member subscribes to in their calendar app.

An unknown or malformed token gets a bare 404 that says nothing about why, and the page is
never cached or sent on as a referrer. What the feed holds, and how it is read, is
`services.staff_calendar`'s; this renders it, with texts in the studio's default language.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bookbot.engine.clock import Clock
from bookbot.presentation.calendar_ics import (
    CalendarEvent,
    appointment_event,
    day_events,
    staff_feed_calendar,
    taught_session_event,
)
from bookbot.presentation.i18n import translator
from bookbot.services.staff_calendar import staff_calendar
from bookbot.store.db import Database, Reads

FEED_PATH = "/calendar/{token:[A-Za-z0-9_-]{1,64}}.ics"
HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


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
    calendar = await staff_calendar(reads, token, now=now)
    if calendar is None:
        return None
    t = translator(calendar.language)
    events: list[CalendarEvent] = [
        appointment_event(appointment, t, studio_name=calendar.studio_name, for_staff=True)
        for appointment in calendar.appointments
    ]
    events += [
        day
        for s in calendar.sessions
        for day in day_events(
            taught_session_event(
                session_id=s.id,
                class_name=s.class_name,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                location=s.location,
                cancelled=s.status == "cancelled",
            ),
            s.days,
            s.studio_timezone,
        )
    ]
    events.sort(key=lambda e: (e.starts_at, e.uid))
    return staff_feed_calendar(
        events, staff_name=calendar.name, stamp=now, timezone=calendar.timezone
    )
