"""`bookbot packages issue|list|adjust` on both databases: issue from an offer or by hand,
list with balance and expiry, adjust with a reason (audited), refused below zero."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bookbot.cli import main
from bookbot.store.db import connect
from tests import builders

PHONE = "+447700900123"


async def _build(url: str) -> builders.World:
    db = await connect(url)
    try:
        w = await builders.studio(db)
        await builders.customer(db, w, "Ann", phone=PHONE)
        async with db.transaction() as tx:
            w.ids["lesson"] = await builders._insert(
                tx, "services", studio_id=w.studio_id, key="lesson", name="Wheel lesson",
                duration_minutes=60, price_minor=4000,
            )  # fmt: skip
            await builders._insert(
                tx, "package_offers", studio_id=w.studio_id, key="five", name="5 wheel lessons",
                service_id=w["lesson"], sessions=5, price_minor=18000, valid_days=90,
            )  # fmt: skip
    finally:
        await db.close()
    return w


async def _rows(url: str, sql: str) -> list[dict[str, object]]:
    db = await connect(url)
    try:
        return [dict(r) for r in await db.all(sql)]
    finally:
        await db.close()


@pytest.fixture
def url(database_url: str) -> str:
    asyncio.run(_build(database_url))
    return database_url


def run(url: str, *argv: str) -> int:
    return main(["--database", url, "packages", *argv])


def test_issue_from_an_offer_and_by_hand_then_list(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(url, "issue", "--phone", PHONE, "--offer", "five") == 0
    assert (
        "package 1 issued to Ann: 5 wheel lessons, 5 of 5 sessions left" in capsys.readouterr().out
    )
    assert run(url, "issue", "--phone", "+447700900456", "--name", "Bo", "--service", "lesson",
               "--minutes", "300", "--days", "30") == 0  # fmt: skip
    assert "Wheel lesson: 300 minutes, 300 of 300 minutes left" in capsys.readouterr().out

    assert run(url, "list") == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].startswith("#2  Bo  Wheel lesson: 300 minutes (Wheel lesson)  300 of 300")
    assert "active  staff_issued" in out[1]
    assert run(url, "list", "--phone", PHONE) == 0
    assert capsys.readouterr().out.startswith("#1  Ann  5 wheel lessons")
    expires = asyncio.run(_rows(url, "SELECT expires_on, created_at FROM packages WHERE id = 1"))
    assert (expires[0]["expires_on"] - datetime.now(UTC).date()).days in (89, 90, 91)  # type: ignore[operator]


def test_issue_refuses_half_terms(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, "issue", "--phone", PHONE, "--service", "lesson", "--sessions", "3") == 1
    assert "--days" in capsys.readouterr().err
    assert run(url, "issue", "--phone", PHONE, "--offer", "nope") == 1
    assert "error: No package offer with id nope." in capsys.readouterr().err


def test_adjust_is_audited_and_refused_below_zero(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(url, "issue", "--phone", PHONE, "--offer", "five") == 0
    capsys.readouterr()

    assert run(url, "adjust", "1", "--sessions", "-2", "--reason", "used at the desk",
               "--by", "maya") == 0  # fmt: skip
    assert "package 1: 3 of 5 sessions left" in capsys.readouterr().out
    assert run(url, "adjust", "1", "--sessions", "-4", "--reason", "oops") == 1
    assert "below zero" in capsys.readouterr().err
    assert run(url, "adjust", "1", "--minutes", "+30", "--reason", "x") == 1
    assert "counts sessions" in capsys.readouterr().err

    audit = asyncio.run(
        _rows(url, "SELECT sessions_delta, minutes_delta, reason, actor FROM package_adjustments")
    )
    assert audit == [
        {
            "sessions_delta": -2,
            "minutes_delta": 0,
            "reason": "used at the desk",
            "actor": "cli:maya",
        }
    ]
