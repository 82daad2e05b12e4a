"""The `.ics` file sent with a booking confirmation."""

from __future__ import annotations

from bookbot.conversations.model import Attachment
from bookbot.conversations.states import Context
from bookbot.presentation.calendar_ics import CalendarEvent, booking_calendar
from bookbot.services.facts import SessionRow


def booking_attachment(
    ctx: Context, registration_id: int, class_name: str, sessions: list[SessionRow]
) -> Attachment:
    events = [
        CalendarEvent(
            uid=f"registration-{registration_id}-session-{s.id}@{ctx.studio.slug}.bookbot",
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            summary=f"{class_name} · {ctx.studio.name}",
            location=s.location,
            description=ctx.t._("Booking {number} at {studio}.").format(
                number=registration_id, studio=ctx.studio.name
            ),
        )
        for s in sessions
    ]
    content = booking_calendar(events, stamp=ctx.now)
    return Attachment(f"booking-{registration_id}.ics", "text/calendar", content)
