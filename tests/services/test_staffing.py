"""Assigning staff: qualified only, never in two overlapping sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.services import staffing
from bookbot.store.db import Database
from tests import builders

SIX_PM = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)


@pytest.fixture
async def world(db: Database) -> builders.World:
    w = await builders.studio(db)
    await builders.session(db, w, "evening", "taster", SIX_PM)
    await builders.session(db, w, "overlap", "dropin", SIX_PM + timedelta(hours=1))
    await builders.session(db, w, "after", "dropin", SIX_PM + timedelta(hours=2))
    return w


async def _staff_of(db: Database, session_id: int) -> tuple[int | None, list[int]]:
    async with db.transaction(write=False) as tx:
        instructor = await tx.scalar(
            "SELECT instructor_id FROM sessions WHERE id = :id", {"id": session_id}
        )
        rows = await tx.all(
            "SELECT staff_id FROM session_assistants WHERE session_id = :id ORDER BY staff_id",
            {"id": session_id},
        )
    return instructor, [r[0] for r in rows]


async def test_assign_instructor_and_assistant(db: Database, world: builders.World) -> None:
    await staffing.assign(db, world.studio_id, world["evening"], world["maya"], as_instructor=True)
    await staffing.assign(db, world.studio_id, world["evening"], world["tom"], as_instructor=False)
    assert await _staff_of(db, world["evening"]) == (world["maya"], [world["tom"]])

    await staffing.unassign(db, world.studio_id, world["evening"], world["tom"])
    assert await _staff_of(db, world["evening"]) == (world["maya"], [])


async def test_unqualified_staff_are_refused(db: Database, world: builders.World) -> None:
    with pytest.raises(errors.StaffNotQualified, match="Rex is not qualified as Wheel Instructor"):
        await staffing.assign(
            db, world.studio_id, world["evening"], world["rex"], as_instructor=False
        )
    assert await _staff_of(db, world["evening"]) == (None, [])


async def test_one_person_never_in_two_overlapping_sessions(
    db: Database, world: builders.World
) -> None:
    await staffing.assign(db, world.studio_id, world["evening"], world["maya"], as_instructor=False)
    with pytest.raises(errors.StaffDoubleBooked):
        await staffing.assign(
            db, world.studio_id, world["overlap"], world["maya"], as_instructor=True
        )
    # back to back is fine: 18:00-20:00 then 20:00-22:00
    await staffing.assign(db, world.studio_id, world["after"], world["maya"], as_instructor=True)


async def test_same_person_twice_in_one_session_is_refused(
    db: Database, world: builders.World
) -> None:
    await staffing.assign(db, world.studio_id, world["evening"], world["maya"], as_instructor=True)
    with pytest.raises(errors.StaffAlreadyAssigned):
        await staffing.assign(
            db, world.studio_id, world["evening"], world["maya"], as_instructor=False
        )


async def test_unassigning_someone_not_assigned_is_an_error(
    db: Database, world: builders.World
) -> None:
    with pytest.raises(errors.NotFound):
        await staffing.unassign(db, world.studio_id, world["evening"], world["tom"])
