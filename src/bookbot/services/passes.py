"""Passes: issuing them (staff, or a customer's pay-at-studio request) and their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bookbot.engine import errors
from bookbot.engine.reservations import PassKind, PassState
from bookbot.services.pages import Keyset, Page, PageAsk, read_page
from bookbot.store.db import Database, Row, Tx

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
    max_advance: int | None = None  # reservations ahead it may hold at once
    pending: int = 0  # of `reserved`, those not checked in yet (each still owes a punch)

    def full_up(self) -> errors.BookingError | None:
        """Why no more sessions can be reserved on it now (its reservations ahead, its
        punches all promised), as reserving would be refused; None: it can reserve."""
        if self.max_advance is not None and self.reserved >= self.max_advance:
            return errors.AdvanceLimitReached(limit=self.max_advance)
        if self.kind is PassKind.PUNCH and (self.remaining or 0) <= self.pending:
            return errors.NoPunchesLeft(remaining=self.remaining or 0, reserved=self.pending)
        return None


@dataclass(frozen=True)
class Issue:
    """A pass to issue: to whom, of which class, on what terms, paid how (`payment`:
    "staff_issued", "pay_at_studio" or "online"), valid from when."""

    studio_id: int
    customer_id: int
    class_id: int
    terms: PassTerms
    payment: str
    valid_from: date


async def issue_pass(
    db: Database,
    now: datetime,
    studio_id: int,
    customer_id: int,
    class_id: int,
    *,
    terms: PassTerms,
    payment: str,
    valid_from: date,
) -> int:
    """Create a pass. One bought online is issued "pending_payment" and becomes "active"
    when paid: only active passes can be used (the usable index and the reservation rules
    both say so)."""
    issue = Issue(studio_id, customer_id, class_id, terms, payment, valid_from)
    return (await _issue(db, now, issue, once=False))[0]


async def issue_once(db: Database, now: datetime, issue: Issue) -> tuple[int, bool]:
    """The pass, unless the customer already holds a usable one of the class on these
    terms: then that one. Its id, and whether it was issued now. The check and the insert
    are one transaction, under the customer's row lock on PostgreSQL (SQLite holds the
    write lock), so a repeated or racing request issues one pass; a second one is had only
    by asking for it (`issue_pass`)."""
    return await _issue(db, now, issue, once=True)


async def _issue(db: Database, now: datetime, issue: Issue, *, once: bool) -> tuple[int, bool]:
    studio_id, customer_id, class_id = issue.studio_id, issue.customer_id, issue.class_id
    terms, payment, valid_from = issue.terms, issue.payment, issue.valid_from
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
        if once:  # one request at a time per customer: the check below, then the insert
            await tx.one(
                "SELECT c.id FROM customers c WHERE c.studio_id = :s AND c.id = :customer"  # noqa: S608 - a lock clause
                + tx.for_update("c"),
                {"s": studio_id, "customer": customer_id},
            )
            held = await _held_like(tx, issue, valid_from)
            if held is not None:
                return held.id, False
        pass_id = await tx.scalar(
            "INSERT INTO passes (studio_id, customer_id, class_id, kind, pattern_id,"
            " sessions_included, sessions_remaining, max_advance, sequential, absence_grace_hours,"
            " valid_from, valid_until, payment, price_minor, status, created_at) VALUES (:s,"
            " :customer, :class, :kind, :pattern, :sessions, :sessions, :advance, :sequential,"
            " :grace, :valid_from, :until, :payment, :price, :status, :now) RETURNING id",
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
                # Bought online: unusable until paid (services.payment_events activates it).
                "status": "pending_payment" if payment == "online" else "active",
                "now": now,
            },
        )
    return int(pass_id), True


_STATE = """SELECT p.kind, p.class_id, p.status, p.valid_from, p.valid_until, p.sessions_remaining,
    p.max_advance, p.sequential,
    (SELECT COUNT(*) FROM reservations r WHERE r.pass_id = p.id
     AND r.status IN ('pending', 'checked_in')) AS live,
    (SELECT COUNT(*) FROM reservations r WHERE r.pass_id = p.id AND r.status = 'pending') AS pending,
    p.absence_grace_hours
FROM passes p WHERE p.studio_id = :s AND p.id = :id AND p.customer_id = :customer"""


_LOCK_ROW = """SELECT p.id FROM passes p
WHERE p.studio_id = :s AND p.id = :id AND p.customer_id = :customer"""


async def locked_state(
    tx: Tx, studio_id: int, customer_id: int, pass_id: int
) -> tuple[PassState, int]:
    """The pass (locked on PostgreSQL) as the rules see it, and its grace hours.

    The lock and the counts are two statements: on PostgreSQL a statement that waited for
    the lock still reads the snapshot taken before the wait, so a reservation on the pass
    committed meanwhile would go uncounted, and two at once would both pass its limits."""
    params = {"s": studio_id, "id": pass_id, "customer": customer_id}
    await tx.one(_LOCK_ROW + tx.for_update("p"), params)
    row = await tx.one(_STATE, params)
    if row is None:
        raise errors.NotFound(what="pass", ident=pass_id)
    parts = await tx.all(
        "SELECT DISTINCT part_position AS part FROM reservations WHERE pass_id = :id"
        " AND status = 'attended' AND part_position IS NOT NULL",
        {"id": pass_id},
    )
    state = PassState(
        kind=PassKind(row["kind"]),
        class_id=row["class_id"],
        status=row["status"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        remaining=row["sessions_remaining"],
        max_advance=row["max_advance"],
        sequential=bool(row["sequential"]),
        live=int(row["live"]),
        pending=int(row["pending"]),
        attended_parts=frozenset(int(p["part"]) for p in parts),
    )
    return state, int(row["absence_grace_hours"])


async def use_punch(tx: Tx, pass_id: int) -> None:
    """Take one punch of a punch pass, never below zero. Call only in the transaction that
    moved the reservation using it (a check-in, a no-show), after its row count said so:
    the punch is the side effect of that move, never of a move someone else made."""
    await tx.execute(
        "UPDATE passes SET sessions_remaining = sessions_remaining - 1 WHERE id = :id"
        " AND sessions_remaining > 0",
        {"id": pass_id},
    )


def _status(row: Row) -> PassStatus:
    return PassStatus(
        id=row["id"],
        class_id=row["class_id"],
        class_name=row["class_name"],
        kind=PassKind(row["kind"]),
        included=row["sessions_included"],
        remaining=row["sessions_remaining"],
        reserved=int(row["reserved"]),
        valid_until=row["valid_until"],
        payment=row["payment"],
        max_advance=row["max_advance"],
        pending=int(row["pending"]),
    )


_COLUMNS = """p.id, p.class_id, c.name AS class_name, p.kind, p.sessions_included,
    p.sessions_remaining, p.valid_until, p.payment, p.max_advance,
    (SELECT COUNT(*) FROM reservations r WHERE r.pass_id = p.id
     AND r.status IN ('pending', 'checked_in')) AS reserved,
    (SELECT COUNT(*) FROM reservations r WHERE r.pass_id = p.id
     AND r.status = 'pending') AS pending"""

# Usable: active, punches left (or none to count), not expired. `ix_passes_customer_usable`
# holds the first two (partial), ordered by valid_until; the two branches are its two
# ranges, open-ended and not yet expired, so expired passes are never read. (One OR of the
# two makes SQLite read the customer's whole stretch of the index.)
_NOT_USED_UP = "p.status = 'active' AND (p.sessions_remaining IS NULL OR p.sessions_remaining > 0)"
_USABLE = f"""SELECT {_COLUMNS} FROM passes p JOIN classes c ON c.id = p.class_id
WHERE p.studio_id = :s AND p.customer_id = :customer AND {_NOT_USED_UP} AND {{until}}"""  # noqa: S608 - constants
_USABLE_BOTH = (
    _USABLE.format(until="p.valid_until >= :today")
    + " UNION ALL "
    + _USABLE.format(until="p.valid_until IS NULL")
)


# A usable pass of the same class and terms as an offer: what "you already have this pass"
# means. Read through ix_passes_customer_usable (the customer's usable passes are few).
_LIKE = " AND p.class_id = :class AND p.kind = :kind AND p.price_minor = :price AND {sessions}"


async def _held_like(tx: Tx, issue: Issue, today: date) -> PassStatus | None:
    terms = issue.terms
    params: dict[str, object] = {
        "s": issue.studio_id,
        "customer": issue.customer_id,
        "today": today,
        "class": issue.class_id,
        "kind": terms.kind.value,
        "price": terms.price_minor,
    }
    if terms.sessions is None:
        like = _LIKE.format(sessions="p.sessions_included IS NULL")
    else:
        like = _LIKE.format(sessions="p.sessions_included = :sessions")
        params["sessions"] = terms.sessions
    sql = (
        _USABLE.format(until="p.valid_until >= :today")
        + like
        + " UNION ALL "
        + _USABLE.format(until="p.valid_until IS NULL")
        + like
    )
    rows = await tx.all(sql, params)
    found = sorted((_status(r) for r in rows), key=lambda p: p.id)
    return found[-1] if found else None


async def held_like(db: Database, issue: Issue, today: date) -> PassStatus | None:
    """The customer's newest usable pass of the class on the issue's terms (an offer's),
    if any: asking for the offer again means this one, unless they ask for another."""
    async with db.transaction(write=False) as tx:
        return await _held_like(tx, issue, today)


async def customer_passes(
    db: Database, studio_id: int, customer_id: int, today: date
) -> list[PassStatus]:
    """Passes the customer can still use today (active, not used up, not expired), with what
    is left and what is reserved, oldest first."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(_USABLE_BOTH, {"s": studio_id, "customer": customer_id, "today": today})
    return sorted((_status(r) for r in rows), key=lambda p: p.id)


# Past: expired or used up (or no longer active). Newest first by issue time, by keyset on
# `ix_passes_customer_created`; the usable ones, few, are skipped on the way.
_PAST = Keyset(
    select=f"""SELECT {_COLUMNS}, p.created_at AS page_at, p.id AS page_id
FROM passes p JOIN classes c ON c.id = p.class_id
WHERE p.studio_id = :s AND p.customer_id = :customer""",  # noqa: S608 - constants
    at="p.created_at",
    id="p.id",
    every=f"""NOT ({_NOT_USED_UP} AND (p.valid_until IS NULL OR p.valid_until >= :today))""",
)


async def past_passes(
    db: Database,
    studio_id: int,
    customer_id: int,
    today: date,
    ask: PageAsk,
) -> Page[PassStatus]:
    """A page of the customer's passes that can no longer be used, newest first."""
    params = {"s": studio_id, "customer": customer_id, "today": today}
    async with db.transaction(write=False) as tx:
        return await read_page(tx, _PAST, params, ask, _status)


@dataclass(frozen=True)
class MyPasses:
    usable: list[PassStatus]
    has_past: bool


async def passes_and_past(db: Database, studio_id: int, customer_id: int, today: date) -> MyPasses:
    """What "My passes" shows: the usable passes, and whether there are past ones."""
    params = {"s": studio_id, "customer": customer_id, "today": today}
    async with db.transaction(write=False) as tx:
        rows = await tx.all(_USABLE_BOTH, params)
        past = await read_page(tx, _PAST, params, PageAsk(size=1), _status)
    return MyPasses(sorted((_status(r) for r in rows), key=lambda p: p.id), bool(past.items))


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
    return [
        Offer(
            position=r["position"],
            kind=PassKind(r["kind"]),
            sessions=r["sessions"],
            valid_days=r["valid_days"],
            price_minor=r["price_minor"],
            max_advance=r["max_advance"],
            sequential=bool(r["sequential"]),
            absence_grace_hours=r["absence_grace_hours"],
        )
        for r in rows
    ]
