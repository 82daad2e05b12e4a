"""`bookbot conflicts list|cancel|keep` on both databases, around today's real clock (Maya
in New York, 09:00-12:00 every day; the CLI appointments' studio): hours changed with
`bookbot availability hours` leave two lessons outside; one is kept, one cancelled, and a
second go at either changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bookbot.cli import main
from bookbot.cli.demo import TUTOR_EXAMPLE, example_path
from tests.test_cli_appointments import NY, Studio, _build, _sql, appointment, run

MADRID = ZoneInfo("Europe/Madrid")


@pytest.fixture
def studio(database_url: str) -> Studio:
    ids = asyncio.run(_build(database_url))
    return Studio(database_url, ids, datetime.now(NY).date() + timedelta(days=7))


def _conflicts(s: Studio) -> list[tuple[object, ...]]:
    rows = asyncio.run(
        _sql(
            s.url,
            "SELECT appointment_id, reason, resolution FROM appointment_conflicts ORDER BY id",
        )
    )
    return [(r["appointment_id"], r["reason"], r["resolution"]) for r in rows]


def test_hours_changed_then_keep_one_and_cancel_the_other(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    first = appointment(studio, studio.at("09:00"))  # busy 09:00-10:15
    second = appointment(studio, studio.at("10:30"))  # busy 10:30-11:45
    weekday = studio.day.strftime("%a").lower()

    hours = ["availability", "hours", "--staff", "maya", "--day", weekday, "--set", "11:45-12:00"]
    assert run(studio, *hours) == 0
    assert _conflicts(studio) == [(first, "outside_hours", None), (second, "outside_hours", None)]
    capsys.readouterr()

    assert run(studio, "conflicts", "list", "--staff", "maya") == 0
    out = capsys.readouterr().out
    assert "open conflicts (maya): 2" in out
    assert f"outside hours  (appointment {first})" in out
    ids = [int(line.split()[0]) for line in out.splitlines() if "(appointment " in line]
    assert len(ids) == 2

    assert run(studio, "conflicts", "keep", str(ids[0])) == 0
    assert "kept: Maya" in capsys.readouterr().out
    assert run(studio, "conflicts", "cancel", str(ids[1]), "--reason", "Hours changed") == 0
    assert "Ann told, with the reason" in capsys.readouterr().out

    assert _conflicts(studio) == [
        (first, "outside_hours", "kept"),
        (second, "outside_hours", "cancelled"),
    ]
    statuses = asyncio.run(_sql(studio.url, "SELECT id, status FROM appointments ORDER BY id"))
    assert [r["status"] for r in statuses] == ["confirmed", "cancelled_by_staff"]
    additions = asyncio.run(
        _sql(studio.url, "SELECT starts_at, ends_at, source FROM availability_additions")
    )
    assert [(r["starts_at"], r["ends_at"], r["source"]) for r in additions] == [
        (studio.at("09:00"), studio.at("10:15"), "cli")
    ]

    assert run(studio, "conflicts", "cancel", str(ids[0]), "--reason", "changed my mind") == 0
    assert "already handled (it was kept)" in capsys.readouterr().out
    assert run(studio, "conflicts", "keep", str(ids[1])) == 0
    assert "already handled (its appointment was cancelled)" in capsys.readouterr().out
    assert run(studio, "conflicts", "list") == 0
    assert "open conflicts (all staff): 0" in capsys.readouterr().out


def test_an_unknown_conflict_is_refused(studio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(studio, "conflicts", "keep", "99") == 1
    assert "No conflict with id 99." in capsys.readouterr().err


def test_reloading_the_studio_file_flags_what_its_new_hours_leave_out(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = example_path(TUTOR_EXAMPLE)
    assert main(["--database", database_url, "studio", "load", str(original)]) == 0
    monday = datetime.now(MADRID).date() + timedelta(days=3)
    monday += timedelta(days=-monday.weekday() % 7)
    if date(monday.year, 12, 20) < monday < date(monday.year, 12, 29):
        monday += timedelta(days=14)  # clear of the example's Christmas block
    starts = datetime.combine(monday, time(9), MADRID)  # Lucía's Monday opens at 09:00
    rows = asyncio.run(_sql(database_url, "SELECT id, studio_id FROM staff WHERE key = 'lucia'"))
    lucia, studio_id = rows[0]["id"], rows[0]["studio_id"]
    service = asyncio.run(
        _sql(database_url, "SELECT id FROM services WHERE key = 'spanish-lesson'")
    )[0]["id"]
    asyncio.run(
        _sql(
            database_url,
            "INSERT INTO customers (studio_id, name, created_at) VALUES (:s, 'Ann', :now)",
            s=studio_id,
            now=datetime.now(UTC),
        )
    )
    customer_id = asyncio.run(_sql(database_url, "SELECT id FROM customers"))[0]["id"]
    asyncio.run(
        _sql(
            database_url,
            "INSERT INTO appointments (studio_id, service_id, staff_id, customer_id, starts_at,"
            " ends_at, busy_from, busy_until, status, price_minor, currency, created_at,"
            " updated_at) VALUES (:s, :sv, :p, :c, :start, :end, :start, :busy, 'confirmed',"
            " 4000, 'EUR', :now, :now)",
            s=studio_id,
            sv=service,
            p=lucia,
            c=customer_id,
            start=starts,
            end=starts + timedelta(hours=1),
            busy=starts + timedelta(minutes=75),
            now=datetime.now(UTC),
        )
    )
    edited = tmp_path / "tutor.toml"
    edited.write_text(
        original.read_text().replace(
            '{ day = "mon", start = "09:00", end = "13:00" }',
            '{ day = "mon", start = "11:00", end = "13:00" }',
        )
    )

    assert main(["--database", database_url, "studio", "load", str(edited)]) == 0
    capsys.readouterr()
    listing = ["conflicts", "list", "--studio", "tutor-studio", "--staff", "lucia"]
    assert main(["--database", database_url, *listing]) == 0

    out = capsys.readouterr().out
    assert "open conflicts (lucia): 1" in out
    assert "Spanish lesson (60 min) · Lucía Martín → Ann  outside hours" in out
