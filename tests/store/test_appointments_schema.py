"""The appointments tables (0017): every row belongs to a studio, statuses and footprints are
checked, and on PostgreSQL two live appointments of one staff member never overlap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bookbot.store.db import Database, ExclusionViolation
from bookbot.store.schema import metadata
from tests import builders

NEW_TABLES = (
    "services",
    "service_staff",
    "availability_windows",
    "availability_overrides",
    "availability_blocks",
    "availability_additions",
    "appointments",
)
NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_every_new_table_belongs_to_a_studio() -> None:
    for name in NEW_TABLES:
        column = metadata.tables[name].c.studio_id
        assert not column.nullable, name
        assert {fk.column.table.name for fk in column.foreign_keys} == {"studios"}, name


async def _world(db: Database) -> tuple[builders.World, int]:
    world = await builders.studio(db)
    await builders.customer(db, world, "ana")
    async with db.transaction() as tx:
        service = await builders._insert(
            tx,
            "services",
            studio_id=world.studio_id,
            key="lesson",
            name="Lesson",
            duration_minutes=60,
            price_minor=4000,
            buffer_after_minutes=15,
        )
    return world, service


async def _appointment(
    db: Database,
    world: builders.World,
    service: int,
    start: datetime,
    *,
    status: str = "confirmed",
    staff: str = "maya",
    **overrides: Any,
) -> int:
    values: dict[str, Any] = {
        "studio_id": world.studio_id,
        "service_id": service,
        "staff_id": world[staff],
        "customer_id": world["ana"],
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "busy_from": start,
        "busy_until": start + timedelta(minutes=75),
        "status": status,
        "held_until": start - timedelta(days=1) if status == "held" else None,
        "price_minor": 4000,
        "currency": "EUR",
        "created_at": NINE,
        "updated_at": NINE,
        **overrides,
    }
    async with db.transaction() as tx:
        return await builders._insert(tx, "appointments", **values)


async def test_defaults_and_checks(db: Database) -> None:
    world, service = await _world(db)
    appointment = await _appointment(db, world, service, NINE)
    async with db.transaction(write=False) as tx:
        row = await tx.one(
            "SELECT guest_count, origin, meeting_url, sequence, cancel_reason"
            " FROM appointments WHERE id = :id",
            {"id": appointment},
        )
        assert row is not None
        assert dict(row) == {
            "guest_count": 1,
            "origin": "one_time",
            "meeting_url": "",
            "sequence": 0,
            "cancel_reason": "",
        }
    refused: list[dict[str, Any]] = [
        {"status": "booked"},
        {"guest_count": 0},
        {"busy_until": NINE + timedelta(minutes=30)},  # the footprint must cover the time
        {"status": "held", "held_until": None},
    ]
    for change in refused:
        with pytest.raises(Exception, match="(?i)check|constraint"):
            await _appointment(db, world, service, NINE + timedelta(days=30), **change)


async def test_availability_sources_are_known(db: Database) -> None:
    world, _service = await _world(db)
    with pytest.raises(Exception, match="(?i)check|constraint"):
        async with db.transaction() as tx:
            await builders._insert(
                tx,
                "availability_blocks",
                studio_id=world.studio_id,
                staff_id=world["maya"],
                starts_at=NINE,
                ends_at=NINE + timedelta(hours=1),
                source="email",
            )


@pytest.mark.backends("postgresql")  # the exclusion constraint; SQLite relies on the lock
async def test_postgresql_refuses_overlapping_live_appointments_of_one_staff_member(
    db: Database,
) -> None:
    world, service = await _world(db)
    await _appointment(db, world, service, NINE)
    # 10:00 starts inside 09:00's buffer (busy until 10:15): refused, held or confirmed.
    for status in ("confirmed", "held"):
        with pytest.raises(ExclusionViolation):
            await _appointment(db, world, service, NINE + timedelta(hours=1), status=status)
    # Touching footprints, another staff member, or a cancelled row: all fine.
    await _appointment(db, world, service, NINE + timedelta(minutes=75))
    await _appointment(db, world, service, NINE, staff="tom")
    await _appointment(db, world, service, NINE, status="cancelled_by_customer")
