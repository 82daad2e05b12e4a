"""The event loop the `bookbot` commands (and the benches) run on.

uvloop where it is installed (a dependency on CPython outside Windows): a PostgreSQL round
trip through asyncpg costs the bot about half the CPU on it that it does on asyncio's own
loop (bench/conversation.py measures both; with the database on the same 2 cores the
server's share limits first, elsewhere the bot's own CPU does). Elsewhere, or with
BOOKBOT_EVENT_LOOP=asyncio (to rule the loop out when chasing a problem), asyncio's own.
BOOKBOT_EVENT_LOOP=uvloop insists on uvloop: an error where it is not installed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from importlib import metadata
from typing import Any, TypeVar

ENV = "BOOKBOT_EVENT_LOOP"
CHOICES = ("uvloop", "asyncio")

T = TypeVar("T")
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(choice: str | None = None) -> LoopFactory | None:
    """uvloop's `new_event_loop`, or None for asyncio's default loop.

    `choice` ("uvloop" or "asyncio") wins over BOOKBOT_EVENT_LOOP; with neither, uvloop when
    it can be imported. ValueError for any other choice, or for "uvloop" without uvloop."""
    wanted = (choice or os.environ.get(ENV) or "").strip().lower()
    if wanted not in ("", *CHOICES):
        raise ValueError(f"{ENV} must be one of {', '.join(CHOICES)}, not {wanted!r}")
    if wanted == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if wanted == "uvloop":
            raise ValueError(f"{ENV}=uvloop, but uvloop is not installed here") from None
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], *, loop: str | None = None) -> T:
    """`asyncio.run(main)` on the loop `loop_factory(loop)` picks."""
    try:
        factory = loop_factory(loop)
    except ValueError:
        main.close()  # never started: no "coroutine was never awaited" warning
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def describe(loop: asyncio.AbstractEventLoop) -> str:
    """Which loop this is, "uvloop 0.23.0" or "asyncio", for a log line or a bench header."""
    package = type(loop).__module__.split(".")[0]
    if package == "uvloop":
        return f"uvloop {metadata.version('uvloop')}"
    return package
