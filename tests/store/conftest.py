"""A blank database per test, for the tests that migrate one from nothing."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import POSTGRES_URL


def _server_url(database: str) -> str:
    parts = urlsplit(POSTGRES_URL.replace("+asyncpg", ""))
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _on_server(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend in `request.param`: a SQLite file, or a PostgreSQL
    database created for this test (use with `parametrize("blank_url", BACKENDS,
    indirect=True)`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bookbot.db'}"
        return
    name = f"bookbot_blank_{secrets.token_hex(6)}"
    asyncio.run(_on_server(f'CREATE DATABASE "{name}"'))
    try:
        yield _server_url(name)
    finally:
        asyncio.run(_on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
