"""APScheduler, used only as a ticker: every minute it runs the idempotent sweeps."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bookbot.jobs.attendance import AttendanceJobs

log = logging.getLogger(__name__)
TICK_SECONDS = 60
GENERATION_SECONDS = 3600


Sweep = tuple[Callable[[], Awaitable[object]], int]


@asynccontextmanager
async def ticking(*sweeps: Sweep) -> AsyncIterator[AsyncIOScheduler]:
    """Run each (sweep, every_seconds): never two runs of one at once; missed ticks coalesce."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for sweep, seconds in sweeps:
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


def standard_sweeps(jobs: AttendanceJobs) -> list[Sweep]:
    """What `bookbot run` and `bookbot jobs` tick: attendance each minute, generation hourly.
    (Delivery runs on its own loop, woken by what is queued: `DeliveryWorker.run`.)"""
    return [
        (jobs.tick, TICK_SECONDS),
        (jobs.generate_ahead, GENERATION_SECONDS),
    ]


def _logged(sweep: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await sweep()
        except Exception:  # noqa: BLE001 - a failed tick is logged; the next one retries
            log.exception("scheduled sweep failed")

    return run
