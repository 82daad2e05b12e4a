"""`bookbot shell` as a newcomer meets it: scripted on stdin, the demo created on first run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def shell(tmp_path: Path, replies: list[str], *args: str) -> str:
    env = {**os.environ, "BOOKBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "bookbot", "shell", *args],
        input="\n".join(replies) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_book_a_wheel_class_for_two_then_cancel_it(tmp_path: Path) -> None:
    # The third Saturday is beyond the studio's 48-hour cancellation cutoff whatever today is.
    booking = ["1", "Wheel Throwing Taster", "3", "2", "confirm"]
    cancelling = ["2", "1", "Cancel this booking", "yes"]

    out = shell(tmp_path, booking + cancelling, "--phone", "+447700900777", "--name", "Ana")

    assert len(booking) < 10
    assert "Hi Ana! I'm the booking assistant of Clay & Kiln." in out
    assert "🎉 Booked! Wheel Throwing Taster" in out
    assert "for 2 people. Total £90.00" in out
    assert "📎 booking-1.ics" in out
    assert "Your booking is cancelled." in out
    assert "You have no upcoming bookings." in out.split("Your booking is cancelled.")[-1]


def test_options_are_numbered_one_per_line_and_spanish_works(tmp_path: Path) -> None:
    out = shell(tmp_path, ["1"], "--lang", "es")
    assert "1. 📅 Reservar una clase\n2. 🗓 Mis reservas\n" in out
    assert "Nuestras clases:" in out


def test_calendar_files_can_be_kept(tmp_path: Path) -> None:
    keep = tmp_path / "ics"
    keep.mkdir()
    shell(tmp_path, ["1", "Wheel Throwing Taster", "3", "1", "confirm"], "--save-to", str(keep))
    [ics] = keep.glob("*.ics")
    assert ics.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")


def test_the_demo_holds_two_studios_and_studio_opens_the_one_named(tmp_path: Path) -> None:
    """The same person (the default phone) switches between the demo's studios with
    --studio, as a deep link would switch them in Telegram; bare, the shell takes the first."""
    assert "Clay & Kiln" in shell(tmp_path, ["2"]).splitlines()[0]

    tutor = shell(tmp_path, ["2"], "--studio", "tutor-studio")

    assert tutor.startswith("Hi Sam! I'm the booking assistant of Lingua & Coach.")
    assert "👤 Book an appointment" in tutor
    assert "What would you like to book?" in tutor
    assert "Clay & Kiln" in shell(tmp_path, []).splitlines()[0]
