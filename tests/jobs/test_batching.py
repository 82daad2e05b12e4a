"""Group commit: calls made while a flush runs share the next flush."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bookbot.jobs.batching import Batched


async def test_calls_made_during_a_flush_share_the_next_one() -> None:
    flushes: list[list[int]] = []
    release = asyncio.Event()

    async def flush(items: Sequence[int]) -> list[int]:
        flushes.append(list(items))
        if len(flushes) == 1:
            await release.wait()  # the first flush is slow; the others queue meanwhile
        return [item * 10 for item in items]

    batched: Batched[int, int] = Batched(flush)
    first = asyncio.create_task(batched(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(batched(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    release.set()

    assert [await first, *[await task for task in rest]] == [10, 20, 30, 40]
    assert flushes == [[1], [2, 3, 4]]


async def test_a_failed_flush_fails_its_callers_and_the_next_flush_still_runs() -> None:
    async def flush(items: Sequence[int]) -> list[int]:
        if 0 in items:
            raise RuntimeError("database gone")
        return list(items)

    batched: Batched[int, int] = Batched(flush)
    failing = asyncio.gather(batched(0), batched(5), return_exceptions=True)
    assert [type(r) for r in await failing] == [RuntimeError, RuntimeError]
    assert await batched(7) == 7


async def test_a_flush_that_returns_the_wrong_number_of_results_is_an_error() -> None:
    async def flush(_items: Sequence[int]) -> list[int]:
        return []

    batched: Batched[int, int] = Batched(flush)
    with pytest.raises(ValueError, match="0 results for 1 items"):
        await batched(1)
