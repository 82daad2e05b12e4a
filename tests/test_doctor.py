"""`bookbot doctor`: silent on the demo database, one line per broken row and exit 1."""

from __future__ import annotations

import asyncio

import pytest

from bookbot.cli import main
from bookbot.store.db import connect
from tests.examples import first_bookable_drop_in


async def _run(url: str, *statements: str, **params: object) -> None:
    """The statements in one transaction, each given the same parameters."""
    db = await connect(url)
    try:
        async with db.transaction() as tx:
            for sql in statements:
                await tx.execute(sql, params)
    finally:
        await db.close()


def _book_first_session(url: str, capsys: pytest.CaptureFixture[str]) -> int:
    """Book 2 people into the demo's first session (a drop-in on the wheels); its id."""
    capsys.readouterr()
    session_id = str(first_bookable_drop_in(url))
    args = ["--dates", session_id, "--phone", "+447700900001", "--guests", "2"]
    assert main(["--database", url, "book", *args]) == 0
    return int(capsys.readouterr().out.split()[1])  # "booking 1 confirmed for ..."


def test_the_demo_database_has_nothing_wrong(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database", database_url, "demo", "--weeks", "2"]) == 0
    _book_first_session(database_url, capsys)

    assert main(["--database", database_url, "doctor"]) == 0

    bot, line = capsys.readouterr().out.splitlines()
    # The training centre's own bot, whose fake token is written in its file (a demo).
    assert bot == (
        "bristol-gas-training: own telegram bot 700000001"
        " (token written in the studio file: for demos only)"
    )
    assert line.startswith("doctor: no violations (3 studio(s) in ")


def test_a_studios_bot_whose_token_variable_is_unset_is_flagged(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["--database", database_url, "demo", "--weeks", "1"]) == 0
    monkeypatch.delenv("BRISTOL_BOT_TOKEN", raising=False)
    asyncio.run(
        _run(
            database_url,
            "UPDATE studio_channels SET token = NULL, token_env = 'BRISTOL_BOT_TOKEN'",
        )
    )
    capsys.readouterr()
    assert main(["--database", database_url, "doctor", "--studio", "bristol-gas-training"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "bristol-gas-training: own telegram bot 700000001:"
        " BRISTOL_BOT_TOKEN is unset here (the bot is not served without it)"
    )
    monkeypatch.setenv("BRISTOL_BOT_TOKEN", "700000001:real")
    assert main(["--database", database_url, "doctor", "--studio", "clay-studio"]) == 0
    [line] = capsys.readouterr().out.splitlines()  # another studio's bot is not listed
    assert line.startswith("doctor: no violations (1 studio(s) in ")


def test_an_allocation_of_a_cancelled_registration_is_reported_with_exit_1(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The leftover of issue 11's cancel of a held registration: rows freed, wheels kept."""
    assert main(["--database", database_url, "demo", "--weeks", "2"]) == 0
    booking = _book_first_session(database_url, capsys)
    asyncio.run(
        _run(
            database_url,
            "UPDATE registrations SET status = 'cancelled' WHERE id = :id",
            "UPDATE registration_sessions SET status = 'cancelled' WHERE registration_id = :id",
            "UPDATE outbox SET status = 'withdrawn'",
            id=booking,
        )
    )

    assert main(["--database", database_url, "doctor", "--studio", "clay-studio"]) == 1

    violation, summary = capsys.readouterr().out.splitlines()
    assert violation.startswith("clay-studio: ended-allocation: allocation ")
    assert violation.endswith(f"belongs to cancelled registration {booking}")
    assert summary.startswith("doctor: 1 violation(s): ended-allocation 1 (1 studio(s) in ")


def test_an_unknown_studio_is_one_line(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database", database_url, "demo", "--weeks", "1"]) == 0
    capsys.readouterr()

    assert main(["--database", database_url, "doctor", "--studio", "nope"]) == 1

    assert capsys.readouterr().err == "error: no studio 'nope' in this database\n"
