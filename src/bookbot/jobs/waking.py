"""The loop a worker runs: a pass at once when woken, and every `poll_seconds` anyway (for
work that became due, or that another process stored), until it is stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

log = logging.getLogger(__name__)


class Waker:
    def __init__(self) -> None:
        self.stopping = False
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    def stop(self) -> None:
        self.stopping = True
        self._event.set()

    async def loop(
        self, one_pass: Callable[[], Awaitable[object]], poll_seconds: float, name: str
    ) -> None:
        """Run `one_pass` until stopped; a wake during a pass asks for another one."""
        while not self.stopping:
            self._event.clear()
            try:
                await one_pass()
            except Exception:  # a failed pass (database down) is retried
                log.exception("%s: pass failed", name)
            if self.stopping:
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), poll_seconds)
