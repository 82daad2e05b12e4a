"""`bookbot certificates verify|revoke|list` on both databases: a valid code (any case, with
or without dashes), an unknown one (exit 1), revoking with a reason, a session's list."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.cli import main
from bookbot.engine.clock import FrozenClock
from bookbot.services import certificates
from bookbot.store.db import connect
from tests.services.test_certificates import START, make_course


async def _issue(url: str) -> tuple[str, int]:
    db = await connect(url)
    try:
        clock = FrozenClock(datetime(2026, 11, 2, 9, tzinfo=UTC))
        c = await make_course(db, clock)
        clock.set(START + timedelta(days=3))
        issued = await certificates.issue(
            db, clock, studio_id=c.w.studio_id, session_id=c.w["c2"], passed=[(c.ann_reg, 2)]
        )
    finally:
        await db.close()
    return issued.certificates[0].shown_code, c.w["c2"]


def run(url: str, *argv: str) -> int:
    return main(["--database", url, "certificates", *argv])


def test_verify_revoke_and_list(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, session = asyncio.run(_issue(database_url))
    assert run(database_url, "verify", code.lower().replace("-", "")) == 0
    out = capsys.readouterr().out
    assert out == f"valid: {code}  Zoë Łukasiewicz  Course  2026-11-09..2026-11-11  Studio clay\n"
    assert run(database_url, "verify", "ZZZZ-ZZZZ-ZZZZ") == 1
    assert "unknown: no certificate has the code ZZZZ-ZZZZ-ZZZZ" in capsys.readouterr().out
    assert run(database_url, "list", "--session", str(session)) == 0
    assert capsys.readouterr().out.startswith(f"{code}  Zoë Łukasiewicz  Course")
    assert run(database_url, "revoke", code, "--reason", "Wrong name") == 0
    assert f"revoked {code} on " in capsys.readouterr().out
    assert run(database_url, "verify", code) == 1
    out = capsys.readouterr().out
    assert "REVOKED on " in out
    assert "Wrong name" in out
    assert run(database_url, "list", "--session", str(session)) == 0
    assert "revoked" in capsys.readouterr().out
    assert run(database_url, "revoke", "ZZZZ-ZZZZ-ZZZZ", "--reason", "x") == 1
    assert "error: No certificate with id ZZZZ-ZZZZ-ZZZZ." in capsys.readouterr().err
