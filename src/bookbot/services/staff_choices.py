"""What staff choose from in chat: the studio's staff members, a session's instructor and
assistants, the schedule patterns. Re-exported by `staff_views`."""

from __future__ import annotations

from dataclasses import dataclass

from bookbot.store.db import Database, record


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str


@dataclass(frozen=True)
class Staffing:
    instructor: str | None
    assistants: tuple[str, ...]


@dataclass(frozen=True)
class PatternLine:
    id: int
    key: str
    class_name: str


async def staff_members(db: Database, studio_id: int) -> list[StaffMember]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT id, name FROM staff WHERE studio_id = :studio_id ORDER BY name, id",
            {"studio_id": studio_id},
        )
    return [record(StaffMember, r) for r in rows]


async def session_staffing(db: Database, studio_id: int, session_id: int) -> Staffing:
    """Who teaches the session and who assists."""
    params = {"studio_id": studio_id, "id": session_id}
    async with db.transaction(write=False) as tx:
        instructor = await tx.scalar(
            "SELECT st.name FROM sessions s JOIN staff st ON st.id = s.instructor_id"
            " WHERE s.studio_id = :studio_id AND s.id = :id",
            params,
        )
        assistants = await tx.all(
            "SELECT st.name FROM session_assistants a JOIN staff st ON st.id = a.staff_id"
            " WHERE a.studio_id = :studio_id AND a.session_id = :id ORDER BY st.name",
            params,
        )
    return Staffing(instructor, tuple(r["name"] for r in assistants))


async def patterns(db: Database, studio_id: int) -> list[PatternLine]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT p.id, p.key, c.name AS class_name FROM schedule_patterns p"
            " JOIN classes c ON c.id = p.class_id AND c.studio_id = p.studio_id"
            " WHERE p.studio_id = :studio_id ORDER BY c.name, p.key",
            {"studio_id": studio_id},
        )
    return [record(PatternLine, r) for r in rows]
