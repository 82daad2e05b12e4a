"""Cancelling a registration, booked or held: frees its seats and resources, withdraws its
reminders and wakes the waitlist, all in one transaction.

The registration row is locked before its status is read (see `registration_rows`), so
of two cancels racing, or a cancel racing a confirm or the hold sweep, one lands first
and the other sees it: a second cancel is told AlreadyCancelled, never "cancelled" again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from bookbot.engine import capacity, errors
from bookbot.engine import payments as rules
from bookbot.engine.clock import Clock
from bookbot.services import facts, outbox, quiet_hours, refunds, reminders, staff_activity
from bookbot.services.payment_gateway import GatewayError, PaymentGateway
from bookbot.services.registration_rows import (
    LIVE,
    end_registration,
    expect_moved,
    lock_registration,
    session_ids_of,
)
from bookbot.services.waitlist import WaitlistEntry, offer_freed_seats
from bookbot.store.db import Database, Tx, instant, retrying


@dataclass(frozen=True)
class Cancellation:
    registration_id: int
    session_ids: tuple[int, ...]
    offers: tuple[WaitlistEntry, ...]
    # Refunds of what was paid online, by the class's policy: written with the cancellation,
    # sent to the provider after it (the customer is told each amount when it is accepted).
    refund_ids: tuple[int, ...] = ()
    open_sessions: tuple[str, ...] = ()  # payment links still open, expired after it


async def cancel_registration(
    db: Database,
    clock: Clock,
    studio_id: int,
    registration_id: int,
    *,
    customer_id: int | None = None,
    by_staff: bool = False,
    gateway: PaymentGateway | None = None,
    expected_refund: int | None = None,
) -> Cancellation:
    """Cancel a whole registration: a booking, or a hold not yet confirmed.

    With `customer_id`, only that customer's registration is found (anything else is
    NotFound, never someone else's booking). Customers are held to the studio's
    cancellation cutoff for bookings paid at the studio; one paid online may be cancelled
    after it, for what the class's policy gives back (see `quote_cancellation`). Staff are
    not held to it, and letting go of a hold never is. One that is cancelled or expired
    already is AlreadyCancelled.

    What was paid online comes back by the class's refund policy (staff: all of it); with
    a `gateway` the refunds are sent at once, otherwise reconciliation sends them.
    `expected_refund`: the total the customer was shown (minor units); if the policy now
    gives another (the cutoff passed meanwhile, staff refunded some), nothing is cancelled
    and RefundChanged is raised, so what they agreed to is what they get.
    """

    async def attempt() -> Cancellation:
        now = clock.now()
        async with db.transaction() as tx:
            return await _cancel_in(
                tx,
                now,
                studio_id,
                registration_id,
                customer_id=customer_id,
                by_staff=by_staff,
                expected_refund=expected_refund,
            )

    result: Cancellation = await retrying(attempt)
    await _after_commit(db, clock, gateway, list(result.refund_ids), result.open_sessions)
    return result


async def _after_commit(
    db: Database,
    clock: Clock,
    gateway: PaymentGateway | None,
    refund_ids: list[int],
    open_sessions: Iterable[str],
) -> None:
    """The provider's part of a cancellation, once it is committed: the refunds asked for,
    then the links of the cancelled bookings expired."""
    await refunds.submit_all(db, clock, gateway, refund_ids)
    if gateway is not None:
        for session_id in open_sessions:
            # On failure it expires by itself; a payment on it meanwhile is refunded as late.
            with contextlib.suppress(GatewayError):
                await gateway.expire_checkout(session_id)


async def _cancel_in(
    tx: Tx,
    now: datetime,
    studio_id: int,
    registration_id: int,
    *,
    customer_id: int | None,
    by_staff: bool,
    expected_refund: int | None,
) -> Cancellation:
    reg = await lock_registration(tx, studio_id, registration_id)
    if reg is None or (customer_id is not None and reg["customer_id"] != customer_id):
        raise errors.NotFound(what="booking", ident=registration_id)
    if reg["status"] not in LIVE:
        raise errors.AlreadyCancelled()
    ids = await session_ids_of(tx, studio_id, registration_id)
    # Its sessions, locked and read with their studio in one statement; None if it has none.
    locked = await facts.lock_sessions(tx, studio_id, 0, ids=ids)
    before_cutoff = locked is None or _before_cutoff(now, locked)
    terms, paid = await _terms_in(
        tx, studio_id, registration_id, before_cutoff=before_cutoff, by_staff=by_staff
    )
    if (
        locked is not None
        and not by_staff
        and reg["status"] == "confirmed"
        and not rules.late_cancellation_allowed(paid)
    ):
        _check_cutoff(now, locked)
    if expected_refund is not None and terms.total != expected_refund:
        raise rules.RefundChanged()
    open_sessions = await tx.all(
        "SELECT stripe_session_id FROM payments WHERE registration_id = :r"
        " AND status = 'pending' AND stripe_session_id IS NOT NULL",
        {"r": registration_id},
    )
    refund_ids = await refunds.plan_cancellation(
        tx,
        now,
        studio_id,
        registration_id,
        # The same policy and payments, read in this transaction: the refunds it writes are
        # `terms`, the amounts checked against `expected_refund` above.
        before_cutoff=before_cutoff,
        by_staff=by_staff,
    )
    await end_registration(
        tx, now, studio_id, registration_id, ids, was=reg["status"], to="cancelled"
    )
    await reminders.withdraw(tx, studio_id, "booking", registration_id, ids)
    if not by_staff and reg["status"] == "confirmed" and locked is not None:
        await staff_activity.record(
            tx,
            now,
            studio_id=studio_id,
            subscribed=locked.studio.staff_notices,
            kind="cancellation",
            params={
                "customer_id": reg["customer_id"],
                "registration_id": registration_id,
                "class_name": locked.classes[locked.sessions[0].class_id].name,
                "starts_at": locked.sessions[0].starts_at.isoformat(),
                "sessions": len(locked.sessions),
                **staff_activity.course_span(locked.sessions[0]),
            },
        )
    offers = []
    if locked is not None:
        offers = await offer_freed_seats(tx, now, locked.studio, locked.sessions)
    return Cancellation(
        registration_id,
        tuple(ids),
        tuple(offers),
        tuple(refund_ids),
        tuple(str(r["stripe_session_id"]) for r in open_sessions),
    )


async def quote_cancellation(
    db: Database, clock: Clock, studio_id: int, registration_id: int, *, customer_id: int
) -> rules.CancellationTerms | None:
    """What cancelling this customer's booking would give back now, for the confirmation
    they are shown; None when nothing was paid online (or it is not theirs / not live).
    Computed as `cancel_registration` computes the refunds it writes (`_terms_in`)."""
    now = clock.now()
    async with db.transaction(write=False) as tx:
        reg = await tx.one(
            "SELECT r.customer_id, r.status, st.cancellation_cutoff_hours AS cutoff_hours"
            " FROM registrations r JOIN studios st ON st.id = r.studio_id"
            " WHERE r.studio_id = :s AND r.id = :r",
            {"s": studio_id, "r": registration_id},
        )
        if reg is None or reg["customer_id"] != customer_id or reg["status"] not in LIVE:
            return None
        starts = await tx.all(
            "SELECT s.starts_at FROM registration_sessions rs JOIN sessions s"
            " ON s.id = rs.session_id WHERE rs.studio_id = :s AND rs.registration_id = :r",
            {"s": studio_id, "r": registration_id},
        )
        before_cutoff = not starts or _before(
            now, [instant(row["starts_at"]) for row in starts], int(reg["cutoff_hours"])
        )
        terms, paid = await _terms_in(
            tx, studio_id, registration_id, before_cutoff=before_cutoff, by_staff=False
        )
    return terms if paid else None


async def _terms_in(
    tx: Tx, studio_id: int, registration_id: int, *, before_cutoff: bool, by_staff: bool
) -> tuple[rules.CancellationTerms, list[rules.Paid]]:
    """The refund terms of cancelling now, from the payments `refunds.plan_cancellation`
    refunds (settled, refundable) and the class's policy it applies."""
    policy = await refunds.class_policy(tx, studio_id, registration_id)
    paid = await refunds.refundable(tx, studio_id, registration_id)
    terms = rules.cancellation_terms(policy, paid, before_cutoff=before_cutoff, by_staff=by_staff)
    return terms, paid


def _next_start(now: datetime, starts: list[datetime]) -> datetime:
    upcoming = [t for t in starts if t > now]
    return min(upcoming or starts)


def _check_cutoff(now: datetime, locked: facts.Locked) -> None:
    """Customers cancel a booking up to the cutoff before its next session (or its first,
    once all have started)."""
    starts = [s.starts_at for s in locked.sessions]
    capacity.check_cancellable(
        now, _next_start(now, starts), locked.studio.cancellation_cutoff_hours
    )


def _before_cutoff(now: datetime, locked: facts.Locked) -> bool:
    starts = [s.starts_at for s in locked.sessions]
    return _before(now, starts, locked.studio.cancellation_cutoff_hours)


def _before(now: datetime, starts: list[datetime], cutoff_hours: int) -> bool:
    try:
        capacity.check_cancellable(now, _next_start(now, starts), cutoff_hours)
    except errors.CancellationTooLate:
        return False
    return True


@dataclass(frozen=True)
class SessionCancellation:
    """What cancelling a class did in this run (a second run finds nothing left to do)."""

    session_id: int
    marked: bool  # this run marked the session cancelled (False: it was already)
    bookings: tuple[Cancellation, ...]
    reservations: int
    waitlist: int
    refunds: int  # refunds written by this run, asked of the provider when one is at hand


async def cancel_session(
    db: Database,
    clock: Clock,
    studio_id: int,
    session_id: int,
    *,
    reason: str,
    gateway: PaymentGateway | None = None,
) -> SessionCancellation:
    """Staff cancel a class (one session): everyone in it is let go and told why.

    The session is marked cancelled first, in a transaction of its own, so from then on
    every booking path refuses it (holds, bookings, confirmations; a payment arriving
    for it is refunded as late). Only then is each booking and hold cancelled as by staff
    (what was paid online comes back in full), each pass reservation cancelled with its
    credit kept, and each waiting-list entry closed; each customer is told in the same
    transaction that lets them go, once. A run stopped midway is finished by running it
    again: what is cancelled already is skipped, its refunds are asked for by their keys
    (never twice), its notices are not queued again.

    NotFound if there is no such session; SessionInPast if it has ended (open or not).
    """
    note = " ".join(reason.split())
    marked = await retrying(lambda: _mark_cancelled(db, clock, studio_id, session_id, note))
    regs = await db.all(
        "SELECT DISTINCT registration_id FROM registration_sessions WHERE studio_id = :s"
        " AND session_id = :session AND status IN ('booked', 'held') ORDER BY registration_id",
        {"s": studio_id, "session": session_id},
    )
    done: list[Cancellation] = []
    refund_ids: list[int] = []
    for row in regs:
        found = await retrying(
            partial(
                _cancel_booking,
                db,
                clock,
                studio_id,
                session_id=session_id,
                registration_id=int(row["registration_id"]),
                reason=note,
            )
        )
        if found is not None:
            done.append(found)
            refund_ids.extend(found.refund_ids)
    reservations = await retrying(
        lambda: _cancel_reservations(db, clock, studio_id, session_id, note)
    )
    waitlist = await retrying(lambda: _cancel_waitlist(db, clock, studio_id, session_id, note))
    # This run's refunds, and any an earlier run wrote but never got to send.
    unsent = await db.all(
        "SELECT DISTINCT f.id FROM refunds f JOIN payments p ON p.id = f.payment_id"
        " JOIN registration_sessions rs ON rs.registration_id = p.registration_id"
        " WHERE rs.studio_id = :s AND rs.session_id = :session AND f.reason = 'staff_cancel'"
        " AND f.status = 'pending' AND f.stripe_refund_id IS NULL ORDER BY f.id",
        {"s": studio_id, "session": session_id},
    )
    await _after_commit(
        db,
        clock,
        gateway,
        [int(r["id"]) for r in unsent],
        (checkout_id for cancelled in done for checkout_id in cancelled.open_sessions),
    )
    return SessionCancellation(
        session_id, marked, tuple(done), reservations, waitlist, len(refund_ids)
    )


_SESSION = """SELECT s.id, s.status, s.starts_at, s.ends_at, s.days, k.name AS class_name
FROM sessions s JOIN classes k ON k.id = s.class_id WHERE s.studio_id = :s AND s.id = :id"""


async def _mark_cancelled(
    db: Database, clock: Clock, studio_id: int, session_id: int, reason: str = ""
) -> bool:
    """Mark it cancelled, keeping the reason staff gave (sessions.cancel_reason)."""
    now = clock.now()
    async with db.transaction() as tx:
        row = await tx.one(_SESSION + tx.for_update("s"), {"s": studio_id, "id": session_id})
        if row is None:
            raise errors.NotFound(what="session", ident=session_id)
        if row["status"] != "open":
            return False  # cancelled by an earlier run: finish its work
        if instant(row["ends_at"]) <= now:
            raise errors.SessionInPast(when=instant(row["starts_at"]))
        moved = await tx.execute(
            "UPDATE sessions SET status = 'cancelled', cancel_reason = :reason"
            " WHERE studio_id = :s AND id = :id AND status = 'open'",
            {"s": studio_id, "id": session_id, "reason": reason[:500] or None},
        )
        return moved == 1


async def _notice_params(tx: Tx, studio_id: int, session_id: int, reason: str) -> dict[str, Any]:
    row = await tx.one(_SESSION, {"s": studio_id, "id": session_id})
    if row is None:
        raise errors.NotFound(what="session", ident=session_id)
    return {
        "class_name": str(row["class_name"]),
        "starts_at": instant(row["starts_at"]).isoformat(),
        "ends_at": instant(row["ends_at"]).isoformat(),
        "days": int(row["days"] or 1),  # a multi-day course is told by its dates
        "reason": reason,
    }


async def _tell(
    tx: Tx,
    now: datetime,
    studio_id: int,
    customer_id: int,
    params: dict[str, Any],
    *,
    kind: str,
    ref: int,
) -> None:
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=studio_id,
        customer_id=customer_id,
        template="session_cancelled",
        params={**params, "kind": kind},
        due_at=await quiet_hours.release(
            tx,
            studio_id,
            now,
            latest=datetime.fromisoformat(params["starts_at"]) - quiet_hours.PLAN_AHEAD,
        ),
        dedupe_key=f"session_cancelled:{kind}:{ref}",
    )


async def _cancel_booking(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    session_id: int,
    registration_id: int,
    reason: str,
) -> Cancellation | None:
    """One booking or hold of the cancelled class, as by staff, its customer told in the
    same transaction (with what comes back); None if it was cancelled meanwhile."""
    now = clock.now()
    async with db.transaction() as tx:
        try:
            done = await _cancel_in(
                tx,
                now,
                studio_id,
                registration_id,
                customer_id=None,
                by_staff=True,
                expected_refund=None,
            )
        except errors.AlreadyCancelled:
            return None
        customer_id = await tx.scalar(
            "SELECT customer_id FROM registrations WHERE id = :r", {"r": registration_id}
        )
        params = await _notice_params(tx, studio_id, session_id, reason)
        back = await tx.one(
            "SELECT COALESCE(SUM(f.amount_minor), 0) AS amount, MIN(f.currency) AS currency"
            " FROM refunds f JOIN payments p ON p.id = f.payment_id"
            " WHERE p.registration_id = :r AND f.reason = 'staff_cancel' AND f.status <> 'failed'",
            {"r": registration_id},
        )
        if back is not None and int(back["amount"]) > 0:
            params |= {"refund": int(back["amount"]), "currency": str(back["currency"])}
        await _tell(
            tx, now, studio_id, int(customer_id), params, kind="booking", ref=registration_id
        )
        return done


async def _cancel_reservations(
    db: Database, clock: Clock, studio_id: int, session_id: int, reason: str
) -> int:
    """Pass reservations in the cancelled class: cancelled, the credit kept (a punch is taken
    only at check-in: one already taken is given back), each customer told."""
    now = clock.now()
    async with db.transaction() as tx:
        rows = await tx.all(
            "SELECT r.id, r.customer_id, r.pass_id, r.punch_used FROM reservations r"  # noqa: S608
            " WHERE r.studio_id = :s AND r.session_id = :session"
            " AND r.status IN ('pending', 'checked_in') ORDER BY r.id" + tx.for_update("r"),
            {"s": studio_id, "session": session_id},
        )
        if not rows:
            return 0
        params = await _notice_params(tx, studio_id, session_id, reason)
        for row in rows:
            moved = await tx.execute(
                "UPDATE reservations SET status = 'cancelled', cancelled_at = :now,"
                " punch_used = :no WHERE id = :id AND status IN ('pending', 'checked_in')",
                {"now": now, "id": row["id"], "no": False},
            )
            expect_moved(moved, 1, f"cancelling reservation {row['id']}")
            if row["punch_used"]:
                await tx.execute(
                    "UPDATE passes SET sessions_remaining = sessions_remaining + 1"
                    " WHERE id = :id AND sessions_remaining IS NOT NULL",
                    {"id": row["pass_id"]},
                )
            await reminders.withdraw(tx, studio_id, "reservation", int(row["id"]), [session_id])
            await _tell(
                tx,
                now,
                studio_id,
                int(row["customer_id"]),
                params,
                kind="reservation",
                ref=int(row["id"]),
            )
        return len(rows)


async def _cancel_waitlist(
    db: Database, clock: Clock, studio_id: int, session_id: int, reason: str
) -> int:
    """Waiting-list entries (waiting, or holding an offer) of the cancelled class: closed,
    each customer told."""
    now = clock.now()
    async with db.transaction() as tx:
        rows = await tx.all(
            "SELECT w.id, w.customer_id FROM waitlist_entries w WHERE w.studio_id = :s"  # noqa: S608
            " AND w.session_id = :session AND w.status IN ('waiting', 'offered') ORDER BY w.id"
            + tx.for_update("w"),
            {"s": studio_id, "session": session_id},
        )
        if not rows:
            return 0
        params = await _notice_params(tx, studio_id, session_id, reason)
        for row in rows:
            moved = await tx.execute(
                "UPDATE waitlist_entries SET status = 'cancelled'"
                " WHERE id = :id AND status IN ('waiting', 'offered')",
                {"id": row["id"]},
            )
            expect_moved(moved, 1, f"closing waiting-list entry {row['id']}")
            await _tell(
                tx,
                now,
                studio_id,
                int(row["customer_id"]),
                params,
                kind="waitlist",
                ref=int(row["id"]),
            )
        return len(rows)


@dataclass(frozen=True)
class SessionPreview:
    """What cancelling a class would touch, for staff to confirm first."""

    session_id: int
    class_name: str
    starts_at: datetime
    ends_at: datetime
    status: str
    bookings: int  # live bookings and holds
    paid_online: int  # of them, with money to give back
    reservations: int
    waitlist: int
    days: int = 1  # a multi-day course's number of days (its span is one item)


async def preview_session(db: Database, studio_id: int, session_id: int) -> SessionPreview:
    """The class and who is in it now; NotFound if there is no such session."""
    async with db.transaction(write=False) as tx:
        row = await tx.one(_SESSION, {"s": studio_id, "id": session_id})
        if row is None:
            raise errors.NotFound(what="session", ident=session_id)
        counts = await tx.one(
            "SELECT (SELECT COUNT(DISTINCT rs.registration_id) FROM registration_sessions rs"
            "   WHERE rs.studio_id = :s AND rs.session_id = :id"
            "   AND rs.status IN ('booked', 'held')) AS bookings,"
            " (SELECT COUNT(DISTINCT p.registration_id) FROM payments p"
            "   JOIN registration_sessions rs ON rs.registration_id = p.registration_id"
            "   WHERE rs.studio_id = :s AND rs.session_id = :id AND rs.status = 'booked'"
            "   AND p.status IN ('paid', 'partially_refunded')) AS paid_online,"
            " (SELECT COUNT(*) FROM reservations r WHERE r.studio_id = :s AND r.session_id = :id"
            "   AND r.status IN ('pending', 'checked_in')) AS reservations,"
            " (SELECT COUNT(*) FROM waitlist_entries w WHERE w.studio_id = :s"
            "   AND w.session_id = :id AND w.status IN ('waiting', 'offered')) AS waitlist",
            {"s": studio_id, "id": session_id},
        )
    if counts is None:  # a row of counts always comes back
        raise errors.NotFound(what="session", ident=session_id)
    return SessionPreview(
        session_id,
        str(row["class_name"]),
        instant(row["starts_at"]),
        instant(row["ends_at"]),
        str(row["status"]),
        int(counts["bookings"]),
        int(counts["paid_online"]),
        int(counts["reservations"]),
        int(counts["waitlist"]),
        int(row["days"]),
    )
