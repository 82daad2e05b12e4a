"""Read-only views for customers browsing in chat: classes, dates, course runs, their bookings.

Seat counts here are for display; booking recounts under lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import capacity
from bookbot.engine.pricing import ClassKind
from bookbot.services import facts
from bookbot.services.booking_views import (
    BookingSummary,
    PastBooking,
    booked,
    my_bookings,
    my_bookings_and_past,
    past_bookings,
)
from bookbot.services.common import in_list
from bookbot.store.db import Database, Tx, instant, record

__all__ = [
    "BookingSummary",
    "ClassCard",
    "CourseRun",
    "DateChoice",
    "Need",
    "PastBooking",
    "booked",
    "browsed",
    "card_of",
    "class_card",
    "class_cards",
    "course_runs",
    "dates_by_id",
    "my_bookings",
    "my_bookings_and_past",
    "needs",
    "needs_of",
    "past_bookings",
    "run_sessions",
    "upcoming_dates",
]


@dataclass(frozen=True)
class ClassCard:
    id: int
    name: str
    description: str
    kind: ClassKind
    price_minor: int
    next_start: datetime | None
    next_end: datetime | None = None  # the next session's end (its last day's, multi-day)
    next_days: int = 1  # the next session runs this many days (a multi-day course)


@dataclass(frozen=True)
class Need:
    resource_name: str
    per_student: int


@dataclass(frozen=True)
class DateChoice:
    session: facts.SessionRow
    seats_left: int
    availability: capacity.Availability
    teacher: str | None = None
    requirements: tuple[capacity.Requirement, ...] = ()
    klass: facts.ClassRow | None = None
    class_description: str = ""
    mine: bool = False  # the customer it was read for has a place there already
    class_attendee_fields: str = ""  # what its class asks of each party, as stored


@dataclass(frozen=True)
class CourseRun:
    pattern_id: int
    first: facts.SessionRow
    session_count: int
    enrolled: int
    capacity: int


async def class_cards(db: Database, studio_id: int, now: datetime) -> list[ClassCard]:
    """Classes with something to book, soonest first."""
    return await _cards(db, studio_id, now, "", {})


# Each class's next open session, then that session by primary key: per class one probe of
# ix_sessions_class_starts (its first open session after :now, in (starts_at, id) order) and
# one of the primary key, so the cost follows the classes, never the studio's history.
# MATERIALIZED keeps the per-class probe where it is: PostgreSQL otherwise inlines the CTE
# and, with the subquery inside the join condition, hashes all the studio's sessions.
_CARDS = """
WITH c AS MATERIALIZED (
  SELECT c.id, c.studio_id, c.name, c.description, c.kind, c.price_minor,
    (SELECT s.id FROM sessions s
     WHERE s.class_id = c.id AND s.studio_id = c.studio_id
       AND s.status = 'open' AND s.starts_at > :now
     ORDER BY s.starts_at, s.id LIMIT 1) AS next_id
  FROM classes c WHERE c.studio_id = :studio_id {extra}
)
SELECT c.id, c.name, c.description, c.kind, c.price_minor,
  n.starts_at AS next_start, n.ends_at AS next_end, n.days AS next_days
FROM c JOIN sessions n ON n.id = c.next_id AND n.studio_id = c.studio_id
"""


async def _cards(
    db: Database, studio_id: int, now: datetime, extra: str, params: dict[str, int]
) -> list[ClassCard]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            _CARDS.format(extra=extra),  # fixed filters only
            {"studio_id": studio_id, "now": now, **params},
        )
    cards = [
        ClassCard(
            id=r["id"],
            name=r["name"],
            description=r["description"],
            kind=ClassKind(r["kind"]),
            price_minor=r["price_minor"],
            next_start=instant(r["next_start"]),
            next_end=instant(r["next_end"]),
            next_days=int(r["next_days"] or 1),
        )
        for r in rows
    ]
    return sorted(cards, key=lambda c: (c.next_start, c.id))


async def class_card(
    db: Database, studio_id: int, class_id: int, now: datetime
) -> ClassCard | None:
    cards = await _cards(db, studio_id, now, "AND c.id = :class_id", {"class_id": class_id})
    return cards[0] if cards else None


async def needs(db: Database, studio_id: int, class_id: int) -> list[Need]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT r.name AS resource_name, q.quantity_per_student AS per_student"
            " FROM class_requirements q"
            " JOIN resources r ON r.id = q.resource_id AND r.studio_id = q.studio_id"
            " WHERE q.studio_id = :studio_id AND q.class_id = :class_id ORDER BY r.name",
            {"studio_id": studio_id, "class_id": class_id},
        )
    return [record(Need, r) for r in rows]


async def _choices(
    tx: Tx, studio_id: int, sessions: list[facts.SessionRow], now: datetime, guests: int
) -> list[DateChoice]:
    if not sessions:
        return []
    found = await facts.session_facts(tx, studio_id, [s.id for s in sessions], now, None)
    choices = []
    for s in sessions:
        f = found[s.id]
        state = f.state(s)
        choices.append(
            DateChoice(
                s, state.seats_left, capacity.availability(state, f.requirements, f.uses, guests)
            )
        )
    return choices


def browsed(found: list[facts.Browsed], guests: int) -> list[DateChoice]:
    choices = []
    for b in found:
        state = b.facts.state(b.session)
        available = capacity.availability(state, b.facts.requirements, b.facts.uses, guests)
        choices.append(
            DateChoice(
                b.session,
                state.seats_left,
                available,
                b.teacher,
                tuple(b.facts.requirements),
                b.klass,
                b.class_description,
                b.facts.customer_booked,
                b.class_attendee_fields,
            )
        )
    return choices


def card_of(dates: list[DateChoice], class_id: int, now: datetime) -> ClassCard | None:
    """The card `class_card` gives, told by dates already read (with their class) when one
    of them is an open session of that class ahead (so the card exists): its next start is
    right only for `upcoming_dates`' dates. None: the dates do not tell, read the card."""
    for d in dates:
        k, session = d.klass, d.session
        if (
            k is not None
            and k.id == class_id
            and session.status == "open"
            and session.starts_at > now
        ):
            return ClassCard(
                k.id,
                k.name,
                d.class_description,
                k.kind,
                k.price_minor,
                session.starts_at,
                session.ends_at,
                session.days,
            )
    return None


def needs_of(date: DateChoice) -> list[Need]:
    """What the date's class needs per person (as `needs`), from the date already read."""
    found = [Need(r.resource_name, r.quantity_per_student) for r in date.requirements]
    return sorted(found, key=lambda n: n.resource_name)


# The next open sessions of a class, picked inside the one statement that counts them.
_UPCOMING_IDS = """s.id IN (SELECT u.id FROM sessions u WHERE u.studio_id = :studio_id
    AND u.class_id = :class_id AND u.status = 'open' AND u.starts_at > :now
    ORDER BY u.starts_at, u.id LIMIT :limit)"""


async def upcoming_dates(
    db: Database, studio_id: int, class_id: int, now: datetime, *, limit: int = 8, guests: int = 1
) -> list[DateChoice]:
    """The next open sessions of a class, with seats left, whether `guests` fit, and each
    one's teacher: one statement."""
    found = await facts.browse_facts(
        db, studio_id, now, where=_UPCOMING_IDS, params={"class_id": class_id, "limit": limit}
    )
    return browsed(found, guests)


async def dates_by_id(
    db: Database, studio_id: int, session_ids: list[int], now: datetime, guests: int
) -> list[DateChoice]:
    """Those sessions (soonest first) with seats left and whether `guests` fit: one
    statement."""
    if not session_ids:
        return []
    body, params = in_list("s", session_ids)
    found = await facts.browse_facts(db, studio_id, now, where=f"s.id IN ({body})", params=params)
    return browsed(found, guests)


# A course's runs that can still be booked: grouped from the class's sessions after the
# floor (now + the booking cutoff; read from ix_sessions_studio_starts, so only what lies
# ahead), less any run with a session at or before it (already started, or closing):
# that probe goes by pattern on the (pattern_id, occurrence_date) unique index.
_RUNS = """SELECT s.pattern_id, COUNT(*) AS session_count, MIN(s.id) AS first_id
FROM sessions s
WHERE s.studio_id = :studio_id AND s.class_id = :class_id AND s.status = 'open'
  AND s.pattern_id IS NOT NULL AND s.starts_at > :floor
  AND NOT EXISTS (SELECT 1 FROM sessions b WHERE b.pattern_id = s.pattern_id
    AND b.status = 'open' AND b.starts_at <= :floor)
GROUP BY s.pattern_id"""


async def course_runs(
    db: Database, studio_id: int, class_id: int, now: datetime, *, floor: datetime | None = None
) -> list[CourseRun]:
    """Runs (patterns) of a course whose first session is after `floor` (default: now),
    with enrolment so far, soonest first."""
    params = {"studio_id": studio_id, "class_id": class_id, "floor": floor or now}
    async with db.transaction(write=False) as tx:
        rows = await tx.all(_RUNS, params)
        first_ids = [int(r["first_id"]) for r in rows]
        firsts = {s.id: s for s in await facts.sessions_by_id(tx, studio_id, first_ids)}
        choices = {
            c.session.id: c for c in await _choices(tx, studio_id, list(firsts.values()), now, 1)
        }
    runs = [
        CourseRun(
            pattern_id=r["pattern_id"],
            first=firsts[first_id],
            session_count=int(r["session_count"]),
            enrolled=firsts[first_id].capacity - choices[first_id].seats_left,
            capacity=firsts[first_id].capacity,
        )
        for r, first_id in zip(rows, first_ids, strict=True)
    ]
    return sorted(runs, key=lambda run: run.first.starts_at)


async def run_sessions(db: Database, studio_id: int, pattern_id: int) -> list[facts.SessionRow]:
    """The open sessions of one course run, in order."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            f"SELECT {facts.SESSION_COLUMNS} FROM sessions WHERE studio_id = :studio_id"  # noqa: S608
            " AND pattern_id = :pattern_id AND status = 'open' ORDER BY starts_at",
            {"studio_id": studio_id, "pattern_id": pattern_id},
        )
    return [facts.session_row(r) for r in rows]
