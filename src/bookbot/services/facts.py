"""Reading what capacity decisions rest on: two statements for any set of sessions.

`lock_sessions` locks the sessions (PostgreSQL: `FOR UPDATE OF s`, in id order; SQLite:
the transaction already holds the write lock) and reads them with their class and
studio. `session_facts` then counts, in a fresh statement, booked seats, seats held by
live holds and waitlist offers, the customer's own bookings and the resources allocated
(a hold or offer past its time counts for nothing, swept or not). It must be a
separate statement: on PostgreSQL a statement that waited for a row lock still sees the
snapshot taken before the wait, so counts read alongside the lock could be stale.

A live waitlist offer holds equipment as well as seats: its guests × each required
resource's quantity per student (`capacity.resource_use`). That is counted from the
offer itself, not written as allocation rows, so there is one fact to keep true: the
offer's status and expiry. An offer that expires, is declined or is accepted stops
holding anything in the same instant, swept or not, with nothing to clean up (an
accepted offer's booking then writes its own allocations, in the accepting transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bookbot.engine import capacity
from bookbot.engine.pricing import ClassKind
from bookbot.services.common import Studio, in_list
from bookbot.store.db import Reads, Row, Tx, instant, record


@dataclass(frozen=True)
class SessionRow:
    id: int
    class_id: int
    pattern_id: int | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    status: str
    location: str
    days: int = 1  # a multi-day course: consecutive days, one booking (services.multi_day_rows)


@dataclass(frozen=True)
class ClassRow:
    id: int
    name: str
    kind: ClassKind
    price_minor: int


@dataclass(frozen=True)
class Locked:
    """The locked sessions (in id order), their class, their studio, and the customer check."""

    studio: Studio
    sessions: list[SessionRow]
    classes: dict[int, ClassRow]
    customer_found: bool


@dataclass
class Facts:
    """One session's counts, fresh under the lock."""

    booked: int = 0
    held_by_offers: int = 0
    customer_booked: bool = False
    customer_queued: bool = False
    requirements: list[capacity.Requirement] = field(default_factory=list)
    uses: list[capacity.ResourceUse] = field(default_factory=list)

    def state(self, session: SessionRow) -> capacity.SessionState:
        return capacity.SessionState(
            session.id,
            session.starts_at,
            session.status,
            session.capacity,
            self.booked,
            self.customer_booked,
            self.held_by_offers,
        )


def session_row(row: Row) -> SessionRow:
    """A session from a query selecting `SESSION_COLUMNS` (by name; extra columns are fine)."""
    return record(SessionRow, row)


SESSION_COLUMNS = "id, class_id, pattern_id, starts_at, ends_at, capacity, status, location, days"

LOCK_SQL = """SELECT s.id, s.class_id, s.pattern_id, s.starts_at, s.ends_at, s.capacity, s.status,
    s.location, s.days, c.name AS class_name, c.kind AS class_kind, c.price_minor, st.slug,
    st.name AS studio_name, st.timezone, st.currency, st.default_language,
    st.booking_cutoff_minutes, st.cancellation_cutoff_hours, st.waitlist_offer_minutes,
    (SELECT COUNT(*) FROM customers cu
      WHERE cu.studio_id = s.studio_id AND cu.id = :customer_id) AS customer_found,
    st.hold_minutes, st.quiet_start_minute, st.quiet_end_minute,
    EXISTS (SELECT 1 FROM staff_notice_subscriptions n WHERE n.studio_id = s.studio_id)
    AS staff_notices
FROM sessions s
JOIN classes c ON c.id = s.class_id AND c.studio_id = s.studio_id
JOIN studios st ON st.id = s.studio_id
WHERE s.studio_id = :studio_id AND {where}
ORDER BY s.id"""


def _studio(studio_id: int, r: Row) -> Studio:
    return Studio(
        id=studio_id,
        slug=r["slug"],
        name=r["studio_name"],
        timezone=r["timezone"],
        currency=r["currency"],
        default_language=r["default_language"],
        booking_cutoff=timedelta(minutes=r["booking_cutoff_minutes"]),
        cancellation_cutoff_hours=r["cancellation_cutoff_hours"],
        waitlist_offer=timedelta(minutes=r["waitlist_offer_minutes"]),
        hold=timedelta(minutes=r["hold_minutes"]),
        quiet_start_minute=r["quiet_start_minute"],
        quiet_end_minute=r["quiet_end_minute"],
        staff_notices=bool(r["staff_notices"]),
    )


def _class(r: Row) -> ClassRow:
    return ClassRow(r["class_id"], r["class_name"], ClassKind(r["class_kind"]), r["price_minor"])


async def lock_sessions(
    tx: Tx,
    studio_id: int,
    customer_id: int,
    *,
    ids: list[int] | None = None,
    pattern_id: int | None = None,
) -> Locked | None:
    """Lock and read sessions by id, or a course run's open sessions; None if none match."""
    params: Mapping[str, int | None]
    if ids is not None:
        body, params = in_list("s", ids)
        where = f"s.id IN ({body})"
    else:
        where, params = (
            "s.pattern_id = :pattern_id AND s.status = 'open'",
            {"pattern_id": pattern_id},
        )
    rows = await tx.all(
        LOCK_SQL.format(where=where) + tx.for_update("s"),
        {"studio_id": studio_id, "customer_id": customer_id, **params},
    )
    if not rows:
        return None
    classes = {r["class_id"]: _class(r) for r in rows}
    first = rows[0]
    return Locked(
        _studio(studio_id, first),
        [session_row(r) for r in rows],
        classes,
        bool(first["customer_found"]),
    )


_FACTS_SELECT = """SELECT s.id AS session_id,
    (SELECT COALESCE(SUM(rs.guest_count), 0) FROM registration_sessions rs
      WHERE rs.session_id = s.id AND rs.status = 'booked')
    + (SELECT COALESCE(SUM(h.guest_count), 0) FROM registration_sessions h
      WHERE h.session_id = s.id AND h.status = 'held' AND h.held_until > :now)
    + (SELECT COUNT(*) FROM reservations r WHERE r.session_id = s.id AND r.status IN ('pending', 'checked_in', 'attended', 'no_show'))
    AS booked,
    (SELECT COALESCE(SUM(w.guest_count), 0) FROM waitlist_entries w
      WHERE w.session_id = s.id AND w.status = 'offered' AND w.offer_expires_at > :now
      AND w.customer_id <> :customer_id) AS held_by_offers,
    (SELECT COUNT(*) FROM registration_sessions rs
      WHERE rs.session_id = s.id AND rs.customer_id = :customer_id AND rs.status = 'booked')
    + (SELECT COUNT(*) FROM reservations r WHERE r.session_id = s.id
      AND r.customer_id = :customer_id AND r.status IN ('pending', 'checked_in'))
    AS customer_booked,
    (SELECT COUNT(*) FROM waitlist_entries w
      WHERE w.session_id = s.id AND w.customer_id = :customer_id
      AND w.status IN ('waiting', 'offered')) AS customer_queued,
    q.resource_id, r.name AS resource_name, q.quantity_per_student, r.total_quantity,
    (SELECT COALESCE(SUM(a.quantity), 0) FROM resource_allocations a
      WHERE a.session_id = s.id AND a.resource_id = q.resource_id
      AND (a.held_until IS NULL OR a.held_until > :now))
    + q.quantity_per_student * (SELECT COUNT(*) FROM reservations v
      WHERE v.session_id = s.id AND v.status IN ('pending', 'checked_in', 'attended', 'no_show'))
    AS allocated
FROM sessions s
LEFT JOIN class_requirements q ON q.class_id = s.class_id AND q.studio_id = s.studio_id
LEFT JOIN resources r ON r.id = q.resource_id AND r.studio_id = s.studio_id
WHERE s.studio_id = :studio_id AND """

FACTS_SQL = _FACTS_SELECT + "s.id IN ({body})\nORDER BY s.id, q.resource_id"

# For reading only (browsing): the counts with each session's own columns, its class and
# its teacher, so a screen's dates cost one statement. Never under a lock: see the module
# docstring.
_BROWSE_SQL = _FACTS_SELECT.replace(
    "SELECT s.id AS session_id,",
    "SELECT s.id AS session_id, s.class_id, s.pattern_id, s.starts_at, s.ends_at,"
    " s.capacity, s.status, s.location, s.days, c.name AS class_name,"
    " c.description AS class_description, c.kind AS class_kind, c.price_minor,"
    " c.attendee_fields AS class_attendee_fields,"
    " (SELECT st.name FROM staff st WHERE st.id = s.instructor_id) AS teacher,",
    1,
).replace(
    "FROM sessions s\n",
    "FROM sessions s\nJOIN classes c ON c.id = s.class_id AND c.studio_id = s.studio_id\n",
    1,
)


async def session_facts(
    tx: Tx, studio_id: int, ids: list[int], now: datetime, customer_id: int | None
) -> dict[int, Facts]:
    """Counts per session. Live offers to `customer_id` do not count against them; every
    other live offer holds its seats and its party's share of each required resource."""
    body, params = in_list("s", ids)
    rows = await tx.all(
        FACTS_SQL.format(body=body),
        {"studio_id": studio_id, "now": now, "customer_id": customer_id or 0, **params},
    )
    return _facts(rows)


@dataclass(frozen=True)
class Browsed:
    """A session read for display with its counts (see `browse_facts`)."""

    session: SessionRow
    facts: Facts
    teacher: str | None
    klass: ClassRow
    class_description: str
    class_attendee_fields: str  # what the class asks of each party (`attendees.parse_fields`)


async def browse_facts(
    reads: Reads,
    studio_id: int,
    now: datetime,
    *,
    where: str,
    params: Mapping[str, object],
    customer_id: int = 0,
) -> list[Browsed]:
    """Sessions matching `where` (SQL on alias `s`, with `params`) and their counts, read
    in one statement without locking (for display: a booking recounts under lock), ordered
    by start. Counts as `session_facts` for `customer_id` (0: no customer)."""
    rows = await reads.all(
        _BROWSE_SQL + where + "\nORDER BY s.id, q.resource_id",
        {"studio_id": studio_id, "now": now, "customer_id": customer_id, **params},
    )
    found = _facts(rows)
    firsts = {r["session_id"]: r for r in reversed(rows)}
    browsed = [
        Browsed(
            SessionRow(
                id=r["session_id"],
                class_id=r["class_id"],
                pattern_id=r["pattern_id"],
                starts_at=instant(r["starts_at"]),
                ends_at=instant(r["ends_at"]),
                capacity=r["capacity"],
                status=r["status"],
                location=r["location"],
                days=r["days"],
            ),
            found[session_id],
            r["teacher"],
            _class(r),
            r["class_description"],
            r["class_attendee_fields"],
        )
        for session_id, r in firsts.items()
    ]
    return sorted(browsed, key=lambda b: (b.session.starts_at, b.session.id))


def _facts(rows: list[Row]) -> dict[int, Facts]:
    found: dict[int, Facts] = {}
    for r in rows:
        facts = found.get(r["session_id"])
        if facts is None:
            facts = found[r["session_id"]] = Facts(
                booked=int(r["booked"]),
                held_by_offers=int(r["held_by_offers"]),
                customer_booked=bool(r["customer_booked"]),
                customer_queued=bool(r["customer_queued"]),
            )
        if r["resource_id"] is not None:
            need = record(capacity.Requirement, r)
            facts.requirements.append(need)
            facts.uses.append(
                capacity.resource_use(
                    need, r["total_quantity"], int(r["allocated"]), facts.held_by_offers
                )
            )
    return found


async def sessions_by_id(tx: Tx, studio_id: int, ids: list[int]) -> list[SessionRow]:
    """Sessions without locking, for reading (the caller locks first if it will write)."""
    body, params = in_list("s", ids)
    rows = await tx.all(
        f"SELECT {SESSION_COLUMNS} FROM sessions"  # noqa: S608 - placeholders only
        f" WHERE studio_id = :studio_id AND id IN ({body}) ORDER BY starts_at, id",
        {"studio_id": studio_id, **params},
    )
    return [session_row(r) for r in rows]
