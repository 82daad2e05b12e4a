"""`bookbot sessions add` (a one-off session) and `bookbot sessions edit` on both databases:
wall times in the studio's zone, clear refusals, attendees told of a move, and
`sessions cancel --reason` keeping the reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bookbot.cli.common import CommandError, UsageError
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.services.booking import book_session
from bookbot.store.db import Database
from tests import builders
from tests.test_cli_payments import command

NEXT_YEAR = datetime.now(UTC).year + 1


async def _add(settings: Settings, *extra: str) -> int:
    return await command(
        settings, "sessions", "add", "--class", "taster", "--date", f"{NEXT_YEAR}-01-15",
        "--start", "09:00", "--end", "17:00", *extra,
    )  # fmt: skip


async def test_add_then_edit_then_cancel(
    db: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    w = await builders.studio(db)
    await builders.customer(db, w, "ann")
    settings = Settings(database_url=database_url)
    assert (
        await _add(settings, "--capacity", "12", "--instructor", "maya", "--location", "Room 2")
        == 0
    )
    out = capsys.readouterr().out
    assert "added: taster" in out
    assert "12 seats" in out
    row = await db.one("SELECT id, starts_at, pattern_id FROM sessions ORDER BY id DESC LIMIT 1")
    assert row is not None
    assert row["pattern_id"] is None
    assert str(row["starts_at"]).startswith(f"{NEXT_YEAR}-01-15 09:00")  # GMT in January
    session_id = int(row["id"])
    await book_session(db, SystemClock(), w.studio_id, w["ann"], session_id, guests=3)

    with pytest.raises(CommandError, match="Seats taken: 3"):
        await command(settings, "sessions", "edit", str(session_id), "--capacity", "2")
    assert (
        await command(
            settings, "sessions", "edit", str(session_id), "--start", "10:00", "--end", "18:00"
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "1 attendee(s) told of the change" in out
    told = await db.one("SELECT params FROM outbox WHERE template = 'session_changed'")
    assert told is not None
    assert json.loads(told["params"])["sequence"] == 1

    assert (
        await command(
            settings, "sessions", "cancel", str(session_id), "--reason", "Instructor ill", "--yes"
        )
        == 0
    )
    reason = await db.scalar(
        "SELECT cancel_reason FROM sessions WHERE id = :id", {"id": session_id}
    )
    assert reason == "Instructor ill"


async def test_refusals_are_clear(db: Database, database_url: str) -> None:
    await builders.studio(db)
    settings = Settings(database_url=database_url)
    with pytest.raises(CommandError, match="must be after the start"):
        await command(
            settings, "sessions", "add", "--class", "taster", "--date", f"{NEXT_YEAR}-01-15",
            "--start", "17:00", "--end", "09:00", "--capacity", "4",
        )  # fmt: skip
    # The last Sunday of March: London's clocks go from 01:00 to 02:00.
    march = date(NEXT_YEAR, 3, 31)
    gap_day = march - timedelta(days=(march.weekday() + 1) % 7)
    with pytest.raises(CommandError, match="does not exist on"):
        await command(
            settings, "sessions", "add", "--class", "taster", "--date", gap_day.isoformat(),
            "--start", "01:30", "--end", "03:00", "--capacity", "4",
        )  # fmt: skip
    with pytest.raises(CommandError, match="Wheel Instructor|not qualified|qualified"):
        await _add(settings, "--capacity", "4", "--instructor", "rex")
    with pytest.raises(CommandError, match="No class"):
        await command(
            settings, "sessions", "add", "--class", "pottery", "--date", f"{NEXT_YEAR}-01-15",
            "--start", "09:00", "--end", "10:00", "--capacity", "4",
        )  # fmt: skip
    with pytest.raises(CommandError, match="nothing to change"):
        await command(settings, "sessions", "edit", "1")
    assert await db.scalar("SELECT COUNT(*) FROM sessions") == 0
    assert datetime.now(UTC).year < NEXT_YEAR


async def test_add_takes_the_schedule_instructor_when_qualified_and_free(
    db: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tester's finding: a one-off session had the schedule's capacity and place but
    # no instructor, while the class page named one.
    w = await builders.studio(db)
    first = date(NEXT_YEAR, 1, 4)
    await builders.pattern(
        db, w, "weekly", "taster", "FREQ=WEEKLY;COUNT=1", start=first, at=time(9, 0),
        instructor="maya",
    )  # fmt: skip
    settings = Settings(database_url=database_url)
    assert await _add(settings) == 0
    assert "instructor: Maya" in capsys.readouterr().out
    taught = await db.scalar("SELECT instructor_id FROM sessions WHERE pattern_id IS NULL")
    assert taught == w["maya"]

    async with db.transaction() as tx:  # the schedule's instructor not qualified: none
        await tx.execute("UPDATE schedule_patterns SET instructor_id = :r", {"r": w["rex"]})
    assert await _add(settings, "--start", "18:00", "--end", "19:00") == 0
    out = capsys.readouterr().out
    assert "no instructor: the schedule's was not assigned (" in out
    assert "Rex" in out
    untaught = await db.scalar(
        "SELECT instructor_id FROM sessions WHERE pattern_id IS NULL ORDER BY id DESC LIMIT 1"
    )
    assert untaught is None


async def test_add_reads_times_as_the_chat_does_and_lists_with_a_comma(
    db: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tester's finding: '--start 9am' was refused though /session takes it, and a
    # one-day session read 'Fri 15 Jan 2027 09:00–17:00' beside a course's
    # 'Wed 2 – Fri 4 Dec 2026, 09:00–17:00 daily'.
    await builders.studio(db)
    settings = Settings(database_url=database_url)
    assert await _add(settings, "--start", "9am", "--end", "5:30pm", "--capacity", "6") == 0
    day = date(NEXT_YEAR, 1, 15).strftime("%a %-d %b %Y")
    assert f"{day}, 09:00–17:30 GMT" in capsys.readouterr().out
    assert (
        await _add(settings, "--date", f"{NEXT_YEAR}-01-20", "--days", "2", "--capacity", "6") == 0
    )
    capsys.readouterr()
    assert await command(settings, "sessions", "list") == 0
    listed = capsys.readouterr().out
    assert f"{day}, 09:00–17:30 GMT" in listed
    assert ", 09:00–17:00 daily" in listed
    with pytest.raises(UsageError, match="not a time"):
        await _add(settings, "--start", "soon")
