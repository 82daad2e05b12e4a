"""`bookbot recurring add|list|end` and `bookbot report sessions` on both databases, around
today's real clock (Maya in New York, 09:00-12:00 every day; the CLI appointments' studio)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest

from bookbot.cli.report_sessions import major
from tests.test_cli_appointments import NY, Studio, _build, _sql, appointment, run

PHONE = "+447700900123"


@pytest.fixture
def studio(database_url: str) -> Studio:
    ids = asyncio.run(_build(database_url))
    asyncio.run(_sql(database_url, "UPDATE customers SET phone = :p", p=PHONE))
    return Studio(database_url, ids, datetime.now(NY).date() + timedelta(days=7))


def test_add_list_and_end_a_fortnightly_series(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    day = studio.day
    appointment(studio, studio.at("10:30", day + timedelta(days=14)))  # a clash
    weekday = day.strftime("%a").lower()
    assert (
        run(
            studio,
            "recurring",
            "add",
            "--phone",
            PHONE,
            "--service",
            "lesson",
            "--staff",
            "maya",
            "--weekday",
            weekday,
            "--time",
            "10:00",
            "--every",
            "2",
            "--from",
            day.isoformat(),
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "every 2 weeks" in out
    assert out.count("  booked  ") == 2
    assert out.count("  skipped ") == 1
    assert ": clash" in out
    [series] = asyncio.run(_sql(studio.url, "SELECT id, source FROM recurring_bookings"))
    assert series["source"] == "cli"
    occurrences = asyncio.run(
        _sql(
            studio.url,
            "SELECT occurrence_date, starts_at FROM appointments"
            " WHERE recurring_booking_id = :id ORDER BY occurrence_date",
            id=series["id"],
        )
    )
    assert [o["occurrence_date"] for o in occurrences] == [day, day + timedelta(days=28)]
    told = asyncio.run(_sql(studio.url, "SELECT template FROM outbox ORDER BY id"))
    assert {"recurring_created", "recurring_skipped"} <= {t["template"] for t in told}

    assert run(studio, "recurring", "list", "--staff", "maya") == 0
    listing = capsys.readouterr().out
    assert f"{series['id']:>5}  every 2 weeks" in listing
    assert "Wheel lesson · Maya → Ann" in listing

    assert run(studio, "recurring", "end", str(series["id"]), "--reason", "moving away") == 0
    ended = capsys.readouterr().out
    assert "ended; Ann told" in ended
    assert ended.count("  cancelled ") == 2
    statuses = asyncio.run(
        _sql(
            studio.url,
            "SELECT status FROM appointments WHERE recurring_booking_id = :id",
            id=series["id"],
        )
    )
    assert {s["status"] for s in statuses} == {"cancelled_by_customer"}
    assert run(studio, "recurring", "end", str(series["id"])) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert run(studio, "recurring", "list") == 0
    assert "active recurring bookings (all staff): 0" in capsys.readouterr().out


def test_report_sessions_counts_held_sessions_per_member(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    first = date(2026, 6, 2)
    for offset, status in (
        (0, "completed"),
        (7, "completed"),
        (14, "no_show"),
        (21, "cancelled_by_customer"),
    ):
        appointment(studio, studio.at("10:00", first + timedelta(days=offset)), status=status)
    appointment(studio, studio.at("10:00", date(2026, 7, 1)), status="completed")  # July
    assert run(studio, "report", "sessions", "--staff", "maya", "--month", "2026-06") == 0
    out = capsys.readouterr().out
    assert "sessions held with Maya, June 2026 (America/New_York): 3 by 1 member(s)" in out
    assert "to invoice in all: £120.00" in out
    assert run(studio, "report", "sessions", "--staff", "maya", "--month", "2026-06", "--csv") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "member,phone,held,no_shows,from_series,amount,paid,to_invoice,currency",
        f"Ann,{PHONE},3,1,0,120.00,0.00,120.00,GBP",
    ]


def test_a_bad_month_or_weekday_is_refused(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(studio, "report", "sessions", "--staff", "maya", "--month", "June") == 1
    assert "--month: a month like 2026-11, not 'June'" in capsys.readouterr().err
    assert (
        run(
            studio,
            "recurring",
            "add",
            "--phone",
            PHONE,
            "--service",
            "lesson",
            "--staff",
            "maya",
            "--weekday",
            "someday",
            "--time",
            "10:00",
            "--from",
            "2026-12-01",
        )
        == 1
    )
    assert "a weekday like tue or tuesday" in capsys.readouterr().err
    assert (
        run(
            studio,
            "recurring",
            "add",
            "--phone",
            PHONE,
            "--service",
            "lesson",
            "--staff",
            "maya",
            "--weekday",
            "tue",
            "--time",
            "10am",
            "--from",
            "2026-12-01",
        )
        == 1
    )
    assert "a start time is HH:MM" in capsys.readouterr().err


def test_the_sessions_csv_writes_amounts_in_the_currencys_own_major_unit() -> None:
    # Yen have no minor unit: 4000 is ¥4000, not 40.00.
    assert [major(4000, "GBP"), major(4000, "JPY"), major(5, "EUR")] == ["40.00", "4000", "0.05"]
