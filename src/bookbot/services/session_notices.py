"""Telling a session's attendees that its time or place changed (`session_changes`).

In the caller's transaction, for each confirmed booking with a seat in the session: its
`sequence` goes up by one (the SEQUENCE of its .ics event, whose UID stays), its
`last_starts_at` follows its latest date, its reminders for this session are withdrawn and
queued for the new time, and 'session_changed' is queued with what the .ics needs (built
when sent, in the customer's language). Pass reservations are told and re-reminded alike
(they have no .ics). A booking of that one date has its scheduled balance moved with it.
The notice waits out quiet hours, never past two hours before the
start.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bookbot.services import facts, outbox, payment_rows, quiet_hours, reminders
from bookbot.services.common import Studio, in_list
from bookbot.store.db import Tx


@dataclass(frozen=True)
class Attendee:
    kind: str  # "booking" or "reservation"
    ref_id: int
    customer_id: int


_BOOKINGS = """SELECT r.id, r.customer_id,
    (SELECT COUNT(*) FROM registration_sessions x WHERE x.registration_id = r.id
     AND x.status = 'booked') AS dates
FROM registration_sessions rs JOIN registrations r ON r.id = rs.registration_id
WHERE rs.studio_id = :s AND rs.session_id = :id AND rs.status = 'booked'
  AND r.status = 'confirmed' ORDER BY r.id"""

_RESERVATIONS = """SELECT id, customer_id FROM reservations WHERE studio_id = :s
  AND session_id = :id AND status = 'pending' ORDER BY id"""

_MOVED = """UPDATE registrations SET sequence = sequence + 1,
    last_starts_at = (SELECT MAX(COALESCE((SELECT MAX(d.starts_at) FROM session_days d
            WHERE d.studio_id = s.studio_id AND d.session_id = s.id), s.starts_at))
        FROM registration_sessions x JOIN sessions s ON s.id = x.session_id
        WHERE x.registration_id = registrations.id AND x.status = 'booked')
WHERE studio_id = :s AND id = :id RETURNING sequence"""


async def tell_attendees(
    tx: Tx, now: datetime, studio: Studio, *, before: facts.SessionRow, after: facts.SessionRow
) -> int:
    """Tell everyone booked or reserved in the session (already updated); how many."""
    class_name = str(
        await tx.scalar(
            "SELECT name FROM classes WHERE studio_id = :s AND id = :id",
            {"s": studio.id, "id": after.class_id},
        )
    )
    base: dict[str, Any] = {
        "class_name": class_name,
        "session_id": after.id,
        "starts_at": after.starts_at.isoformat(),
        "ends_at": after.ends_at.isoformat(),
        "days": after.days,  # a multi-day course: its .ics has an event per day
        "timezone": studio.timezone,
        "was": before.starts_at.isoformat(),
        "location": after.location,
        "was_location": before.location,
        "moved": before.starts_at != after.starts_at or before.ends_at != after.ends_at,
    }
    due = await quiet_hours.release(
        tx, studio.id, now, latest=after.starts_at - quiet_hours.PLAN_AHEAD
    )
    told = 0
    ids = {"s": studio.id, "id": after.id}
    for row in await tx.all(_BOOKINGS, ids):
        reg = int(row["id"])
        sequence = int(await tx.scalar(_MOVED, {"s": studio.id, "id": reg}))
        params = base | {
            "kind": "booking",
            "registration": reg,
            "sequence": sequence,
            "dates": int(row["dates"]),
            "studio_slug": studio.slug,
            "studio_name": studio.name,
        }
        who = Attendee("booking", reg, int(row["customer_id"]))
        await _remind_again(tx, now, studio, who, session=after, name=class_name)
        if int(row["dates"]) == 1:  # its balance is due a fixed time before its one date
            await payment_rows.move_scheduled_balance(
                tx, now, reg, after.starts_at - before.starts_at
            )
        told += await _queue(
            tx, now, studio.id, who, params=params, due=due, key=f"{reg}-{sequence}"
        )
    for row in await tx.all(_RESERVATIONS, ids):
        who = Attendee("reservation", int(row["id"]), int(row["customer_id"]))
        await _remind_again(tx, now, studio, who, session=after, name=class_name)
        change = f"{after.starts_at:%Y%m%dT%H%M}-{zlib.crc32(after.location.encode()):x}"
        params = base | {"kind": "reservation"}
        told += await _queue(
            tx, now, studio.id, who, params=params, due=due, key=f"{who.ref_id}-{change}"
        )
    return told


async def _queue(
    tx: Tx,
    now: datetime,
    studio_id: int,
    who: Attendee,
    *,
    params: dict[str, Any],
    due: datetime,
    key: str,
) -> int:
    added = await outbox.enqueue(
        tx,
        now=now,
        studio_id=studio_id,
        customer_id=who.customer_id,
        template="session_changed",
        params=params,
        due_at=due,
        dedupe_key=f"session_changed:{who.kind}:{key}",
    )
    return 1 if added else 0


async def _remind_again(
    tx: Tx, now: datetime, studio: Studio, who: Attendee, *, session: facts.SessionRow, name: str
) -> None:
    """Withdraw the reminders queued for the old time and queue them for the new one (the
    keys name the session, not the time: the withdrawn rows are removed first so that the
    outbox takes the new ones; reminders already sent stay sent)."""
    keys = reminders.keys(who.kind, who.ref_id, session.id)
    await reminders.withdraw(tx, studio.id, who.kind, who.ref_id, [session.id])
    body, params = in_list("k", keys)
    await tx.execute(
        "DELETE FROM outbox WHERE studio_id = :s AND status = 'withdrawn'"  # noqa: S608
        f" AND dedupe_key IN ({body})",
        {"s": studio.id, **params},
    )
    await reminders.queue(
        tx,
        now,
        reminders.Subject(
            kind=who.kind,
            ref_id=who.ref_id,
            session_id=session.id,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            days=session.days,
            class_name=name,
        ),
        studio_id=studio.id,
        customer_id=who.customer_id,
    )
