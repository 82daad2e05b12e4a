"""`bookbot bookings show REF`: staff find a booking by the reference its confirmation gave."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bookbot.cli import main
from bookbot.services.references import booking_reference
from tests.examples import first_bookable_drop_in


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'demo.db'}"


def _book(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    main(["--database", url, "demo"])
    capsys.readouterr()
    session_id = str(first_bookable_drop_in(url))
    argv = ["book", "--dates", session_id, "--phone", "+447700900001", "--name", "Ana"]
    assert main(["--database", url, *argv, "--guests", "2"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"booking (\d+) confirmed .* reference (B-\w+)", out)
    assert match is not None, out
    return int(match.group(1)), match.group(2)


def test_show_by_reference_prints_the_booking(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ident, ref = _book(url, capsys)
    assert ref == booking_reference("class", ident)

    for typed in (ref, ref.lower(), ref.replace("-", " ")):
        assert main(["--database", url, "bookings", "show", typed, "--studio", "clay-studio"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"{ref}: booking {ident}, confirmed\n")
        assert "Open Studio Drop-in for Ana (+447700900001): 2 guest(s), £36.00" in out
        assert len([line for line in out.splitlines() if line.startswith("  - ")]) == 1


def test_an_unknown_or_malformed_reference_is_one_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ident, _ref = _book(url, capsys)
    assert main(["--database", url, "bookings", "show", "nonsense", "--studio", "clay-studio"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == "error: 'nonsense' is not a booking reference (e.g. B-7F3Q)"
    missing = booking_reference("class", ident + 500)
    assert main(["--database", url, "bookings", "show", missing, "--studio", "clay-studio"]) == 1
    assert capsys.readouterr().err.strip() == f"error: no booking {missing} in clay-studio"
    appointment = booking_reference("appointment", ident)
    assert (
        main(["--database", url, "bookings", "show", appointment, "--studio", "clay-studio"]) == 1
    )
    assert f"no booking {appointment}" in capsys.readouterr().err
