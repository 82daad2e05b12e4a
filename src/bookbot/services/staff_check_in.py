"""Staff checking people in from a session's roster: one entry, or everyone still expected.

A roster entry is a reservation made with a pass (checked in by `reservations`, which uses
a punch) or a booking (`registration_sessions`, its party's attendance set here); a
multi-day session's booking is checked in for today's day (`day_attendance`). Read by
`staff_views`, which re-exports these names.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.engine import errors
from bookbot.engine import reservations as rules
from bookbot.engine.clock import Clock
from bookbot.services import day_attendance, reservations
from bookbot.store.db import Database, Row, Tx

RESERVATION = "reservation"
BOOKING = "booking"


async def check_in_entry(
    db: Database, clock: Clock, studio_id: int, *, staff_id: int, kind: str, entry_id: int
) -> None:
    """Check one roster entry in, on the class day only; checking in twice changes nothing."""
    if kind == RESERVATION:
        await reservations.check_in(db, clock, studio_id, entry_id, staff_id=staff_id)
    elif kind == BOOKING:
        await _check_in_booking(db, clock.now(), studio_id, entry_id, staff_id)
    else:
        raise errors.NotFound(what="booking", ident=entry_id)


_BOOKING = """SELECT rs.id, rs.studio_id, rs.attendance, s.starts_at, st.timezone, s.days,
    rs.session_id
FROM registration_sessions rs JOIN sessions s ON s.id = rs.session_id
JOIN studios st ON st.id = rs.studio_id
WHERE rs.studio_id = :studio_id AND rs.id = :id AND rs.status = 'booked'"""


async def _check_in_booking(
    db: Database, now: datetime, studio_id: int, entry_id: int, staff_id: int | None
) -> None:
    async with db.transaction() as tx:
        row = await tx.one(_BOOKING + tx.for_update("rs"), {"studio_id": studio_id, "id": entry_id})
        if row is None:
            raise errors.NotFound(what="booking", ident=entry_id)
        if row["days"] > 1:  # a course over several days: today's day (services.day_attendance)
            await day_attendance.check_in_today(tx, now, row, staff_id)
            return
        if row["attendance"] == "checked_in":
            return
        if row["attendance"] is not None:  # attended or no-show: the class is over
            raise errors.CheckInClosed()
        rules.check_staff_check_in(now, row["starts_at"], row["timezone"])
        await tx.execute(
            "UPDATE registration_sessions SET attendance = 'checked_in', checked_in_at = :now"
            " WHERE id = :id AND attendance IS NULL",
            {"now": now, "id": entry_id},
        )


async def _session_day(tx: Tx, studio_id: int, session_id: int) -> Row:
    row = await tx.one(
        "SELECT s.starts_at, s.days, st.timezone FROM sessions s"
        " JOIN studios st ON st.id = s.studio_id"
        " WHERE s.studio_id = :studio_id AND s.id = :id",
        {"studio_id": studio_id, "id": session_id},
    )
    if row is None:
        raise errors.NotFound(what="session", ident=session_id)
    return row


async def all_present(
    db: Database, clock: Clock, studio_id: int, staff_id: int, session_id: int
) -> int:
    """Check in every booking and reservation of the session not checked in yet.

    Refused as a whole (NotClassDay) off the class day; returns how many entries it checked in.
    """
    now = clock.now()
    async with db.transaction() as tx:
        row = await _session_day(tx, studio_id, session_id)
        if row["days"] > 1:
            zone_name = str(row["timezone"])
            return await day_attendance.all_present_today(
                tx, now, studio_id, session_id, zone_name=zone_name, staff_id=staff_id
            )
        rules.check_staff_check_in(now, row["starts_at"], row["timezone"])
        pending = await tx.all(
            "SELECT id FROM reservations WHERE studio_id = :studio_id AND session_id = :id"
            " AND status = 'pending' ORDER BY id",
            {"studio_id": studio_id, "id": session_id},
        )
        booked = await tx.execute(
            "UPDATE registration_sessions SET attendance = 'checked_in', checked_in_at = :now"
            " WHERE studio_id = :studio_id AND session_id = :id AND status = 'booked'"
            " AND attendance IS NULL",
            {"now": now, "studio_id": studio_id, "id": session_id},
        )
    for r in pending:  # each uses a punch of its pass: the service's work
        await reservations.check_in(db, clock, studio_id, r["id"], staff_id=staff_id)
    return booked + len(pending)
