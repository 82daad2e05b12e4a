"""The customer's own bookings as chat shows them: "My bookings" (those with a session
ahead), the past ones a page at a time, and a booking just made. Read-only; re-exported by
`browse`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.services import facts
from bookbot.services.pages import Keyset, Page, PageAsk, read_page
from bookbot.store.db import Database, Row, Tx, instant


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
    days: int = 1  # the first session ahead runs this many days (a multi-day course)


# A registration is upcoming while one of its booked sessions starts after now (or, for a
# multi-day course, has a day still to start): its `last_starts_at` (the start of its
# latest session or its last day, kept by `registration_rows`) is after now. The range on `ix_registrations_customer_status_start` reads only those, so the cost
# follows what is ahead, not the customer's history. Their sessions are read per
# registration by correlated subqueries, not joined: a join lets PostgreSQL's generic plan
# (prepared statements, after five runs) guess a third of the customer's bookings are ahead
# and hash-join whole tables.
_AHEAD = """FROM registration_sessions rs JOIN sessions s ON s.id = rs.session_id
    WHERE rs.registration_id = g.id AND rs.status = 'booked'
    AND (s.starts_at > :now OR (s.days > 1 AND s.ends_at > :now))"""
_UPCOMING = f"""SELECT g.id AS registration_id, c.name AS class_name, g.kind,
    g.guest_count AS guests, g.price_minor, g.currency,
    (SELECT MIN(s.starts_at) {_AHEAD}) AS first_start,
    (SELECT MIN(s.ends_at) {_AHEAD}) AS first_end,
    (SELECT MIN(s.location) {_AHEAD}) AS location,
    (SELECT COUNT(*) {_AHEAD}) AS session_count,
    (SELECT MAX(s.days) {_AHEAD}) AS days{{extra}}
FROM registrations g JOIN classes c ON c.id = g.class_id
WHERE g.studio_id = :studio_id AND g.customer_id = :customer_id AND g.status = 'confirmed'
  AND {{which}}
ORDER BY first_start, g.id"""  # noqa: S608 - constants


async def my_bookings(
    db: Database,
    studio_id: int,
    customer_id: int,
    now: datetime,
    registration_id: int | None = None,
) -> list[BookingSummary]:
    """The customer's confirmed bookings that still have a session ahead, soonest first
    (only `registration_id`, if given)."""
    async with db.transaction(write=False) as tx:
        return await _upcoming(tx, studio_id, customer_id, now, registration_id)


async def _upcoming(
    tx: Tx, studio_id: int, customer_id: int, now: datetime, registration_id: int | None
) -> list[BookingSummary]:
    which, params = "g.last_starts_at > :now", {}
    if registration_id is not None:
        which, params = "g.id = :registration_id", {"registration_id": registration_id}
    rows = await tx.all(
        _UPCOMING.format(which=which, extra=""),
        {"studio_id": studio_id, "customer_id": customer_id, "now": now, **params},
    )
    return _summaries(rows)


def _summaries(rows: list[Row]) -> list[BookingSummary]:
    # None only for a registration whose sessions all started: asked for by id.
    return [_summary(r) for r in rows if r["first_start"] is not None]


def _summary(row: Row) -> BookingSummary:
    return BookingSummary(
        registration_id=row["registration_id"],
        class_name=row["class_name"],
        kind=row["kind"],
        guests=row["guests"],
        price_minor=row["price_minor"],
        currency=row["currency"],
        first_start=instant(row["first_start"]),
        first_end=instant(row["first_end"]),
        location=row["location"],
        session_count=int(row["session_count"]),
        days=int(row["days"] or 1),
    )


@dataclass(frozen=True)
class MyBookings:
    upcoming: list[BookingSummary]
    has_past: bool


# In index order on purpose: with a bare LIMIT 1, PostgreSQL may bet on a table scan
# finding some row early, a bet that grows worse with everyone else's history.
# Also asked inside `_UPCOMING`, where its `g` is its own (the inner alias hides the outer).
_ANY_PAST = """SELECT g.id FROM registrations g
WHERE g.studio_id = :studio_id AND g.customer_id = :customer_id AND g.status = 'confirmed'
  AND g.last_starts_at <= :now ORDER BY g.last_starts_at DESC LIMIT 1"""


async def my_bookings_and_past(
    db: Database, studio_id: int, customer_id: int, now: datetime
) -> MyBookings:
    """What "My bookings" shows: the upcoming bookings, and whether there are past ones to
    page through (one index probe, asked with the upcoming ones: a statement of its own
    only when there are none)."""
    params = {"studio_id": studio_id, "customer_id": customer_id, "now": now}
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            _UPCOMING.format(
                which="g.last_starts_at > :now", extra=f",\n    ({_ANY_PAST}) AS past_id"
            ),
            params,
        )
        if rows:
            return MyBookings(_summaries(rows), rows[0]["past_id"] is not None)
        past = await tx.one(_ANY_PAST, params)
    return MyBookings([], past is not None)


@dataclass(frozen=True)
class PastBooking:
    registration_id: int
    class_name: str
    guests: int
    last_start: datetime  # of its latest session
    session_count: int


# Past: every session has started. Newest first by (last_starts_at, id), read by keyset on
# the same index as the upcoming ones (see `pages`).
_PAST = Keyset(
    select="""SELECT g.id AS registration_id, c.name AS class_name, g.guest_count AS guests,
    g.last_starts_at AS page_at, g.id AS page_id,
    (SELECT COUNT(*) FROM registration_sessions rs WHERE rs.registration_id = g.id
     AND rs.status = 'booked') AS session_count
FROM registrations g JOIN classes c ON c.id = g.class_id
WHERE g.studio_id = :studio_id AND g.customer_id = :customer_id AND g.status = 'confirmed'""",
    at="g.last_starts_at",
    id="g.id",
    newest="g.last_starts_at <= :now",
)


def _past(row: Row) -> PastBooking:
    return PastBooking(
        registration_id=row["registration_id"],
        class_name=row["class_name"],
        guests=row["guests"],
        last_start=instant(row["page_at"]),
        session_count=int(row["session_count"]),
    )


async def past_bookings(
    db: Database,
    studio_id: int,
    customer_id: int,
    now: datetime,
    ask: PageAsk,
) -> Page[PastBooking]:
    """A page of the customer's confirmed bookings whose sessions have all started, newest
    first."""
    params = {"studio_id": studio_id, "customer_id": customer_id, "now": now}
    async with db.transaction(write=False) as tx:
        return await read_page(tx, _PAST, params, ask, _past)


async def booked_sessions(
    db: Database, studio_id: int, registration_id: int
) -> list[facts.SessionRow]:
    rows = await db.all(
        "SELECT s.id, s.class_id, s.pattern_id, s.starts_at, s.ends_at, s.capacity, s.status,"
        " s.location, s.days FROM registration_sessions rs"
        " JOIN sessions s ON s.id = rs.session_id AND s.studio_id = rs.studio_id"
        " WHERE rs.studio_id = :studio_id AND rs.registration_id = :id AND rs.status = 'booked'"
        " ORDER BY s.starts_at, s.id",
        {"studio_id": studio_id, "id": registration_id},
    )
    return [facts.session_row(r) for r in rows]


@dataclass(frozen=True)
class Booked:
    """A booking just made, for its "Booked!" message: what "My bookings" would say of it
    (None once none of its sessions is ahead) and all its booked sessions."""

    summary: BookingSummary | None
    sessions: list[facts.SessionRow]
    instructors: dict[int, str]  # of each session that has one, by session id


async def booked(
    db: Database, studio_id: int, customer_id: int, now: datetime, registration_id: int
) -> Booked:
    """`my_bookings(..., registration_id)`, `booked_sessions` and their instructors in one
    statement: the
    summary is worked out from the booked sessions as `_UPCOMING` does in SQL (its location,
    which the message does not show, is the least by Python's order, not the collation's)."""
    rows = await db.all(
        "SELECT s.id, s.class_id, s.pattern_id, s.starts_at, s.ends_at, s.capacity, s.status,"
        " s.location, s.days, c.name AS class_name, g.kind, g.guest_count AS guests, g.price_minor,"
        " g.currency, st.name AS instructor FROM registrations g JOIN classes c ON c.id = g.class_id"
        " JOIN registration_sessions rs ON rs.registration_id = g.id AND rs.status = 'booked'"
        " JOIN sessions s ON s.id = rs.session_id AND s.studio_id = rs.studio_id"
        " LEFT JOIN staff st ON st.id = s.instructor_id"
        " WHERE g.studio_id = :studio_id AND g.customer_id = :customer_id AND g.id = :id"
        " AND g.status = 'confirmed' ORDER BY s.starts_at, s.id",
        {"studio_id": studio_id, "customer_id": customer_id, "id": registration_id},
    )
    sessions = [facts.session_row(r) for r in rows]
    instructors = {int(r["id"]): str(r["instructor"]) for r in rows if r["instructor"]}
    ahead = [s for s in sessions if s.starts_at > now]
    if not ahead:
        return Booked(None, sessions, instructors)
    first = rows[0]
    summary = BookingSummary(
        registration_id=registration_id,
        class_name=first["class_name"],
        kind=first["kind"],
        guests=first["guests"],
        price_minor=first["price_minor"],
        currency=first["currency"],
        first_start=min(s.starts_at for s in ahead),
        first_end=min(s.ends_at for s in ahead),
        location=min(s.location for s in ahead),
        session_count=len(ahead),
        days=max(s.days for s in ahead),
    )
    return Booked(summary, sessions, instructors)
