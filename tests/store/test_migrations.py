"""Migrations: landed revisions never change, every past revision upgrades with its data,
the reminder backfill queues what the booking service would, a failed downgrade changes
nothing, and `bookbot db upgrade / downgrade / current` say where the database is.

PostgreSQL runs get a database of their own on the test server (CREATE DATABASE
bookbot_blank_<random>, dropped afterwards): the suite's shared database stays at the head.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from bookbot.cli import main
from bookbot.services import quiet_hours, reminders
from bookbot.store import migrate
from bookbot.store.db import Database, DatabaseURL, Tx, connect, record
from bookbot.store.schema import metadata
from tests.builders import _insert
from tests.conftest import BACKENDS

VERSIONS = migrate.MIGRATIONS / "versions"
LANDED = migrate.MIGRATIONS / "landed.json"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PAST = migrate.revisions()[:-1]


# --- landed revisions never change ----------------------------------------------------------


def test_every_landed_migration_is_unchanged_and_every_revision_is_recorded() -> None:
    recorded: dict[str, str] = json.loads(LANDED.read_text(encoding="utf-8"))
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in VERSIONS.glob("*.py")}
    problems = [
        f"{name} changed after it landed (sha256 {files[name][:12]}…, recorded "
        f"{digest[:12]}…). A landed migration never changes: a database built from the old "
        "file is already at that revision and will never see the edit. Restore the file "
        "(git checkout <the commit that recorded it> -- "
        f"src/bookbot/store/migrations/versions/{name}) and fix forward in a new revision."
        for name, digest in sorted(recorded.items())
        if name in files and files[name] != digest
    ]
    problems += [
        f"{name} has no recorded hash. If it is a new revision, run "
        "`python scripts/record_migration.py` and commit "
        "src/bookbot/store/migrations/landed.json with it."
        for name in sorted(files.keys() - recorded.keys())
    ]
    problems += [
        f"{name} is recorded as landed but its file is gone: a landed revision is never "
        "removed (databases are at it); put it back."
        for name in sorted(recorded.keys() - files.keys())
    ]
    assert problems == [], "\n".join(problems)


def test_the_revision_history_is_one_line_from_0001() -> None:
    known = migrate.revisions()
    assert known[0] == "0001"
    assert list(known) == [f"{n:04d}" for n in range(1, len(known) + 1)]
    assert len(list(VERSIONS.glob("*.py"))) == len(known)


SQLITE_ONLY = [pytest.param("sqlite", id="sqlite")]


@asynccontextmanager
async def _opened(url: str) -> AsyncIterator[Database]:
    """The database at `url`, on connections opened for this use alone."""
    db = await connect(url)
    try:
        yield db
    finally:
        await db.close()


# --- a small studio, as each past revision could hold it ---------------------------------------


async def _link(tx: Tx, table: str, **values: Any) -> None:
    columns, params = ", ".join(values), ", ".join(f":{k}" for k in values)
    await tx.execute(f"INSERT INTO {table} ({columns}) VALUES ({params})", values)  # noqa: S608


async def _session(
    tx: Tx, ids: dict[str, int], name: str, starts_at: datetime, *, extra: bool = False
) -> None:
    """A session of the Monday pattern, or an `extra` one outside it."""
    ids[name] = await _insert(
        tx,
        "sessions",
        studio_id=ids["studio"],
        class_id=ids["class"],
        pattern_id=None if extra else ids["pattern"],
        occurrence_date=starts_at.date(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        capacity=6,
    )


async def _registration(
    tx: Tx, ids: dict[str, int], name: str, *, customer: str, session: str, status: str
) -> None:
    base = {"studio_id": ids["studio"], "customer_id": ids[customer]}
    ids[name] = await _insert(
        tx,
        "registrations",
        **base,
        class_id=ids["class"],
        kind="single",
        guest_count=2,
        status=status,
        price_minor=7000,
        currency="GBP",
        created_at=NOW - timedelta(days=3),
    )
    await _insert(
        tx,
        "registration_sessions",
        **base,
        registration_id=ids[name],
        session_id=ids[session],
        guest_count=2,
        status="booked" if status == "confirmed" else "cancelled",
    )
    if status == "confirmed":
        await _insert(
            tx,
            "resource_allocations",
            studio_id=ids["studio"],
            registration_id=ids[name],
            session_id=ids[session],
            resource_id=ids["wheel"],
            quantity=2,
        )


async def _seed_0001(tx: Tx, ids: dict[str, int]) -> None:
    """A pottery studio: a wheel class on Mondays, two upcoming sessions and a past one,
    three customers, two confirmed bookings, a cancelled one and a waitlist place."""
    ids["studio"] = sid = await _insert(
        tx,
        "studios",
        slug="clay",
        name="Clay Studio",
        timezone="Europe/London",
        currency="GBP",
        default_language="en",
    )
    ids["role"] = await _insert(tx, "teaching_roles", studio_id=sid, key="wheel", name="Wheel")
    ids["maya"] = await _insert(
        tx, "staff", studio_id=sid, key="maya", name="Maya", phone="+447700900001"
    )
    await _link(tx, "staff_roles", studio_id=sid, staff_id=ids["maya"], role_id=ids["role"])
    ids["wheel"] = await _insert(
        tx, "resources", studio_id=sid, key="wheel", name="Wheel", total_quantity=8
    )
    ids["class"] = await _insert(
        tx,
        "classes",
        studio_id=sid,
        key="taster",
        name="Wheel Taster",
        price_minor=3500,
        kind="single",
        teaching_role_id=ids["role"],
    )
    await _link(
        tx,
        "class_requirements",
        studio_id=sid,
        class_id=ids["class"],
        resource_id=ids["wheel"],
        quantity_per_student=1,
    )
    ids["pattern"] = await _insert(
        tx,
        "schedule_patterns",
        studio_id=sid,
        key="mondays",
        class_id=ids["class"],
        rrule="FREQ=WEEKLY;BYDAY=MO",
        start_date=date(2026, 10, 26),
        start_time=time(18, 0),
        timezone="Europe/London",
        duration_minutes=120,
        capacity=6,
        instructor_id=ids["maya"],
    )
    await _session(tx, ids, "next_week", datetime(2026, 11, 9, 18, 0, tzinfo=UTC))
    await _session(tx, ids, "today", NOW + timedelta(hours=3))
    await _session(tx, ids, "last_week", datetime(2026, 10, 26, 18, 0, tzinfo=UTC))
    for name, phone in (("ana", "+447700900123"), ("ben", "+447700900124"), ("cy", None)):
        ids[name] = await _insert(
            tx,
            "customers",
            studio_id=sid,
            name=name.title(),
            phone=phone,
            language="en",
            created_at=NOW - timedelta(days=30),
        )
    await _insert(
        tx,
        "channel_identities",
        studio_id=sid,
        customer_id=ids["ana"],
        channel="sms",
        address="+447700900123",
    )
    await _registration(
        tx, ids, "ana_next_week", customer="ana", session="next_week", status="confirmed"
    )
    await _registration(tx, ids, "ben_today", customer="ben", session="today", status="confirmed")
    await _registration(
        tx, ids, "ben_cancelled", customer="ben", session="next_week", status="cancelled"
    )
    await _insert(
        tx,
        "waitlist_entries",
        studio_id=sid,
        session_id=ids["last_week"],
        customer_id=ids["cy"],
        guest_count=1,
        status="waiting",
        created_at=NOW - timedelta(days=8),
    )


async def _seed_0002(tx: Tx, ids: dict[str, int]) -> None:
    await _insert(
        tx,
        "conversations",
        channel="sms",
        address="+447700900123",
        studio_id=ids["studio"],
        customer_id=ids["ana"],
        language="en",
        state="menu",
        updated_at=NOW - timedelta(hours=1),
    )


async def _seed_receipt(tx: Tx, _ids: dict[str, int]) -> None:
    """An inbound message id already seen (before 0008's inbox)."""
    await _link(
        tx, "inbound_receipts", source="twilio", external_id="SM1", received_at=NOW - timedelta(1)
    )


async def _seed_inbox(tx: Tx, _ids: dict[str, int]) -> None:
    """The same id seen and done, and one waiting (since 0008)."""
    for external_id, status in (("SM1", "done"), ("SM2", "pending")):
        await _insert(
            tx,
            "inbox",
            source="twilio",
            external_id=external_id,
            chat="sms:+447700900123",
            payload="{}",
            received_at=NOW,
            status=status,
        )


async def _seed_0003(tx: Tx, ids: dict[str, int]) -> None:
    await _link(tx, "channel_opt_outs", channel="sms", address="+447700900999", opted_out_at=NOW)
    await tx.execute(
        "UPDATE customers SET preferred_channel = 'sms' WHERE id = :id", {"id": ids["ana"]}
    )


async def _seed_0004(tx: Tx, ids: dict[str, int]) -> None:
    """A punch pass and a pending reservation with it (reminders are due for it too)."""
    sid = ids["studio"]
    ids["pass"] = await _insert(
        tx,
        "passes",
        studio_id=sid,
        customer_id=ids["cy"],
        class_id=ids["class"],
        kind="punch",
        sessions_included=5,
        sessions_remaining=4,
        valid_from=date(2026, 10, 1),
        payment="cash",
        price_minor=15000,
        created_at=NOW - timedelta(days=30),
    )
    ids["cy_reservation"] = await _insert(
        tx,
        "reservations",
        studio_id=sid,
        pass_id=ids["pass"],
        customer_id=ids["cy"],
        session_id=ids["next_week"],
        status="pending",
        reserved_at=NOW - timedelta(days=1),
    )


async def _seed_0005(tx: Tx, ids: dict[str, int]) -> None:
    """Ana's 24 h reminder was queued (and sent) by the booking: the backfill leaves it."""
    params = {"class_name": "Wheel Taster", "session_id": ids["next_week"]}
    await _insert(
        tx,
        "outbox",
        studio_id=ids["studio"],
        customer_id=ids["ana"],
        template="reminder_24h",
        params=json.dumps(params),
        due_at=datetime(2026, 11, 8, 18, 0, tzinfo=UTC),
        status="sent",
        created_at=NOW - timedelta(days=3),
        dedupe_key=f"reminder_24h:booking-{ids['ana_next_week']}-{ids['next_week']}",
    )


async def _seed_0007(tx: Tx, ids: dict[str, int]) -> None:
    """A hold lapsing in ten minutes: no reminders for it."""
    base = {"studio_id": ids["studio"], "customer_id": ids["ana"]}
    held_until = NOW + timedelta(minutes=10)
    ids["ana_hold"] = await _insert(
        tx,
        "registrations",
        **base,
        class_id=ids["class"],
        kind="single",
        guest_count=1,
        status="held",
        price_minor=3500,
        currency="GBP",
        created_at=NOW,
        held_until=held_until,
    )
    await _insert(
        tx,
        "registration_sessions",
        **base,
        registration_id=ids["ana_hold"],
        session_id=ids["today"],
        guest_count=1,
        status="held",
        held_until=held_until,
    )


async def _queue_reminders(tx: Tx, _ids: dict[str, int]) -> None:
    """Since 0010 every booking queues its reminders itself (the service's own code), with
    no quiet hours before 0021 (whose columns the service would otherwise read), and
    one-day sessions (sessions.days arrived in 0023)."""
    for row in await tx.all(LIVE_BOOKINGS_AND_RESERVATIONS):
        await reminders.queue(
            tx,
            NOW,
            record(reminders.Subject, row),
            studio_id=row["studio_id"],
            customer_id=row["customer_id"],
            quiet=quiet_hours.Quiet("UTC", 0, 0),
        )


LIVE_BOOKINGS_AND_RESERVATIONS = (
    "SELECT 'booking' AS kind, r.studio_id, r.customer_id, r.id AS ref_id, s.id AS session_id,"
    " s.starts_at AS starts_at, c.name AS class_name, s.ends_at AS ends_at, 1 AS days"
    " FROM registration_sessions rs JOIN registrations r ON r.id = rs.registration_id"
    " JOIN sessions s ON s.id = rs.session_id JOIN classes c ON c.id = r.class_id"
    " WHERE r.status = 'confirmed' AND rs.status = 'booked' AND s.status = 'open'"
    " UNION ALL SELECT 'reservation', v.studio_id, v.customer_id, v.id, s.id, s.starts_at,"
    " c.name, s.ends_at, 1 FROM reservations v JOIN sessions s ON s.id = v.session_id"
    " JOIN classes c ON c.id = s.class_id WHERE v.status = 'pending' AND s.status = 'open'"
)
FOREVER = "9999"
# (first revision, first revision without it, seed): a database at `r` holds every seed whose
# range includes `r`, added in this order.
SEEDS = (
    ("0001", FOREVER, _seed_0001),
    ("0002", FOREVER, _seed_0002),
    ("0002", "0008", _seed_receipt),
    ("0003", FOREVER, _seed_0003),
    ("0004", FOREVER, _seed_0004),
    ("0005", FOREVER, _seed_0005),
    ("0007", FOREVER, _seed_0007),
    ("0008", FOREVER, _seed_inbox),
    ("0010", FOREVER, _queue_reminders),
)


async def _seed(url: str, revision: str) -> dict[str, int]:
    """Every seed a database at `revision` can hold, in one transaction."""
    ids: dict[str, int] = {}
    async with _opened(url) as db, db.transaction() as tx:
        for since, until, seed in SEEDS:
            if since <= revision < until:
                await seed(tx, ids)
    return ids


# --- what must hold after an upgrade ------------------------------------------------------------


async def _schema_diff(url: str) -> list[Any]:
    engine = create_async_engine(DatabaseURL.parse(url).sqlalchemy_url())
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), metadata)
            )
    finally:
        await engine.dispose()


async def _pairs(db: Database, sql: str) -> set[tuple[Any, ...]]:
    async with db.transaction(write=False) as tx:
        return {tuple(row) for row in await tx.all(sql)}


def _expected_reminders(ids: dict[str, int], since: str) -> set[str]:
    keys = {
        f"reminder_24h:booking-{ids['ana_next_week']}-{ids['next_week']}",
        f"reminder_1h:booking-{ids['ana_next_week']}-{ids['next_week']}",
        # three hours ahead: the 24 h reminder's time has passed
        f"reminder_1h:booking-{ids['ben_today']}-{ids['today']}",
    }
    if since >= "0004":
        keys |= set(reminders.keys("reservation", ids["cy_reservation"], ids["next_week"]))
    return keys


async def _check_survived(url: str, ids: dict[str, int], since: str) -> None:
    async with _opened(url) as db:
        await migrate.check_schema(db)
        assert await _pairs(db, "SELECT id, phone FROM customers") == {
            (ids["ana"], "+447700900123"),
            (ids["ben"], "+447700900124"),
            (ids["cy"], None),
        }
        held = {(ids["ana_hold"], "held")} if since >= "0007" else set()
        assert await _pairs(db, "SELECT id, status FROM registrations") == {
            (ids["ana_next_week"], "confirmed"),
            (ids["ben_today"], "confirmed"),
            (ids["ben_cancelled"], "cancelled"),
            *held,
        }
        assert await _pairs(db, "SELECT registration_id, quantity FROM resource_allocations") == {
            (ids["ana_next_week"], 2),
            (ids["ben_today"], 2),
        }
        assert await _pairs(db, "SELECT hold_minutes, no_show_uses_punch FROM studios") == {
            (10, True)
        }
        assert await _pairs(db, "SELECT customer_id, status FROM waitlist_entries") == {
            (ids["cy"], "waiting")
        }
        outbox = await _pairs(db, "SELECT dedupe_key, status FROM outbox")
        assert {key for key, _ in outbox} == _expected_reminders(ids, since)
        if since >= "0005":  # the one queued (and sent) before stays as it was
            ana_24h = f"reminder_24h:booking-{ids['ana_next_week']}-{ids['next_week']}"
            assert (ana_24h, "sent") in outbox
        if since >= "0002":
            inbox = await _pairs(db, "SELECT external_id, status FROM inbox")
            assert ("SM1", "done") in inbox
    assert await _schema_diff(url) == []


@pytest.mark.parametrize("blank_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("since", PAST)
def test_upgrading_from_each_past_revision_keeps_the_data(blank_url: str, since: str) -> None:
    migrate.upgrade(blank_url, since, now=NOW)
    ids = asyncio.run(_seed(blank_url, since))
    migrate.upgrade(blank_url, now=NOW)
    asyncio.run(_check_survived(blank_url, ids, since))


# --- 0010: the reminders bookings made before the outbox never got ----------------------------


async def _seed_backfill_cases(url: str) -> dict[str, int]:
    """At 0009: bookings and reservations whose reminders are due, partly due, past, or not
    theirs to have (cancelled, held, a cancelled session)."""
    ids: dict[str, int] = {}
    async with _opened(url) as db, db.transaction() as tx:
        await _seed_0001(tx, ids)
        await _seed_0004(tx, ids)
        await _session(tx, ids, "in_30_minutes", NOW + timedelta(minutes=30), extra=True)
        await _session(tx, ids, "called_off", NOW + timedelta(days=2), extra=True)
        await tx.execute(
            "UPDATE sessions SET status = 'cancelled' WHERE id = :id",
            {"id": ids["called_off"]},
        )
        for session in ("in_30_minutes", "called_off", "last_week"):
            await _registration(
                tx, ids, f"cy_{session}", customer="cy", session=session, status="confirmed"
            )
        await _seed_0007(tx, ids)
        ids["cy_cancelled_reservation"] = await _insert(
            tx,
            "reservations",
            studio_id=ids["studio"],
            pass_id=ids["pass"],
            customer_id=ids["cy"],
            session_id=ids["today"],
            status="cancelled",
            reserved_at=NOW - timedelta(days=1),
        )
    return ids


OUTBOX_ROWS = (
    "SELECT studio_id, customer_id, template, params, CAST(due_at AS TEXT),"
    " status, CAST(created_at AS TEXT), dedupe_key, channel, address"
    " FROM outbox ORDER BY dedupe_key"
)


async def _outbox(url: str) -> list[tuple[Any, ...]]:
    async with _opened(url) as db, db.transaction(write=False) as tx:
        return [tuple(row) for row in await tx.all(OUTBOX_ROWS)]


async def _queued_by_the_service(url: str) -> list[tuple[Any, ...]]:
    """The outbox emptied, then the booking service's own reminders queued for every
    confirmed booking and pending reservation: what the backfill must have written."""
    async with _opened(url) as db, db.transaction() as tx:
        await tx.execute("DELETE FROM outbox")
        await _queue_reminders(tx, {})
    return await _outbox(url)


@pytest.mark.parametrize("blank_url", BACKENDS, indirect=True)
def test_backfill_queues_exactly_the_reminders_the_booking_service_would(
    blank_url: str,
) -> None:
    migrate.upgrade(blank_url, "0009")
    ids = asyncio.run(_seed_backfill_cases(blank_url))
    migrate.upgrade(blank_url, "0010", now=NOW)
    backfilled = asyncio.run(_outbox(blank_url))

    assert {row[7] for row in backfilled} == _expected_reminders(ids, "0004")
    assert {row[5] for row in backfilled} == {"pending"}
    assert backfilled == asyncio.run(_queued_by_the_service(blank_url))


@pytest.mark.parametrize("blank_url", BACKENDS, indirect=True)
def test_backfill_run_again_where_the_reminders_exist_adds_nothing(blank_url: str) -> None:
    migrate.upgrade(blank_url, "0009")
    asyncio.run(_seed_backfill_cases(blank_url))
    migrate.upgrade(blank_url, "0010", now=NOW)
    before = asyncio.run(_outbox(blank_url))
    migrate.downgrade(blank_url, "0009")
    migrate.upgrade(blank_url, "0010", now=NOW + timedelta(minutes=5))
    assert asyncio.run(_outbox(blank_url)) == before


@pytest.mark.parametrize("blank_url", SQLITE_ONLY, indirect=True)
def test_backfilled_instants_are_stored_as_the_application_stores_them(blank_url: str) -> None:
    """On SQLite instants are fixed-width text, so that the delivery job's `due_at <= :now`
    orders them: the backfill's rows must be spelt the same way."""
    migrate.upgrade(blank_url, "0009")
    asyncio.run(_seed_backfill_cases(blank_url))
    migrate.upgrade(blank_url, "0010", now=NOW)
    spelling = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00")
    for due_at, created_at in _sqlite_rows(blank_url, "SELECT due_at, created_at FROM outbox"):
        assert spelling.fullmatch(due_at)
        assert spelling.fullmatch(created_at)


# --- downgrades ---------------------------------------------------------------------------------


def _sqlite_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(DatabaseURL.parse(url).target)) as conn:
        return conn.execute(sql).fetchall()


def _sqlite_state(url: str) -> dict[str, Any]:
    """Everything a half-done downgrade could have changed."""
    tables = [
        name for (name,) in _sqlite_rows(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    return {
        "schema": sorted(_sqlite_rows(url, "SELECT type, name, sql FROM sqlite_master")),
        "rows": {t: sorted(_sqlite_rows(url, f"SELECT * FROM {t}"), key=repr) for t in tables},  # noqa: S608
    }


@pytest.mark.parametrize("blank_url", SQLITE_ONLY, indirect=True)
def test_sqlite_downgrade_0007_to_0006_with_a_live_hold_changes_nothing(
    blank_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """0007's downgrade deletes held registrations, but SQLite's migration connection does
    not cascade to their seats, so the old CHECK refuses them. The run is one transaction:
    refused as a whole, the database untouched at 0007, one line saying so."""
    migrate.upgrade(blank_url, "0007", now=NOW)
    asyncio.run(_seed(blank_url, "0007"))
    before = _sqlite_state(blank_url)

    assert main(["--database", blank_url, "db", "downgrade", "0006"]) == 1

    out, err = capsys.readouterr()
    [line] = err.strip().splitlines()
    assert line.startswith("error: downgrade to 0006 failed; nothing was changed")
    assert "still at 0007" in line
    assert _sqlite_state(blank_url) == before
    assert _sqlite_rows(blank_url, "PRAGMA integrity_check") == [("ok",)]


async def _lapse_the_hold(url: str, ids: dict[str, int]) -> None:
    """What the expiry sweep does to a hold: expired, its seat cancelled."""
    async with _opened(url) as db, db.transaction() as tx:
        params = {"id": ids["ana_hold"]}
        await tx.execute("UPDATE registrations SET status = 'expired' WHERE id = :id", params)
        await tx.execute(
            "UPDATE registration_sessions SET status = 'cancelled' WHERE registration_id = :id",
            params,
        )


@pytest.mark.parametrize("blank_url", BACKENDS, indirect=True)
def test_downgrade_0007_to_0006_takes_lapsed_holds_with_their_seats_on_both_databases(
    blank_url: str,
) -> None:
    """0007's downgrade deletes expired registrations. PostgreSQL cascades to their seats;
    SQLite, migrating with foreign keys off, would leave the seats pointing at nothing, so
    the run settles them as the foreign key declares (ON DELETE CASCADE) before it commits."""
    migrate.upgrade(blank_url, "0007", now=NOW)
    ids = asyncio.run(_seed(blank_url, "0007"))
    asyncio.run(_lapse_the_hold(blank_url, ids))

    migrate.downgrade(blank_url, "0006")

    assert asyncio.run(migrate.read_revision(blank_url)) == "0006"
    assert asyncio.run(_seats(blank_url)) == {
        (ids["ana_next_week"], "booked"),
        (ids["ben_today"], "booked"),
        (ids["ben_cancelled"], "cancelled"),
    }
    if blank_url.startswith("sqlite"):
        assert _sqlite_rows(blank_url, "PRAGMA foreign_key_check") == []


async def _seats(url: str) -> set[tuple[Any, ...]]:
    async with _opened(url) as db:
        return await _pairs(db, "SELECT registration_id, status FROM registration_sessions")


def _orphans(on_delete: str) -> sa.Connection:
    """A parent row deleted with foreign keys off, as a migration on SQLite does it."""
    conn = sa.create_engine("sqlite://").connect()
    conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    conn.exec_driver_sql(
        "CREATE TABLE child (id INTEGER PRIMARY KEY,"
        f" parent_id INTEGER REFERENCES parent (id) {on_delete})"
    )
    conn.exec_driver_sql(
        "CREATE TABLE grandchild (id INTEGER PRIMARY KEY,"
        " child_id INTEGER REFERENCES child (id) ON DELETE CASCADE)"
    )
    conn.exec_driver_sql("INSERT INTO parent VALUES (1), (2)")
    conn.exec_driver_sql("INSERT INTO child VALUES (10, 1), (20, 2)")
    conn.exec_driver_sql("INSERT INTO grandchild VALUES (100, 10), (200, 20)")
    conn.exec_driver_sql("DELETE FROM parent WHERE id = 1")
    return conn


@pytest.mark.parametrize(
    ("on_delete", "children", "grandchildren"),
    [
        ("ON DELETE CASCADE", [(20, 2)], [(200, 20)]),
        ("ON DELETE SET NULL", [(10, None), (20, 2)], [(100, 10), (200, 20)]),
    ],
)
def test_rows_a_run_orphans_on_sqlite_get_what_their_foreign_key_declares(
    on_delete: str, children: list[tuple[Any, ...]], grandchildren: list[tuple[Any, ...]]
) -> None:
    with _orphans(on_delete) as conn:
        migrate.settle_orphans(conn, before=[])
        assert conn.exec_driver_sql("SELECT * FROM child ORDER BY id").fetchall() == children
        assert (
            conn.exec_driver_sql("SELECT * FROM grandchild ORDER BY id").fetchall() == grandchildren
        )
        assert migrate.foreign_key_violations(conn) == []


def test_rows_a_run_orphans_without_an_on_delete_refuse_the_run() -> None:
    with (
        _orphans("") as conn,
        pytest.raises(
            migrate.OrphanedRows, match="rows of child pointing at deleted rows of parent"
        ),
    ):
        migrate.settle_orphans(conn, before=[])


def test_orphans_there_before_a_run_are_left_alone_but_new_ones_refuse_it() -> None:
    with _orphans("ON DELETE CASCADE") as conn:
        before = migrate.foreign_key_violations(conn)
        migrate.settle_orphans(conn, before)
        assert migrate.foreign_key_violations(conn) == before
        conn.exec_driver_sql("DELETE FROM parent WHERE id = 2")
        with pytest.raises(migrate.OrphanedRows):
            migrate.settle_orphans(conn, before)


@pytest.mark.parametrize("blank_url", BACKENDS, indirect=True)
def test_every_revision_downgrades_and_upgrades_again(blank_url: str) -> None:
    migrate.upgrade(blank_url)
    for revision in reversed(PAST):
        migrate.downgrade(blank_url, revision)
        assert asyncio.run(migrate.read_revision(blank_url)) == revision
    migrate.upgrade(blank_url)
    assert asyncio.run(_schema_diff(blank_url)) == []


# --- 0011: databases built from revisions edited after they landed ----------------------------


async def _as_built_from_the_first_files(url: str) -> None:
    """What 0001, 0004, 0005 and 0007 created before they were edited."""
    async with _opened(url) as db, db.transaction() as tx:
        for statement in (
            "ALTER TABLE studios DROP COLUMN hold_minutes",
            "ALTER TABLE outbox DROP COLUMN claim_token",
            "DROP TABLE pass_offers",
            "DROP INDEX ix_registration_sessions_held",
            "DROP INDEX ix_waitlist_entries_session_status",
            "CREATE INDEX ix_resource_allocations_registration"
            " ON resource_allocations (registration_id)",
        ):
            await tx.execute(statement)


@pytest.mark.parametrize("blank_url", BACKENDS, indirect=True)
def test_a_database_built_from_the_first_versions_of_edited_revisions_is_repaired(
    blank_url: str,
) -> None:
    migrate.upgrade(blank_url, "0010", now=NOW)
    ids = asyncio.run(_seed(blank_url, "0010"))
    asyncio.run(_as_built_from_the_first_files(blank_url))
    assert asyncio.run(_schema_diff(blank_url)) != []

    migrate.upgrade(blank_url, now=NOW)

    asyncio.run(_check_survived(blank_url, ids, "0010"))


# --- bookbot db upgrade / downgrade / current ------------------------------------------------


def _said(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert err == ""
    [line] = out.strip().splitlines()
    return line


def _refused(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize("blank_url", BACKENDS, indirect=True)
def test_db_commands_go_to_a_revision_and_say_where_the_database_is(
    blank_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    head = migrate.head_revision()
    db = ["--database", blank_url, "db"]
    if blank_url.startswith("postgresql"):
        assert main([*db, "current"]) == 0
        assert _said(capsys).startswith(f"no schema (head is {head}: run `bookbot db upgrade`)")
    assert main([*db, "upgrade", "0005"]) == 0
    assert _said(capsys).startswith(f"database is at 0005 (newest: {head})")
    assert main([*db, "current"]) == 0
    assert _said(capsys).startswith(f"0005 (not head: head is {head}, run `bookbot db upgrade`)")
    assert main([*db, "upgrade"]) == 0
    assert _said(capsys).startswith("database is up to date")
    assert main([*db, "current"]) == 0
    assert _said(capsys).startswith(f"{head} (head)")
    assert main([*db, "downgrade", "0008"]) == 0
    assert _said(capsys).startswith("database is at 0008")
    assert asyncio.run(migrate.read_revision(blank_url)) == "0008"
    assert main([*db, "upgrade", head]) == 0
    assert _said(capsys).startswith("database is up to date")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["downgrade", "0009"], "cannot downgrade to 0009: the database is at 0007, below 0009"),
        (["upgrade", "0003"], "cannot upgrade to 0003: the database is at 0007, past 0003"),
        (["downgrade", "0042"], "unknown revision '0042': this bookbot knows 0001 to"),
        (["upgrade", "latest"], "unknown revision 'latest'"),
        (["downgrade"], "the following arguments are required: REV"),
    ],
)
@pytest.mark.parametrize("blank_url", SQLITE_ONLY, indirect=True)
def test_db_commands_refuse_in_one_line_and_change_nothing(
    blank_url: str, command: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate.upgrade(blank_url, "0007")
    assert main(["--database", blank_url, "db", *command]) == 1
    assert message in _refused(capsys)
    assert asyncio.run(migrate.read_revision(blank_url)) == "0007"


def test_db_current_and_downgrade_refuse_a_missing_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nothing.db"
    for command in (["current"], ["downgrade", "0001"]):
        assert main(["--database", f"sqlite:///{path}", "db", *command]) == 1
        assert f"no database at {path}" in _refused(capsys)
    assert not path.exists()


@pytest.mark.parametrize("blank_url", SQLITE_ONLY, indirect=True)
def test_a_database_a_newer_bookbot_migrated_is_named_not_guessed(
    blank_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate.upgrade(blank_url)
    with closing(sqlite3.connect(DatabaseURL.parse(blank_url).target)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert main(["--database", blank_url, "db", "current"]) == 0
    assert _said(capsys).startswith("9999 (unknown to this bookbot")
    assert main(["--database", blank_url, "db", "upgrade"]) == 1
    assert "which this bookbot does not know" in _refused(capsys)
