"""What every invariant check shares: the kinds of violation, a violation found, and the
scope a check reads (one studio's sessions still in play, judged at `now`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

# Sessions longer than this (the studio-file bound) that ended long ago may be missed.
LONGEST_SESSION = timedelta(days=7)
TAKEN = "('pending', 'checked_in', 'attended', 'no_show')"  # a reservation's seat


class Invariant(StrEnum):
    SEATS = "seats"
    RESOURCE = "resource"
    ENDED_ALLOCATION = "ended-allocation"
    ENDED_REMINDER = "ended-reminder"
    ROWS = "rows"
    DOUBLE_BOOKING = "double-booking"
    PUNCHES = "punches"
    STAFF_TIME = "staff-time"


@dataclass(frozen=True)
class Violation:
    invariant: Invariant
    studio_id: int
    ids: tuple[tuple[str, int], ...]  # e.g. (("session", 12), ("resource", 3))
    message: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.message}"


@dataclass(frozen=True)
class Scope:
    """One studio's sessions that end after `since`, judged at `now`."""

    studio_id: int
    now: datetime
    since: datetime

    def params(self) -> dict[str, Any]:
        return {
            "studio_id": self.studio_id,
            "now": self.now,
            "since": self.since,
            "earliest": self.since - LONGEST_SESSION,
        }

    def violation(self, invariant: Invariant, message: str, **ids: int) -> Violation:
        return Violation(invariant, self.studio_id, tuple(ids.items()), message)


# The sessions in play: the index on (studio_id, starts_at) finds them.
IN_SCOPE = "s.studio_id = :studio_id AND s.starts_at >= :earliest AND s.ends_at > :since"
