"""Group commit: many concurrent callers, one statement for all who asked meanwhile.

The delivery worker's sends run concurrently, and each needs two small writes (the send
begins; it was sent). Issued one by one they cost a round trip each, which caps the
worker well below a raised rate limit on PostgreSQL. `Batched` queues each call; while
one flush runs, the calls that arrive wait for the next, so the batch grows with the load
and nothing waits on a timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batched(Generic[Item, Result]):
    """`await batched(item)` runs `flush([...items])` for everyone who asked meanwhile;
    `flush` returns one result per item, in order. A failed flush fails its callers."""

    def __init__(self, flush: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]]) -> None:
        self._flush = flush
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._runner is None:
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    results = list(await self._flush([item for item, _ in batch]))
                    if len(results) != len(batch):
                        raise ValueError(f"{len(results)} results for {len(batch)} items")
                except Exception as error:  # handed to every caller
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._runner = None
            for _, future in batch + self._queue:  # cancelled: nobody waits forever
                if not future.done():
                    future.cancel()
