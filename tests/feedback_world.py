"""Bookings put straight into the database for the feedback and dashboard tests."""

from __future__ import annotations

from datetime import UTC, datetime

from bookbot.store.db import Database
from tests import builders
from tests.builders import World


async def booking(  # noqa: PLR0913 - every column a test varies, by name
    db: Database,
    w: World,
    name: str,
    *,
    customer: str,
    class_key: str,
    sessions: list[str],
    attendance: list[str | None],
    guests: int = 1,
    status: str = "confirmed",
    kind: str | None = None,
) -> int:
    """A booking of `customer` on `sessions`, with each session's attendance."""
    async with db.transaction() as tx:
        starts = await tx.scalar(
            "SELECT MAX(starts_at) FROM sessions WHERE id IN ("  # noqa: S608 - ids
            + ", ".join(str(w[s]) for s in sessions)
            + ")"
        )
        kind = kind or ("full_schedule" if len(sessions) > 1 else "single")
        w.ids[name] = await builders._insert(
            tx,
            "registrations",
            studio_id=w.studio_id,
            customer_id=w[customer],
            class_id=w[class_key],
            kind=kind,
            guest_count=guests,
            status=status,
            price_minor=4500,
            currency="GBP",
            created_at=datetime(2026, 10, 1, tzinfo=UTC),
            last_starts_at=starts,
        )
        for session, seen in zip(sessions, attendance, strict=True):
            await builders._insert(
                tx,
                "registration_sessions",
                studio_id=w.studio_id,
                registration_id=w[name],
                session_id=w[session],
                customer_id=w[customer],
                guest_count=guests,
                status="cancelled" if status == "cancelled" else "booked",
                attendance=seen,
            )
    return w[name]


async def close(db: Database, w: World, session: str, at: datetime) -> None:
    """Mark the session closed at `at` (as the attendance sweep does at its end)."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET closed_at = :at WHERE id = :id", {"at": at, "id": w[session]}
        )


async def outbox_rows(db: Database, template: str) -> list[dict[str, object]]:
    rows = await db.all(
        "SELECT customer_id, due_at, dedupe_key, params FROM outbox WHERE template = :t"
        " ORDER BY id",
        {"t": template},
    )
    return [{k: r[k] for k in ("customer_id", "due_at", "dedupe_key", "params")} for r in rows]
