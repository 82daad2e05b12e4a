"""Small builders that put a studio's rows straight into the database for service tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bookbot.store.db import Database, Tx


@dataclass
class World:
    """Ids of what a builder created, by the name the test gave."""

    studio_id: int
    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


async def _insert(tx: Tx, table: str, **values: object) -> int:
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    new_id = await tx.scalar(
        f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING id",  # noqa: S608
        values,
    )
    return int(new_id)


async def studio(
    db: Database,
    slug: str = "clay",
    timezone: str = "Europe/London",
    *,
    cancellation_cutoff_hours: int = 0,
    booking_cutoff_minutes: int = 0,
) -> World:
    """A studio with a wheel role, two staff, 8 wheels and a wheel class, a course, a drop-in."""
    async with db.transaction() as tx:
        sid = await _insert(
            tx,
            "studios",
            slug=slug,
            name=f"Studio {slug}",
            timezone=timezone,
            currency="GBP",
            default_language="en",
            booking_cutoff_minutes=booking_cutoff_minutes,
            cancellation_cutoff_hours=cancellation_cutoff_hours,
            waitlist_offer_minutes=120,
        )
        w = World(sid)
        w.ids["role"] = await _insert(
            tx, "teaching_roles", studio_id=sid, key="wheel", name="Wheel Instructor"
        )
        w.ids["maya"] = await _insert(tx, "staff", studio_id=sid, key="maya", name="Maya")
        w.ids["tom"] = await _insert(tx, "staff", studio_id=sid, key="tom", name="Tom")
        w.ids["rex"] = await _insert(tx, "staff", studio_id=sid, key="rex", name="Rex")
        for person in ("maya", "tom"):
            await tx.execute(
                "INSERT INTO staff_roles (studio_id, staff_id, role_id) VALUES (:s, :p, :r)",
                {"s": sid, "p": w[person], "r": w["role"]},
            )
        w.ids["wheels"] = await _insert(
            tx, "resources", studio_id=sid, key="wheel", name="potter's wheel", total_quantity=8
        )
        for key, kind, price in (
            ("taster", "single", 4500),
            ("course", "course", 24000),
            ("dropin", "drop_in", 1800),
        ):
            w.ids[key] = await _insert(
                tx,
                "classes",
                studio_id=sid,
                key=key,
                name=key.title(),
                description="",
                price_minor=price,
                kind=kind,
                teaching_role_id=w["role"],
            )
            await tx.execute(
                "INSERT INTO class_requirements (studio_id, class_id, resource_id, quantity_per_student)"
                " VALUES (:s, :c, :r, 1)",
                {"s": sid, "c": w[key], "r": w["wheels"]},
            )
    return w


async def pattern(
    db: Database,
    w: World,
    name: str,
    class_key: str,
    rrule: str,
    *,
    start: date,
    at: time,
    instructor: str | None = None,
) -> int:
    """A London pattern of 2-hour sessions for 8, first on `start` at `at` (local)."""
    async with db.transaction() as tx:
        w.ids[name] = await _insert(
            tx,
            "schedule_patterns",
            studio_id=w.studio_id,
            key=name,
            class_id=w[class_key],
            rrule=rrule,
            start_date=start,
            start_time=at,
            timezone="Europe/London",
            duration_minutes=120,
            capacity=8,
            location="Studio A",
            instructor_id=w[instructor] if instructor else None,
        )
    return w[name]


async def session(
    db: Database,
    w: World,
    name: str,
    class_key: str,
    starts_at: datetime,
    *,
    capacity: int = 8,
    minutes: int = 120,
    pattern_key: str | None = None,
) -> int:
    async with db.transaction() as tx:
        w.ids[name] = await _insert(
            tx,
            "sessions",
            studio_id=w.studio_id,
            class_id=w[class_key],
            pattern_id=w[pattern_key] if pattern_key else None,
            occurrence_date=starts_at.date(),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            capacity=capacity,
            location="Studio A",
            status="open",
        )
    return w[name]


async def customer(db: Database, w: World, name: str, phone: str | None = None) -> int:
    async with db.transaction() as tx:
        w.ids[name] = await _insert(
            tx,
            "customers",
            studio_id=w.studio_id,
            name=name,
            phone=phone,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    return w[name]


async def set_wheels(db: Database, w: World, total: int) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE resources SET total_quantity = :t WHERE id = :id",
            {"t": total, "id": w["wheels"]},
        )
