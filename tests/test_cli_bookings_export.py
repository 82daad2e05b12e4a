"""`bookbot bookings export --session N`: a session's attendees as CSV, a row per person,
safe to open in a spreadsheet."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from bookbot.cli import main
from bookbot.cli.bookings import EXPORT_HEADER, safe_cell
from bookbot.services import attendees
from bookbot.services.attendees import Attendee
from bookbot.services.references import booking_reference
from bookbot.store.db import connect
from tests.examples import first_bookable_drop_in


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'demo.db'}"


def _book(url: str, session_id: int, phone: str, name: str, guests: int) -> int:
    argv = ["book", "--dates", str(session_id), "--phone", phone, "--name", name]
    assert main(["--database", url, *argv, "--guests", str(guests)]) == 0
    return _last_registration(url)


def _last_registration(url: str) -> int:
    async def read() -> int:
        db = await connect(url)
        try:
            return int(await db.scalar("SELECT MAX(id) FROM registrations"))
        finally:
            await db.close()

    return asyncio.run(read())


def _save(url: str, registration_id: int, people: list[Attendee]) -> None:
    async def write() -> None:
        db = await connect(url)
        try:
            studio = int(
                await db.scalar(
                    "SELECT studio_id FROM registrations WHERE id = :r", {"r": registration_id}
                )
            )
            await attendees.save(db, studio, registration_id, people)
        finally:
            await db.close()

    asyncio.run(write())


def test_a_row_per_attendee_with_formulas_defused(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(["--database", url, "demo"])
    session_id = first_bookable_drop_in(url)
    ana = _book(url, session_id, "+447700900001", "Ana", 2)
    _save(
        url,
        ana,
        [
            Attendee(
                1, "Ana López", "ana@acme.example", '=HYPERLINK("http://x")', "Fitter", "-2+3"
            ),
            Attendee(2, "@Bea"),
        ],
    )
    ben = _book(url, session_id, "+447700900002", "Ben", 1)  # no details: his own name
    capsys.readouterr()

    argv = ["--database", url, "bookings", "export", "--session", str(session_id)]
    assert main([*argv, "--studio", "clay-studio"]) == 0
    out = capsys.readouterr().out
    table = list(csv.reader(io.StringIO(out)))
    assert tuple(table[0]) == EXPORT_HEADER
    ref = booking_reference("class", ana)
    assert table[1:] == [
        [
            ref,
            "Ana",
            "'+447700900001",
            "Ana López",
            "ana@acme.example",
            '\'=HYPERLINK("http://x")',
            "Fitter",
            "'-2+3",
            "2",
            "booked",
        ],
        [ref, "Ana", "'+447700900001", "'@Bea", "", "", "", "", "2", "booked"],
        [
            booking_reference("class", ben),
            "Ben",
            "'+447700900002",
            "Ben",
            "",
            "",
            "",
            "",
            "1",
            "booked",
        ],
    ]

    target = tmp_path / "roster.csv"
    assert main([*argv, "--studio", "clay-studio", "--out", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == out
    assert "3 attendee row(s) written" in capsys.readouterr().err


def test_an_unknown_session_is_one_line(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--database", url, "demo"])
    capsys.readouterr()
    argv = ["--database", url, "bookings", "export", "--session", "999999"]
    assert main([*argv, "--studio", "clay-studio"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: ")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [("=1+1", "'=1+1"), ("+44", "'+44"), ("-1", "'-1"), ("@A1", "'@A1"), ("Ana", "Ana"), ("", "")],
)
def test_safe_cell(cell: str, safe: str) -> None:
    assert safe_cell(cell) == safe
