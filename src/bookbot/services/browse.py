"""Read-only views for customers browsing in chat: classes, dates, course runs, their bookings.

Seat counts here are for display; booking recounts under lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import capacity
from bookbot.engine.pricing import ClassKind
from bookbot.services import facts
from bookbot.store.db import Database, Tx, instant


@dataclass(frozen=True)
class ClassCard:
    id: int
    name: str
    description: str
    kind: ClassKind
    price_minor: int
    next_start: datetime | None


@dataclass(frozen=True)
class Need:
    resource_name: str
    per_student: int


@dataclass(frozen=True)
class DateChoice:
    session: facts.SessionRow
    seats_left: int
    availability: capacity.Availability


@dataclass(frozen=True)
class CourseRun:
    pattern_id: int
    first: facts.SessionRow
    session_count: int
    enrolled: int
    capacity: int


@dataclass(frozen=True)
class BookingSummary:
    registration_id: int
    class_name: str
    kind: str
    guests: int
    price_minor: int
    currency: str
    first_start: datetime
    first_end: datetime
    location: str
    session_count: int


async def class_cards(db: Database, studio_id: int, now: datetime) -> list[ClassCard]:
    """Classes with something to book, soonest first."""
    return await _cards(db, studio_id, now, "", {})


async def _cards(
    db: Database, studio_id: int, now: datetime, extra: str, params: dict[str, int]
) -> list[ClassCard]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT c.id, c.name, c.description, c.kind, c.price_minor,"  # noqa: S608 - fixed filter
            " (SELECT MIN(s.starts_at) FROM sessions s WHERE s.class_id = c.id"
            "  AND s.studio_id = c.studio_id AND s.status = 'open' AND s.starts_at > :now) AS next"
            f" FROM classes c WHERE c.studio_id = :studio_id {extra}",
            {"studio_id": studio_id, "now": now, **params},
        )
    cards = [
        ClassCard(
            r[0], r[1], r[2], ClassKind(r[3]), r[4], (instant(r[5]) if r[5] is not None else None)
        )
        for r in rows
    ]
    return sorted((c for c in cards if c.next_start), key=lambda c: (c.next_start, c.id))


async def class_card(
    db: Database, studio_id: int, class_id: int, now: datetime
) -> ClassCard | None:
    return next((c for c in await class_cards(db, studio_id, now) if c.id == class_id), None)


async def needs(db: Database, studio_id: int, class_id: int) -> list[Need]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT r.name, q.quantity_per_student FROM class_requirements q"
            " JOIN resources r ON r.id = q.resource_id AND r.studio_id = q.studio_id"
            " WHERE q.studio_id = :studio_id AND q.class_id = :class_id ORDER BY r.name",
            {"studio_id": studio_id, "class_id": class_id},
        )
    return [Need(r[0], r[1]) for r in rows]


async def teacher(db: Database, studio_id: int, session_id: int) -> str | None:
    async with db.transaction(write=False) as tx:
        name = await tx.scalar(
            "SELECT st.name FROM sessions s JOIN staff st ON st.id = s.instructor_id"
            " WHERE s.studio_id = :studio_id AND s.id = :id",
            {"studio_id": studio_id, "id": session_id},
        )
    return None if name is None else str(name)


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


async def upcoming_dates(
    db: Database, studio_id: int, class_id: int, now: datetime, *, limit: int = 8, guests: int = 1
) -> list[DateChoice]:
    """The next open sessions of a class, with seats left and whether `guests` fit."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            f"SELECT {facts.SESSION_COLUMNS} FROM sessions WHERE studio_id = :studio_id"  # noqa: S608
            " AND class_id = :class_id AND status = 'open' AND starts_at > :now"
            " ORDER BY starts_at, id LIMIT :limit",
            {"studio_id": studio_id, "class_id": class_id, "now": now, "limit": limit},
        )
        return await _choices(tx, studio_id, [facts.session_row(r) for r in rows], now, guests)


async def dates_by_id(
    db: Database, studio_id: int, session_ids: list[int], now: datetime, guests: int
) -> list[DateChoice]:
    async with db.transaction(write=False) as tx:
        sessions = await facts.sessions_by_id(tx, studio_id, session_ids)
        return await _choices(tx, studio_id, sessions, now, guests)


async def course_runs(
    db: Database, studio_id: int, class_id: int, now: datetime
) -> list[CourseRun]:
    """Runs (patterns) of a course that have not started yet, with enrolment so far."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT s.pattern_id, COUNT(*), MIN(s.id) FROM sessions s"
            " WHERE s.studio_id = :studio_id AND s.class_id = :class_id AND s.status = 'open'"
            " AND s.pattern_id IS NOT NULL GROUP BY s.pattern_id"
            " HAVING MIN(s.starts_at) > :now",
            {"studio_id": studio_id, "class_id": class_id, "now": now},
        )
        firsts = {s.id: s for s in await facts.sessions_by_id(tx, studio_id, [r[2] for r in rows])}
        choices = {
            c.session.id: c for c in await _choices(tx, studio_id, list(firsts.values()), now, 1)
        }
    runs = [
        CourseRun(
            r[0],
            firsts[r[2]],
            int(r[1]),
            firsts[r[2]].capacity - choices[r[2]].seats_left,
            firsts[r[2]].capacity,
        )
        for r in rows
    ]
    return sorted(runs, key=lambda run: run.first.starts_at)


_BOOKINGS = """SELECT g.id, c.name, g.kind, g.guest_count, g.price_minor, g.currency,
    MIN(s.starts_at), MIN(s.ends_at), MIN(s.location), COUNT(s.id)
FROM registrations g
JOIN classes c ON c.id = g.class_id
JOIN registration_sessions rs ON rs.registration_id = g.id AND rs.status = 'booked'
JOIN sessions s ON s.id = rs.session_id AND s.starts_at > :now
WHERE g.studio_id = :studio_id AND g.customer_id = :customer_id AND g.status = 'confirmed'
  {extra}
GROUP BY g.id, c.name, g.kind, g.guest_count, g.price_minor, g.currency
ORDER BY MIN(s.starts_at), g.id"""


async def my_bookings(
    db: Database,
    studio_id: int,
    customer_id: int,
    now: datetime,
    registration_id: int | None = None,
) -> list[BookingSummary]:
    """The customer's confirmed bookings that still have a session ahead."""
    extra, params = "", {}
    if registration_id is not None:
        extra, params = "AND g.id = :registration_id", {"registration_id": registration_id}
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            _BOOKINGS.format(extra=extra),
            {"studio_id": studio_id, "customer_id": customer_id, "now": now, **params},
        )
    return [
        BookingSummary(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            instant(r[6]),
            instant(r[7]),
            r[8],
            int(r[9]),
        )
        for r in rows
    ]


async def booked_sessions(
    db: Database, studio_id: int, registration_id: int
) -> list[facts.SessionRow]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT session_id FROM registration_sessions WHERE studio_id = :studio_id"
            " AND registration_id = :id AND status = 'booked'",
            {"studio_id": studio_id, "id": registration_id},
        )
        ids = [r[0] for r in rows]
        return await facts.sessions_by_id(tx, studio_id, ids) if ids else []


async def run_sessions(db: Database, studio_id: int, pattern_id: int) -> list[facts.SessionRow]:
    """The open sessions of one course run, in order."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            f"SELECT {facts.SESSION_COLUMNS} FROM sessions WHERE studio_id = :studio_id"  # noqa: S608
            " AND pattern_id = :pattern_id AND status = 'open' ORDER BY starts_at",
            {"studio_id": studio_id, "pattern_id": pattern_id},
        )
    return [facts.session_row(r) for r in rows]
