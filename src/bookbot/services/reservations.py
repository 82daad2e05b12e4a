"""Reserving sessions with a pass, cancelling, and checking in (customer or staff).

A reservation holds a seat and one of each required resource from the moment it is made
(see `facts`), so it goes through the same locked capacity check as a booking. The pass
row is locked too, so two reservations on one pass cannot both pass its limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import capacity, errors
from bookbot.engine import reservations as rules
from bookbot.engine.clock import Clock
from bookbot.engine.recurrence import zone
from bookbot.services import facts, quiet_hours, reminders, staff_activity
from bookbot.services.passes import locked_state, use_punch
from bookbot.services.registration_rows import expect_moved
from bookbot.services.waitlist import offer_freed_seats
from bookbot.store.db import Database, Row, Tx, UniqueViolation, instant, retrying


@dataclass(frozen=True)
class Reservation:
    id: int
    session_id: int
    status: rules.Status
    part: int | None


async def slot_of(tx: Tx, locked: facts.Locked) -> rules.Slot:
    """The locked session as the pass rules see it: its class, start, local day and part."""
    session = locked.sessions[0]
    row = await tx.one(
        "SELECT part_position, makeup FROM sessions WHERE id = :id", {"id": session.id}
    )
    local = session.starts_at.astimezone(zone(locked.studio.timezone)).date()
    return rules.Slot(
        class_id=session.class_id,
        starts_at=session.starts_at,
        local_date=local,
        part=None if row is None else row["part_position"],
        makeup=row is not None and bool(row["makeup"]),
        days=session.days,
    )


async def reserve(
    db: Database,
    clock: Clock,
    studio_id: int,
    customer_id: int,
    pass_id: int,
    *,
    session_id: int,
    part: int | None = None,
) -> Reservation:
    """Reserve one seat in `session_id` with the customer's pass."""

    async def attempt() -> Reservation:
        now = clock.now()
        async with db.transaction() as tx:
            return await reserve_in(
                tx, now, studio_id, customer_id, pass_id, session_id=session_id, part=part
            )

    result: Reservation = await retrying(attempt)
    return result


async def reserve_in(
    tx: Tx,
    now: datetime,
    studio_id: int,
    customer_id: int,
    pass_id: int,
    *,
    session_id: int,
    part: int | None = None,
) -> Reservation:
    """`reserve` inside the caller's transaction (which it may lock sessions and the pass
    in): refused as `reserve` is."""
    locked = await facts.lock_sessions(tx, studio_id, customer_id, ids=[session_id])
    if locked is None or not locked.customer_found:
        raise errors.NotFound(what="session", ident=session_id)
    state, _ = await locked_state(tx, studio_id, customer_id, pass_id)
    slot = await slot_of(tx, locked)
    counted_part = rules.reservation_part(slot, part)
    rules.check_reserve(state, slot, counted_part)
    f = (await facts.session_facts(tx, studio_id, [session_id], now, customer_id))[session_id]
    session = locked.sessions[0]
    capacity.admit(
        now,
        f.state(session),
        f.requirements,
        f.uses,
        1,
        booking_cutoff=locked.studio.booking_cutoff,
    )
    held = await _insert(
        tx, now, studio_id, customer_id, session, pass_id=pass_id, part=counted_part
    )
    await reminders.queue(
        tx,
        now,
        reminders.Subject(
            kind="reservation",
            ref_id=held.id,
            session_id=session.id,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            days=session.days,
            class_name=locked.classes[session.class_id].name,
        ),
        studio_id=studio_id,
        customer_id=customer_id,
        quiet=quiet_hours.of(locked.studio),
    )
    await staff_activity.record(
        tx,
        now,
        studio_id=studio_id,
        subscribed=locked.studio.staff_notices,
        kind="booking",
        params={
            "customer_id": customer_id,
            "class_name": locked.classes[session.class_id].name,
            "starts_at": session.starts_at.isoformat(),
            "guests": 1,
        },
    )
    return held


async def _insert(
    tx: Tx,
    now: datetime,
    studio_id: int,
    customer_id: int,
    session: facts.SessionRow,
    *,
    pass_id: int,
    part: int | None,
) -> Reservation:
    try:
        reservation_id = await tx.scalar(
            "INSERT INTO reservations (studio_id, pass_id, customer_id, session_id, part_position,"
            " status, reserved_at) VALUES (:s, :pass, :customer, :session, :part, 'pending', :now)"
            " RETURNING id",
            {
                "s": studio_id,
                "pass": pass_id,
                "customer": customer_id,
                "session": session.id,
                "part": part,
                "now": now,
            },
        )
    except UniqueViolation as error:
        raise errors.AlreadyBooked(when=session.starts_at) from error
    return Reservation(int(reservation_id), session.id, rules.Status.PENDING, part)


_RESERVATION = """SELECT r.id, r.session_id, r.status, r.pass_id, r.customer_id, s.starts_at,
    p.kind, st.timezone, r.part_position
FROM reservations r JOIN sessions s ON s.id = r.session_id
JOIN passes p ON p.id = r.pass_id JOIN studios st ON st.id = r.studio_id
WHERE r.studio_id = :s AND r.id = :id"""


async def _reservation(tx: Tx, studio_id: int, reservation_id: int, customer_id: int | None) -> Row:
    row = await tx.one(_RESERVATION + tx.for_update("r"), {"s": studio_id, "id": reservation_id})
    if row is None or (customer_id is not None and row["customer_id"] != customer_id):
        raise errors.NotFound(what="reservation", ident=reservation_id)
    return row


async def cancel(
    db: Database, clock: Clock, studio_id: int, reservation_id: int, *, customer_id: int | None
) -> None:
    """Cancel a pending reservation before its class: no punch used; the seat is offered on.
    Its row is locked before its status is read, so a check-in or a second cancel racing it
    lands first (and this is refused) or waits."""

    async def attempt() -> None:
        now = clock.now()
        async with db.transaction() as tx:
            row = await _reservation(tx, studio_id, reservation_id, customer_id)
            rules.check_cancel(now, rules.Status(row["status"]), row["starts_at"])
            moved = await tx.execute(
                "UPDATE reservations SET status = 'cancelled', cancelled_at = :now"
                " WHERE id = :id AND status = 'pending'",
                {"now": now, "id": reservation_id},
            )
            expect_moved(moved, 1, f"cancelling reservation {reservation_id}")
            locked = await facts.lock_sessions(
                tx, studio_id, row["customer_id"], ids=[row["session_id"]]
            )
            await reminders.withdraw(
                tx, studio_id, "reservation", reservation_id, [row["session_id"]]
            )
            if locked is not None:
                if customer_id is not None:  # the customer's own cancellation
                    await staff_activity.record(
                        tx,
                        now,
                        studio_id=studio_id,
                        kind="cancellation",
                        params={
                            "customer_id": customer_id,
                            "class_name": locked.classes[locked.sessions[0].class_id].name,
                            "starts_at": locked.sessions[0].starts_at.isoformat(),
                            "guests": 1,
                        },
                    )
                await offer_freed_seats(tx, now, locked.studio, locked.sessions)

    await retrying(attempt)


async def check_in(
    db: Database,
    clock: Clock,
    studio_id: int,
    reservation_id: int,
    *,
    customer_id: int | None = None,
    staff_id: int | None = None,
) -> rules.Status:
    """Check a reservation in: the customer within ±2 h of the start, staff on the class day.

    Checking in uses a punch of a punch pass, in the transaction that moves the reservation
    pending -> checked_in (row count checked). Checking in twice changes nothing; once the
    class end has closed it (attended or no-show), it is CheckInClosed.
    """

    async def attempt() -> rules.Status:
        now = clock.now()
        async with db.transaction() as tx:
            row = await _reservation(tx, studio_id, reservation_id, customer_id)
            status = rules.Status(row["status"])
            if status is rules.Status.CHECKED_IN:
                return status
            if status is not rules.Status.PENDING:
                raise errors.CheckInClosed()
            if staff_id is None:
                rules.check_self_check_in(now, row["starts_at"])
            else:
                rules.check_staff_check_in(now, row["starts_at"], row["timezone"])
            by = f"staff:{staff_id}" if staff_id else "customer"
            await _mark_checked_in(tx, now, row, by)
        return rules.Status.CHECKED_IN

    result: rules.Status = await retrying(attempt)
    return result


async def _mark_checked_in(tx: Tx, now: datetime, row: Row, by: str) -> None:
    moved = await tx.execute(
        "UPDATE reservations SET status = 'checked_in', checked_in_at = :now,"
        " checked_in_by = :by, punch_used = :punch WHERE id = :id AND status = 'pending'",
        {"now": now, "by": by, "punch": row["kind"] == "punch", "id": row["id"]},
    )
    expect_moved(moved, 1, f"checking in reservation {row['id']}")
    if row["kind"] == "punch":
        await use_punch(tx, row["pass_id"])


@dataclass(frozen=True)
class Held:
    """A live reservation as its customer sees it."""

    id: int
    session_id: int
    starts_at: datetime
    status: rules.Status
    part: int | None


async def live_reservations(
    db: Database, studio_id: int, customer_id: int, now: datetime, pass_id: int | None = None
) -> list[Held]:
    """Pending or checked-in reservations whose class has not ended, soonest first.

    Read through `ix_reservations_customer_live` (or, for one pass, its status index): both
    hold live reservations only, since the class end closes them (attended, no-show)."""
    extra = "AND r.pass_id = :pass" if pass_id is not None else ""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT r.id, r.session_id, s.starts_at, r.status, r.part_position AS part"  # noqa: S608
            " FROM reservations r JOIN sessions s ON s.id = r.session_id WHERE r.studio_id = :s"
            " AND r.customer_id = :c AND r.status IN ('pending', 'checked_in')"
            f" AND s.ends_at > :now {extra} ORDER BY s.starts_at, r.id",
            {"s": studio_id, "c": customer_id, "now": now, "pass": pass_id},
        )
    return [
        Held(
            id=r["id"],
            session_id=r["session_id"],
            starts_at=instant(r["starts_at"]),
            status=rules.Status(r["status"]),
            part=r["part"],
        )
        for r in rows
    ]


def check_in_open(now: datetime, held: Held) -> bool:
    """Whether the customer may check in to `held` right now."""
    try:
        rules.check_self_check_in(now, held.starts_at)
    except errors.BookingError:
        return False
    return held.status is rules.Status.PENDING
