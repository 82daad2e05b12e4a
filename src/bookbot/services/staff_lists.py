"""Staff lists read a page at a time: sessions around a day, and who may work a session.

A page of sessions is read by its index through ix_sessions_studio_starts: page 0 and
later go forward from the anchor (the start of the day asked for), earlier pages go back
from it, never before `floor` (the start of today). Each read takes one page and one more
row, which says whether there is another page that way; no read takes all future sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.services.availability import LONGEST_FOOTPRINT
from bookbot.services.staff_views import SESSION_LINES, SessionLine, StaffMember, line_of
from bookbot.store.db import Database, Tx, record


@dataclass(frozen=True)
class SessionPage:
    lines: list[SessionLine]
    earlier: bool  # there are sessions before this page (not before the floor)
    later: bool  # and after it


FORWARD_SQL = SESSION_LINES + (
    " AND s.starts_at >= :anchor ORDER BY s.starts_at, s.id LIMIT :limit OFFSET :offset"
)
BACKWARD_SQL = SESSION_LINES + (
    " AND s.starts_at >= :floor AND s.starts_at < :anchor"
    " ORDER BY s.starts_at DESC, s.id DESC LIMIT :limit OFFSET :offset"
)
_ANY = (
    "SELECT 1 FROM sessions s WHERE s.studio_id = :studio_id AND s.status = 'open'"
    " AND s.starts_at >= :since AND s.starts_at < :until LIMIT 1"
)
_ANY_FROM = (
    "SELECT 1 FROM sessions s WHERE s.studio_id = :studio_id AND s.status = 'open'"
    " AND s.starts_at >= :since LIMIT 1"
)


async def sessions_page(
    db: Database, studio_id: int, *, anchor: datetime, floor: datetime, page: int, size: int
) -> SessionPage:
    """Page `page` of the open sessions around `anchor`, earliest first (see the module)."""
    params = {"studio_id": studio_id, "anchor": anchor, "floor": floor, "limit": size + 1}
    async with db.transaction(write=False) as tx:
        if page >= 0:
            rows = await tx.all(FORWARD_SQL, {**params, "offset": page * size})
            later = len(rows) > size
            rows = rows[:size]
            earlier = page > 0 or (anchor > floor and await _any(tx, studio_id, floor, anchor))
        else:
            rows = await tx.all(BACKWARD_SQL, {**params, "offset": (-page - 1) * size})
            earlier = len(rows) > size
            rows = list(reversed(rows[:size]))
            later = page < -1 or await _any(tx, studio_id, anchor, None)
    return SessionPage([line_of(r) for r in rows], earlier, later)


async def _any(tx: Tx, studio_id: int, since: datetime, until: datetime | None) -> bool:
    if until is None:
        found = await tx.scalar(_ANY_FROM, {"studio_id": studio_id, "since": since})
    else:
        found = await tx.scalar(_ANY, {"studio_id": studio_id, "since": since, "until": until})
    return found is not None


# Staff qualified for the session's class (its teaching role among theirs, or none asked),
# not on it already, and free then: teaching or assisting no other open session overlapping
# it, no live appointment overlapping it (read through (staff_id, busy_from) from the
# longest footprint back), no time off (an availability block) overlapping it. The
# assignment itself checks all but time off again, under lock (services.staffing).
_FREE_QUALIFIED = """SELECT st.id, st.name FROM staff st
JOIN sessions s ON s.studio_id = st.studio_id AND s.id = :session_id
JOIN classes c ON c.id = s.class_id AND c.studio_id = s.studio_id
WHERE st.studio_id = :studio_id
    AND (c.teaching_role_id IS NULL OR EXISTS (SELECT 1 FROM staff_roles r
        WHERE r.studio_id = st.studio_id AND r.staff_id = st.id
        AND r.role_id = c.teaching_role_id))
    AND (s.instructor_id IS NULL OR s.instructor_id <> st.id)
    AND NOT EXISTS (SELECT 1 FROM session_assistants a
        WHERE a.session_id = s.id AND a.staff_id = st.id)
    AND NOT EXISTS (SELECT 1 FROM sessions o WHERE o.instructor_id = st.id
        AND o.studio_id = st.studio_id AND o.id <> s.id AND o.status = 'open'
        AND o.starts_at < s.ends_at AND o.ends_at > s.starts_at)
    AND NOT EXISTS (SELECT 1 FROM session_assistants a JOIN sessions o ON o.id = a.session_id
        WHERE a.staff_id = st.id AND o.id <> s.id AND o.status = 'open'
        AND o.starts_at < s.ends_at AND o.ends_at > s.starts_at)
    AND NOT EXISTS (SELECT 1 FROM appointments ap WHERE ap.staff_id = st.id
        AND ap.busy_from >= :floor AND ap.busy_from < s.ends_at
        AND ap.busy_until > s.starts_at AND ap.status IN ('held', 'confirmed'))
    AND NOT EXISTS (SELECT 1 FROM availability_blocks b WHERE b.staff_id = st.id
        AND b.ends_at > s.starts_at AND b.starts_at < s.ends_at)
ORDER BY st.name, st.id"""


async def free_qualified(
    db: Database, studio_id: int, session_id: int, starts_at: datetime
) -> list[StaffMember]:
    """Who may be added to the session (its start is `starts_at`), by name."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            _FREE_QUALIFIED,
            {
                "studio_id": studio_id,
                "session_id": session_id,
                "floor": starts_at - LONGEST_FOOTPRINT,
            },
        )
    return [record(StaffMember, r) for r in rows]
