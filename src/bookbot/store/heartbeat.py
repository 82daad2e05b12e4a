"""Keeping a claim's lease while its work runs: a timer, then a renewal every interval.

Claims are short (a dialogue's turn, the inbox rows being processed, the outbox rows being
delivered) so that what a killed process was in the middle of is free again within seconds;
live work that takes longer (a slow payment provider, a rate limit) renews its lease, so it
never loses its rows to a waiting worker. Work that ends before the first beat costs no
round trip: starting and stopping the timer is all it does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Heartbeat:
    """Calls `renew` every `interval` seconds until `stop()`; `renew` says whether the lease
    is still ours (False: someone else's now, so beating further is pointless). `what` names
    the claim in the log."""

    def __init__(self, interval: float, renew: Callable[[], Awaitable[bool]], what: str) -> None:
        self._interval = interval
        self._renew = renew
        self._what = what
        self._timer: asyncio.TimerHandle | None = None
        self._beat: asyncio.Task[None] | None = None
        self._stopped = False

    def start(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self._interval, self._due)

    def _due(self) -> None:
        self._timer = None
        if not self._stopped:
            self._beat = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            ours = await self._renew()
        except Exception:  # the next beat tries again, within the lease
            log.exception("could not renew the lease on %s", self._what)
            ours = True
        if not ours:
            log.warning("the lease on %s was lost mid-work; the work will save nothing", self._what)
        elif not self._stopped:
            self.start()

    async def stop(self) -> None:
        """No more beats. A renewal under way is let finish (one guarded UPDATE), not
        cancelled mid-statement; the release that follows then wins."""
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._beat is not None and not self._beat.done():
            await asyncio.shield(self._beat)
