"""BOOKBOT_DB_POOL_SIZE: how many PostgreSQL connections one bookbot process may open."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bookbot.cli import main
from bookbot.cli.common import opened
from bookbot.config import Settings
from bookbot.store.db import Database, connect


def test_the_pool_size_comes_from_the_environment_and_defaults_to_5(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BOOKBOT_DB_POOL_SIZE", raising=False)
    assert Settings.from_env("sqlite:///x.db").db_pool_size == 5
    monkeypatch.setenv("BOOKBOT_DB_POOL_SIZE", "12")
    assert Settings.from_env("sqlite:///x.db").db_pool_size == 12


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "BOOKBOT_DB_POOL_SIZE must be 1 or more, not '0'"),
        ("-3", "BOOKBOT_DB_POOL_SIZE must be 1 or more, not '-3'"),
        ("ten", "BOOKBOT_DB_POOL_SIZE must be a whole number, not 'ten'"),
        ("9" * 5000, "BOOKBOT_DB_POOL_SIZE must be a whole number"),
    ],
)
def test_a_bad_pool_size_is_one_line_and_exit_1(
    value: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BOOKBOT_DB_POOL_SIZE", value)
    assert main(["--database", f"sqlite:///{tmp_path / 'x.db'}", "sessions", "list"]) == 1
    out, err = capsys.readouterr()
    [line] = err.strip().splitlines()
    assert out == ""
    assert line.startswith(f"error: {message}")


async def test_a_pool_of_no_connections_is_refused() -> None:
    with pytest.raises(ValueError, match="1 connection or more"):
        await connect("postgresql://nobody@127.0.0.1:1/none", pool_size=0)


async def _backend_pids(db: Database, transactions: int) -> set[int]:
    """The server processes that served `transactions` transactions run all at once."""

    async def one() -> int:
        async with db.transaction(write=False) as tx:
            pid = await tx.scalar("SELECT pg_backend_pid()")
            await tx.execute("SELECT pg_sleep(0.05)")
            return int(pid)

    return set(await asyncio.gather(*(one() for _ in range(transactions))))


@pytest.mark.postgres
async def test_commands_open_at_most_the_pool_size_of_connections(postgres_url: str) -> None:
    """Eight transactions at once through the CLI's `opened` share two connections: the
    others wait for one (processes x pool size is what max_connections must cover)."""
    settings = Settings(database_url=postgres_url, db_pool_size=2)
    async with opened(settings) as db:
        assert len(await _backend_pids(db, 8)) == 2
