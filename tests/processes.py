"""Races between OS processes: within one event loop SQLite's transactions never
interleave, so only other processes can prove that a lock really locks.

`run_workers(body, target, shares)` starts one spawned process per share; each runs
`body(target, barrier, share)`, which connects, waits at the barrier (so all fire at once,
however long spawning took, not at a guessed wall-clock time), makes its attempts
concurrently and returns one outcome string per attempt. `body` and `target` cross into
the processes by pickle: a module-level coroutine function and a dataclass.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, Coroutine
from typing import Any

START_TIMEOUT = 60  # seconds for every worker to spawn, import and reach the barrier

Body = Callable[[Any, Any, list[Any]], Coroutine[Any, Any, list[str]]]


def _worker(body: Body, barrier: Any, results: Any, target: Any, share: list[Any]) -> None:
    try:
        results.put(asyncio.run(body(target, barrier, share)))
    except Exception as error:  # reported to the parent as an outcome
        results.put([repr(error)])


def run_workers(body: Body, target: Any, shares: list[list[Any]], *, timeout: float) -> list[str]:
    """Every worker's outcomes; `timeout` seconds at most for each worker's answer."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(shares)), context.Queue()
    workers = [
        context.Process(target=_worker, args=(body, barrier, results, target, share))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    try:
        return [o for _ in workers for o in results.get(timeout=timeout)]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
