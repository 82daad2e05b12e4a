"""The commands run on uvloop where it is installed, on asyncio's own loop when asked."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sys
from pathlib import Path

import pytest

from bookbot.cli import event_loop, main

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


async def _loop_described() -> str:
    return event_loop.describe(asyncio.get_running_loop())


@pytest.mark.skipif(not HAS_UVLOOP, reason="uvloop is not installed here")
def test_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(event_loop.ENV, raising=False)
    assert event_loop.run(_loop_module()).startswith("uvloop")
    assert event_loop.run(_loop_described()).startswith("uvloop 0.")


@pytest.mark.skipif(not HAS_UVLOOP, reason="uvloop is not installed here")
def test_the_choice_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(event_loop.ENV, "asyncio")
    assert event_loop.run(_loop_module(), loop="uvloop").startswith("uvloop")


@pytest.mark.parametrize("value", ["asyncio", " Asyncio "])
def test_asyncio_when_asked(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(event_loop.ENV, value)
    assert event_loop.run(_loop_module()).startswith("asyncio")
    assert event_loop.run(_loop_described()) == "asyncio"


def test_asyncio_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(event_loop.ENV, raising=False)
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError
    assert event_loop.run(_loop_module()).startswith("asyncio")


def test_insisting_on_uvloop_without_it_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)
    monkeypatch.setenv(event_loop.ENV, "uvloop")
    with pytest.raises(ValueError, match="uvloop is not installed"):
        event_loop.run(_loop_module())


def test_an_unknown_loop_is_refused_on_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(event_loop.ENV, "trio")
    assert main(["--database", "sqlite:///:memory:", "jobs", "--once"]) == 1
    assert capsys.readouterr().err == (
        "error: BOOKBOT_EVENT_LOOP must be one of uvloop, asyncio, not 'trio'\n"
    )


@pytest.mark.parametrize("choice", ["uvloop", "asyncio"])
def test_a_long_running_command_logs_its_loop(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    choice: str,
) -> None:
    if choice == "uvloop" and not HAS_UVLOOP:
        pytest.skip("uvloop is not installed here")
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    for name in ("BOOKBOT_TELEGRAM_TOKEN", "BOOKBOT_TWILIO_ACCOUNT_SID"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--database", url, "db", "upgrade"]) == 0
    monkeypatch.setenv(event_loop.ENV, choice)
    caplog.set_level(logging.INFO, logger="bookbot")
    assert main(["--database", url, "jobs", "--once"]) == 0
    loops = [r.getMessage() for r in caplog.records if r.getMessage().startswith("event loop")]
    assert [line.split(" 0.")[0] for line in loops] == [f"event loop: {choice}"]
