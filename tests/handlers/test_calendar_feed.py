"""GET /calendar/{token}.ics, the staff member's calendar feed, served by the real aiohttp app
on both databases: what is in it (range, statuses, taught classes), and what a stranger gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import RouteDef

from bookbot.config import Settings
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.calendar_feed import FEED_PATH, CalendarFeed
from bookbot.handlers.web import make_app
from bookbot.serve import build
from bookbot.store.db import Database
from tests import builders

Client = TestClient[Any, Any]
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MAYA_TOKEN = "maya-feed-Zx81_qL0aB3cD4eF5gH6"
REX_TOKEN = "rex-feed-9yT2_kM7nP0qR1sS2tU3"
MEET = "https://meet.example.com/maya-{n}"


async def _appointment(
    db: Database,
    w: builders.World,
    name: str,
    *,
    staff: str,
    starts_at: datetime,
    status: str,
    **extra: object,
) -> None:
    values: dict[str, object] = {
        "studio_id": w.studio_id,
        "service_id": w["lesson"],
        "staff_id": w[staff],
        "customer_id": w["ann"],
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=1),
        "busy_from": starts_at,
        "busy_until": starts_at + timedelta(minutes=75),
        "status": status,
        "held_until": NOW + timedelta(minutes=10) if status == "held" else None,
        "price_minor": 4000,
        "currency": "GBP",
        "created_at": NOW - timedelta(days=60),
        "updated_at": NOW - timedelta(days=60),
        **extra,
    }
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    async with db.transaction() as tx:
        w.ids[name] = int(
            await tx.scalar(
                f"INSERT INTO appointments ({columns}) VALUES ({params}) RETURNING id",  # noqa: S608
                values,
            )
        )


async def _teach(
    db: Database, w: builders.World, session: str, staff: str, *, as_assistant: bool
) -> None:
    if as_assistant:
        sql = "INSERT INTO session_assistants (studio_id, session_id, staff_id) VALUES (:s, :x, :p)"
    else:
        sql = "UPDATE sessions SET instructor_id = :p WHERE studio_id = :s AND id = :x"
    await db.execute(sql, {"s": w.studio_id, "x": w[session], "p": w[staff]})


@pytest.fixture
async def world(db: Database) -> builders.World:
    """Maya's appointments and classes in and out of the feed's range; Rex has none."""
    w = await builders.studio(db)
    await builders.customer(db, w, "ann")
    async with db.transaction() as tx:
        w.ids["lesson"] = int(
            await tx.scalar(
                "INSERT INTO services (studio_id, key, name, duration_minutes, price_minor,"
                " location, online, buffer_before_minutes) VALUES (:s, 'lesson', 'Wheel lesson',"
                " 60, 4000, 'Studio B', :online, 15) RETURNING id",
                {"s": w.studio_id, "online": True},
            )
        )
        for staff, token in (("maya", MAYA_TOKEN), ("rex", REX_TOKEN)):
            await tx.execute(
                "UPDATE staff SET calendar_token = :t WHERE id = :id", {"t": token, "id": w[staff]}
            )
    day = timedelta(days=1)
    upcoming = NOW + 3 * day
    await _appointment(
        db, w, "moved", staff="maya", starts_at=upcoming, status="confirmed", sequence=2,
        meeting_url=MEET.format(n=1),
    )  # fmt: skip
    edge = NOW - 30 * day + timedelta(minutes=5)  # in range; its buffer before is not
    await _appointment(
        db, w, "edge", staff="maya", starts_at=edge, status="completed",
        busy_from=edge - timedelta(minutes=15),
    )  # fmt: skip
    await _appointment(db, w, "done", staff="maya", starts_at=NOW - 10 * day, status="completed")
    await _appointment(db, w, "absent", staff="maya", starts_at=NOW - 9 * day, status="no_show")
    await _appointment(
        db, w, "called_off", staff="maya", starts_at=upcoming, status="cancelled_by_staff",
        cancel_reason="Kiln day", cancelled_at=NOW - day,
    )  # fmt: skip
    await _appointment(db, w, "held", staff="maya", starts_at=NOW + 4 * day, status="held")
    await _appointment(db, w, "lapsed", staff="maya", starts_at=NOW + 5 * day, status="expired")
    await _appointment(db, w, "old", staff="maya", starts_at=NOW - 40 * day, status="completed")
    await _appointment(db, w, "toms", staff="tom", starts_at=upcoming, status="confirmed")
    for name, when in (
        ("taught", NOW + 2 * day),
        ("assisted", NOW + 6 * day),
        ("dropped", NOW + 7 * day),
        ("long_ago", NOW - 31 * day),
        ("toms_class", NOW + 2 * day),
    ):
        await builders.session(db, w, name, "taster", when)
    await db.execute(
        "UPDATE sessions SET status = 'cancelled' WHERE id = :id", {"id": w["dropped"]}
    )
    await _teach(db, w, "taught", "maya", as_assistant=False)
    await _teach(db, w, "assisted", "maya", as_assistant=True)
    await _teach(db, w, "dropped", "maya", as_assistant=False)
    await _teach(db, w, "long_ago", "maya", as_assistant=False)
    await _teach(db, w, "toms_class", "tom", as_assistant=False)
    return w


@pytest.fixture
async def http(db: Database) -> AsyncIterator[Client]:
    feed = CalendarFeed(db, FrozenClock(NOW))
    async with TestClient(TestServer(make_app(*feed.routes()))) as client:
        yield client


async def calendar(http: Client, token: str) -> icalendar.Calendar:
    response = await http.get(f"/calendar/{token}.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    return icalendar.Calendar.from_ical(await response.read())


async def test_the_feed_holds_the_last_30_days_and_what_is_ahead(
    world: builders.World, http: Client
) -> None:
    cal = await calendar(http, MAYA_TOKEN)
    assert str(cal["X-WR-CALNAME"]) == "Maya"
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/London"
    got = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    w = world
    assert list(got) == [
        f"appointment-{w['edge']}@bookbot",
        f"appointment-{w['done']}@bookbot",
        f"appointment-{w['absent']}@bookbot",
        f"session-{w['taught']}@bookbot",
        f"appointment-{w['moved']}@bookbot",
        f"appointment-{w['called_off']}@bookbot",
        f"session-{w['assisted']}@bookbot",
        f"session-{w['dropped']}@bookbot",
    ]  # by start; no holds, no expired, nothing older than 30 days, nobody else's
    moved = got[f"appointment-{w['moved']}@bookbot"]
    assert moved["SEQUENCE"] == 2
    assert str(moved["URL"]) == MEET.format(n=1)
    assert str(moved["LOCATION"]) == MEET.format(n=1)
    assert str(moved["SUMMARY"]) == "Wheel lesson · ann"
    assert moved["DTSTART"].dt == NOW + timedelta(days=3)
    called_off = got[f"appointment-{w['called_off']}@bookbot"]
    assert str(called_off["STATUS"]) == "CANCELLED"
    assert "Kiln day" in str(called_off["DESCRIPTION"])
    assert str(got[f"session-{w['dropped']}@bookbot"]["STATUS"]) == "CANCELLED"
    taught = got[f"session-{w['taught']}@bookbot"]
    assert (str(taught["SUMMARY"]), str(taught["LOCATION"])) == ("Taster", "Studio A")
    assert str(taught["STATUS"]) == "CONFIRMED"


async def test_someone_with_nothing_booked_gets_a_valid_empty_calendar(
    world: builders.World, http: Client
) -> None:
    assert world["rex"]
    cal = await calendar(http, REX_TOKEN)
    assert str(cal["X-WR-CALNAME"]) == "Rex"
    assert list(cal.walk("VEVENT")) == []


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/not-a-token-anyone-has.ics",
        f"/calendar/{MAYA_TOKEN[:-1]}.ics",
        f"/calendar/{MAYA_TOKEN}",
        "/calendar/.ics",
        "/calendar/a%20b.ics",
    ],
)
async def test_an_unknown_token_is_a_bare_404(
    world: builders.World, http: Client, path: str
) -> None:
    assert world.studio_id
    response = await http.get(path)
    assert response.status == 404
    body = await response.text()
    assert "Maya" not in body
    assert "token" not in body.lower()


@pytest.mark.parametrize("public_url", ["https://bot.example", None])
async def test_bookbot_run_serves_feeds_when_the_public_url_is_set(
    db: Database, public_url: str | None
) -> None:
    settings = Settings(
        database_url="unused",
        public_url=public_url,
        telegram_token="123456:TEST-token",
    )
    services = build(settings, db, FrozenClock(NOW))
    paths = [route.path for route in services.routes() if isinstance(route, RouteDef)]
    assert (FEED_PATH in paths) == (public_url is not None)
