"""Customers checking themselves in: to an ordinary booking (one booked session of a
registration) by the rules a pass reservation follows (`engine.reservations`: from 2 h
before to 2 h after the start), and what is open to check in to right now, bookings and
reservations alike.

A booked session's attendance is NULL until check-in, `checked_in` after it, and
`attended` / `no_show` once the attendance sweep closes the class (`attendance`): so a
check-in after the close is CheckInClosed, and checking in twice changes nothing.

A multi-day course is checked in to day by day: each day's window is around that day's
start, and a check-in marks that day (`services.day_attendance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import errors
from bookbot.engine import reservations as rules
from bookbot.engine.clock import Clock
from bookbot.services import day_attendance, reservations
from bookbot.store.db import Database, Reads, Row, instant, retrying

BOOKING, RESERVATION = "booking", "reservation"


@dataclass(frozen=True)
class Arrival:
    """A booking or reservation of the customer's whose self check-in window is open."""

    kind: str  # booking | reservation
    id: int  # registration_sessions.id or reservations.id
    registration_id: int | None  # a booking's registration
    starts_at: datetime
    class_name: str
    checked_in: bool


# The customer's booked sessions starting within the window: `ix_sessions_studio_starts`
# finds the few sessions in it, `uq_registration_sessions_live` the customer's seat in each.
BOOKED_NEAR_SQL = """SELECT rs.id, rs.registration_id, rs.attendance, s.starts_at,
    c.name AS class_name
FROM sessions s JOIN registration_sessions rs ON rs.session_id = s.id
    AND rs.customer_id = :c AND rs.status = 'booked'
JOIN classes c ON c.id = s.class_id
WHERE s.studio_id = :s AND s.starts_at >= :since AND s.starts_at <= :until
    AND s.status = 'open' AND s.days = 1 ORDER BY s.starts_at, rs.id"""

# The days of the customer's booked multi-day sessions starting within the window
# (`ix_session_days_studio_starts`), each with the mark it has, if any.
BOOKED_DAYS_NEAR_SQL = """SELECT rs.id, rs.registration_id, rs.attendance, d.starts_at,
    c.name AS class_name, a.status AS day_mark
FROM session_days d JOIN sessions s ON s.id = d.session_id
JOIN registration_sessions rs ON rs.session_id = s.id
    AND rs.customer_id = :c AND rs.status = 'booked'
JOIN classes c ON c.id = s.class_id
LEFT JOIN day_attendance a ON a.registration_session_id = rs.id
    AND a.day_number = d.day_number
WHERE d.studio_id = :s AND d.starts_at >= :since AND d.starts_at <= :until
    AND s.status = 'open' ORDER BY d.starts_at, rs.id"""


async def bookings_open(
    reads: Reads, studio_id: int, customer_id: int, now: datetime
) -> list[Arrival]:
    """The customer's booked sessions whose check-in is open now (checked in or not),
    soonest first. One the sweep closed (attended, no-show) is not open."""
    params = {
        "s": studio_id,
        "c": customer_id,
        "since": now - rules.SELF_CHECK_IN,
        "until": now + rules.SELF_CHECK_IN,
    }
    rows = await reads.all(BOOKED_NEAR_SQL, params)
    days = [
        _booking(r, checked_in=r["day_mark"] == "attended")
        for r in await reads.all(BOOKED_DAYS_NEAR_SQL, params)
        if r["attendance"] in (None, "checked_in") and r["day_mark"] in (None, "attended")
    ]
    return sorted(days, key=lambda a: (a.starts_at, a.id)) + [
        _booking(r, checked_in=r["attendance"] == "checked_in")
        for r in rows
        if r["attendance"] in (None, "checked_in")
    ]


def _booking(r: Row, *, checked_in: bool) -> Arrival:
    """A booking entry (a session, or a multi-day session's day) to check in to."""
    return Arrival(
        BOOKING,
        int(r["id"]),
        int(r["registration_id"]),
        instant(r["starts_at"]),
        str(r["class_name"]),
        checked_in,
    )


async def open_now(db: Database, studio_id: int, customer_id: int, now: datetime) -> list[Arrival]:
    """Every booking and pass reservation the customer may check in to now (or already
    did), soonest first."""
    found = await bookings_open(db, studio_id, customer_id, now)
    for held in await reservations.live_reservations(db, studio_id, customer_id, now):
        try:
            rules.check_self_check_in(now, held.starts_at)
        except errors.BookingError:
            continue
        if held.status in (rules.Status.PENDING, rules.Status.CHECKED_IN):
            found.append(
                Arrival(
                    RESERVATION,
                    held.id,
                    None,
                    held.starts_at,
                    "",
                    held.status is rules.Status.CHECKED_IN,
                )
            )
    return sorted(found, key=lambda a: (a.starts_at, a.kind, a.id))


_ENTRY = """SELECT rs.id, rs.customer_id, rs.attendance, s.starts_at, s.days, rs.session_id
FROM registration_sessions rs JOIN sessions s ON s.id = rs.session_id
WHERE rs.studio_id = :s AND rs.id = :id AND rs.status = 'booked'"""


async def check_in_booking(
    db: Database, clock: Clock, studio_id: int, entry_id: int, *, customer_id: int
) -> bool:
    """Check the customer in to one booked session (a registration_sessions row), within
    the self check-in window. Returns False if they were checked in already.

    Another customer's entry, or one no longer booked, is NotFound; before the window
    CheckInNotOpen (with when it opens); after it, or once the class is closed,
    CheckInClosed."""

    async def attempt() -> bool:
        now = clock.now()
        async with db.transaction() as tx:
            row = await tx.one(_ENTRY + tx.for_update("rs"), {"s": studio_id, "id": entry_id})
            if row is None or row["customer_id"] != customer_id:
                raise errors.NotFound(what="booking", ident=entry_id)
            if row["days"] > 1:
                return await day_attendance.self_check_in(tx, studio_id, row, now)
            if row["attendance"] == "checked_in":
                return False
            if row["attendance"] is not None:  # attended or no-show: the class is closed
                raise errors.CheckInClosed()
            rules.check_self_check_in(now, instant(row["starts_at"]))
            moved = await tx.execute(
                "UPDATE registration_sessions SET attendance = 'checked_in',"
                " checked_in_at = :now WHERE id = :id AND attendance IS NULL",
                {"now": now, "id": entry_id},
            )
        return bool(moved)

    result: bool = await retrying(attempt)
    return result


# The customer's confirmed registrations with a session still ahead
# (`ix_registrations_customer_status_start`, by last start), then each one's booked sessions.
NEXT_BOOKED_SQL = """SELECT MIN(s.starts_at) FROM registrations g
JOIN registration_sessions rs ON rs.registration_id = g.id AND rs.status = 'booked'
JOIN sessions s ON s.id = rs.session_id
WHERE g.studio_id = :s AND g.customer_id = :c AND g.status = 'confirmed'
    AND g.last_starts_at > :after AND s.starts_at > :after"""


async def next_booked_start(
    reads: Reads, studio_id: int, customer_id: int, now: datetime
) -> datetime | None:
    """The start of the customer's next booked session not yet in its check-in window
    (for "check-in opens at …"), or None."""
    value = await reads.scalar(
        NEXT_BOOKED_SQL, {"s": studio_id, "c": customer_id, "after": now + rules.SELF_CHECK_IN}
    )
    return None if value is None else instant(value)
