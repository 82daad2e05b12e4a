"""The `.ics` file sent with a booking confirmation, and again when the booking moves.

A booking of one date is one event wherever it moves (`class_reschedule.calendar_uid`): a
move sends it again with a higher SEQUENCE, so the customer's calendar moves the event
rather than adding a second one. A multi-day session is an event per day
(`calendar_ics.day_events`)."""

from __future__ import annotations

from bookbot.conversations.model import Attachment
from bookbot.conversations.states import Context
from bookbot.presentation.calendar_ics import CalendarEvent, booking_calendar, day_events
from bookbot.services.class_reschedule import calendar_uid
from bookbot.services.facts import SessionRow


def booking_attachment(
    ctx: Context,
    registration_id: int,
    class_name: str,
    sessions: list[SessionRow],
    *,
    sequence: int | None = None,
) -> Attachment:
    dates = len(sessions)
    events = [
        day
        for s in sessions
        for day in day_events(
            _event(ctx, registration_id, class_name, s, dates=dates, sequence=sequence),
            s.days,
            ctx.studio.timezone,
        )
    ]
    content = booking_calendar(events, stamp=ctx.now)
    return Attachment(f"booking-{registration_id}.ics", "text/calendar", content)


def _event(
    ctx: Context,
    registration_id: int,
    class_name: str,
    s: SessionRow,
    *,
    dates: int,
    sequence: int | None,
) -> CalendarEvent:
    return CalendarEvent(
        uid=calendar_uid(ctx.studio.slug, registration_id, session_id=s.id, dates=dates),
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        summary=f"{class_name} · {ctx.studio.name}",
        location=s.location,
        description=ctx.t._("Booking {number} at {studio}.").format(
            number=registration_id, studio=ctx.studio.name
        ),
        sequence=sequence,
    )
