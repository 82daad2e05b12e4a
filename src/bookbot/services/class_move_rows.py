"""The rows a class booking's move rewrites, inside `class_reschedule.reschedule_in`'s
transaction and under its locks: the seat row, the resource allocations, the registration's
start and sequence, and the reminders."""

from __future__ import annotations

from datetime import datetime

from bookbot.engine import capacity
from bookbot.services import facts, reminders
from bookbot.services.common import Studio, in_list
from bookbot.services.registration_rows import ALLOCATION_SQL, expect_moved
from bookbot.store.db import Tx


async def move_seat(tx: Tx, studio_id: int, registration_id: int, old_id: int, new_id: int) -> None:
    """The same seat row, now on the new date (so a registration keeps one session row)."""
    moved = await tx.execute(
        "UPDATE registration_sessions SET session_id = :new, attendance = NULL,"
        " checked_in_at = NULL WHERE studio_id = :studio_id AND registration_id = :id"
        " AND session_id = :old AND status = 'booked'",
        {"studio_id": studio_id, "id": registration_id, "old": old_id, "new": new_id},
    )
    expect_moved(moved, 1, f"moving the seat of registration {registration_id}")


async def move_allocations(
    tx: Tx,
    studio_id: int,
    registration_id: int,
    old_id: int,
    plan: list[capacity.Allocation],
) -> None:
    await tx.execute(
        "DELETE FROM resource_allocations WHERE studio_id = :studio_id"
        " AND session_id = :old AND registration_id = :id",
        {"studio_id": studio_id, "id": registration_id, "old": old_id},
    )
    for a in plan:
        if a.quantity:
            await tx.execute(
                ALLOCATION_SQL,
                {
                    "studio_id": studio_id,
                    "registration_id": registration_id,
                    "session_id": a.session_id,
                    "resource_id": a.resource_id,
                    "quantity": a.quantity,
                    "held_until": None,
                },
            )


async def mark_moved(tx: Tx, studio_id: int, registration_id: int, starts_at: datetime) -> int:
    """The registration's new start and its next sequence (returned)."""
    sequence = await tx.scalar(
        "UPDATE registrations SET last_starts_at = :starts, sequence = sequence + 1"
        " WHERE studio_id = :studio_id AND id = :id AND status = 'confirmed'"
        " RETURNING sequence",
        {"studio_id": studio_id, "id": registration_id, "starts": starts_at},
    )
    expect_moved(0 if sequence is None else 1, 1, f"moving registration {registration_id}")
    return int(sequence)


async def move_reminders(
    tx: Tx,
    now: datetime,
    studio: Studio,
    customer_id: int,
    registration_id: int,
    *,
    old: facts.SessionRow,
    new: facts.SessionRow,
    name: str,
) -> None:
    await reminders.withdraw(tx, studio.id, "booking", registration_id, [old.id])
    # Moving back to a date left earlier: its reminders were withdrawn, never sent, and
    # their keys would make the outbox ignore the new ones.
    body, keys = in_list("k", reminders.keys("booking", registration_id, new.id))
    await tx.execute(
        "DELETE FROM outbox WHERE studio_id = :studio_id AND status = 'withdrawn'"  # noqa: S608
        f" AND dedupe_key IN ({body})",
        {"studio_id": studio.id, **keys},
    )
    await reminders.queue(
        tx,
        now,
        reminders.Subject(
            kind="booking",
            ref_id=registration_id,
            session_id=new.id,
            starts_at=new.starts_at,
            ends_at=new.ends_at,
            days=new.days,
            class_name=name,
        ),
        studio_id=studio.id,
        customer_id=customer_id,
    )
