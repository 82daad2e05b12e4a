"""What a staff member's calendar feed holds: their time from 30 days ago to a year ahead.

Their appointments (confirmed, completed and no-shows, and cancelled ones so a subscribed
calendar drops them visibly) and the class sessions they teach or assist (cancelled ones
likewise). Holds are not there: nothing is booked yet. Each read goes through an index in
that range ((staff_id, busy_from) for appointments, (studio_id, starts_at) for sessions), so
a feed costs its range, not the staff member's history. The token (staff.calendar_token, a
random secret set by the studio loader) is the only credential, as with any calendar
subscription URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.services.appointment_rows import APPOINTMENT_SELECT, Appointment, appointment_from
from bookbot.services.availability import LONGEST_FOOTPRINT, staff_by_calendar_token
from bookbot.store.db import Reads, record

PAST = timedelta(days=30)
AHEAD = timedelta(days=366)
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
_SESSIONS = """SELECT s.id, c.name AS class_name, s.starts_at, s.ends_at, s.location, s.status,
    s.days, st.timezone AS studio_timezone
FROM sessions s JOIN classes c ON c.id = s.class_id JOIN studios st ON st.id = s.studio_id
WHERE s.studio_id = :studio_id AND s.starts_at >= :start AND s.starts_at < :end
  AND (s.instructor_id = :staff_id OR EXISTS (SELECT 1 FROM session_assistants sa
       WHERE sa.session_id = s.id AND sa.staff_id = :staff_id))"""

_STAFF = """SELECT sf.name, COALESCE(sf.timezone, st.timezone) AS timezone,
    st.name AS studio_name, st.default_language AS language
FROM staff sf JOIN studios st ON st.id = sf.studio_id
WHERE sf.studio_id = :studio_id AND sf.id = :staff_id"""


@dataclass(frozen=True)
class TaughtSession:
    id: int
    class_name: str
    starts_at: datetime
    ends_at: datetime
    location: str
    status: str
    days: int  # a multi-day course: an event per day, on the studio's clock
    studio_timezone: str


@dataclass(frozen=True)
class StaffCalendar:
    name: str
    timezone: str
    studio_name: str
    language: str  # the studio's: the feed has no reader to ask
    appointments: list[Appointment]
    sessions: list[TaughtSession]


async def staff_calendar(reads: Reads, token: str, *, now: datetime) -> StaffCalendar | None:
    """The feed's content for `token`'s staff member, or None when no one has that token.
    Pass one read-only transaction, so the feed is one snapshot."""
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
        "floor": now - PAST - LONGEST_FOOTPRINT,
        "end": now + AHEAD,
    }
    appointments = [appointment_from(row) for row in await reads.all(_APPOINTMENTS, params)]
    sessions = [record(TaughtSession, row) for row in await reads.all(_SESSIONS, params)]
    return StaffCalendar(
        name=staff["name"],
        timezone=staff["timezone"],
        studio_name=staff["studio_name"],
        language=staff["language"],
        appointments=appointments,
        sessions=sessions,
    )
