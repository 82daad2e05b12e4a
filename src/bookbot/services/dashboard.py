"""The staff dashboard's figures per course for a period, and feedback averages.

Per class, over the sessions held in [start, end) (started in the period, not cancelled,
closed by the attendance sweep): sessions held, bookings on them and the people booked,
seats filled of the capacity, people who attended (a booking that attended any of its
sessions), certificates issued on those sessions (not revoked); money in the studio's
currency: paid less refunded in the period, balances and invoices owed now, and the price of
the period's bookings with no payment at all (paid at the studio, which bookbot does not see).

Sessions are read through `ix_sessions_studio_starts` (the period's range), their bookings
through `uq_registration_sessions_live`, each booking's attendance through
`ix_registration_sessions_registration`, certificates through their (session_id, …) unique
index, feedback through `ix_course_feedback_studio_created`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.services import payment_reports
from bookbot.store.db import Reads, Row

# The period's held sessions (a subquery each figure starts from).
_HELD = """SELECT s.id, s.class_id, s.capacity FROM sessions s
WHERE s.studio_id = :s AND s.starts_at >= :start AND s.starts_at < :end
  AND s.status = 'open' AND s.closed_at IS NOT NULL"""

_SESSIONS_SQL = f"""SELECT h.class_id, c.name AS class_name, COUNT(*) AS sessions,
  SUM(h.capacity) AS capacity, SUM(h.seats) AS seats
FROM (SELECT held.id, held.class_id, held.capacity,
        (SELECT COALESCE(SUM(rs.guest_count), 0) FROM registration_sessions rs
         WHERE rs.session_id = held.id AND rs.status = 'booked') AS seats
      FROM ({_HELD}) held) h
JOIN classes c ON c.id = h.class_id
GROUP BY h.class_id, c.name"""  # noqa: S608 - constants

_BOOKINGS_SQL = f"""SELECT r.class_id, COUNT(*) AS bookings, SUM(r.guest_count) AS people,
  SUM(CASE WHEN EXISTS (SELECT 1 FROM registration_sessions a WHERE a.registration_id = r.id
      AND a.status = 'booked' AND a.attendance IN ('attended', 'checked_in'))
    THEN r.guest_count ELSE 0 END) AS attended,
  SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM payments p WHERE p.registration_id = r.id)
    THEN r.price_minor ELSE 0 END) AS at_studio
FROM registrations r
WHERE r.studio_id = :s AND r.status = 'confirmed' AND r.id IN (
  SELECT rs.registration_id FROM ({_HELD}) held
  JOIN registration_sessions rs ON rs.session_id = held.id AND rs.status = 'booked')
GROUP BY r.class_id"""  # noqa: S608 - constants

_CERTIFICATES_SQL = f"""SELECT held.class_id, COUNT(*) AS issued FROM ({_HELD}) held
JOIN certificates ct ON ct.session_id = held.id
WHERE ct.studio_id = :s AND ct.revoked_at IS NULL
GROUP BY held.class_id"""  # noqa: S608 - constants


@dataclass(frozen=True)
class CourseFigures:
    class_name: str
    sessions: int
    capacity: int
    seats: int  # booked seats, summed over the sessions
    bookings: int
    people: int  # booked, once per booking
    attended: int  # people of bookings that attended
    certificates: int
    revenue_minor: int = 0  # paid less refunded in the period
    owed_minor: int = 0  # balances and invoices not paid, now
    at_studio_minor: int = 0  # bookings with no online payment: paid at the studio

    @property
    def filled(self) -> float | None:
        return self.seats / self.capacity if self.capacity else None

    @property
    def completion(self) -> float | None:
        return self.attended / self.people if self.people else None

    @property
    def passed(self) -> float | None:
        return self.certificates / self.attended if self.attended else None


async def figures(
    reads: Reads, studio_id: int, currency: str, *, start: datetime, end: datetime
) -> list[CourseFigures]:
    """Per class with a session held in [start, end), by name."""
    params = {"s": studio_id, "start": start, "end": end}
    booked = {int(r["class_id"]): r for r in await reads.all(_BOOKINGS_SQL, params)}
    issued = {
        int(r["class_id"]): int(r["issued"]) for r in await reads.all(_CERTIFICATES_SQL, params)
    }
    money = {
        m.class_name: m
        for m in await payment_reports.money_by_class(reads, studio_id, start=start, end=end)
        if m.currency == currency
    }
    found = []
    for row in await reads.all(_SESSIONS_SQL, params):
        class_id, name = int(row["class_id"]), str(row["class_name"])
        b = booked.get(class_id)
        m = money.get(name)
        found.append(
            CourseFigures(
                class_name=name,
                sessions=int(row["sessions"]),
                capacity=int(row["capacity"] or 0),
                seats=int(row["seats"] or 0),
                bookings=int(b["bookings"]) if b else 0,
                people=int(b["people"] or 0) if b else 0,
                attended=int(b["attended"] or 0) if b else 0,
                certificates=issued.get(class_id, 0),
                revenue_minor=(m.paid_minor - m.refunded_minor) if m else 0,
                owed_minor=m.owed_minor if m else 0,
                at_studio_minor=int(b["at_studio"] or 0) if b else 0,
            )
        )
    return sorted(found, key=lambda f: f.class_name.casefold())


@dataclass(frozen=True)
class Average:
    """Ratings of a class or an instructor: how many, and their sum (the average is
    sum / count, kept exact until it is shown)."""

    name: str
    count: int
    total: int

    @property
    def average(self) -> float:
        return self.total / self.count


_BY_CLASS_SQL = """SELECT c.name, COUNT(*) AS n, SUM(f.rating) AS total
FROM course_feedback f JOIN classes c ON c.id = f.class_id
WHERE f.studio_id = :s AND f.created_at >= :start AND f.created_at < :end
GROUP BY f.class_id, c.name"""

_BY_INSTRUCTOR_SQL = """SELECT COALESCE(st.name, '') AS name, COUNT(*) AS n, SUM(f.rating) AS total
FROM course_feedback f LEFT JOIN staff st ON st.id = f.instructor_id
WHERE f.studio_id = :s AND f.created_at >= :start AND f.created_at < :end
GROUP BY f.instructor_id, st.name"""


async def averages(
    reads: Reads, studio_id: int, *, start: datetime, end: datetime
) -> tuple[list[Average], list[Average]]:
    """Ratings given in [start, end): per class and per instructor ('' for none), by name."""
    params = {"s": studio_id, "start": start, "end": end}
    return (
        _listed(await reads.all(_BY_CLASS_SQL, params)),
        _listed(await reads.all(_BY_INSTRUCTOR_SQL, params)),
    )


def _listed(rows: list[Row]) -> list[Average]:
    out = [Average(str(r["name"]), int(r["n"]), int(r["total"])) for r in rows]
    return sorted(out, key=lambda a: (a.name == "", a.name.casefold()))
