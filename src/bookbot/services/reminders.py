"""Reminders 24 h and 1 h before each booked or reserved session, queued in the outbox by
the transaction that books, and withdrawn by the one that cancels. Appointments have their
own pair, keyed by their sequence (a reschedule withdraws the old pair and queues a new one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from bookbot.services import outbox, quiet_hours
from bookbot.store.db import Tx

BEFORE = (("reminder_24h", timedelta(hours=24)), ("reminder_1h", timedelta(hours=1)))


def keys(kind: str, ref_id: int, session_id: int) -> list[str]:
    """The dedupe keys of one session's reminders, e.g. reminder_24h:booking-42-7."""
    return [f"{template}:{kind}-{ref_id}-{session_id}" for template, _ in BEFORE]


@dataclass(frozen=True)
class Subject:
    """What reminders remind of: a booking's or a reservation's place in one session."""

    kind: str  # "booking" or "reservation"
    ref_id: int  # the registration's or the reservation's id
    session_id: int
    starts_at: datetime
    class_name: str
    ends_at: datetime | None = None
    days: int = 1  # a multi-day course: reminded of as its dates and daily hours


async def queue(
    tx: Tx,
    now: datetime,
    subject: Subject,
    *,
    studio_id: int,
    customer_id: int,
    quiet: quiet_hours.Quiet | None = None,
) -> None:
    """Queue the reminders still ahead (a booking made 3 h before gets only the 1 h one).

    `quiet`: the studio's quiet hours when the caller has them (else they are read)."""
    await queue_all(tx, now, [subject], studio_id=studio_id, customer_id=customer_id, quiet=quiet)


async def queue_all(
    tx: Tx,
    now: datetime,
    subjects: Sequence[Subject],
    *,
    studio_id: int,
    customer_id: int,
    quiet: quiet_hours.Quiet | None = None,
) -> None:
    """`queue` for each subject (a booking's sessions), in one statement."""
    await _enqueue_ahead(
        tx,
        now,
        [
            planned
            for subject in subjects
            for planned in _plan(
                BEFORE,
                keys(subject.kind, subject.ref_id, subject.session_id),
                subject.starts_at,
                _params(subject),
            )
        ],
        studio_id=studio_id,
        customer_id=customer_id,
        quiet=quiet,
    )


def _params(subject: Subject) -> dict[str, object]:
    params: dict[str, object] = {
        "class_name": subject.class_name,
        "starts_at": subject.starts_at.isoformat(),
        "session_id": subject.session_id,
        subject.kind: subject.ref_id,
    }
    if subject.days > 1 and subject.ends_at is not None:
        params |= {"ends_at": subject.ends_at.isoformat(), "days": subject.days}
    return params


class _Planned(NamedTuple):
    """One reminder to queue, `lead` before `starts_at`."""

    template: str
    lead: timedelta
    key: str
    starts_at: datetime
    params: dict[str, object]


def _plan(
    before: Sequence[tuple[str, timedelta]],
    keys: Sequence[str],
    starts_at: datetime,
    params: dict[str, object],
) -> list[_Planned]:
    """Each (template, lead) of `before` with its dedupe key, for one start."""
    return [
        _Planned(template, lead, key, starts_at, params)
        for (template, lead), key in zip(before, keys, strict=True)
    ]


async def _enqueue_ahead(
    tx: Tx,
    now: datetime,
    planned: list[_Planned],
    *,
    studio_id: int,
    customer_id: int,
    quiet: quiet_hours.Quiet | None = None,
) -> None:
    """Queue each planned reminder whose time before its start is still ahead, held past
    the studio's quiet hours but never past the start."""
    ahead = [p for p in planned if p.starts_at - p.lead > now]
    if not ahead:
        return
    if quiet is None:
        quiet = await quiet_hours.of_studio(tx, studio_id)
    await outbox.enqueue_many(
        tx,
        now=now,
        studio_id=studio_id,
        customer_id=customer_id,
        messages=[
            outbox.Queued(
                template=p.template,
                params=p.params,
                due_at=quiet.release(p.starts_at - p.lead, latest=p.starts_at),
                dedupe_key=p.key,
            )
            for p in ahead
        ],
    )


async def withdraw(tx: Tx, studio_id: int, kind: str, ref_id: int, session_ids: list[int]) -> None:
    await outbox.withdraw(tx, studio_id, [k for s in session_ids for k in keys(kind, ref_id, s)])


# Appointments (issue 14): their own templates (they name the service, the staff member and
# the place), keyed by the appointment's sequence so that a reschedule, which withdraws the
# old pair, can queue a fresh pair for the new time.
APPOINTMENT_BEFORE = (
    ("appointment_reminder_24h", timedelta(hours=24)),
    ("appointment_reminder_1h", timedelta(hours=1)),
)


def appointment_keys(appointment_id: int, sequence: int) -> list[str]:
    """The dedupe keys of one appointment's reminders at one sequence, e.g.
    appointment_reminder_1h:appointment-42-1."""
    return [
        f"{template}:appointment-{appointment_id}-{sequence}" for template, _ in APPOINTMENT_BEFORE
    ]


async def queue_appointment(
    tx: Tx,
    now: datetime,
    *,
    studio_id: int,
    customer_id: int,
    appointment_id: int,
    sequence: int,
    starts_at: datetime,
    params: dict[str, object],
) -> None:
    """Queue the appointment's reminders still ahead (`params`: what the text shows)."""
    shown = {**params, "appointment": appointment_id, "starts_at": starts_at.isoformat()}
    await _enqueue_ahead(
        tx,
        now,
        _plan(APPOINTMENT_BEFORE, appointment_keys(appointment_id, sequence), starts_at, shown),
        studio_id=studio_id,
        customer_id=customer_id,
    )


async def withdraw_appointment(tx: Tx, studio_id: int, appointment_id: int, sequence: int) -> None:
    """Withdraw the reminders queued for the appointment at `sequence` (not sent yet)."""
    await outbox.withdraw(tx, studio_id, appointment_keys(appointment_id, sequence))
