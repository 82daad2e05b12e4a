"""The database side of a staff member's availability: weekly hours, date overrides,
one-off additions and blocks, read into the engine's `Availability`, and the busy time
(live appointments with their buffers, open sessions they teach or assist) that slots avoid.
The reads are in `availability_reads` (re-exported here); this module writes.

Wall times ('HH:MM', local dates) are in the staff member's zone (theirs, else the
studio's). The writers record who changed what by `source` ('chat', 'cli'; the studio file
writes 'file' rows through the loader); a weekday's new hours replace all its rows. Each
writer re-checks the staff member's booked appointments in its own transaction
(`conflicts.detect_in`): a change never cancels one, it records a conflict for staff.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.services.availability_reads import (
    LONGEST_FOOTPRINT,
    DayView,
    availability_of,
    busy_of,
    midnight,
    staff_by_calendar_token,
    staff_zone,
    week_view,
)
from bookbot.store.db import Database, Tx

__all__ = [
    "LONGEST_FOOTPRINT",
    "SOURCES",
    "DayView",
    "add_window",
    "availability_of",
    "block_day",
    "block_period",
    "busy_of",
    "check_zone",
    "set_staff_timezone",
    "set_weekday_hours",
    "staff_by_calendar_token",
    "staff_zone",
    "week_view",
]

SOURCES = ("file", "chat", "cli")


def _source(source: str) -> str:
    if source not in SOURCES:
        raise errors.InvalidRequest(reason=f"unknown source {source!r}")
    return source


def _ahead(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise errors.InvalidRequest(reason="The end must be after the start.")
    if end <= now:
        raise errors.InvalidRequest(reason="That period is already over.")


async def _insert_period(
    db: Database,
    now: datetime,
    table: str,
    values: dict[str, object],
    *,
    studio_id: int,
    staff_id: int,
) -> None:
    async with db.transaction() as tx:
        await staff_zone(tx, studio_id, staff_id)  # NotFound for another studio's staff
        columns = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        await tx.execute(
            f"INSERT INTO {table} (studio_id, staff_id, {columns})"  # noqa: S608 - fixed names
            f" VALUES (:studio_id, :staff_id, {marks})",
            {"studio_id": studio_id, "staff_id": staff_id, **values},
        )
        await _recheck(tx, now, studio_id, staff_id)


async def block_day(
    db: Database,
    clock: Clock,
    studio_id: int,
    staff_id: int,
    *,
    day: date,
    reason: str,
    source: str,
) -> None:
    """Block one local date (in the staff member's zone), midnight to midnight."""
    tz = ZoneInfo(await staff_zone(db, studio_id, staff_id))
    start, end = midnight(day, tz), midnight(day + timedelta(days=1), tz)
    await block_period(
        db, clock, studio_id, staff_id, start=start, end=end, reason=reason, source=source
    )


async def block_period(
    db: Database,
    clock: Clock,
    studio_id: int,
    staff_id: int,
    *,
    start: datetime,
    end: datetime,
    reason: str,
    source: str,
) -> None:
    """Block [start, end) (vacation...). Appointments already booked inside stay booked,
    as conflicts (`services.conflicts`) staff cancel or keep."""
    now = clock.now()
    _ahead(start, end, now)
    values = {"starts_at": start, "ends_at": end, "reason": reason, "source": _source(source)}
    await _insert_period(
        db, now, "availability_blocks", values, studio_id=studio_id, staff_id=staff_id
    )


async def add_window(
    db: Database,
    clock: Clock,
    studio_id: int,
    staff_id: int,
    *,
    start: datetime,
    end: datetime,
    reason: str,
    source: str,
) -> None:
    """A one-off extra window [start, end) on top of the weekly hours."""
    now = clock.now()
    _ahead(start, end, now)
    values = {"starts_at": start, "ends_at": end, "reason": reason, "source": _source(source)}
    await _insert_period(
        db, now, "availability_additions", values, studio_id=studio_id, staff_id=staff_id
    )


async def set_weekday_hours(
    db: Database,
    clock: Clock,
    studio_id: int,
    staff_id: int,
    *,
    weekday: int,
    windows: list[tuple[time, time]],
    source: str,
) -> None:
    """Replace a weekday's hours (all its rows, whatever their source) by `windows` (local
    wall times); [] is a day off. Booked appointments stay; those left outside the hours
    become conflicts (`services.conflicts`)."""
    if not 0 <= weekday <= 6:
        raise errors.InvalidRequest(reason=f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
    for start, end in windows:
        if end <= start:
            raise errors.InvalidRequest(reason="Each window must end after it starts.")
    rows = [
        {
            "studio_id": studio_id,
            "staff_id": staff_id,
            "weekday": weekday,
            "start_time": start.strftime("%H:%M"),
            "end_time": end.strftime("%H:%M"),
            "source": _source(source),
        }
        for start, end in sorted(windows)
    ]
    async with db.transaction() as tx:
        await staff_zone(tx, studio_id, staff_id)
        await tx.execute(
            "DELETE FROM availability_windows WHERE studio_id = :studio_id"
            " AND staff_id = :staff_id AND weekday = :weekday",
            {"studio_id": studio_id, "staff_id": staff_id, "weekday": weekday},
        )
        await tx.execute_many(
            "INSERT INTO availability_windows (studio_id, staff_id, weekday, start_time,"
            " end_time, source) VALUES (:studio_id, :staff_id, :weekday, :start_time,"
            " :end_time, :source)",
            rows,
        )
        await _recheck(tx, clock.now(), studio_id, staff_id)


async def _recheck(tx: Tx, now: datetime, studio_id: int, staff_id: int) -> None:
    """Booked appointments against the availability just written (same transaction)."""
    # Imported here: conflicts reads availability through this module, which loads first.
    from bookbot.services import conflicts

    await conflicts.detect_in(tx, now, studio_id, staff_id)


def check_zone(zone: str) -> str:
    """`zone` if it names an IANA zone; InvalidRequest otherwise."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise errors.InvalidRequest(reason=f"Unknown time zone: {zone}") from error
    return zone


async def set_staff_timezone(
    db: Database, studio_id: int, staff_id: int, zone: str, *, clock: Clock | None = None
) -> None:
    """Weekly hours keep their wall times in the new zone, so they move in UTC: with
    `clock`, appointments left outside them become conflicts."""
    async with db.transaction() as tx:
        changed = await tx.execute(
            "UPDATE staff SET timezone = :zone WHERE studio_id = :studio_id AND id = :id",
            {"zone": check_zone(zone), "studio_id": studio_id, "id": staff_id},
        )
        if not changed:
            raise errors.NotFound(what="staff member", ident=staff_id)
        if clock is not None:
            await _recheck(tx, clock.now(), studio_id, staff_id)
