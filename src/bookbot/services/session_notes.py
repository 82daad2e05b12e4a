"""Instructor notes (issue 17): a session's notes for staff only (`sessions.instructor_notes`).

Shown on the roster and edited from it; never read by anything a customer sees. Any time
(a note may be added after the class), cancelled sessions included. '' means no notes.
"""

from __future__ import annotations

from bookbot.engine import errors
from bookbot.store.db import Database

MAX_NOTES = 2000


async def notes_of(db: Database, studio_id: int, session_id: int) -> str:
    """The session's notes ('' for none); NotFound when it is not this studio's."""
    async with db.transaction(write=False) as tx:
        row = await tx.one(
            "SELECT instructor_notes FROM sessions WHERE studio_id = :s AND id = :id",
            {"s": studio_id, "id": session_id},
        )
    if row is None:
        raise errors.NotFound(what="session", ident=session_id)
    return str(row["instructor_notes"] or "")


async def set_notes(db: Database, studio_id: int, session_id: int, notes: str) -> None:
    """Replace the notes ('' clears them); NotFound when the session is not this studio's."""
    async with db.transaction() as tx:
        changed = await tx.execute(
            "UPDATE sessions SET instructor_notes = :n WHERE studio_id = :s AND id = :id",
            {"n": notes[:MAX_NOTES], "s": studio_id, "id": session_id},
        )
    if changed == 0:
        raise errors.NotFound(what="session", ident=session_id)
