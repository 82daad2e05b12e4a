"""APScheduler, used only as a ticker: every minute it runs the idempotent sweeps."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)
TICK_SECONDS = 60


@asynccontextmanager
async def ticking(
    *sweeps: Callable[[], Awaitable[None]], seconds: int = TICK_SECONDS
) -> AsyncIterator[AsyncIOScheduler]:
    """Run each sweep every `seconds` (never two of one at once; missed ticks coalesce)."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for sweep in sweeps:
        scheduler.add_job(
            _logged(sweep),
            IntervalTrigger(seconds=seconds),
            max_instances=1,
            coalesce=True,
            name=getattr(sweep, "__qualname__", "sweep"),
        )
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)


def _logged(sweep: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await sweep()
        except Exception:  # noqa: BLE001 - a failed tick is logged; the next one retries
            log.exception("scheduled sweep failed")

    return run
