"""Planning session generation: what to create, update, delete, and what is a conflict.

Regeneration after a pattern edit must never silently drop or move a session that has
bookings. Such a session is left as it is and reported as a conflict for a person to
resolve. Unbooked sessions simply follow the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bookbot.engine.recurrence import Occurrence


@dataclass(frozen=True)
class ExistingSession:
    session_id: int
    occurrence_date: date
    starts_at: datetime
    ends_at: datetime
    capacity: int
    location: str
    status: str
    booked_seats: int


@dataclass(frozen=True)
class Target:
    """What the pattern now says about one occurrence."""

    occurrence: Occurrence
    capacity: int
    location: str


class ConflictReason(StrEnum):
    REMOVED = "removed"
    MOVED = "moved"
    CAPACITY_BELOW_BOOKED = "capacity_below_booked"


@dataclass(frozen=True)
class Conflict:
    session: ExistingSession
    reason: ConflictReason
    target: Target | None


@dataclass(frozen=True)
class Plan:
    create: tuple[Target, ...]
    update: tuple[tuple[ExistingSession, Target], ...]
    delete: tuple[ExistingSession, ...]
    unchanged: tuple[ExistingSession, ...]
    conflicts: tuple[Conflict, ...]


def _differs(session: ExistingSession, target: Target) -> bool:
    return (
        session.starts_at != target.occurrence.starts_at
        or session.ends_at != target.occurrence.ends_at
        or session.capacity != target.capacity
        or session.location != target.location
    )


def _moved(session: ExistingSession, target: Target) -> bool:
    occurrence = target.occurrence
    return session.starts_at != occurrence.starts_at or session.ends_at != occurrence.ends_at


def _classify(session: ExistingSession, target: Target) -> Conflict | None:
    if session.booked_seats == 0:
        return None
    if _moved(session, target):
        return Conflict(session, ConflictReason.MOVED, target)
    if target.capacity < session.booked_seats:
        return Conflict(session, ConflictReason.CAPACITY_BELOW_BOOKED, target)
    return None


def plan(targets: list[Target], existing: list[ExistingSession]) -> Plan:
    """Compare what the pattern wants with the sessions already in the window.

    Cancelled sessions are left alone (a person cancelled them on purpose).
    """
    by_date = {s.occurrence_date: s for s in existing}
    wanted = {t.occurrence.local_date for t in targets}
    create, update, unchanged, conflicts = [], [], [], []
    for target in targets:
        session = by_date.get(target.occurrence.local_date)
        if session is None:
            create.append(target)
        elif session.status != "open" or not _differs(session, target):
            unchanged.append(session)
        elif (conflict := _classify(session, target)) is not None:
            conflicts.append(conflict)
        else:
            update.append((session, target))
    delete = []
    for session in existing:
        if session.occurrence_date in wanted or session.status != "open":
            continue
        if session.booked_seats:
            conflicts.append(Conflict(session, ConflictReason.REMOVED, None))
        else:
            delete.append(session)
    return Plan(tuple(create), tuple(update), tuple(delete), tuple(unchanged), tuple(conflicts))
