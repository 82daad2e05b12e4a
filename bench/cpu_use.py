"""Where a bench's CPU time goes: this process (the client) and, when the database server
runs on this machine, its processes (read from /proc: Linux only).

A rate on a small machine is often capped by CPU, not by waiting: with both sides on the
same cores, messages/s can never exceed cores / (client + server CPU per message). The
`round_trip_floor` is what one bare statement costs both sides through the same pool.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

from bookbot.store.db import Database

SERVER_NAMES = ("postgres",)  # the server and its backends, as /proc names them


def server_cpu_seconds() -> float | None:
    """User + system CPU of every local process whose name starts with a SERVER_NAMES entry,
    summed; None where /proc cannot tell."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name.startswith(SERVER_NAMES):
            fields = text[text.rindex(")") + 2 :].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds used between `start` and `stop`: this process's, and the server's when
    it is local (None otherwise)."""

    client: float
    server: float | None

    def per(self, items: int) -> tuple[float, float | None]:
        if not items:
            return float("nan"), None
        return self.client / items, None if self.server is None else self.server / items


@dataclass(frozen=True)
class CpuMark:
    client: float
    server: float | None

    @classmethod
    def start(cls, *, server: bool) -> CpuMark:
        return cls(time.process_time(), server_cpu_seconds() if server else None)

    def stop(self) -> CpuUse:
        server_now = server_cpu_seconds() if self.server is not None else None
        server = None if server_now is None or self.server is None else server_now - self.server
        return CpuUse(time.process_time() - self.client, server)


@dataclass(frozen=True)
class Floor:
    rate: float  # statements a second
    client: float  # CPU seconds per statement
    server: float | None


async def round_trip_floor(db: Database, *, statements: int, concurrency: int) -> Floor:
    """`SELECT 1` through `db`, `concurrency` at a time: what one round trip costs."""
    queue = iter(range(statements))

    async def worker() -> None:
        for _ in queue:
            await db.scalar("SELECT 1")

    mark = CpuMark.start(server=True)
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - began
    client, server = mark.stop().per(statements)
    return Floor(statements / seconds, client, server)
