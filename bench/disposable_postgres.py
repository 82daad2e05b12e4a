"""The benches' PostgreSQL: which database, a guard against wiping a real one, the wipe.

Each bench drops the database's `public` schema and migrates it afresh, so it only runs on a
database whose name says it is for tests or benches.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import asyncpg

from bookbot.store.db import DatabaseURL

ENV_URLS = ("BOOKBOT_BENCH_POSTGRES_URL", "BOOKBOT_TEST_POSTGRES_URL")


def postgres_url(flag: str | None) -> str | None:
    """The flag, else BOOKBOT_BENCH_POSTGRES_URL, else BOOKBOT_TEST_POSTGRES_URL."""
    for url in (flag, *(os.environ.get(v) for v in ENV_URLS)):
        if url:
            return url
    return None


def refuse_unless_disposable(url: str) -> None:
    """Exit unless the database's name says it is for tests or benches (we wipe it)."""
    name = urlsplit(DatabaseURL.parse(url).target).path.lstrip("/")
    if not re.search(r"test|bench", name, re.IGNORECASE):
        raise SystemExit(
            f"refusing to benchmark on PostgreSQL database {name!r}: the bench drops its"
            " public schema, so use a database whose name contains 'test' or 'bench'"
        )


async def wipe(url: str) -> str:
    """Drop and recreate the `public` schema; return the server's version."""
    conn = await asyncpg.connect(DatabaseURL.parse(url).target, timeout=5)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
