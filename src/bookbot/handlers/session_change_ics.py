"""The updated .ics sent with 'session_changed' (services.session_notices) on Telegram.

Built when sent, from what the notice carries: the booking's event keeps its UID
(`class_reschedule.calendar_uid`) and its SEQUENCE is the booking's `sequence`, raised by
the change, so the customer's calendar moves the event instead of adding another."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookbot.conversations.model import Attachment
from bookbot.presentation.calendar_ics import CalendarEvent, booking_calendar, day_events
from bookbot.presentation.i18n import Translator
from bookbot.services.class_reschedule import calendar_uid

TEMPLATE = "session_changed"


def wants_calendar(template: str, params: dict[str, Any]) -> bool:
    """A booking's notice of a session change (a pass reservation has no calendar entry)."""
    return template == TEMPLATE and params.get("registration") is not None


def calendar_attachment(params: dict[str, Any], t: Translator, *, stamp: datetime) -> Attachment:
    registration = int(params["registration"])
    event = CalendarEvent(
        uid=calendar_uid(
            str(params["studio_slug"]),
            registration,
            session_id=int(params["session_id"]),
            dates=int(params["dates"]),
        ),
        starts_at=datetime.fromisoformat(params["starts_at"]),
        ends_at=datetime.fromisoformat(params["ends_at"]),
        summary=f"{params['class_name']} · {params['studio_name']}",
        location=str(params.get("location", "")),
        description=t._("Booking {number} at {studio}.").format(
            number=registration, studio=params["studio_name"]
        ),
        sequence=int(params["sequence"]),
    )
    days = int(params.get("days", 1))
    events = day_events(event, days, str(params.get("timezone", "UTC")))
    content = booking_calendar(events, stamp=stamp)
    return Attachment(f"booking-{registration}.ics", "text/calendar", content)
