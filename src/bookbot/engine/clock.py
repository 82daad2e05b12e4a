"""The one clock: read once per use case and pass `now` down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to, for tests and time travel."""

    def __init__(self, instant: datetime) -> None:
        self._now = require_aware(instant)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = require_aware(instant)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def require_aware(instant: datetime) -> datetime:
    """Return `instant` in UTC; a naive datetime is a programming error."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: instants must be timezone-aware")
    return instant.astimezone(UTC)
