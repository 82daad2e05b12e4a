"""APScheduler, used only as a ticker: every minute it runs the idempotent sweeps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bookbot.jobs.sweeps import Sweeps

log = logging.getLogger(__name__)
TICK_SECONDS = 60
GENERATION_SECONDS = 3600
STOP_GRACE = 30.0  # seconds a stop waits for a sweep under way (its transactions are short)


Sweep = tuple[Callable[[], Awaitable[object]], int]


@asynccontextmanager
async def ticking(*sweeps: Sweep) -> AsyncIterator[AsyncIOScheduler]:
    """Run each (sweep, every_seconds): never two runs of one at once; missed ticks coalesce.

    On exit no new run starts and the runs under way finish (for up to STOP_GRACE seconds):
    the scheduler's shutdown would cancel them, rolling their work back and logging the
    CancelledError as an ERROR."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    under_way: set[asyncio.Task[Any]] = set()
    for sweep, seconds in sweeps:
        scheduler.add_job(
            _logged(sweep, under_way),
            IntervalTrigger(seconds=seconds),
            max_instances=1,
            coalesce=True,
            name=getattr(sweep, "__qualname__", "sweep"),
        )
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.pause()
        if under_way:
            await asyncio.wait(set(under_way), timeout=STOP_GRACE)
        scheduler.shutdown(wait=False)


def standard_sweeps(jobs: Sweeps) -> list[Sweep]:
    """What `bookbot run` and `bookbot jobs` tick: attendance each minute, generation hourly.
    (Delivery runs on its own loop, woken by what is queued: `DeliveryWorker.run`.)"""
    return [
        (jobs.tick, TICK_SECONDS),
        (jobs.generate_ahead, GENERATION_SECONDS),
    ]


def _logged(
    sweep: Callable[[], Awaitable[object]], under_way: set[asyncio.Task[Any]]
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        task = asyncio.current_task()
        this_run = {task} if task is not None else set()
        under_way.update(this_run)
        try:
            await sweep()
        except Exception:  # a failed tick is logged; the next one retries
            log.exception("scheduled sweep failed")
        finally:
            under_way.difference_update(this_run)

    return run
