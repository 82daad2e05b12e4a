"""Generating sessions from a schedule pattern: preview, then create, idempotently.

Open-ended patterns are generated up to a horizon (default 8 weeks); finite ones (COUNT
or UNTIL) in full. Only the future is touched: past sessions are history. Default
staff are assigned to new sessions when they are qualified and free; otherwise the
session is created unstaffed and the report says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bookbot.engine import errors, generation, multi_day, recurrence
from bookbot.engine.clock import Clock
from bookbot.services import multi_day_rows, staffing
from bookbot.services.common import in_list
from bookbot.store.db import Database, Tx, record

DEFAULT_HORIZON = timedelta(weeks=8)


@dataclass(frozen=True)
class Pattern:
    id: int
    studio_id: int
    key: str
    class_id: int
    rule: recurrence.PatternRule
    capacity: int
    location: str
    instructor_id: int | None
    assistant_ids: tuple[int, ...]
    part: int | None = None
    makeup: bool = False
    days: int = 1  # each session runs this many consecutive days (engine.multi_day)


@dataclass(frozen=True)
class GenerationReport:
    pattern: Pattern
    plan: generation.Plan
    targets: tuple[generation.Target, ...]
    applied: bool
    staffing_problems: tuple[str, ...] = field(default=())


async def pattern_by_ref(tx: Tx, studio_id: int, ref: str | int) -> Pattern:
    """A pattern by numeric id or by its key from the studio file."""
    where = "id = :ref" if isinstance(ref, int) or str(ref).isdigit() else "key = :ref"
    value: Any = int(ref) if where.startswith("id") else ref
    row = await tx.one(
        "SELECT id, studio_id, key, class_id, rrule, start_date, start_time, timezone,"  # noqa: S608
        " duration_minutes, capacity, location, instructor_id, part_position, makeup, days"
        " FROM schedule_patterns"
        f" WHERE studio_id = :studio_id AND {where}",
        {"studio_id": studio_id, "ref": value},
    )
    if row is None:
        raise errors.NotFound(what="schedule pattern", ident=ref)
    assistants = await tx.all(
        "SELECT staff_id FROM pattern_assistants WHERE studio_id = :studio_id"
        " AND pattern_id = :id ORDER BY staff_id",
        {"studio_id": studio_id, "id": row["id"]},
    )
    rule = recurrence.PatternRule(
        rrule=row["rrule"],
        start_date=row["start_date"],
        start_time=row["start_time"],
        duration=timedelta(minutes=row["duration_minutes"]),
        timezone=row["timezone"],
    )
    return Pattern(
        id=row["id"],
        studio_id=row["studio_id"],
        key=row["key"],
        class_id=row["class_id"],
        rule=rule,
        capacity=row["capacity"],
        location=row["location"],
        instructor_id=row["instructor_id"],
        assistant_ids=tuple(a["staff_id"] for a in assistants),
        part=row["part_position"],
        makeup=bool(row["makeup"]),
        days=row["days"],
    )


def _window_end(pattern: Pattern, now: datetime, horizon: timedelta) -> datetime | None:
    return None if recurrence.is_finite(pattern.rule.rrule) else now + horizon


async def _existing(
    tx: Tx, pattern: Pattern, now: datetime, end: datetime | None
) -> list[generation.ExistingSession]:
    rows = await tx.all(
        "SELECT s.id AS session_id, s.occurrence_date, s.starts_at, s.ends_at, s.capacity,"
        " s.location, s.status,"
        " COALESCE((SELECT SUM(rs.guest_count) FROM registration_sessions rs"
        "  WHERE rs.session_id = s.id AND rs.status IN ('booked', 'held')), 0) AS booked_seats"
        " FROM sessions s WHERE s.studio_id = :studio_id AND s.pattern_id = :pattern_id"
        " AND s.starts_at >= :now ORDER BY s.starts_at",
        {"studio_id": pattern.studio_id, "pattern_id": pattern.id, "now": now},
    )
    sessions = [record(generation.ExistingSession, r) for r in rows]
    return [s for s in sessions if end is None or s.starts_at < end]


async def _plan(
    tx: Tx, pattern: Pattern, now: datetime, horizon: timedelta
) -> tuple[generation.Plan, list[generation.Target]]:
    end = _window_end(pattern, now, horizon)
    occurrences = recurrence.expand(pattern.rule, window_start=now, window_end=end)
    targets = [
        generation.Target(_whole_span(pattern, o), pattern.capacity, pattern.location)
        for o in occurrences
    ]
    return generation.plan(targets, await _existing(tx, pattern, now, end)), targets


def _whole_span(pattern: Pattern, o: recurrence.Occurrence) -> recurrence.Occurrence:
    """A multi-day occurrence from its first day's start to its last day's end."""
    if pattern.days == 1:
        return o
    last = _days(pattern, o)[-1]
    return replace(o, ends_at=last.ends_at)


def _days(pattern: Pattern, o: recurrence.Occurrence) -> tuple[multi_day.Day, ...]:
    rule = pattern.rule
    return multi_day.course_days(
        o.local_date, rule.start_time, rule.duration, pattern.days, rule.timezone
    )


async def _write_days(tx: Tx, pattern: Pattern, session_id: int, o: recurrence.Occurrence) -> None:
    if pattern.days > 1:
        await multi_day_rows.write_days(tx, pattern.studio_id, session_id, _days(pattern, o))


async def _create(tx: Tx, pattern: Pattern, target: generation.Target) -> list[str]:
    o = target.occurrence
    session_id = await tx.scalar(
        "INSERT INTO sessions (studio_id, class_id, pattern_id, occurrence_date, starts_at,"
        " ends_at, capacity, location, status, part_position, makeup, days) VALUES (:studio_id,"
        " :class_id, :pattern_id, :occurrence_date, :starts_at, :ends_at, :capacity, :location,"
        " 'open', :part, :makeup, :days) RETURNING id",
        {
            "days": pattern.days,
            "part": pattern.part,
            "makeup": pattern.makeup,
            "studio_id": pattern.studio_id,
            "class_id": pattern.class_id,
            "pattern_id": pattern.id,
            "occurrence_date": o.local_date,
            "starts_at": o.starts_at,
            "ends_at": o.ends_at,
            "capacity": target.capacity,
            "location": target.location,
        },
    )
    await _write_days(tx, pattern, session_id, o)
    problems = []
    defaults = [(pattern.instructor_id, True)] if pattern.instructor_id else []
    for staff_id, as_instructor in defaults + [(a, False) for a in pattern.assistant_ids]:
        try:
            await staffing.assign_in(tx, pattern.studio_id, session_id, staff_id, as_instructor)
        except errors.BookingError as error:
            problems.append(f"{o.local_date.isoformat()}: {error}")
    return problems


async def _apply(tx: Tx, pattern: Pattern, plan: generation.Plan) -> list[str]:
    problems: list[str] = []
    for target in plan.create:
        problems += await _create(tx, pattern, target)
    for session, target in plan.update:
        o = target.occurrence
        await tx.execute(
            "UPDATE sessions SET starts_at = :starts_at, ends_at = :ends_at, capacity = :capacity,"
            " location = :location, days = :days WHERE studio_id = :studio_id AND id = :id",
            {
                "days": pattern.days,
                "starts_at": o.starts_at,
                "ends_at": o.ends_at,
                "capacity": target.capacity,
                "location": target.location,
                "studio_id": pattern.studio_id,
                "id": session.session_id,
            },
        )
        await multi_day_rows.clear_days(tx, pattern.studio_id, session.session_id)
        await _write_days(tx, pattern, session.session_id, o)
    body, params = in_list("d", [s.session_id for s in plan.delete])
    if params:
        await tx.execute(
            f"DELETE FROM sessions WHERE studio_id = :studio_id AND id IN ({body})",  # noqa: S608
            {"studio_id": pattern.studio_id, **params},
        )
    return problems


async def generate_sessions(
    db: Database,
    clock: Clock,
    studio_id: int,
    pattern_ref: str | int,
    *,
    preview: bool,
    horizon: timedelta = DEFAULT_HORIZON,
) -> GenerationReport:
    """Plan (and unless `preview`, apply) the sessions `pattern_ref` calls for.

    Running it again creates nothing new; sessions with bookings that the pattern no
    longer matches are reported in `plan.conflicts` and left untouched.
    """
    now = clock.now()
    async with db.transaction(write=not preview) as tx:
        pattern = await pattern_by_ref(tx, studio_id, pattern_ref)
        if not preview:
            await tx.lock("schedule_patterns", [pattern.id])
        plan, targets = await _plan(tx, pattern, now, horizon)
        problems = [] if preview else await _apply(tx, pattern, plan)
    return GenerationReport(pattern, plan, tuple(targets), not preview, tuple(problems))


async def pattern_ids(db: Database, studio_id: int) -> list[int]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT id FROM schedule_patterns WHERE studio_id = :studio_id ORDER BY id",
            {"studio_id": studio_id},
        )
    return [r["id"] for r in rows]
