"""Passes: issuing them (staff, or a customer's pay-at-studio request) and their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bookbot.engine import errors
from bookbot.engine.reservations import PassKind, PassState
from bookbot.services import facts
from bookbot.store.db import Database, Tx

DEFAULT_MAX_ADVANCE = 3


@dataclass(frozen=True)
class PassTerms:
    kind: PassKind
    sessions: int | None = None  # punch passes
    valid_days: int | None = None  # from the day it is issued; None: open-ended
    max_advance: int | None = DEFAULT_MAX_ADVANCE
    sequential: bool = False
    absence_grace_hours: int = 0
    price_minor: int = 0
    pattern_id: int | None = None  # full-course passes: the run


@dataclass(frozen=True)
class PassStatus:
    id: int
    class_id: int
    class_name: str
    kind: PassKind
    included: int | None
    remaining: int | None
    reserved: int
    valid_until: date | None
    payment: str


async def issue_pass(
    db: Database,
    now: datetime,
    studio_id: int,
    customer_id: int,
    class_id: int,
    terms: PassTerms,
    *,
    payment: str,
    valid_from: date,
) -> int:
    """Create a pass; `payment` is "staff_issued" or "pay_at_studio" until online payment."""
    if terms.kind is PassKind.PUNCH and not terms.sessions:
        raise errors.PunchPassNeedsSessions()
    until = valid_from + timedelta(days=terms.valid_days) if terms.valid_days else None
    async with db.transaction() as tx:
        found = await tx.scalar(
            "SELECT COUNT(*) FROM customers c JOIN classes k ON k.studio_id = c.studio_id"
            " WHERE c.studio_id = :s AND c.id = :customer AND k.id = :class",
            {"s": studio_id, "customer": customer_id, "class": class_id},
        )
        if not found:
            raise errors.NotFound(what="class", ident=class_id)
        pass_id = await tx.scalar(
            "INSERT INTO passes (studio_id, customer_id, class_id, kind, pattern_id,"
            " sessions_included, sessions_remaining, max_advance, sequential, absence_grace_hours,"
            " valid_from, valid_until, payment, price_minor, status, created_at) VALUES (:s,"
            " :customer, :class, :kind, :pattern, :sessions, :sessions, :advance, :sequential,"
            " :grace, :valid_from, :until, :payment, :price, 'active', :now) RETURNING id",
            {
                "s": studio_id,
                "customer": customer_id,
                "class": class_id,
                "kind": terms.kind.value,
                "pattern": terms.pattern_id,
                "sessions": terms.sessions,
                "advance": terms.max_advance,
                "sequential": terms.sequential,
                "grace": terms.absence_grace_hours,
                "valid_from": valid_from,
                "until": until,
                "payment": payment,
                "price": terms.price_minor,
                "now": now,
            },
        )
    return int(pass_id)


_STATE = """SELECT p.kind, p.class_id, p.status, p.valid_from, p.valid_until, p.sessions_remaining,
    p.max_advance, p.sequential,
    (SELECT COUNT(*) FROM reservations r WHERE r.pass_id = p.id AND r.status IN ('pending', 'checked_in')),
    (SELECT COUNT(*) FROM reservations r WHERE r.pass_id = p.id AND r.status = 'pending'),
    p.absence_grace_hours
FROM passes p WHERE p.studio_id = :s AND p.id = :id AND p.customer_id = :customer"""


async def locked_state(
    tx: Tx, studio_id: int, customer_id: int, pass_id: int
) -> tuple[PassState, int]:
    """The pass (locked on PostgreSQL) as the rules see it, and its grace hours."""
    params = {"s": studio_id, "id": pass_id, "customer": customer_id}
    row = await tx.one(_STATE + tx.for_update("p"), params)
    if row is None:
        raise errors.NotFound(what="pass", ident=pass_id)
    parts = await tx.all(
        "SELECT DISTINCT part_position FROM reservations WHERE pass_id = :id"
        " AND status = 'attended' AND part_position IS NOT NULL",
        {"id": pass_id},
    )
    state = PassState(
        PassKind(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        bool(row[7]),
        int(row[8]),
        int(row[9]),
        frozenset(int(p[0]) for p in parts),
    )
    return state, int(row[10])


async def use_punch(tx: Tx, pass_id: int) -> None:
    """Take one punch of a punch pass, never below zero. Call only in the transaction that
    moved the reservation using it (a check-in, a no-show), after its row count said so:
    the punch is the side effect of that move, never of a move someone else made."""
    await tx.execute(
        "UPDATE passes SET sessions_remaining = sessions_remaining - 1 WHERE id = :id"
        " AND sessions_remaining > 0",
        {"id": pass_id},
    )


def _status(row: Any) -> PassStatus:
    return PassStatus(
        row[0], row[1], row[2], PassKind(row[3]), row[4], row[5], int(row[6]), row[7], row[8]
    )


async def customer_passes(
    db: Database, studio_id: int, customer_id: int, today: date
) -> list[PassStatus]:
    """Active passes still valid today, with what is left and what is reserved."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT p.id, p.class_id, c.name, p.kind, p.sessions_included, p.sessions_remaining,"
            " (SELECT COUNT(*) FROM reservations r WHERE r.pass_id = p.id"
            "  AND r.status IN ('pending', 'checked_in')), p.valid_until, p.payment"
            " FROM passes p JOIN classes c ON c.id = p.class_id"
            " WHERE p.studio_id = :s AND p.customer_id = :customer AND p.status = 'active'"
            " AND (p.valid_until IS NULL OR p.valid_until >= :today) ORDER BY p.id",
            {"s": studio_id, "customer": customer_id, "today": today},
        )
    return [_status(r) for r in rows]


@dataclass(frozen=True)
class Offer:
    position: int
    kind: PassKind
    sessions: int | None
    valid_days: int | None
    price_minor: int
    max_advance: int | None
    sequential: bool
    absence_grace_hours: int

    def terms(self) -> PassTerms:
        return PassTerms(
            self.kind,
            self.sessions,
            self.valid_days,
            self.max_advance,
            self.sequential,
            self.absence_grace_hours,
            self.price_minor,
        )


async def offers(db: Database, studio_id: int, class_id: int) -> list[Offer]:
    """The passes a class offers (from the studio file)."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT position, kind, sessions, valid_days, price_minor, max_advance, sequential,"
            " absence_grace_hours FROM pass_offers WHERE studio_id = :s AND class_id = :c"
            " ORDER BY position",
            {"s": studio_id, "c": class_id},
        )
    return [Offer(r[0], PassKind(r[1]), r[2], r[3], r[4], r[5], bool(r[6]), r[7]) for r in rows]


@dataclass(frozen=True)
class Reservable:
    session_id: int
    starts_at: datetime
    seats_left: int
    part: int | None
    makeup: bool


async def reservable_sessions(
    db: Database, studio_id: int, class_id: int, now: datetime, limit: int = 8
) -> list[Reservable]:
    """The next open sessions of the class, with seats left and which part they teach."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            f"SELECT {facts.SESSION_COLUMNS}, part_position, makeup FROM sessions"  # noqa: S608
            " WHERE studio_id = :s AND class_id = :c AND status = 'open' AND starts_at > :now"
            " ORDER BY starts_at, id LIMIT :limit",
            {"s": studio_id, "c": class_id, "now": now, "limit": limit},
        )
        sessions = [facts.session_row(r) for r in rows]
        found = (
            await facts.session_facts(tx, studio_id, [s.id for s in sessions], now, None)
            if sessions
            else {}
        )
    return [
        Reservable(s.id, s.starts_at, found[s.id].state(s).seats_left, r[8], bool(r[9]))
        for s, r in zip(sessions, rows, strict=True)
    ]
