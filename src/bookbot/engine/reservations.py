"""Passes and reservations: who may reserve what, when check-in is open, and attendance.

Rules from the studio's design: a pass holds at most `max_advance` live reservations
(pending or checked in); a punch is used at check-in, cancelling before class uses none,
and a no-show uses one when the studio says so; customers check themselves in from 2 h
before to 2 h after the start, staff any time on the class day (studio-local 00:00–23:59);
a reservation not checked in by the end of the class is a no-show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from bookbot.engine import errors
from bookbot.engine.recurrence import resolve_local, zone

SELF_CHECK_IN = timedelta(hours=2)
DAILY_RUN = time(1, 0)


class Status(StrEnum):
    PENDING = "pending"
    CHECKED_IN = "checked_in"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    AUTO_CANCELLED = "auto_cancelled"


class PassKind(StrEnum):
    UNLIMITED = "unlimited"
    PUNCH = "punch"
    FULL_COURSE = "full_course"


@dataclass(frozen=True)
class PassState:
    kind: PassKind
    class_id: int
    status: str
    valid_from: date
    valid_until: date | None
    remaining: int | None  # punches left (punch passes)
    max_advance: int | None
    sequential: bool
    live: int  # reservations pending or checked in
    pending: int  # of those, not yet checked in (each will use a punch)
    attended_parts: frozenset[int]


@dataclass(frozen=True)
class Slot:
    """The session a reservation is asked for."""

    class_id: int
    starts_at: datetime
    local_date: date
    part: int | None  # the part it teaches; None for a makeup or a plain series
    makeup: bool
    days: int = 1  # a multi-day course: booked (one seat, every day), never reserved


def reservation_part(slot: Slot, wanted: int | None) -> int | None:
    """The part a reservation counts for: the session's own, or the one asked for at a makeup."""
    if slot.makeup or slot.part is None:
        return wanted
    if wanted is not None and wanted != slot.part:
        raise errors.WrongPart(offered=slot.part, part=wanted)
    return slot.part


def check_reserve(state: PassState, slot: Slot, part: int | None) -> None:
    """Raise the first refusal for reserving `slot` with this pass, or return."""
    if state.status != "active":
        raise errors.PassNotUsable()
    if state.class_id != slot.class_id:
        raise errors.WrongClassForPass()
    if slot.days > 1:
        raise errors.CourseNotForPasses()
    if slot.local_date < state.valid_from or (
        state.valid_until and slot.local_date > state.valid_until
    ):
        raise errors.PassNotValidThen(when=slot.starts_at)
    if state.max_advance is not None and state.live >= state.max_advance:
        raise errors.AdvanceLimitReached(limit=state.max_advance)
    if state.kind is PassKind.PUNCH and (state.remaining or 0) <= state.pending:
        raise errors.NoPunchesLeft(remaining=state.remaining or 0, reserved=state.pending)
    if state.sequential and part is not None and part > 1 and part - 1 not in state.attended_parts:
        raise errors.PartOutOfOrder(part=part, needed=part - 1)


def check_self_check_in(now: datetime, starts_at: datetime) -> None:
    """Customers: from 2 h before to 2 h after the start, both ends included."""
    if now < starts_at - SELF_CHECK_IN:
        raise errors.CheckInNotOpen(opens=starts_at - SELF_CHECK_IN)
    if now > starts_at + SELF_CHECK_IN:
        raise errors.CheckInClosed()


def check_staff_check_in(now: datetime, starts_at: datetime, studio_zone: str) -> None:
    """Staff: any time on the class's studio-local day."""
    tz = zone(studio_zone)
    if now.astimezone(tz).date() != starts_at.astimezone(tz).date():
        raise errors.NotClassDay()


def closing_status(status: Status) -> Status | None:
    """At the class end: checked in -> attended, still pending -> no-show; else unchanged."""
    return {Status.CHECKED_IN: Status.ATTENDED, Status.PENDING: Status.NO_SHOW}.get(status)


def check_cancel(now: datetime, status: Status, starts_at: datetime) -> None:
    """A pending reservation can be cancelled until its class starts."""
    if status is not Status.PENDING or now >= starts_at:
        raise errors.NotCancellable()


def daily_run_at(day: date, studio_zone: str) -> datetime:
    """The UTC instant of 01:00 studio time on `day` (moved forward if 01:00 is skipped)."""
    return resolve_local(datetime.combine(day, DAILY_RUN), studio_zone)[0]


def next_daily_run(after: datetime, studio_zone: str) -> datetime:
    """The first 01:00 studio-time run at or after `after`."""
    day = after.astimezone(zone(studio_zone)).date()
    run = daily_run_at(day, studio_zone)
    return run if run >= after else daily_run_at(day + timedelta(days=1), studio_zone)


def absence_due(now: datetime, no_show_at: datetime, grace: timedelta, studio_zone: str) -> bool:
    """A no-show is acted on by the first 01:00 run after the pass's grace period.

    Because "due" is a fact about the clock, the sweep can tick as often as it likes (or
    late, after downtime) and still acts once, at the right night.
    """
    return now >= next_daily_run(no_show_at + grace, studio_zone)
