"""Shared fixtures: a migrated database per test, on SQLite and (when configured) PostgreSQL.

PostgreSQL runs when BOOKBOT_TEST_POSTGRES_URL is set (.ci/run sets it). When it is set,
the server must answer: an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.store import migrate
from bookbot.store.db import Database, connect
from bookbot.store.schema import metadata

POSTGRES_URL = os.environ.get("BOOKBOT_TEST_POSTGRES_URL", "")
NO_POSTGRES = (
    "PostgreSQL tests need BOOKBOT_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1/test)"
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)],
    ),
]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


async def _reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    try:
        asyncio.run(_reset_postgres(POSTGRES_URL))
    except (TimeoutError, OSError) as error:
        pytest.fail(f"BOOKBOT_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {error}")
    migrate.upgrade(POSTGRES_URL)
    return POSTGRES_URL


def _tables_in_delete_order() -> str:
    return ", ".join(t.name for t in reversed(metadata.sorted_tables))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database URL for the backend the test is parametrised with."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        path = tmp_path / "bookbot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate(url))
    yield url


async def _truncate(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute(f"TRUNCATE {_tables_in_delete_order()} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = await connect(database_url)
    yield database
    await database.close()


@pytest.fixture
def clock() -> FrozenClock:
    """Monday 2 Nov 2026, 09:00 UTC: just after Europe/London went back to GMT."""
    return FrozenClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a database runs on each backend."""
    if "database_url" in metafunc.fixturenames and "backend" not in metafunc.fixturenames:
        # `@pytest.mark.backends("postgresql")`: a test of what only one database has (an
        # exclusion constraint) runs there alone, rather than skipping on the other.
        only = metafunc.definition.get_closest_marker("backends")
        params = [p for p in BACKENDS if only is None or p.values[0] in only.args]
        metafunc.parametrize("database_url", params, indirect=True)
