"""Assigning instructors and assistants to sessions.

Only staff qualified for the class's teaching role, and never one person in two
overlapping sessions (as instructor or assistant), nor in a session overlapping one of
their live appointments (its footprint, buffers included). On PostgreSQL the staff row is
locked first, as the appointment services lock it, so two concurrent assignments of one
person, or an assignment and an appointment, cannot both pass the overlap check.
"""

from __future__ import annotations

from bookbot.engine import errors, staffing
from bookbot.services.availability import LONGEST_FOOTPRINT
from bookbot.services.common import studio_by_id
from bookbot.store.db import Database, Row, Tx


async def _staff(tx: Tx, studio_id: int, staff_id: int) -> Row:
    row = await tx.one(
        "SELECT id, name FROM staff WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": studio_id, "id": staff_id},
    )
    if row is None:
        raise errors.NotFound(what="staff member", ident=staff_id)
    return row


async def _session(tx: Tx, studio_id: int, session_id: int) -> Row:
    row = await tx.one(
        "SELECT s.id, s.starts_at, s.ends_at, s.instructor_id, c.teaching_role_id,"
        " COALESCE(r.name, '') AS role_name FROM sessions s"
        " JOIN classes c ON c.id = s.class_id AND c.studio_id = s.studio_id"
        " LEFT JOIN teaching_roles r ON r.id = c.teaching_role_id"
        " WHERE s.studio_id = :studio_id AND s.id = :id",
        {"studio_id": studio_id, "id": session_id},
    )
    if row is None:
        raise errors.NotFound(what="session", ident=session_id)
    return row


async def _work(tx: Tx, studio_id: int, staff_id: int, session: Row) -> list[staffing.Booking]:
    rows = await tx.all(
        "SELECT s.id, s.starts_at, s.ends_at, c.name AS class_name FROM sessions s"
        " JOIN classes c ON c.id = s.class_id"
        " WHERE s.studio_id = :studio_id AND s.status = 'open' AND s.id <> :session_id"
        " AND s.starts_at < :ends_at AND s.ends_at > :starts_at"
        " AND (s.instructor_id = :staff_id OR EXISTS (SELECT 1 FROM session_assistants a"
        "      WHERE a.session_id = s.id AND a.staff_id = :staff_id))",
        {
            "studio_id": studio_id,
            "session_id": session["id"],
            "staff_id": staff_id,
            "starts_at": session["starts_at"],
            "ends_at": session["ends_at"],
        },
    )
    return [
        staffing.Booking(
            session_id=r["id"],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            label=f"{r['class_name']} #{r['id']}",
        )
        for r in rows
    ]


async def _appointment_clash(tx: Tx, studio_id: int, staff_id: int, session: Row) -> str | None:
    """The service of an appointment of the staff member overlapping the session (read
    through (staff_id, busy_from), bounded by the longest footprint), or None. An
    assignment has no `now`, so every hold counts, as the exclusion constraint counts them:
    a lapsed one blocks until the minute sweep expires it."""
    starts_at, ends_at = session["starts_at"], session["ends_at"]
    floor = starts_at - LONGEST_FOOTPRINT
    name = await tx.scalar(
        "SELECT sv.name FROM appointments a JOIN services sv ON sv.id = a.service_id"
        " WHERE a.staff_id = :staff_id AND a.busy_from >= :floor AND a.busy_from < :ends_at"
        " AND a.busy_until > :starts_at AND a.status IN ('held', 'confirmed')"
        " AND a.studio_id = :studio_id ORDER BY a.busy_from LIMIT 1",
        {
            "studio_id": studio_id,
            "staff_id": staff_id,
            "floor": floor,
            "starts_at": starts_at,
            "ends_at": ends_at,
        },
    )
    return None if name is None else str(name)


async def assign_in(
    tx: Tx, studio_id: int, session_id: int, staff_id: int, as_instructor: bool
) -> None:
    """Assign inside an open transaction (session generation uses this too)."""
    await tx.lock("staff", [staff_id])
    person = await _staff(tx, studio_id, staff_id)
    session = await _session(tx, studio_id, session_id)
    roles = {
        r["role_id"]
        for r in await tx.all(
            "SELECT role_id FROM staff_roles WHERE studio_id = :studio_id AND staff_id = :id",
            {"studio_id": studio_id, "id": staff_id},
        )
    }
    staffing.check_qualified(
        person["name"], roles, session["teaching_role_id"], session["role_name"]
    )
    is_assistant = await tx.scalar(
        "SELECT 1 FROM session_assistants WHERE session_id = :session_id AND staff_id = :staff_id",
        {"session_id": session_id, "staff_id": staff_id},
    )
    if session["instructor_id"] == staff_id or is_assistant:
        raise errors.StaffAlreadyAssigned(staff=person["name"])
    work = await _work(tx, studio_id, staff_id, session)
    staffing.check_free(person["name"], session_id, session["starts_at"], session["ends_at"], work)
    clash = await _appointment_clash(tx, studio_id, staff_id, session)
    if clash is not None:
        raise errors.StaffDoubleBooked(staff=person["name"], other=clash)
    if as_instructor:
        await tx.execute(
            "UPDATE sessions SET instructor_id = :staff_id WHERE studio_id = :studio_id AND id = :id",
            {"staff_id": staff_id, "studio_id": studio_id, "id": session_id},
        )
    else:
        await tx.execute(
            "INSERT INTO session_assistants (studio_id, session_id, staff_id)"
            " VALUES (:studio_id, :session_id, :staff_id)",
            {"studio_id": studio_id, "session_id": session_id, "staff_id": staff_id},
        )


async def assign(
    db: Database, studio_id: int, session_id: int, staff_id: int, *, as_instructor: bool
) -> None:
    """Make `staff_id` the session's instructor (replacing any) or add them as an assistant."""
    async with db.transaction() as tx:
        await studio_by_id(tx, studio_id)
        await assign_in(tx, studio_id, session_id, staff_id, as_instructor)


async def unassign(db: Database, studio_id: int, session_id: int, staff_id: int) -> None:
    """Remove `staff_id` from the session, whichever part they had; NotFound if none."""
    async with db.transaction() as tx:
        await _session(tx, studio_id, session_id)
        changed = await tx.execute(
            "UPDATE sessions SET instructor_id = NULL WHERE studio_id = :studio_id AND id = :id"
            " AND instructor_id = :staff_id",
            {"studio_id": studio_id, "id": session_id, "staff_id": staff_id},
        )
        changed += await tx.execute(
            "DELETE FROM session_assistants WHERE studio_id = :studio_id"
            " AND session_id = :id AND staff_id = :staff_id",
            {"studio_id": studio_id, "id": session_id, "staff_id": staff_id},
        )
        if not changed:
            raise errors.NotFound(what="assignment of staff member", ident=staff_id)


async def staff_id_by_key(db: Database, studio_id: int, key: str) -> int:
    async with db.transaction(write=False) as tx:
        found = await tx.scalar(
            "SELECT id FROM staff WHERE studio_id = :studio_id AND (key = :key OR CAST(id AS TEXT) = :key)",
            {"studio_id": studio_id, "key": key},
        )
    if found is None:
        raise errors.NotFound(what="staff member", ident=key)
    return int(found)
