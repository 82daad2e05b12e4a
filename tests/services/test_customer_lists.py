"""What a customer sees as a list: upcoming bookings, past ones a page at a time, passes.

Each list is read through an index, so its cost follows what it shows, not the customer's
history: the plan tests at the end run EXPLAIN on every statement the services issue.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.engine.pricing import RegistrationKind
from bookbot.engine.reservations import PassKind
from bookbot.services import booking, browse, holds, passes, reservations
from bookbot.services.cancellation import cancel_registration
from bookbot.services.pages import Page, PageAsk
from bookbot.store import migrate
from bookbot.store.db import Database, Row, Tx, connect, instant
from tests import builders

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
async def w(db: Database) -> builders.World:
    world = await builders.studio(db)
    await builders.customer(db, world, "ana")
    await builders.customer(db, world, "bea")
    return world


async def book(
    db: Database, w: builders.World, who: str, *starts: datetime, class_key: str = "taster"
) -> int:
    """Book `who` into new sessions at `starts`, as of a day before the first of them."""
    ids = [
        await builders.session(db, w, f"{class_key}-{len(w.ids)}", class_key, at) for at in starts
    ]
    clock = FrozenClock(min(starts) - DAY)
    if len(ids) == 1 and class_key == "taster":
        reg = await booking.book_session(db, clock, w.studio_id, w[who], ids[0], guests=1)
    else:
        reg = await booking.book_drop_in(db, clock, w.studio_id, w[who], ids, guests=1)
    return reg.id


async def upcoming(db: Database, w: builders.World, now: datetime = NOW) -> list[int]:
    return [b.registration_id for b in await browse.my_bookings(db, w.studio_id, w["ana"], now)]


async def past_page(
    db: Database, w: builders.World, ask: PageAsk | None = None, now: datetime = NOW
) -> Page[browse.PastBooking]:
    return await browse.past_bookings(db, w.studio_id, w["ana"], now, ask or PageAsk())


def ids(page: Page[browse.PastBooking]) -> list[int]:
    return [b.registration_id for b in page.items]


# --- upcoming and past -------------------------------------------------------------------


async def test_my_bookings_shows_what_is_ahead_and_past_pages_the_rest_newest_first(
    db: Database, w: builders.World
) -> None:
    old_taster = await book(db, w, "ana", NOW - 3 * DAY)
    old_series = await book(db, w, "ana", NOW - 10 * DAY, NOW - 9 * DAY, class_key="dropin")
    straddling = await book(db, w, "ana", NOW - DAY, NOW + 2 * DAY, class_key="dropin")
    ahead = await book(db, w, "ana", NOW + 5 * DAY)
    cancelled = await book(db, w, "ana", NOW + 6 * DAY)
    await cancel_registration(db, FrozenClock(NOW), w.studio_id, cancelled)
    await book(db, w, "bea", NOW + DAY)
    await book(db, w, "bea", NOW - 2 * DAY)

    found = await browse.my_bookings(db, w.studio_id, w["ana"], NOW)
    page = await past_page(db, w)
    shown = await browse.my_bookings_and_past(db, w.studio_id, w["ana"], NOW)

    assert [(b.registration_id, b.first_start, b.session_count) for b in found] == [
        (straddling, NOW + 2 * DAY, 1),  # the session still ahead
        (ahead, NOW + 5 * DAY, 1),
    ]
    assert [(b.registration_id, b.last_start, b.session_count) for b in page.items] == [
        (old_taster, NOW - 3 * DAY, 1),
        (old_series, NOW - 9 * DAY, 2),
    ]
    assert (page.older, page.newer) == (None, None)
    assert shown.upcoming == found
    assert shown.has_past


async def test_a_booking_turns_past_when_its_last_session_starts(
    db: Database, w: builders.World
) -> None:
    series = await book(db, w, "ana", NOW + DAY, NOW + 3 * DAY, class_key="dropin")

    assert await upcoming(db, w, NOW + 2 * DAY) == [series]
    assert await upcoming(db, w, NOW + 3 * DAY) == []
    assert ids(await past_page(db, w, now=NOW + 3 * DAY)) == [series]
    assert ids(await past_page(db, w, now=NOW + 2 * DAY)) == []
    shown = await browse.my_bookings_and_past(db, w.studio_id, w["ana"], NOW + 2 * DAY)
    assert not shown.has_past


async def test_cancelling_a_series_that_has_begun_takes_it_off_both_lists(
    db: Database, w: builders.World
) -> None:
    series = await book(db, w, "ana", NOW - DAY, NOW + DAY, class_key="dropin")
    assert await upcoming(db, w) == [series]

    await cancel_registration(db, FrozenClock(NOW), w.studio_id, series, customer_id=w["ana"])

    assert await upcoming(db, w) == []
    assert ids(await past_page(db, w)) == []


# --- paging ------------------------------------------------------------------------------


async def test_exactly_one_page_of_past_bookings_has_no_older_page(
    db: Database, w: builders.World
) -> None:
    made = [await book(db, w, "ana", NOW - (n + 1) * DAY) for n in range(5)]

    page = await past_page(db, w)

    assert ids(page) == made  # made newest first
    assert (page.older, page.newer) == (None, None)


async def test_one_more_than_a_page_goes_to_an_older_page_and_back(
    db: Database, w: builders.World
) -> None:
    made = [await book(db, w, "ana", NOW - (n + 1) * DAY) for n in range(6)]

    first = await past_page(db, w)
    assert ids(first) == made[:5]
    assert first.older is not None
    assert first.newer is None

    older = await past_page(db, w, first.older)
    assert ids(older) == made[5:]
    assert older.older is None
    assert older.newer is not None

    back = await past_page(db, w, older.newer)
    assert ids(back) == made[:5]
    assert back.newer is None
    assert back.older == first.older


async def test_pages_split_bookings_that_share_a_start_without_repeating_or_skipping(
    db: Database, w: builders.World
) -> None:
    same = NOW - 2 * DAY
    made = [
        await book(db, w, "ana", NOW - DAY),
        *[await book(db, w, "ana", same) for _ in range(3)],
        await book(db, w, "ana", NOW - 3 * DAY),
    ]
    expected = [made[0], *sorted(made[1:4], reverse=True), made[4]]  # ties: higher id first

    pages, ask = [], PageAsk(size=2)
    while True:
        page = await past_page(db, w, ask)
        pages.append(ids(page))
        if page.older is None:
            break
        ask = page.older
    assert pages == [expected[0:2], expected[2:4], expected[4:5]]

    back = []
    newer = page.newer
    while newer is not None:
        page = await past_page(db, w, newer)
        back.append(ids(page))
        newer = page.newer
    assert back == [expected[2:4], expected[0:2]]


async def test_a_page_whose_bookings_were_all_cancelled_since_starts_over(
    db: Database, w: builders.World
) -> None:
    made = [await book(db, w, "ana", NOW - (n + 1) * DAY) for n in range(6)]
    first = await past_page(db, w)
    assert first.older is not None
    await cancel_registration(db, FrozenClock(NOW), w.studio_id, made[5], by_staff=True)

    page = await past_page(db, w, first.older)

    assert ids(page) == made[:5]


# --- the column behind it ----------------------------------------------------------------


async def wrong_last_starts(db: Database) -> list[tuple[int, Any, Any]]:
    """Registrations whose last_starts_at is not the start of their latest session."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT g.id, g.last_starts_at AS kept, MAX(s.starts_at) AS latest"
            " FROM registrations g JOIN registration_sessions rs ON rs.registration_id = g.id"
            " JOIN sessions s ON s.id = rs.session_id GROUP BY g.id, g.last_starts_at"
        )
    return [
        (r["id"], r["kept"], r["latest"])
        for r in rows
        if r["kept"] is None or instant(r["kept"]) != instant(r["latest"])
    ]


async def test_every_way_of_booking_and_ending_keeps_last_starts_at_right(
    db: Database, w: builders.World
) -> None:
    clock = FrozenClock(NOW)
    start = NOW + 14 * DAY
    await builders.pattern(
        db, w, "run", "course", "FREQ=WEEKLY;COUNT=3", start=start.date(), at=start.time()
    )
    for n in range(3):
        await builders.session(db, w, f"c{n}", "course", start + n * 7 * DAY, pattern_key="run")
    single = await builders.session(db, w, "t1", "taster", NOW + DAY)
    later = await builders.session(db, w, "t2", "taster", NOW + 2 * DAY)
    drops = [await builders.session(db, w, f"d{n}", "dropin", NOW + n * DAY) for n in (3, 5, 4)]

    course = await booking.book_course(db, clock, w.studio_id, w["ana"], w["run"], guests=1)
    await booking.book_session(db, clock, w.studio_id, w["ana"], single, guests=1)
    series = await booking.book_drop_in(db, clock, w.studio_id, w["bea"], drops, guests=2)
    held = await holds.hold(
        db, clock, w.studio_id, w["bea"], RegistrationKind.SINGLE, guests=1, session_ids=[later]
    )
    await holds.confirm_hold(db, clock, w.studio_id, w["bea"], held.id)
    lapsed = await holds.hold(
        db, clock, w.studio_id, w["ana"], RegistrationKind.SINGLE, guests=1, session_ids=[later]
    )
    clock.advance(timedelta(hours=1))
    rebooked = await holds.confirm_hold(db, clock, w.studio_id, w["ana"], lapsed.id)
    await cancel_registration(db, clock, w.studio_id, series.id)
    await cancel_registration(db, clock, w.studio_id, course.id, customer_id=w["ana"])

    assert rebooked.id != lapsed.id  # a lapsed hold is booked afresh, as a new registration
    assert await wrong_last_starts(db) == []
    found = await browse.my_bookings(db, w.studio_id, w["ana"], NOW)
    assert [b.first_start for b in found] == [NOW + DAY, NOW + 2 * DAY]


def test_the_migration_fills_last_starts_at_for_bookings_made_before_it(
    database_url: str,
) -> None:
    async def build() -> list[int]:
        db = await connect(database_url)
        try:
            w = await builders.studio(db)
            await builders.customer(db, w, "ana")
            made = [
                await book(db, w, "ana", NOW - DAY, NOW + DAY, class_key="dropin"),
                await book(db, w, "ana", NOW + 3 * DAY),
            ]
            await cancel_registration(db, FrozenClock(NOW), w.studio_id, made[1])
            held = await holds.hold(
                db,
                FrozenClock(NOW),
                w.studio_id,
                w["ana"],
                RegistrationKind.SINGLE,
                guests=1,
                session_ids=[await builders.session(db, w, "t", "taster", NOW + 4 * DAY)],
            )
            return [*made, held.id]
        finally:
            await db.close()

    async def kept() -> dict[int, datetime | None]:
        db = await connect(database_url)
        try:
            async with db.transaction(write=False) as tx:
                rows = await tx.all("SELECT id, last_starts_at FROM registrations")
            return {r["id"]: r["last_starts_at"] and instant(r["last_starts_at"]) for r in rows}
        finally:
            await db.close()

    made = asyncio.run(build())
    written = asyncio.run(kept())
    migrate.downgrade(database_url, "0013")
    migrate.upgrade(database_url)

    assert asyncio.run(kept()) == written
    assert written == {made[0]: NOW + DAY, made[1]: NOW + 3 * DAY, made[2]: NOW + 4 * DAY}


# --- passes ------------------------------------------------------------------------------


async def issue(db: Database, w: builders.World, terms: passes.PassTerms, issued: datetime) -> int:
    return await passes.issue_pass(
        db,
        issued,
        w.studio_id,
        w["ana"],
        w["dropin"],
        terms=terms,
        payment="staff_issued",
        valid_from=issued.date(),
    )


async def test_my_passes_shows_usable_ones_and_past_pages_the_expired_and_used_up(
    db: Database, w: builders.World
) -> None:
    punch = passes.PassTerms(PassKind.PUNCH, sessions=5, valid_days=30)
    month = passes.PassTerms(PassKind.UNLIMITED, valid_days=30)
    usable_punch = await issue(db, w, punch, NOW - 10 * DAY)
    open_ended = await issue(db, w, passes.PassTerms(PassKind.UNLIMITED), NOW - 90 * DAY)
    expired = await issue(db, w, month, NOW - 60 * DAY)
    used_up = await issue(db, w, passes.PassTerms(PassKind.PUNCH, sessions=1), NOW - 20 * DAY)
    async with db.transaction() as tx:
        await passes.use_punch(tx, used_up)
    last_day = await issue(db, w, month, NOW - 30 * DAY)  # valid through today

    usable = await passes.customer_passes(db, w.studio_id, w["ana"], NOW.date())
    past = await passes.past_passes(db, w.studio_id, w["ana"], NOW.date(), PageAsk())
    shown = await passes.passes_and_past(db, w.studio_id, w["ana"], NOW.date())

    assert [p.id for p in usable] == sorted([usable_punch, open_ended, last_day])
    assert [p.id for p in past.items] == [used_up, expired]  # newest issued first
    assert shown.usable == usable
    assert shown.has_past
    tomorrow = await passes.customer_passes(db, w.studio_id, w["ana"], NOW.date() + DAY)
    assert last_day not in [p.id for p in tomorrow]


async def test_past_passes_page_like_past_bookings(db: Database, w: builders.World) -> None:
    month = passes.PassTerms(PassKind.UNLIMITED, valid_days=30)
    made = [await issue(db, w, month, NOW - (40 + n) * DAY) for n in range(6)]

    first = await passes.past_passes(db, w.studio_id, w["ana"], NOW.date(), PageAsk())
    assert first.older is not None
    older = await passes.past_passes(db, w.studio_id, w["ana"], NOW.date(), first.older)

    assert [p.id for p in first.items] == made[:5]
    assert [p.id for p in older.items] == made[5:]
    assert older.older is None
    assert older.newer is not None


# --- plans -------------------------------------------------------------------------------


@dataclass
class Recorder:
    """A Database that hands out the real transactions and notes every statement run."""

    inner: Database
    statements: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return self.inner.dialect

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[_RecordingTx]:
        async with self.inner.transaction(write=write) as tx:
            yield _RecordingTx(tx, self.statements)


@dataclass
class _RecordingTx:
    tx: Tx
    statements: list[tuple[str, dict[str, Any]]]

    @property
    def dialect(self) -> str:
        return self.tx.dialect

    async def all(self, sql: str, params: dict[str, Any] | None = None) -> list[Row]:
        self.statements.append((sql, dict(params or {})))
        return await self.tx.all(sql, params)

    async def one(self, sql: str, params: dict[str, Any] | None = None) -> Row | None:
        self.statements.append((sql, dict(params or {})))
        return await self.tx.one(sql, params)


CUSTOMERS = 30
PAST_DAYS = 60


@pytest.fixture
async def history(db: Database) -> builders.World:
    """Every customer booked into a session a day for 60 days, and 3 ahead; 30 weekly passes
    each, all but the last expired; a reservation each on 20 past sessions and 1 ahead.
    Written in bulk: what is under test here is how the lists are read."""
    w = await builders.studio(db)
    for n in range(CUSTOMERS):
        await builders.customer(db, w, f"c{n}")
    for d in range(PAST_DAYS + 4):
        await builders.session(db, w, f"s{d}", "taster", NOW + (d - PAST_DAYS) * DAY)
    people = [{"s": w.studio_id, "c": w[f"c{n}"], "k": w["taster"]} for n in range(CUSTOMERS)]
    async with db.transaction() as tx:
        others = [NOW + timedelta(hours=h, minutes=30) for h in range(-1500, 500)]
        await tx.execute_many(
            _OTHER_SESSIONS,
            [{"s": w.studio_id, "k": w["dropin"], "at": at, "end": at + DAY} for at in others],
        )
        await tx.execute_many(_REGISTRATIONS, people)
        await tx.execute(_SEATS, {"s": w.studio_id})
        for n in range(30):
            issued = NOW - (29 - n) * 7 * DAY - DAY
            term = {"from": issued.date(), "until": (issued + 5 * DAY).date(), "at": issued}
            await tx.execute_many(_PASSES, [{**p, **term} for p in people])
        ahead = {"ahead": NOW + DAY, "from": NOW - 20 * DAY, "to": NOW}
        await tx.execute(_RESERVATIONS, {"s": w.studio_id, **ahead})
        await tx.execute("ANALYZE")
    return w


# Sessions nobody here booked, so that reading sessions by scan costs what it would.
_OTHER_SESSIONS = """INSERT INTO sessions (studio_id, class_id, occurrence_date, starts_at,
    ends_at, capacity, status) VALUES (:s, :k, '2026-01-01', :at, :end, 8, 'open')"""
# One booking per customer per taster session, as the booking writes it.
_REGISTRATIONS = """INSERT INTO registrations (studio_id, customer_id, class_id, kind,
    guest_count, status, price_minor, currency, created_at, last_starts_at)
SELECT :s, :c, :k, 'single', 1, 'confirmed', 4500, 'GBP', s.starts_at, s.starts_at
FROM sessions s WHERE s.studio_id = :s AND s.class_id = :k"""
_SEATS = """INSERT INTO registration_sessions (studio_id, registration_id, session_id,
    customer_id, guest_count, status)
SELECT g.studio_id, g.id, s.id, g.customer_id, 1, 'booked' FROM registrations g
JOIN sessions s ON s.class_id = g.class_id AND s.starts_at = g.last_starts_at
WHERE g.studio_id = :s"""
_PASSES = """INSERT INTO passes (studio_id, customer_id, class_id, kind, valid_from,
    valid_until, payment, status, created_at)
VALUES (:s, :c, :k, 'unlimited', :from, :until, 'staff_issued', 'active', :at)"""
# On each customer's newest pass: attended on the last 20 days' sessions, pending tomorrow.
_RESERVATIONS = """INSERT INTO reservations (studio_id, pass_id, customer_id, session_id,
    status, reserved_at)
SELECT p.studio_id, p.id, p.customer_id, s.id,
    CASE WHEN s.starts_at = :ahead THEN 'pending' ELSE 'attended' END, p.created_at
FROM passes p JOIN sessions s ON s.class_id = p.class_id
WHERE p.studio_id = :s AND p.created_at = (SELECT MAX(q.created_at) FROM passes q
    WHERE q.customer_id = p.customer_id)
  AND ((s.starts_at >= :from AND s.starts_at < :to) OR s.starts_at = :ahead)"""


async def explain(db: Database, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's nodes: SQLite's EXPLAIN QUERY PLAN lines as {"detail": ...}; PostgreSQL's
    EXPLAIN (ANALYZE) nodes, flattened."""
    async with db.transaction(write=False) as tx:
        if db.dialect == "sqlite":
            rows = await tx.all("EXPLAIN QUERY PLAN " + sql, params)
            return [{"detail": r["detail"]} for r in rows]
        row = await tx.one("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
    assert row is not None
    return _json_plan(row["QUERY PLAN"])


async def plans(db: Database, sql: str, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The statement's plan; on PostgreSQL also its generic plan, the one a prepared statement
    (asyncpg caches them) switches to after five runs, planned without the values."""
    found = [await explain(db, sql, params)]
    if db.dialect == "postgresql":
        found.append(await _generic_plan(db.url, sql, params))
    return found


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


async def _generic_plan(url: str, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    names: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    prepared = _NAMED.sub(numbered, sql)
    values = ", ".join(_literal(params[name]) for name in names)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE listed AS {prepared}")
        raw = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE listed({values})")
    finally:
        await conn.close()
    return _json_plan(raw)


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):  # datetimes too
        return f"'{value.isoformat()}'"
    raise TypeError(f"no literal for {value!r} in this test")


def _json_plan(raw: Any) -> list[dict[str, Any]]:
    return list(_nodes((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]))


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


# SQLite's plan names a table by its alias in the statement: the services' usual ones.
ALIASES = {
    "registrations": "g",
    "registration_sessions": "rs",
    "sessions": "s",
    "passes": "p",
    "reservations": "r",
}


def reads(db: Database, plan: list[dict[str, Any]], table: str) -> list[str]:
    """How each plan reads `table`: an index name, or "full scan"."""
    if db.dialect == "sqlite":
        found = []
        for line in (n["detail"] for n in plan):
            words = line.split()
            named = (table, ALIASES[table])
            if len(words) > 1 and words[0] in ("SCAN", "SEARCH") and words[1] in named:
                found.append(_sqlite_index(line) or "full scan")
        return found
    found = []
    for node in plan:
        if node.get("Relation Name") != table or "Scan" not in node["Node Type"]:
            continue
        if node["Node Type"] == "Bitmap Heap Scan":  # its index scans are below it
            found += sorted({n["Index Name"] for n in _nodes(node) if "Index Name" in n})
        else:
            found.append(node.get("Index Name", "full scan"))
    return found


def _sqlite_index(line: str) -> str | None:
    if "INTEGER PRIMARY KEY" in line:
        return "primary key"
    if " INDEX " not in line:
        return None
    return line.split(" INDEX ", 1)[1].split()[0]


async def statements_of(
    db: Database, call: Callable[[Database], Any]
) -> list[tuple[str, dict[str, Any]]]:
    recorder = Recorder(db)
    await call(recorder)  # type: ignore[arg-type]
    return recorder.statements


async def test_my_bookings_reads_upcoming_ones_by_the_customer_index(
    db: Database, history: builders.World
) -> None:
    customer = history["c7"]
    done = await statements_of(
        db, lambda d: browse.my_bookings_and_past(d, history.studio_id, customer, NOW)
    )

    assert len(done) == 1  # the upcoming bookings, with whether any are past
    for sql, params in done:
        for plan in await plans(db, sql, params):
            assert set(reads(db, plan, "registrations")) == {
                "ix_registrations_customer_status_start"
            }
            assert "full scan" not in reads(db, plan, "sessions")
            assert "full scan" not in reads(db, plan, "registration_sessions")
            if db.dialect == "postgresql":  # the 3 ahead and the newest behind, not 61
                assert _rows_read(plan, "registrations") == 3 + 1


async def test_my_bookings_with_none_ahead_asks_whether_any_are_past_on_its_own(
    db: Database, history: builders.World
) -> None:
    later = NOW + 400 * DAY  # every booking of the history is behind
    customer = history["c7"]
    done = await statements_of(
        db, lambda d: browse.my_bookings_and_past(d, history.studio_id, customer, later)
    )
    shown = await browse.my_bookings_and_past(db, history.studio_id, customer, later)

    assert (shown.upcoming, shown.has_past) == ([], True)
    assert len(done) == 2  # nothing ahead, then the newest one behind
    for sql, params in done:
        for plan in await plans(db, sql, params):
            assert set(reads(db, plan, "registrations")) == {
                "ix_registrations_customer_status_start"
            }


def _rows_read(plan: list[dict[str, Any]], table: str) -> int:
    return sum(
        n["Actual Rows"] * n["Actual Loops"] for n in plan if n.get("Relation Name") == table
    )


async def test_a_deep_past_page_reads_a_page_of_rows_from_its_position(
    db: Database, history: builders.World
) -> None:
    customer = history["c3"]
    ask = PageAsk()
    for _ in range(8):  # 8 pages down, 40 bookings older than now
        page = await browse.past_bookings(db, history.studio_id, customer, NOW, ask)
        assert page.older is not None
        ask = page.older
    done = await statements_of(
        db, lambda d: browse.past_bookings(d, history.studio_id, customer, NOW, ask)
    )

    assert len(done) == 2  # the page (and one more row), and whether a newer page exists
    for sql, params in done:
        for plan in await plans(db, sql, params):
            assert reads(db, plan, "registrations") == ["ix_registrations_customer_status_start"]
            if db.dialect == "sqlite":
                assert not any("TEMP B-TREE" in n["detail"] for n in plan)  # in index order
            else:
                assert _rows_read(plan, "registrations") <= 6
    if db.dialect == "sqlite":
        # Deterministic counts: the page at 40 rows deep takes the steps of the first page
        # (+4% here); walking down from the top to the cursor would take +50%.
        first = await _first_page(db, history, customer)
        assert _steps(db, *done[0]) < 1.2 * _steps(db, *first)


async def _first_page(
    db: Database, history: builders.World, customer: int
) -> tuple[str, dict[str, Any]]:
    done = await statements_of(
        db, lambda d: browse.past_bookings(d, history.studio_id, customer, NOW, PageAsk())
    )
    return done[0]


def _steps(db: Database, sql: str, params: dict[str, Any]) -> int:
    """SQLite virtual machine steps the statement takes: a measure of rows visited."""
    conn = sqlite3.connect(db.url.removeprefix("sqlite:///"))
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0

    try:
        conn.set_progress_handler(count, 1)
        plain = {k: _sqlite_value(v) for k, v in params.items()}
        conn.execute(sql, plain).fetchall()
    finally:
        conn.close()
    return counted[0]


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    if isinstance(value, date):
        return value.isoformat()
    return value


async def test_passes_and_live_reservations_are_read_by_the_customer_indexes(
    db: Database, history: builders.World
) -> None:
    customer, today = history["c5"], NOW.date()
    lists = await statements_of(
        db, lambda d: passes.passes_and_past(d, history.studio_id, customer, today)
    )
    live = await statements_of(
        db, lambda d: reservations.live_reservations(d, history.studio_id, customer, NOW)
    )

    for usable in await plans(db, *lists[0]):
        assert set(reads(db, usable, "passes")) == {"ix_passes_customer_usable"}
        if db.dialect == "postgresql":  # the one pass still valid
            assert _rows_read(usable, "passes") == 1
    for past in await plans(db, *lists[1]):
        assert reads(db, past, "passes") == ["ix_passes_customer_created"]
    for live_plan in await plans(db, *live[0]):
        assert reads(db, live_plan, "reservations") == ["ix_reservations_customer_live"]
        if db.dialect == "postgresql":  # the one reservation ahead
            assert _rows_read(live_plan, "reservations") == 1
