"""The stored days of multi-day sessions (`session_days`), written and read in bulk.

Only sessions with `days > 1` have rows; a one-day session is its own single day. Readers
fetch the days of a whole page of sessions in one query (`days_for`), never one per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bookbot.engine.multi_day import Day, days_of
from bookbot.services.common import in_list
from bookbot.store.db import Tx


async def write_days(tx: Tx, studio_id: int, session_id: int, days: Iterable[Day]) -> None:
    await tx.execute_many(
        "INSERT INTO session_days (studio_id, session_id, day_number, local_date, starts_at,"
        " ends_at) VALUES (:studio_id, :session_id, :day_number, :local_date, :starts_at,"
        " :ends_at)",
        [
            {
                "studio_id": studio_id,
                "session_id": session_id,
                "day_number": d.number,
                "local_date": d.local_date,
                "starts_at": d.starts_at,
                "ends_at": d.ends_at,
            }
            for d in days
        ],
    )


async def clear_days(tx: Tx, studio_id: int, session_id: int) -> None:
    await tx.execute(
        "DELETE FROM session_days WHERE studio_id = :studio_id AND session_id = :session_id",
        {"studio_id": studio_id, "session_id": session_id},
    )


async def replace_days(tx: Tx, studio_id: int, session_id: int, days: tuple[Day, ...]) -> None:
    """The session's day rows become `days` (none for a one-day session)."""
    await clear_days(tx, studio_id, session_id)
    if len(days) > 1:
        await write_days(tx, studio_id, session_id, days)


async def days_for(
    tx: Tx, studio_id: int, session_ids: Iterable[int]
) -> dict[int, tuple[Day, ...]]:
    """The stored days of those of `session_ids` that span several days, in one query."""
    body, params = in_list("s", sorted(set(session_ids)))
    if not params:
        return {}
    rows = await tx.all(
        "SELECT session_id, day_number, local_date, starts_at, ends_at FROM session_days"  # noqa: S608
        f" WHERE studio_id = :studio_id AND session_id IN ({body})"
        " ORDER BY session_id, day_number",
        {"studio_id": studio_id, **params},
    )
    found: dict[int, list[Day]] = {}
    for r in rows:
        day = Day(r["day_number"], r["local_date"], r["starts_at"], r["ends_at"])
        found.setdefault(r["session_id"], []).append(day)
    return {k: tuple(v) for k, v in found.items()}


async def session_days(
    tx: Tx, studio_id: int, session_id: int, span: tuple[datetime, datetime, int], zone_name: str
) -> tuple[Day, ...]:
    """One session's days: its stored rows, else (one day, or rows not written) computed
    from its first start, last end and number of days."""
    starts_at, ends_at, days = span
    if days > 1:
        stored = (await days_for(tx, studio_id, [session_id])).get(session_id)
        if stored:
            return stored
    return days_of(starts_at, ends_at, days, zone_name)
