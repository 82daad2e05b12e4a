"""The `bookbot` command: help everywhere, a re-runnable demo, previews, clear errors."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from bookbot.cli import build_parser, main


def _command_paths(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    paths = []
    for action in parser._actions:  # argparse keeps subcommands here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.append((*prefix, name))
                paths += _command_paths(sub, (*prefix, name))
    return paths


COMMANDS = _command_paths(build_parser())


def test_the_expected_commands_exist() -> None:
    expected = {
        ("db", "upgrade"),
        ("studio", "load"),
        ("sessions", "generate"),
        ("sessions", "list"),
        ("staff", "assign"),
        ("staff", "unassign"),
        ("demo",),
        ("book",),
        ("cancel",),
    }
    assert expected <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: bookbot" in capsys.readouterr().out


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'demo.db'}"


def test_demo_twice_then_preview_shows_18_00_across_dst(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database", url, "demo"]) == 0
    first = capsys.readouterr().out
    assert main(["--database", url, "demo"]) == 0
    second = capsys.readouterr().out
    assert (
        main(["--database", url, "sessions", "generate", "--pattern", "monday-course", "--preview"])
        == 0
    )
    preview = capsys.readouterr().out

    assert "monday-course: 6 new sessions" in first
    assert "nothing changed" in second
    assert "monday-course: 0 new sessions, 6 already there" in second
    dates = [line for line in preview.splitlines() if line.startswith("  Mon")]
    assert len(dates) == 6
    assert all("18:00–20:00" in line for line in dates)
    assert {line.rsplit("  ", 1)[0].split()[-1] for line in dates} == {"GMT", "BST"}


def test_booking_and_refusal_from_the_command_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--database", url, "demo"])
    main(["--database", url, "sessions", "list", "--limit", "1"])
    session_id = capsys.readouterr().out.strip().splitlines()[-1].split()[0]

    assert (
        main(
            [
                "--database",
                url,
                "book",
                "--session",
                session_id,
                "--phone",
                "+447700900001",
                "--guests",
                "2",
            ]
        )
        == 1
    )
    assert "is booked as drop_in" in capsys.readouterr().err  # the first session is a drop-in
    assert (
        main(
            [
                "--database",
                url,
                "book",
                "--dates",
                session_id,
                "--phone",
                "+447700900001",
                "--guests",
                "9",
            ]
        )
        == 1
    )
    assert "Only 8 seats left" in capsys.readouterr().err
    assert (
        main(
            [
                "--database",
                url,
                "book",
                "--dates",
                session_id,
                "--phone",
                "+447700900001",
                "--guests",
                "2",
            ]
        )
        == 0
    )
    assert "£36.00" in capsys.readouterr().out


def test_staff_issue_a_punch_pass(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--database", url, "demo"])
    args = [
        "passes",
        "issue",
        "--phone",
        "+447700900009",
        "--class",
        "open-studio",
        "--sessions",
        "8",
        "--days",
        "90",
    ]
    assert main(["--database", url, *args]) == 0
    assert "punch for open-studio" in capsys.readouterr().out
    assert (
        main(["--database", url, "passes", "issue", "--phone", "+447700900009", "--class", "nope"])
        == 1
    )
    assert "No class with id nope" in capsys.readouterr().err
    assert main(["--database", url, *args[:-4], "--kind", "punch"]) == 1
    assert "A punch pass needs a number of sessions." in capsys.readouterr().err


def test_commands_on_an_empty_database_say_what_to_do(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database", url, "sessions", "list"]) == 1
    assert "run `bookbot db upgrade`" in capsys.readouterr().err


def test_invalid_studio_file_lists_each_problem(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[studio]\nslug = "x"\nname = "X"\ntimezone = "Mars/Olympus"\ncurrency = "GBP"\n'
    )
    assert main(["--database", url, "studio", "load", str(bad)]) == 2
    out = capsys.readouterr().out
    assert "studio.timezone" in out
    assert "Mars/Olympus" in out


def test_console_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bookbot", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "demo" in done.stdout
