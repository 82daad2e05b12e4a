"""Read-only views for browsing: a session's availability, upcoming sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import capacity, errors
from bookbot.services import facts
from bookbot.store.db import Database


@dataclass(frozen=True)
class SessionView:
    session: facts.SessionRow
    class_name: str
    availability: capacity.Availability


async def session_availability(
    db: Database, studio_id: int, session_id: int, now: datetime, guests: int = 1
) -> SessionView:
    """Seats left, and per required resource: needed (guests × per student) against free.

    For display: a booking recounts under lock.
    """
    capacity.check_guest_count(guests)
    async with db.transaction(write=False) as tx:
        found = await facts.sessions_by_id(tx, studio_id, [session_id])
        if not found:
            raise errors.NotFound(what="session", ident=session_id)
        session = found[0]
        name = await tx.scalar(
            "SELECT name FROM classes WHERE studio_id = :studio_id AND id = :id",
            {"studio_id": studio_id, "id": session.class_id},
        )
        f = (await facts.session_facts(tx, studio_id, [session_id], now, None))[session_id]
    return SessionView(
        session, name, capacity.availability(f.state(session), f.requirements, f.uses, guests)
    )


async def upcoming_sessions(
    db: Database, studio_id: int, now: datetime, *, class_id: int | None = None, limit: int = 50
) -> list[facts.SessionRow]:
    """Open sessions starting after `now`, soonest first."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            f"SELECT {facts.SESSION_COLUMNS} FROM sessions WHERE studio_id = :studio_id"  # noqa: S608
            " AND status = 'open' AND starts_at > :now"
            " AND (:class_id = 0 OR class_id = :class_id) ORDER BY starts_at, id LIMIT :limit",
            {"studio_id": studio_id, "now": now, "class_id": class_id or 0, "limit": limit},
        )
    return [facts.session_row(r) for r in rows]
