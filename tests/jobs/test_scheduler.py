"""The ticker: a stop lets the sweep under way finish instead of cancelling it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from bookbot.jobs.scheduler import ticking


async def test_a_stop_lets_the_sweep_under_way_finish_without_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    started = asyncio.Event()
    finished: list[str] = []

    async def sweep() -> None:  # a tick that is mid-transaction when the stop comes
        started.set()
        await asyncio.sleep(0.2)
        finished.append("done")

    async with ticking((sweep, 3600)) as scheduler:
        [job] = scheduler.get_jobs()
        job.modify(next_run_time=datetime.now(UTC))  # due now rather than in an hour
        await asyncio.wait_for(started.wait(), timeout=10)

    assert finished == ["done"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in caplog.records)
