"""The appointment tests' studio: the builders' London pottery studio (Maya, Tom) plus two
services Maya and Tom offer, weekday hours, and helpers that read the outbox. No tests here:
the appointment test modules import it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bookbot.store.db import Database
from tests import builders

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the conftest clock: Monday, London = UTC
TUE = datetime(2026, 11, 3, tzinfo=UTC)
THU = datetime(2026, 11, 5, tzinfo=UTC)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day + timedelta(hours=hour, minutes=minute)


async def world(
    db: Database, slug: str = "clay", *, cancellation_cutoff_hours: int = 24
) -> builders.World:
    """Maya and Tom work Monday to Friday 09:00-17:00 London time; both offer a 60-minute
    lesson (15 minutes' buffer after, price 40.00) and a 30-minute trial (no buffer)."""
    w = await builders.studio(db, slug, cancellation_cutoff_hours=cancellation_cutoff_hours)
    async with db.transaction() as tx:
        for key, name, minutes, after in (
            ("lesson", "Wheel lesson", 60, 15),
            ("trial", "Trial lesson", 30, 0),
        ):
            w.ids[key + "_service"] = int(
                await tx.scalar(
                    "INSERT INTO services (studio_id, key, name, duration_minutes, price_minor,"
                    " buffer_after_minutes, location) VALUES (:s, :key, :name, :minutes, 4000,"
                    " :after, 'Studio B') RETURNING id",
                    {
                        "s": w.studio_id,
                        "key": key,
                        "name": name,
                        "minutes": minutes,
                        "after": after,
                    },
                )
            )
            for person in ("maya", "tom"):
                await tx.execute(
                    "INSERT INTO service_staff (studio_id, service_id, staff_id)"
                    " VALUES (:s, :sv, :p)",
                    {"s": w.studio_id, "sv": w[key + "_service"], "p": w[person]},
                )
        for person in ("maya", "tom"):
            for weekday in range(5):
                await tx.execute(
                    "INSERT INTO availability_windows (studio_id, staff_id, weekday, start_time,"
                    " end_time, source) VALUES (:s, :p, :d, '09:00', '17:00', 'file')",
                    {"s": w.studio_id, "p": w[person], "d": weekday},
                )
        await tx.execute("UPDATE staff SET telegram_user_id = 777 WHERE id = :p", {"p": w["maya"]})
    await builders.customer(db, w, "ana")
    await builders.customer(db, w, "ben")
    return w


async def outbox_rows(
    db: Database, studio_id: int, template_prefix: str = ""
) -> list[dict[str, Any]]:
    rows = await db.all(
        "SELECT template, dedupe_key, status, due_at, customer_id, channel, address, params"
        " FROM outbox WHERE studio_id = :s ORDER BY id",
        {"s": studio_id},
    )
    return [
        {
            **{
                k: r[k]
                for k in (
                    "template",
                    "dedupe_key",
                    "status",
                    "due_at",
                    "customer_id",
                    "channel",
                    "address",
                )
            },
            "params": json.loads(r["params"]),
        }
        for r in rows
        if str(r["template"]).startswith(template_prefix)
    ]
