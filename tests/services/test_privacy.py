"""services.privacy with appointments and a weekly series: the export is JSON-ready (times
of day included) and holds only the customer's own rows; forgetting ends the series and
keeps the dates it placed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from bookbot.engine.clock import FrozenClock
from bookbot.services import privacy, recurring
from bookbot.store.db import Database
from tests import builders
from tests.services.test_recurring import spec
from tests.services.test_recurring import world as recurring_world

world = recurring_world  # the appointments world, Tom in New York

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def test_export_and_forget_with_a_weekly_series(db: Database, world: builders.World) -> None:
    clock = FrozenClock(NOW)
    made = await recurring.create(
        db, clock, world.studio_id, spec(world, who="ana", staff="maya", starts_on=date(2027, 3, 1))
    )
    await recurring.create(
        db, clock, world.studio_id, spec(world, who="ben", staff="tom", starts_on=date(2027, 3, 2))
    )
    ids = {"studio_id": world.studio_id, "customer_id": world["ana"]}

    async with db.transaction() as tx:
        data = await privacy.export(tx, NOW, channel="console", **ids)
    text = json.dumps(data)  # every value is JSON-ready
    assert [s["status"] for s in data["recurring_bookings"]] == ["active"]
    assert str(data["recurring_bookings"][0]["start_time"]).startswith("10:00")
    assert len(data["appointments"]) == len(made.placement.placed)
    assert '"ben"' not in text  # nothing of the other customer's

    async with db.transaction() as tx:
        await privacy.forget(tx, NOW, channel="console", keep=None, **ids)

    series = await db.one(
        "SELECT status, end_reason FROM recurring_bookings WHERE id = :id", {"id": made.series.id}
    )
    assert series is not None
    assert (series["status"], series["end_reason"]) == ("ended", "customer forgotten")
    kept = await db.scalar(
        "SELECT COUNT(*) FROM appointments WHERE recurring_booking_id = :id AND status = 'confirmed'",
        {"id": made.series.id},
    )
    assert kept == len(made.placement.placed)
    audit = await db.all(
        "SELECT action FROM privacy_audit WHERE customer_id = :c", {"c": world["ana"]}
    )
    assert [r["action"] for r in audit] == ["export", "forget"]
