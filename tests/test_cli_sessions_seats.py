"""`bookbot sessions add|edit` say "1 seat", not "1 seats" (found by a tester), on both
databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookbot.config import Settings
from bookbot.store.db import Database
from tests import builders
from tests.test_cli_payments import command

NEXT_YEAR = datetime.now(UTC).year + 1


async def test_one_seat_is_singular(
    db: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await builders.studio(db)
    settings = Settings(database_url=database_url)
    assert (
        await command(
            settings,
            "sessions",
            "add",
            "--class",
            "taster",
            "--date",
            f"{NEXT_YEAR}-01-15",
            "--start",
            "09:00",
            "--end",
            "17:00",
            "--capacity",
            "1",
        )  # fmt: skip
        == 0
    )
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(", 1 seat")  # then who teaches it
    session_id = await db.scalar("SELECT MAX(id) FROM sessions")
    assert await command(settings, "sessions", "edit", str(session_id), "--capacity", "2") == 0
    assert capsys.readouterr().out.rstrip().endswith(", 2 seats")
