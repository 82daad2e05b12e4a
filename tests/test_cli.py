"""The `bookbot` command: help everywhere, a re-runnable demo, previews, clear errors."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bookbot.cli import build_parser, main
from bookbot.cli.common import subparsers
from bookbot.cli.failures import failure_message
from bookbot.store.db import UniqueViolation
from tests.conftest import POSTGRES_URL
from tests.examples import first_bookable_drop_in


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


def test_every_option_and_command_has_help() -> None:
    parser = build_parser()
    missing = []
    for command in [parser, *subparsers(parser)]:
        for action in command._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{command.prog}: {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                described = {a.dest for a in action._choices_actions if a.help}
                missing += [f"{command.prog} {n}" for n in action.choices if n not in described]
    assert missing == []


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'demo.db'}"


def refusal(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a refusal prints on stderr (and nothing on stdout)."""
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("error: ")
    return line


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


def test_demo_loads_the_training_centre_with_its_three_day_course(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database", url, "demo"]) == 0
    loaded = capsys.readouterr().out
    assert main(["--database", url, "sessions", "list", "--studio", "bristol-gas-training"]) == 0
    listed = capsys.readouterr().out

    assert "acs-core-fortnightly:" in loaded
    assert "heat-pump-monthly:" in loaded
    courses = [line for line in listed.splitlines() if "Gas Safe ACS Core" in line]
    assert courses
    # One item per course: Wednesday to Friday, the same hours each day.
    assert all("Wed " in line and " – Fri " in line for line in courses)
    assert all("09:00–17:00 daily" in line for line in courses)
    assert all("12/12 seats left" in line for line in courses)


def test_booking_and_refusal_from_the_command_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--database", url, "demo"])
    capsys.readouterr()
    session_id = str(first_bookable_drop_in(url))

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
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite3.connect(tmp_path / "demo.db").execute("CREATE TABLE unrelated (x INTEGER)")
    assert main(["--database", url, "sessions", "list"]) == 1
    assert "run `bookbot db upgrade`" in refusal(capsys)


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


def test_database_is_accepted_after_the_subcommand(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--database", url]) == 0
    capsys.readouterr()
    assert main(["sessions", "list", "--limit", "1", "--database", url]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    assert main(["sessions", "--database", url, "list", "--limit", "1"]) == 0


def test_the_later_database_option_wins(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--database", url, "demo"])
    capsys.readouterr()
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert main(["--database", elsewhere, "sessions", "list", "--database", url]) == 0
    capsys.readouterr()
    assert main(["--database", url, "sessions", "list", "--database", elsewhere]) == 1
    assert "no database at" in refusal(capsys)


@pytest.mark.parametrize(
    "command",
    [
        ["sessions", "list"],
        ["sessions", "show", "1"],
        ["book", "--session", "1", "--phone", "+447700900123"],
        ["cancel", "1"],
        ["staff", "assign", "--session", "1", "--staff", "tom"],
        ["passes", "issue", "--phone", "+447700900123", "--class", "x", "--sessions", "2"],
        ["jobs", "--once"],
        ["run"],
    ],
    ids=" ".join,
)
def test_a_missing_sqlite_file_is_refused_and_not_created(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nowhere" / "bookbot.db"

    assert main(["--database", f"sqlite:///{path}", *command]) == 1

    line = refusal(capsys)
    assert f"no database at {path}: run `bookbot demo`" in line
    assert "`bookbot db upgrade`" in line
    assert not path.exists()
    assert not path.parent.exists()


def test_shell_after_a_refusal_still_creates_the_demo(tmp_path: Path) -> None:
    env = {**os.environ, "BOOKBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bookbot.db'}"}

    def bookbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bookbot", *args],
            input="1\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    listing = bookbot("sessions", "list")
    assert listing.returncode == 1
    assert "Traceback" not in listing.stderr
    assert not (tmp_path / "bookbot.db").exists()
    # A blank file, as earlier versions left behind when opening created it.
    sqlite3.connect(tmp_path / "bookbot.db").close()
    (tmp_path / "bookbot.db").touch()
    chat = bookbot("shell")
    assert chat.returncode == 0, chat.stderr
    assert "Creating the demo studio" in chat.stderr
    assert "Book a class" in chat.stdout


def test_a_folder_instead_of_a_sqlite_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = f"sqlite:///{tmp_path}"
    assert main(["--database", folder, "sessions", "list"]) == 1
    assert "cannot open the database at" in refusal(capsys)
    assert main(["--database", folder, "db", "upgrade"]) == 1
    assert "is a folder, not a database file" in refusal(capsys)


def test_db_upgrade_creates_missing_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "bookbot.db"
    assert main(["db", "upgrade", "--database", f"sqlite:///{path}"]) == 0
    assert path.exists()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["sessions", "list", "--limit", "0"], "argument --limit: must be 1 or more, not 0"),
        (["sessions", "list", "--limit", "-5"], "argument --limit: must be 1 or more, not -5"),
        (["sessions", "list", "--limit", "ten"], "argument --limit: 'ten' is not a whole number"),
        (["sessions", "show", "-1"], "must be 1 or more"),
        (["sessions", "generate", "--pattern", "x", "--weeks", "0"], "--weeks: must be 1 or more"),
        (["demo", "--weeks", "-2"], "argument --weeks: must be 1 or more, not -2"),
        (["book", "--session", "1", "--phone", "+447700900123", "--guests", "0"], "--guests"),
        (["book", "--dates", "3,-4", "--phone", "+447700900123"], "--dates: '3,-4': give ids"),
        (["book", "--session", "1", "--phone", "07700 900123"], "in international form"),
        (["book", "--session", "1", "--phone", "+44 20 7946 010"], "numbering plan"),
        (["passes", "issue", "--phone", "+1 555 000 1111", "--class", "x"], "--phone: '+1 555"),
        (
            ["passes", "issue", "--phone", "+447700900123", "--class", "x", "--days", "-30"],
            "--days",
        ),
        (
            ["passes", "issue", "--phone", "+447700900123", "--class", "x", "--sessions", "0"],
            "--sessions",
        ),
        (
            ["passes", "issue", "--phone", "+447700900123", "--class", "x", "--grace-hours", "-1"],
            "must be 0 or more",
        ),
        (["shell", "--phone", "call me"], "--phone: 'call me' is not a valid phone number"),
        (["cancel", "0"], "argument BOOKING_ID: must be 1 or more"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["book", "--session", "1"], "the following arguments are required: --phone"),
    ],
)
def test_bad_values_are_one_line_and_exit_1(
    command: list[str], message: str, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database", url, *command]) == 1
    line = refusal(capsys)
    assert message in line
    assert line.endswith("--help`)")


def test_phones_are_stored_in_e164_whatever_the_spelling(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--database", url, "demo"])
    capsys.readouterr()
    session_id = str(first_bookable_drop_in(url))
    for spelling in ("+44 7700 900001", "0044 (0)7700-900001", "+447700900001"):
        book = ["book", "--dates", session_id, "--phone", spelling, "--name", "Ana"]
        assert main(["--database", url, *book]) in (0, 1), capsys.readouterr().err
    capsys.readouterr()

    db = sqlite3.connect(tmp_path / "demo.db")
    assert db.execute("SELECT phone FROM customers").fetchall() == [("+447700900001",)]
    assert db.execute("SELECT address FROM channel_identities").fetchall() == [("+447700900001",)]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", [["sessions", "list"], ["db", "upgrade"]], ids=" ".join)
def test_an_unreachable_server_is_one_line(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://someone:secret@127.0.0.1:{_closed_port()}/bookbot"
    assert main(["--database", url, *command]) == 1
    line = refusal(capsys)
    assert "cannot open the database at postgresql://someone:***@127.0.0.1:" in line
    assert "is it running there?" in line
    assert "secret" not in line


def _postgres_url(**changes: str) -> str:
    """The test server's URL with another database name or user (nothing is created)."""
    parts = urlsplit(POSTGRES_URL.replace("+asyncpg", ""))
    host = parts.netloc.rpartition("@")[2]
    user = changes.get("user", parts.username or "postgres")
    path = "/" + changes.get("database", parts.path.lstrip("/"))
    return urlunsplit(parts._replace(netloc=f"{user}@{host}", path=path))


@pytest.mark.parametrize("command", [["sessions", "list"], ["db", "upgrade"]], ids=" ".join)
@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="needs BOOKBOT_TEST_POSTGRES_URL")
def test_a_database_that_does_not_exist_is_one_line(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = _postgres_url(database="bookbot_no_such_database")
    assert main(["--database", url, *command]) == 1
    line = refusal(capsys)
    assert 'database "bookbot_no_such_database" does not exist' in line
    assert "create it (createdb) or fix --database" in line


@pytest.mark.parametrize("command", [["sessions", "list"], ["db", "upgrade"]], ids=" ".join)
@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="needs BOOKBOT_TEST_POSTGRES_URL")
def test_a_role_that_does_not_exist_is_one_line(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = _postgres_url(user="bookbot_no_such_role")
    assert main(["--database", url, *command]) == 1
    line = refusal(capsys)
    assert 'role "bookbot_no_such_role" does not exist' in line
    assert "check the user and password" in line


def _check_failure() -> sqlite3.IntegrityError:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE passes (n INTEGER CONSTRAINT ck_passes_punches CHECK (n >= 0))")
    try:
        db.execute("INSERT INTO passes VALUES (-1)")
    except sqlite3.IntegrityError as error:
        return error
    raise AssertionError("the CHECK constraint did not fire")


def test_a_failed_constraint_is_one_line() -> None:
    import asyncpg

    check = _check_failure()
    wrapped = RuntimeError("while loading")
    wrapped.__cause__ = check
    pg = asyncpg.CheckViolationError(
        'new row for relation "passes" violates check constraint "ck_passes_punches"'
    )
    for error in (check, wrapped, pg, UniqueViolation("UNIQUE constraint failed: customers.phone")):
        message = failure_message(error, "sqlite:///x.db")
        assert message is not None
        assert message.startswith("the database refused the change: ")
    assert "CHECK constraint failed: ck_passes_punches" in (failure_message(wrapped, None) or "")
    assert failure_message(RuntimeError("a bug"), None) is None  # bugs keep their traceback


# --- bookbot jobs: one bounded pass, and a clean stop ------------------------------------

_CHANNEL_SETTINGS = ("BOOKBOT_TELEGRAM", "BOOKBOT_TWILIO", "BOOKBOT_PUBLIC_URL")


def _jobs_env(database_url: str) -> dict[str, str]:
    """The environment with no channel configured: notices to SMS customers go nowhere."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(_CHANNEL_SETTINGS)}
    return {**kept, "BOOKBOT_DATABASE_URL": database_url}


async def _sql(database_url: str, statement: str) -> int:
    from bookbot.store.db import connect

    db = await connect(database_url)
    try:
        async with db.transaction() as tx:
            return await tx.execute(statement)
    finally:
        await db.close()


def _demo_with_due_sms_notices(database_url: str, capsys: pytest.CaptureFixture[str]) -> int:
    """The demo studio, three SMS customers booked, their reminders due now; how many."""
    assert main(["--database", database_url, "demo"]) == 0
    session_id = str(first_bookable_drop_in(database_url))
    for n in range(3):
        phone = f"+44770090010{n}"
        command = ["--database", database_url, "book", "--dates", session_id, "--phone", phone]
        assert main(command) == 0
    capsys.readouterr()
    return asyncio.run(
        _sql(database_url, "UPDATE outbox SET due_at = created_at WHERE status = 'pending'")
    )


def _problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if "Traceback" in line or " ERROR " in line]


def test_jobs_once_does_one_pass_and_exits(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    due = _demo_with_due_sms_notices(database_url, capsys)
    assert due >= 3

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bookbot", "jobs", "--once"],
        env=_jobs_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert _problems(done.stdout + done.stderr) == []
    # Nowhere to send them here: skipped at once, not after a 1/s SMS token each.
    assert f"0 sent, 0 retried, 0 failed, {due} skipped" in done.stderr
    assert time.monotonic() - started < 60


def test_jobs_stops_cleanly_on_sigterm(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _demo_with_due_sms_notices(database_url, capsys)
    jobs = subprocess.Popen(
        [sys.executable, "-m", "bookbot", "jobs"],
        env=_jobs_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(120, jobs.kill)  # a hung process fails the test, not the run
    watchdog.start()
    try:
        assert jobs.stdout is not None
        seen = []
        for line in jobs.stdout:
            seen.append(line)
            if "jobs running" in line:
                break
        jobs.send_signal(signal.SIGTERM)
        rest, _ = jobs.communicate(timeout=110)
    finally:
        watchdog.cancel()
    output = "".join(seen) + rest

    assert jobs.returncode == 0, output
    assert "stopped cleanly" in output
    assert _problems(output) == []
