"""The periodic jobs read what is due through their indexes, not the history.

A studio with a few thousand past sessions, bookings, reservations, waitlist entries and
sent messages, and a little due work; each sweep's queries and the outbox claim are
EXPLAINed on SQLite (EXPLAIN QUERY PLAN) and PostgreSQL (EXPLAIN, after ANALYZE, with the
planner's defaults), and must name their index and scan no table whole. On SQLite, which
bookbot never ANALYZEs, the plans are the ones a deployment gets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.services import (
    attendance,
    balances,
    feedback,
    holds,
    outbox,
    payments,
    staff_lists,
    waitlist,
    waitlist_places,
)
from bookbot.store import migrate
from bookbot.store.db import Database, Tx, connect
from tests import builders
from tests.conftest import BACKENDS

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PAST = 3000  # past sessions, each with a booking, a reservation, a waitlist entry, messages
AHEAD = 200  # future sessions, each with a booking and two reminders
RESERVED_AHEAD = 4  # of them reserved on the pass too (a pass holds a few at once)


async def _ids(tx: Tx, table: str) -> list[int]:
    return [int(r["id"]) for r in await tx.all(f"SELECT id FROM {table} ORDER BY id")]  # noqa: S608


def _when(i: int) -> datetime:
    """The i-th session's start: past ones before NOW (i < PAST), future ones after."""
    return NOW + timedelta(hours=6 * (i - PAST) + (3 if i >= PAST else 0))


async def _sessions(tx: Tx, w: builders.World) -> list[int]:
    rows = []
    for i in range(PAST + AHEAD):
        starts = _when(i)
        ends = starts + timedelta(hours=2)
        rows.append(
            {
                "studio_id": w.studio_id,
                "class_id": w["taster"],
                "day": starts.date(),
                "starts_at": starts,
                "ends_at": ends,
                "closed_at": ends if i < PAST else None,
            }
        )
    await tx.execute_many(
        "INSERT INTO sessions (studio_id, class_id, occurrence_date, starts_at, ends_at,"
        " capacity, location, status, closed_at) VALUES (:studio_id, :class_id, :day,"
        " :starts_at, :ends_at, 8, 'Studio A', 'open', :closed_at)",
        rows,
    )
    return await _ids(tx, "sessions")


async def _bookings(tx: Tx, w: builders.World, customer: int, sessions: list[int]) -> None:
    base = {"studio_id": w.studio_id, "customer_id": customer, "class_id": w["taster"]}
    await tx.execute_many(
        "INSERT INTO registrations (studio_id, customer_id, class_id, kind, guest_count, status,"
        " price_minor, currency, created_at) VALUES (:studio_id, :customer_id, :class_id,"
        " 'single', 1, 'confirmed', 4500, 'GBP', :created_at)",
        [{**base, "created_at": _when(i) - timedelta(days=3)} for i in range(len(sessions))],
    )
    registrations = await _ids(tx, "registrations")
    seats = [
        {
            **base,
            "registration_id": reg,
            "session_id": session,
            "attendance": "attended" if i < PAST else None,
            "wheels": w["wheels"],
        }
        for i, (reg, session) in enumerate(zip(registrations, sessions, strict=True))
    ]
    await tx.execute_many(
        "INSERT INTO registration_sessions (studio_id, registration_id, session_id, customer_id,"
        " guest_count, status, attendance) VALUES (:studio_id, :registration_id, :session_id,"
        " :customer_id, 1, 'booked', :attendance)",
        seats,
    )
    await tx.execute_many(
        "INSERT INTO resource_allocations (studio_id, registration_id, session_id, resource_id,"
        " quantity) VALUES (:studio_id, :registration_id, :session_id, :wheels, 1)",
        seats,
    )


async def _reservations(tx: Tx, w: builders.World, customer: int, sessions: list[int]) -> int:
    pass_id = await tx.scalar(
        "INSERT INTO passes (studio_id, customer_id, class_id, kind, sessions_included,"
        " sessions_remaining, valid_from, payment, created_at) VALUES (:studio_id, :customer_id,"
        " :class_id, 'unlimited', NULL, NULL, :valid_from, 'staff_issued', :now) RETURNING id",
        {
            "studio_id": w.studio_id,
            "customer_id": customer,
            "class_id": w["taster"],
            "valid_from": (NOW - timedelta(days=800)).date(),
            "now": NOW - timedelta(days=800),
        },
    )
    rows = []
    for i, session in enumerate(sessions[: PAST + RESERVED_AHEAD]):
        ends = _when(i) + timedelta(hours=2)
        past = i < PAST
        rows.append(
            {
                "studio_id": w.studio_id,
                "pass_id": pass_id,
                "customer_id": customer,
                "session_id": session,
                "status": ("no_show" if i % 5 == 0 else "attended") if past else "pending",
                "reserved_at": _when(i) - timedelta(days=2),
                "closed_at": ends if past else None,
                "handled": ends + timedelta(days=1) if past and i % 5 == 0 else None,
            }
        )
    await tx.execute_many(
        "INSERT INTO reservations (studio_id, pass_id, customer_id, session_id, status,"
        " reserved_at, closed_at, absence_handled_at) VALUES (:studio_id, :pass_id,"
        " :customer_id, :session_id, :status, :reserved_at, :closed_at, :handled)",
        rows,
    )
    return int(pass_id)


async def _waitlist(tx: Tx, w: builders.World, customer: int, sessions: list[int]) -> None:
    await tx.execute_many(
        "INSERT INTO waitlist_entries (studio_id, session_id, customer_id, guest_count, status,"
        " created_at, offered_at, offer_expires_at) VALUES (:studio_id, :session_id,"
        " :customer_id, 1, :status, :created_at, :offered_at, :expires)",
        [
            {
                "studio_id": w.studio_id,
                "session_id": session,
                "customer_id": customer,
                "status": ("expired", "accepted", "declined")[i % 3],
                "created_at": _when(i) - timedelta(days=2),
                "offered_at": _when(i) - timedelta(days=1),
                "expires": _when(i) - timedelta(hours=22),
            }
            for i, session in enumerate(sessions[:PAST])
        ],
    )


async def _messages(tx: Tx, w: builders.World, customer: int) -> None:
    rows = []
    for i in range(PAST + AHEAD):
        for lead in (24, 1):
            due = _when(i) - timedelta(hours=lead)
            past = i < PAST
            rows.append(
                {
                    "studio_id": w.studio_id,
                    "customer_id": customer,
                    "due_at": due,
                    "status": "sent" if past else "pending",
                    "sent_at": due if past else None,
                    "key": f"reminder-{lead}h:{i}",
                }
            )
    await tx.execute_many(
        "INSERT INTO outbox (studio_id, customer_id, template, params, due_at, status, sent_at,"
        " created_at, dedupe_key) VALUES (:studio_id, :customer_id, 'reminder_24h', '{}',"
        " :due_at, :status, :sent_at, :due_at, :key)",
        rows,
    )


async def _payments(tx: Tx, w: builders.World, customer: int) -> None:
    """Paid history, a few links still open ahead and balances scheduled ahead."""
    rows = [
        {
            "studio_id": w.studio_id,
            "customer_id": customer,
            "status": "paid" if i < PAST else "scheduled",
            "at": _when(i),
        }
        for i in range(PAST + AHEAD)
    ]
    # Links are open for 30 minutes: a few at any time, some just past their expiry.
    rows += [
        {
            "studio_id": w.studio_id,
            "customer_id": customer,
            "status": "pending",
            "at": NOW + timedelta(minutes=minutes),
        }
        for minutes in range(-10, 20, 3)
    ]
    await tx.execute_many(
        "INSERT INTO payments (studio_id, customer_id, purpose, amount_minor, currency, status,"
        " expires_at, due_at, created_at, updated_at) VALUES (:studio_id, :customer_id, 'full',"
        " 4500, 'GBP', :status, :at, :at, :at, :at)",
        rows,
    )


@pytest.fixture
async def history(db: Database) -> builders.World:
    """Two years of one customer's classes, all closed, sent and settled; the future booked."""
    w = await builders.studio(db)
    customer = await builders.customer(db, w, "ana")
    async with db.transaction() as tx:
        sessions = await _sessions(tx, w)
        await _bookings(tx, w, customer, sessions)
        w.ids["pass"] = await _reservations(tx, w, customer, sessions)
        await _waitlist(tx, w, customer, sessions)
        await _messages(tx, w, customer)
        await _payments(tx, w, customer)
    if db.dialect == "postgresql":
        async with db.transaction() as tx:
            await tx.execute("ANALYZE")
    w.ids["session"] = sessions[PAST - 1]
    w.ids["registration"] = PAST // 2
    return w


async def _plan(db: Database, sql: str, params: Mapping[str, Any]) -> list[str]:
    async with db.transaction() as tx:
        if db.dialect == "sqlite":
            rows = await tx.all("EXPLAIN QUERY PLAN " + sql, params)
            return [str(r["detail"]) for r in rows]
        rows = await tx.all("EXPLAIN " + sql, params)
        return [str(r["QUERY PLAN"]) for r in rows]


# The tables that grow with history, and the aliases the queries give them.
GROWING = {
    "sessions": "s",
    "registrations": "",
    "registration_sessions": "rs",
    "resource_allocations": "",
    "reservations": "r",
    "waitlist_entries": "w",
    "outbox": "",
    "payments": "",
}


def _whole_reads(plan: list[str], *, ordered: bool) -> list[str]:
    """Steps that read a growing table whole (or, on SQLite, a whole index of it), and, for
    a query that takes the first rows in order, any sort (it would sort everything due).
    Small tables (studios, passes, classes) may be scanned: they do not grow with history."""
    names = {*GROWING, *(alias for alias in GROWING.values() if alias)}
    found = []
    for step in plan:
        words = step.lstrip(" ->").split()
        whole = (words[:1] == ["SCAN"] and words[1] in names) or (
            words[:3] == ["Seq", "Scan", "on"] and words[3] in GROWING
        )
        sorted_ = "TEMP B-TREE" in step or words[:1] in (["Sort"], ["Incremental"])
        if whole or (ordered and sorted_):
            found.append(step)
    return found


async def _assert_uses(
    db: Database, sql: str, params: Mapping[str, Any], index: str, *, ordered: bool = False
) -> None:
    plan = await _plan(db, sql, params)
    shown = "\n".join(plan)
    assert any(index in step for step in plan), f"{index} not used:\n{shown}"
    assert not _whole_reads(plan, ordered=ordered), f"reads or sorts more than is due:\n{shown}"


@pytest.mark.usefixtures("history")
async def test_close_ended_reads_only_unclosed_sessions(db: Database) -> None:
    await _assert_uses(
        db,
        attendance.UNCLOSED_SQL,
        {"now": NOW, "limit": 100},
        "ix_sessions_unclosed",
        ordered=True,
    )


@pytest.mark.usefixtures("history")
async def test_the_feedback_sweep_reads_only_sessions_closed_since_its_last_run(
    db: Database,
) -> None:
    since = NOW - timedelta(hours=1)
    params = {"since": since, "now": NOW, "after_at": since, "after_id": 0, "limit": 100}
    await _assert_uses(db, feedback.CLOSED_SQL, params, "ix_sessions_closed", ordered=True)


async def test_my_waitlist_places_are_read_through_a_live_index(
    db: Database, history: builders.World
) -> None:
    """Either partial index of live places will do (both hold only waiting and offered
    entries); the years of expired, accepted and declined ones are never read."""
    params = {"studio_id": history.studio_id, "customer_id": history["ana"], "now": NOW}
    plan = await _plan(db, waitlist_places.PLACES_SQL, params)
    shown = "\n".join(plan)
    live = ("ix_waitlist_entries_customer_live", "uq_waitlist_entries_live")
    assert any(name in step for step in plan for name in live), shown
    assert not _whole_reads(plan, ordered=False), shown


async def test_closing_a_session_reads_only_its_rows(db: Database, history: builders.World) -> None:
    params = {"session_id": history["session"], "now": NOW}
    await _assert_uses(db, attendance.OPEN_RESERVATIONS_SQL, params, "reservations")
    await _assert_uses(db, attendance.SETTLE_BOOKINGS_SQL, params, "uq_registration_sessions_live")
    await _assert_uses(db, attendance.MARK_CLOSED_SQL, params, "uq_registration_sessions_live")


async def test_absence_sweep_reads_only_unhandled_no_shows(
    db: Database, history: builders.World
) -> None:
    params = {"studio_id": history.studio_id, "after": 0, "limit": 100}
    await _assert_uses(
        db, attendance.OPEN_ABSENCES_SQL, params, "ix_reservations_absence_open", ordered=True
    )
    ahead = {"pass_id": history["pass"], "now": NOW}
    await _assert_uses(db, attendance.PENDING_AHEAD_SQL, ahead, "ix_reservations_pass_status")


@pytest.mark.usefixtures("history")
async def test_hold_sweep_reads_only_holds(db: Database) -> None:
    await _assert_uses(
        db, holds.LAPSED_SQL, {"now": NOW, "limit": 100}, "ix_registrations_held", ordered=True
    )


@pytest.mark.usefixtures("history")
async def test_offer_sweep_reads_only_live_offers(db: Database) -> None:
    await _assert_uses(
        db,
        waitlist.LAPSED_SQL,
        {"now": NOW, "limit": 100},
        "ix_waitlist_entries_offered",
        ordered=True,
    )


@pytest.mark.usefixtures("history")
async def test_payment_sweeps_read_only_what_is_due(db: Database) -> None:
    # Reconciliation: pending payments past their link's expiry; balances: the scheduled due.
    due = {"now": NOW, "limit": 100}
    await _assert_uses(db, payments.STALE_SQL, due, "ix_payments_pending", ordered=True)
    await _assert_uses(db, balances.DUE_SQL, due, "ix_payments_scheduled", ordered=True)


@pytest.mark.usefixtures("history")
async def test_the_claim_walks_one_index_in_due_order(db: Database) -> None:
    await _assert_uses(
        db, outbox.due_sql(db.dialect), {"now": NOW, "limit": 100}, "ix_outbox_claim", ordered=True
    )


async def test_a_registrations_allocations_are_found_by_index(
    db: Database, history: builders.World
) -> None:
    await _assert_uses(
        db,
        "UPDATE resource_allocations SET held_until = NULL"
        " WHERE studio_id = :studio_id AND registration_id = :id",
        {"studio_id": history.studio_id, "id": history["registration"]},
        "ix_resource_allocations_registration",
    )


# --- 0012: which sessions the migration closes --------------------------------------------


async def _sessions_at_0011(url: str) -> dict[str, int]:
    """Sessions ended days ago with nothing open, with a pending reservation, with a booking
    not marked; one ended two hours ago; one ahead."""
    db = await connect(url)
    try:
        w = await builders.studio(db)
        customer = await builders.customer(db, w, "ana")
        starts = {
            "settled": NOW - timedelta(days=3),
            "reserved": NOW - timedelta(days=3, hours=3),
            "booked": NOW - timedelta(days=3, hours=6),
            "just_ended": NOW - timedelta(hours=4),
            "ahead": NOW + timedelta(days=1),
        }
        for name, at in starts.items():
            await builders.session(db, w, name, "taster", at)
        async with db.transaction() as tx:
            pass_id = await _reservations(tx, w, customer, [])
            for name, status in (("settled", "attended"), ("reserved", "pending")):
                await tx.execute(
                    "INSERT INTO reservations (studio_id, pass_id, customer_id, session_id,"
                    " status, reserved_at) VALUES (:s, :p, :c, :session, :status, :at)",
                    {
                        "s": w.studio_id,
                        "p": pass_id,
                        "c": customer,
                        "session": w[name],
                        "status": status,
                        "at": NOW - timedelta(days=9),
                    },
                )
            await _bookings(tx, w, customer, [w["settled"], w["booked"]])
            await tx.execute(
                "UPDATE registration_sessions SET attendance = NULL WHERE session_id = :id",
                {"id": w["booked"]},
            )
    finally:
        await db.close()
    return {name: w[name] for name in starts}


async def _closed(url: str) -> dict[int, bool]:
    db = await connect(url)
    try:
        async with db.transaction(write=False) as tx:
            rows = await tx.all("SELECT id, closed_at IS NOT NULL AS closed FROM sessions")
        return {int(r["id"]): bool(r["closed"]) for r in rows}
    finally:
        await db.close()


@pytest.mark.parametrize("blank_url", BACKENDS, indirect=True)
def test_0012_closes_the_sessions_ended_with_nothing_left_to_close(blank_url: str) -> None:
    migrate.upgrade(blank_url, "0011", now=NOW)
    ids = asyncio.run(_sessions_at_0011(blank_url))
    migrate.upgrade(blank_url, "0012", now=NOW)

    # Settled long ago: closed. Anything still open, or ended within the day's margin, or
    # ahead: left for the sweep, which then closes those that ended.
    assert _names(ids, asyncio.run(_closed(blank_url))) == {"settled"}
    migrate.upgrade(blank_url, now=NOW)
    asyncio.run(_sweep(blank_url))
    assert _names(ids, asyncio.run(_closed(blank_url))) == {
        "settled",
        "reserved",
        "booked",
        "just_ended",
    }


def _names(ids: dict[str, int], closed: dict[int, bool]) -> set[str]:
    return {name for name, session in ids.items() if closed.get(session)}


async def _sweep(url: str) -> None:
    db = await connect(url)
    try:
        assert await attendance.close_ended(db, FrozenClock(NOW)) == 1  # the pending one
    finally:
        await db.close()


async def test_a_staff_list_reads_one_page_of_sessions_through_the_index(
    db: Database, history: builders.World
) -> None:
    """/roster and /assign: a page (and one row more) from a day on, or back from it."""
    params = {
        "studio_id": history.studio_id,
        "anchor": NOW + timedelta(days=10),
        "floor": NOW,
        "limit": 11,
        "offset": 10,
    }
    for sql in (staff_lists.FORWARD_SQL, staff_lists.BACKWARD_SQL):
        await _assert_uses(db, sql, params, "ix_sessions_studio_starts")
        plan = await _plan(db, sql, params)
        # Only ties of one start are put in order by id (PostgreSQL: an incremental sort).
        whole_sorts = [
            step
            for step in plan
            if "TEMP B-TREE FOR ORDER BY" in step or step.lstrip(" ->").startswith("Sort  (")
        ]
        assert not whole_sorts, "\n".join(plan)
