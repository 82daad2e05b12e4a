"""`bookbot slots`, `bookbot availability ...` and `bookbot appointments ...` on both databases.

The commands read the real clock, so the studio is built around today: Maya (New York) is
open 09:00-12:00 every day and gives a 60-minute lesson with 15 minutes after it, on a
15-minute grid: eight starts a day, 09:00 to 10:45, in her zone.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookbot.cli import main
from bookbot.engine.clock import SystemClock
from bookbot.engine.recurrence import resolve_local
from bookbot.services import appointments, customers
from bookbot.store.db import connect
from tests import builders

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)
DAY_STARTS = ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"]


@dataclass
class Studio:
    url: str
    ids: builders.World
    day: date  # a week from today in New York: clear of notice, inside the horizon

    def at(self, hhmm: str, day: date | None = None) -> datetime:
        local = datetime.combine(day or self.day, time.fromisoformat(hhmm))
        return resolve_local(local, NEW_YORK)[0]


async def _insert(url: str, table: str, **values: object) -> int:
    db = await connect(url)
    try:
        async with db.transaction() as tx:
            return await builders._insert(tx, table, **values)
    finally:
        await db.close()


async def _sql(url: str, statement: str, **params: object) -> list[dict[str, object]]:
    db = await connect(url)
    try:
        async with db.transaction() as tx:
            if statement.lstrip().upper().startswith("SELECT"):
                return [dict(row) for row in await tx.all(statement, params)]
            await tx.execute(statement, params)
            return []
    finally:
        await db.close()


async def _build(url: str) -> builders.World:
    db = await connect(url)
    try:
        w = await builders.studio(db)
        await builders.customer(db, w, "Ann", phone="+15555550100")
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE staff SET timezone = :z WHERE id = :id", {"z": NEW_YORK, "id": w["maya"]}
            )
            w.ids["lesson"] = await builders._insert(
                tx,
                "services",
                studio_id=w.studio_id,
                key="lesson",
                name="Wheel lesson",
                duration_minutes=60,
                buffer_after_minutes=15,
                price_minor=4000,
            )
            w.ids["trial"] = await builders._insert(
                tx,
                "services",
                studio_id=w.studio_id,
                key="trial",
                name="Trial",
                duration_minutes=30,
                price_minor=0,
            )
            await tx.execute(
                "INSERT INTO service_staff (studio_id, service_id, staff_id) VALUES (:s, :v, :p)",
                {"s": w.studio_id, "v": w["lesson"], "p": w["maya"]},
            )
            for weekday in range(7):
                await tx.execute(
                    "INSERT INTO availability_windows (studio_id, staff_id, weekday, start_time,"
                    " end_time) VALUES (:s, :p, :d, '09:00', '12:00')",
                    {"s": w.studio_id, "p": w["maya"], "d": weekday},
                )
    finally:
        await db.close()
    return w


@pytest.fixture
def studio(database_url: str) -> Studio:
    ids = asyncio.run(_build(database_url))
    return Studio(database_url, ids, datetime.now(NY).date() + timedelta(days=7))


def appointment(s: Studio, start: datetime, status: str = "confirmed", **extra: object) -> int:
    values: dict[str, object] = {
        "studio_id": s.ids.studio_id,
        "service_id": s.ids["lesson"],
        "staff_id": s.ids["maya"],
        "customer_id": s.ids["Ann"],
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "busy_from": start,
        "busy_until": start + timedelta(minutes=75),
        "status": status,
        "held_until": datetime.now(UTC) + timedelta(minutes=15) if status == "held" else None,
        "price_minor": 4000,
        "currency": "GBP",
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
        **extra,
    }
    return asyncio.run(_insert(s.url, "appointments", **values))


def run(s: Studio, *argv: str) -> int:
    return main(["--database", s.url, *argv])


def refusal(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a refusal prints on stderr."""
    _out, err = capsys.readouterr()
    [line] = err.strip().splitlines()
    assert line.startswith("error: ")
    return line


def slots_out(s: Studio, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert run(s, "slots", "--staff", "maya", "--service", "lesson", *extra) == 0
    return capsys.readouterr().out


def day_line(out: str, day: date) -> str:
    [line] = [line for line in out.splitlines() if line.startswith(f"  {day:%a %d %b %Y}")]
    return line


# --- bookbot slots ---------------------------------------------------------------------


def test_slots_by_day_in_the_staff_members_zone(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    out = slots_out(studio, capsys, "--from", f"{studio.day}", "--days", "2")
    lines = out.splitlines()
    assert lines[0].startswith("Wheel lesson with Maya: free slots")
    assert lines[0].endswith("times in America/New_York")
    assert day_line(out, studio.day).split()[4:] == DAY_STARTS
    assert day_line(out, studio.day + timedelta(days=1)).split()[4:] == DAY_STARTS
    assert lines[-1] == "16 free slot(s)"


def test_slots_as_json_in_utc_with_z(studio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    out = slots_out(studio, capsys, "--from", f"{studio.day}", "--days", "1", "--json")
    got = json.loads(out)
    assert got[0] == {
        "start": studio.at("09:00").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": studio.at("10:00").strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert len(got) == 8
    assert all(slot["start"].endswith("Z") and slot["end"].endswith("Z") for slot in got)


def test_a_booked_appointment_and_its_buffer_take_their_slots(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    appointment(studio, studio.at("09:30"))  # busy 09:30-10:45
    appointment(studio, studio.at("09:00"), status="cancelled_by_staff")  # frees nothing
    out = slots_out(studio, capsys, "--from", f"{studio.day}", "--days", "1")
    assert day_line(out, studio.day).split()[4:] == ["10:45"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--staff", "nobody", "--service", "lesson"], "No staff member with id nobody."),
        (["--staff", "maya", "--service", "nothing"], "No service with id nothing."),
        (["--staff", "tom", "--service", "lesson"], "Tom"),  # does not offer it
        (["--staff", "maya", "--service", "lesson", "--from", "2026-02-30"], "is not a date"),
        (["--staff", "maya", "--service", "lesson", "--from", "14/12/2026"], "is not a date"),
        (["--staff", "maya", "--service", "lesson", "--days", "0"], "must be 1 to 90 days"),
        (["--staff", "maya", "--service", "lesson", "--days", "91"], "must be 1 to 90 days"),
        (["--staff", "maya", "--service", "lesson", "--days", "a"], "not a whole number"),
        (["--service", "lesson"], "--staff"),
    ],
)
def test_bad_slot_requests_are_one_line(
    studio: Studio, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(studio, "slots", *argv) == 1
    assert message in refusal(capsys)


# --- bookbot availability --------------------------------------------------------------


def test_weekday_hours_a_blocked_day_and_an_extra_window(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    day, next_day = studio.day, studio.day + timedelta(days=1)
    weekday = f"{day:%a}".lower()
    assert run(studio, "availability", "hours", "--staff", "maya", "--day", weekday, "--set",
               "15:00-16:30,08:00-08:30") == 0  # fmt: skip
    assert capsys.readouterr().out.strip() == (
        f"Maya, every {weekday}: 08:00–08:30, 15:00–16:30 (America/New_York)"
    )
    out = slots_out(studio, capsys, "--from", f"{day}", "--days", "1")
    assert day_line(out, day).split()[4:] == ["15:00", "15:15"]

    assert run(studio, "availability", "block", "--staff", "maya", "--date", f"{next_day}",
               "--reason", "Kiln day") == 0  # fmt: skip
    assert "Maya blocked" in capsys.readouterr().out
    out = slots_out(studio, capsys, "--from", f"{next_day}", "--days", "1")
    assert day_line(out, next_day).endswith("—")

    assert run(studio, "availability", "add", "--staff", "maya", "--from", f"{day}T13:00",
               "--to", f"{day}T14:15", "--reason", "Extra") == 0  # fmt: skip
    assert capsys.readouterr().out.strip() == (
        f"Maya is open {day:%a %d %b %Y} 13:00–14:15 (America/New_York): Extra"
    )
    out = slots_out(studio, capsys, "--from", f"{day}", "--days", "1")
    assert day_line(out, day).split()[4:] == ["13:00", "15:00", "15:15"]

    assert run(studio, "availability", "hours", "--staff", "maya", "--day", weekday, "--off") == 0
    assert capsys.readouterr().out.strip().startswith(f"Maya, every {weekday}: day off")
    out = slots_out(studio, capsys, "--from", f"{day}", "--days", "1")
    assert day_line(out, day).split()[4:] == ["13:00"]  # the one-off window stays


def test_block_a_period_in_local_time(studio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(studio, "availability", "block", "--staff", "maya", "--from", f"{studio.day}T09:00",
               "--to", f"{studio.day}T10:30", "--reason", "Dentist") == 0  # fmt: skip
    capsys.readouterr()
    out = slots_out(studio, capsys, "--from", f"{studio.day}", "--days", "1")
    assert day_line(out, studio.day).split()[4:] == ["10:30", "10:45"]
    rows = asyncio.run(_sql(studio.url, "SELECT starts_at, source FROM availability_blocks"))
    assert rows[0]["source"] == "cli"


def test_show_the_week(studio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    run(studio, "availability", "block", "--staff", "maya", "--from", f"{studio.day}T11:00",
        "--to", f"{studio.day}T12:00", "--reason", "Dentist")  # fmt: skip
    appointment(studio, studio.at("09:30"))
    off = studio.day - timedelta(days=1)
    run(studio, "availability", "block", "--staff", "maya", "--date", f"{off}", "--reason", "Kiln")
    capsys.readouterr()
    assert run(studio, "availability", "show", "--staff", "maya", "--days", "8") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Maya: the next 8 day(s), times in America/New_York"
    assert sum(line.startswith("  ") and "open 09:00–12:00" in line for line in lines) == 6
    at = lines.index(day_line(out, off))
    assert lines[at].endswith("  closed")
    assert lines[at + 1].split() == ["blocked", "00:00–24:00", "Kiln"]
    at = lines.index(day_line(out, studio.day))
    assert lines[at].endswith("open 09:00–11:00")
    assert lines[at + 1].split() == ["blocked", "11:00–12:00", "Dentist"]
    assert lines[at + 2].split()[:2] == ["booked", "09:30–10:30"]
    assert "Wheel lesson · Ann" in lines[at + 2]


def test_the_time_zone_moves_the_hours_with_it(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(studio, "availability", "timezone", "--staff", "maya", "Asia/Kolkata") == 0
    assert "Asia/Kolkata (was America/New_York)" in capsys.readouterr().out
    out = slots_out(studio, capsys, "--from", f"{studio.day}", "--days", "1", "--json")
    local = datetime.combine(studio.day, time(9, 0), tzinfo=ZoneInfo("Asia/Kolkata"))
    assert json.loads(out)[0]["start"] == local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert run(studio, "availability", "timezone", "--staff", "maya", "Mars/Olympus") == 1
    assert "Unknown time zone: Mars/Olympus" in refusal(capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "--staff", "nobody"], "No staff member with id nobody."),
        (["show", "--staff", "maya", "--days", "91"], "must be 1 to 90 days"),
        (["block", "--staff", "maya", "--date", "2026-13-01", "--reason", "x"], "is not a date"),
        (["block", "--staff", "maya", "--from", "2030-01-01T09:00", "--reason", "x"], "--to"),
        (["block", "--staff", "maya", "--date", "2030-01-01", "--reason", " "], "--reason"),
        (["block", "--staff", "maya", "--date", "2030-01-01"], "--reason"),
        (
            ["add", "--staff", "maya", "--from", "2030-01-01 25:00", "--to", "2030-01-01T10:00"],
            "is not a local date and time",
        ),  # fmt: skip
        (
            ["add", "--staff", "maya", "--from", "2030-01-01T10:00", "--to", "2030-01-01T09:00"],
            "The end must be after the start.",
        ),  # fmt: skip
        (
            ["add", "--staff", "maya", "--from", "2001-01-01T09:00", "--to", "2001-01-01T10:00"],
            "That period is already over.",
        ),  # fmt: skip
        (["hours", "--staff", "maya", "--day", "monday", "--off"], "invalid choice"),
        (["hours", "--staff", "maya", "--day", "mon", "--set", "9-12"], "is not a window"),
        (["hours", "--staff", "maya", "--day", "mon", "--set", "12:00-09:00"], "must end after"),
        (["hours", "--staff", "maya", "--day", "mon"], "--set"),
    ],
)
def test_bad_availability_changes_are_one_line(
    studio: Studio, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(studio, "availability", *argv) == 1
    assert message in refusal(capsys)


def test_the_feed_address(
    studio: Studio, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOOKBOT_PUBLIC_URL", raising=False)
    assert run(studio, "availability", "feed", "--staff", "maya") == 0
    path, note = capsys.readouterr().out.strip().split("  ", 1)
    assert path.startswith("/calendar/")
    assert path.endswith(".ics")
    assert "BOOKBOT_PUBLIC_URL is not set" in note
    [row] = asyncio.run(
        _sql(studio.url, "SELECT calendar_token FROM staff WHERE id = :id", id=studio.ids["maya"])
    )
    assert path == f"/calendar/{row['calendar_token']}.ics"  # made once, then kept

    monkeypatch.setenv("BOOKBOT_PUBLIC_URL", "https://bot.example/")
    assert run(studio, "availability", "feed", "--staff", "maya") == 0
    assert capsys.readouterr().out.strip() == f"https://bot.example{path}"
    assert run(studio, "availability", "feed", "--staff", "maya", "--new") == 0
    url, said = capsys.readouterr().out.strip().splitlines()
    assert url.startswith("https://bot.example/calendar/")
    assert url != f"https://bot.example{path}"
    assert said == "new address for Maya: the old one no longer works"


# --- bookbot appointments --------------------------------------------------------------


def test_list_each_view(studio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    booked = appointment(studio, studio.at("09:00"))
    held = appointment(studio, studio.at("11:00"), status="held")
    gone = appointment(
        studio, studio.at("10:00", studio.day + timedelta(days=1)), status="cancelled_by_staff",
        cancel_reason="Kiln day",
    )  # fmt: skip
    past = appointment(studio, datetime.now(UTC) - timedelta(days=3), status="completed")
    for view, expected in (
        ("upcoming", [booked]),
        ("pending", [held]),
        ("past", [past]),
        ("cancelled", [gone]),
    ):
        assert run(studio, "appointments", "list", "--staff", "maya", "--view", view) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == f"{view} appointments (maya): {len(expected)}"
        assert [int(line.split()[0]) for line in lines[1:] if line.split()[0].isdigit()] == (
            expected
        )
    assert run(studio, "appointments", "list") == 0  # everyone: the same, Tom has none
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "upcoming appointments (all staff): 1"
    line = out.splitlines()[1]
    assert "Wheel lesson · Maya → Ann" in line
    assert "09:00–10:00 E" in line  # in Maya's zone: EST or EDT
    assert "confirmed" in line
    assert "£40.00" in line
    assert run(studio, "appointments", "list", "--view", "cancelled") == 0
    assert "reason: Kiln day" in capsys.readouterr().out


def test_staff_cancel_tells_the_customer(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    booked = appointment(studio, studio.at("09:00"))
    # Not a terminal and no --yes: nothing happens.
    assert run(studio, "appointments", "cancel", str(booked), "--reason", "Maya is ill") == 1
    assert "nothing cancelled (add --yes" in capsys.readouterr().out
    assert run(studio, "appointments", "cancel", str(booked), "--reason", "Maya is ill",
               "--yes") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"appointment {booked} cancelled by staff; Ann told"
    [row] = asyncio.run(
        _sql(studio.url, "SELECT status, cancel_reason FROM appointments WHERE id = :id", id=booked)
    )
    assert row == {"status": "cancelled_by_staff", "cancel_reason": "Maya is ill"}
    told = asyncio.run(
        _sql(
            studio.url,
            "SELECT template FROM outbox WHERE customer_id = :c",
            c=studio.ids["Ann"],
        )
    )
    assert {"template": "appointment_cancelled_by_staff"} in told


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cancel", "999", "--reason", "x", "--yes"], "No appointment with id 999."),
        (["cancel", "1", "--reason", "  ", "--yes"], "--reason"),
        (["cancel", "zero", "--reason", "x"], "is not a whole number"),
        (["list", "--staff", "nobody"], "No staff member with id nobody."),
        (["list", "--view", "tomorrow"], "invalid choice"),
    ],
)
def test_bad_appointment_commands_are_one_line(
    studio: Studio, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run(studio, "appointments", *argv) == 1
    assert message in refusal(capsys)


# --- the example tutor studio, end to end ------------------------------------------------


async def _book(url: str, starts_at: datetime) -> int:
    """A customer books Jake's coaching session through the services (hold, confirm)."""
    db = await connect(url)
    clock = SystemClock()
    try:
        studio_id = int(await db.scalar("SELECT id FROM studios WHERE slug = 'tutor-studio'"))
        async with db.transaction(write=False) as tx:
            service = await appointments.service_by_key(tx, studio_id, "coaching-session")
            jake = await appointments.provider_by_key(tx, studio_id, "jake")
        who = await customers.customer_for(
            db, clock, studio_id, "sms", "+15555550123", name="Bea", phone="+15555550123"
        )
        held = await appointments.hold(
            db,
            clock,
            studio_id,
            customer_id=who.id,
            service_id=service.id,
            staff_id=jake.id,
            starts_at=starts_at,
        )
        done = await appointments.confirm(
            db, clock, studio_id, appointment_id=held.id, customer_id=who.id
        )
        return done.id
    finally:
        await db.close()


def test_the_tutor_studio_from_slots_to_a_staff_cancellation(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """examples/tutor-studio.toml: Jake (New York) is open 08:00-12:00 and 13:00-17:00 on
    Wednesdays and teaches his circle 10:00-11:00; a coaching session is 60 minutes plus 15."""
    assert main(["--database", database_url, "demo"]) == 0
    capsys.readouterr()
    today = datetime.now(NY).date()
    wednesday = today + timedelta(days=2 + (2 - (today + timedelta(days=2)).weekday()) % 7)
    tutor = ["--database", database_url]
    coaching = ["slots", "--studio", "tutor-studio", "--staff", "jake"]
    coaching += ["--service", "coaching-session", "--from", f"{wednesday}", "--days", "1"]
    morning = ["08:00", "08:15", "08:30", "08:45"]  # the class takes 10:00-11:00
    afternoon = [f"{h}:{m}" for h in (13, 14, 15) for m in ("00", "15", "30", "45")]

    assert main([*tutor, *coaching]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(f"{wednesday:%a %d %b %Y}, times in America/New_York")
    assert day_line(out, wednesday).split()[4:] == morning + afternoon

    booked = asyncio.run(_book(database_url, resolve_local(
        datetime.combine(wednesday, time(13, 0)), NEW_YORK)[0]))  # fmt: skip
    assert main([*tutor, *coaching]) == 0
    assert day_line(capsys.readouterr().out, wednesday).split()[4:] == morning + afternoon[5:]

    listing = ["appointments", "list", "--studio", "tutor-studio", "--staff", "jake"]
    assert main([*tutor, *listing]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "upcoming appointments (jake): 1"
    assert out[1].split()[0] == str(booked)
    assert "13:00–14:00" in out[1]
    assert "Career coaching (60 min) · Jake Miller → Bea" in out[1]
    assert "€90.00" in out[1]

    cancel = ["appointments", "cancel", str(booked), "--studio", "tutor-studio"]
    assert main([*tutor, *cancel, "--reason", "Jake is ill", "--yes"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"appointment {booked} cancelled by staff; Bea told"
    )
    assert main([*tutor, *listing, "--view", "cancelled"]) == 0
    assert "reason: Jake is ill" in capsys.readouterr().out
    assert main([*tutor, *coaching]) == 0
    assert day_line(capsys.readouterr().out, wednesday).split()[4:] == morning + afternoon
    assert main([*tutor, *cancel, "--reason", "again", "--yes"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"appointment {booked} was cancelled by staff already: nothing changed"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["availability", "block", "--staff", "lucia", "--date", "9999-12-31", "--reason", "x"],
        ["availability", "add", "--staff", "jake", "--from", "9999-12-31T20:00"],
        ["slots", "--staff", "jake", "--service", "trial", "--from", "9999-12-30"],
    ],
    ids=lambda command: command[1],
)
def test_a_date_at_the_end_of_the_calendar_is_one_line_not_a_traceback(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--studio", "tutor-studio"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "years 2000-2999" in err or "write YYYY-MM-DDTHH:MM" in err
    assert "Traceback" not in err
