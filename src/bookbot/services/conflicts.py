"""Appointments a change of availability left outside a staff member's hours: conflicts.

Every writer of availability (weekly hours, blocks, additions, a staff member's zone; chat,
CLI and the studio file's reload) calls `detect_in` in its own transaction. It re-checks
the staff member's future confirmed appointments against the availability as it now is,
with the engine's open windows: a footprint (busy_from..busy_until, buffers included)
that overlaps a block is 'blocked'; one not inside an open window (weekly hours or a
date override, plus additions, for the service's kind of window) is 'outside_hours'. An
appointment whose exact footprint is an addition row was kept by staff (`keep` writes
that row) and is never a conflict again, even inside a later block, until it moves.
Conflicts are stored, never acted on; an open one whose appointment fits again, or is no
longer a future confirmed appointment (cancelled, moved, begun), is resolved 'cleared'.
The staff member is told once per detection that found new ones.

Staff settle each open conflict: `cancel` (the staff cancel: the member is told, with
the refund or credit their policy gives) or `keep` (an addition for exactly that slot).
Both lock the staff row, the appointment and the conflict, in that order (`detect_in`
takes the staff row first too), so they serialise with each other and with detection; a
second press finds the conflict resolved and says how. `cancel` marks the conflict
before it calls `appointment_endings.cancel_by_staff` (its own transaction, idempotent):
a Keep pressed meanwhile then finds it taken, and a cancel cut short between the two
steps is finished by pressing Cancel again (the conflict says 'cancelled' while its
appointment is still confirmed).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bookbot.engine import errors, series
from bookbot.engine.clock import Clock
from bookbot.engine.slots import Availability, Interval, open_windows
from bookbot.services import appointment_endings, availability, staff_notices
from bookbot.services.conflict_rows import CONFLICT_SELECT, Conflict, Resolved, by_id
from bookbot.store.db import Database, Tx, record, retrying

REASONS = ("outside_hours", "blocked")
RESOLUTIONS = ("kept", "cancelled", "cleared")
NOTICE = "staff_conflicts_found"
NOTICE_LINES = 5  # the first few conflicts are named in the notice; /conflicts has them all

# The staff member's future confirmed appointments, through ix_appointments_staff_busy:
# from the longest footprint before now, so the range stays tight whatever the history.
_FUTURE = """SELECT a.id, a.busy_from, a.busy_until, sv.capacity
FROM appointments a JOIN services sv ON sv.id = a.service_id
WHERE a.staff_id = :staff_id AND a.busy_from >= :floor AND a.studio_id = :studio_id
  AND a.status = 'confirmed' AND a.starts_at > :now
ORDER BY a.busy_from, a.id"""

_OPEN = """SELECT id, appointment_id, reason FROM appointment_conflicts
WHERE studio_id = :studio_id AND staff_id = :staff_id AND resolved_at IS NULL"""


# --- detection -------------------------------------------------------------------------


class _Fit:
    """The availability of one staff member over one range, ready for many footprints."""

    def __init__(self, held: Availability, start: datetime, end: datetime) -> None:
        self.held = held
        self.kept = {(a.start, a.end) for a in held.additions}
        self.windows = {
            group: open_windows(held, start=start, end=end, group=group) for group in (False, True)
        }
        self.starts = {group: [w.start for w in spans] for group, spans in self.windows.items()}

    def reason(self, footprint: Interval, *, group: bool) -> str | None:
        """'blocked', 'outside_hours', or None when the footprint fits (or was kept)."""
        if (footprint.start, footprint.end) in self.kept:
            return None
        if series.blocked(self.held, footprint.start, footprint.end):
            return "blocked"
        spans = self.windows[group]
        index = bisect_right(self.starts[group], footprint.start) - 1
        if index >= 0 and spans[index].end >= footprint.end:
            return None
        return "outside_hours"


async def _verdicts(tx: Tx, now: datetime, studio_id: int, staff_id: int) -> dict[int, str | None]:
    """Each future confirmed appointment of the staff member: its conflict reason or None."""
    rows = await tx.all(
        _FUTURE,
        {
            "studio_id": studio_id,
            "staff_id": staff_id,
            "now": now,
            "floor": now - availability.LONGEST_FOOTPRINT,
        },
    )
    if not rows:
        return {}
    start = min(r["busy_from"] for r in rows)
    end = max(r["busy_until"] for r in rows)
    held = await availability.availability_of(tx, studio_id, staff_id, start=start, end=end)
    fit = _Fit(held, start, end)
    return {
        int(r["id"]): fit.reason(Interval(r["busy_from"], r["busy_until"]), group=r["capacity"] > 1)
        for r in rows
    }


async def detect_in(
    tx: Tx, now: datetime, studio_id: int, staff_id: int, *, notify: bool = True
) -> list[int]:
    """Re-check the staff member's future appointments against their availability now:
    store new conflicts (their ids returned), clear open ones that fit again, and queue
    one notice to the staff member when there are new ones (`notify`)."""
    await tx.lock("staff", [staff_id])
    verdicts = await _verdicts(tx, now, studio_id, staff_id)
    params = {"studio_id": studio_id, "staff_id": staff_id}
    still_open = {int(r["appointment_id"]): r for r in await tx.all(_OPEN, params)}
    for appointment_id, row in still_open.items():
        reason = verdicts.get(appointment_id)
        if reason is None:
            await _resolve(tx, now, (studio_id, int(row["id"])), "cleared", "detection")
        elif reason != row["reason"]:
            await tx.execute(
                "UPDATE appointment_conflicts SET reason = :reason"
                " WHERE studio_id = :studio_id AND id = :id AND resolved_at IS NULL",
                {"studio_id": studio_id, "id": row["id"], "reason": reason},
            )
    new = []
    for appointment_id, reason in verdicts.items():
        if reason is None or appointment_id in still_open:
            continue
        conflict_id = await tx.scalar(
            "INSERT INTO appointment_conflicts (studio_id, appointment_id, staff_id, reason,"
            " detected_at) VALUES (:studio_id, :appointment_id, :staff_id, :reason, :now)"
            " RETURNING id",
            {**params, "appointment_id": appointment_id, "reason": reason, "now": now},
        )
        new.append(int(conflict_id))
    if new and notify:
        await _tell(tx, now, studio_id, staff_id, new)
    return new


def after_reload(clock: Clock) -> Callable[[Tx, int, int], Awaitable[list[int]]]:
    """The check a studio-file load runs for each staff member whose availability it
    changed (`studio.loader.load_studio(availability_changed=...)`), in its transaction."""

    async def check(tx: Tx, studio_id: int, staff_id: int) -> list[int]:
        return await detect_in(tx, clock.now(), studio_id, staff_id)

    return check


async def _tell(tx: Tx, now: datetime, studio_id: int, staff_id: int, new: list[int]) -> None:
    """One notice for the conflicts one detection found, naming the first few."""
    found = [await by_id(tx, studio_id, conflict_id) for conflict_id in new]
    found.sort(key=lambda c: c.starts_at)
    params: dict[str, Any] = {
        "count": len(found),
        "staff_timezone": found[0].staff_timezone,
        "conflicts": [
            {
                "starts_at": c.starts_at.isoformat(),
                "service_name": c.service_name,
                "customer_name": c.customer_name,
                "reason": c.reason,
            }
            for c in found[:NOTICE_LINES]
        ],
    }
    queued = await staff_notices.tell_staff(
        tx,
        now,
        studio_id=studio_id,
        staff_id=staff_id,
        template=NOTICE,
        params=params,
        dedupe_key=f"{NOTICE}:{staff_id}:{min(new)}",
    )
    if queued:
        for conflict_id in new:
            await tx.execute(
                "UPDATE appointment_conflicts SET notified_at = :now"
                " WHERE studio_id = :studio_id AND id = :id",
                {"studio_id": studio_id, "id": conflict_id, "now": now},
            )


# --- reading ---------------------------------------------------------------------------


async def get(
    db: Database, studio_id: int, conflict_id: int, *, staff_id: int | None = None
) -> Conflict:
    """One conflict (NotFound for another studio's, or another staff member's)."""
    return await by_id(db, studio_id, conflict_id, staff_id)


async def open_conflicts(
    db: Database, clock: Clock, studio_id: int, *, staff_id: int | None = None
) -> list[Conflict]:
    """The open conflicts of one staff member (or of everyone), soonest first. Each staff
    member's are checked again first (resolve on read): a conflict whose appointment was
    cancelled or moved into their hours meanwhile is cleared, not listed."""

    async def attempt() -> list[Conflict]:
        now = clock.now()
        async with db.transaction() as tx:
            if staff_id is not None:
                people = [staff_id]
                await availability.staff_zone(tx, studio_id, staff_id)  # NotFound if not ours
            else:
                rows = await tx.all(
                    "SELECT DISTINCT staff_id FROM appointment_conflicts"
                    " WHERE studio_id = :studio_id AND resolved_at IS NULL",
                    {"studio_id": studio_id},
                )
                people = sorted(int(r["staff_id"]) for r in rows)
            for person in people:
                await detect_in(tx, now, studio_id, person, notify=False)
            found = []
            for person in people:
                rows = await tx.all(
                    CONFLICT_SELECT + " WHERE c.studio_id = :studio_id AND c.staff_id = :staff_id"
                    " AND c.resolved_at IS NULL",
                    {"studio_id": studio_id, "staff_id": person},
                )
                found += [record(Conflict, r) for r in rows]
        return sorted(found, key=lambda c: (c.starts_at, c.id))

    result: list[Conflict] = await retrying(attempt)
    return result


# --- resolving -------------------------------------------------------------------------


async def _resolve(tx: Tx, now: datetime, found: tuple[int, int], resolution: str, by: str) -> int:
    """Resolve the open conflict `found` = (studio_id, conflict_id)."""
    studio_id, conflict_id = found
    return await tx.execute(
        "UPDATE appointment_conflicts SET resolved_at = :now, resolution = :resolution,"
        " resolved_by = :by WHERE studio_id = :studio_id AND id = :id AND resolved_at IS NULL",
        {
            "studio_id": studio_id,
            "id": conflict_id,
            "now": now,
            "resolution": resolution,
            "by": by[:200],
        },
    )


async def _locked(tx: Tx, studio_id: int, conflict_id: int, staff_id: int | None) -> Conflict:
    """The conflict read again under the staff row, appointment and conflict locks."""
    seen = await by_id(tx, studio_id, conflict_id, staff_id)
    await tx.lock("staff", [seen.staff_id])
    await tx.lock("appointments", [seen.appointment_id])
    await tx.lock("appointment_conflicts", [seen.id])
    return await by_id(tx, studio_id, conflict_id, staff_id)


def _undecidable(found: Conflict, now: datetime) -> bool:
    """Nothing left to decide: the appointment is no longer booked, or has begun."""
    return found.appointment_status != "confirmed" or found.starts_at <= now


async def keep(
    db: Database,
    clock: Clock,
    studio_id: int,
    conflict_id: int,
    *,
    source: str,
    actor: str,
    staff_id: int | None = None,
) -> Resolved:
    """Keep the appointment: an addition for exactly its footprint (source 'chat'/'cli'),
    and the conflict resolved 'kept'. `staff_id`: only that staff member's conflict."""
    if source not in ("chat", "cli"):
        raise errors.InvalidRequest(reason=f"unknown source {source!r}")

    async def attempt() -> Resolved:
        now = clock.now()
        async with db.transaction() as tx:
            found = await _locked(tx, studio_id, conflict_id, staff_id)
            if not found.open:
                return Resolved(found, done=False)
            if _undecidable(found, now):
                await _resolve(tx, now, (studio_id, found.id), "cleared", actor)
                return Resolved(await by_id(tx, studio_id, found.id), done=False)
            slot = {
                "studio_id": studio_id,
                "staff_id": found.staff_id,
                "start": found.busy_from,
                "end": found.busy_until,
            }
            exists = await tx.scalar(
                "SELECT 1 FROM availability_additions WHERE staff_id = :staff_id"
                " AND ends_at = :end AND starts_at = :start AND studio_id = :studio_id",
                slot,
            )
            if exists is None:
                await tx.execute(
                    "INSERT INTO availability_additions (studio_id, staff_id, starts_at,"
                    " ends_at, reason, source) VALUES (:studio_id, :staff_id, :start, :end,"
                    " :reason, :source)",
                    {**slot, "reason": f"kept: conflict {found.id}", "source": source},
                )
            await _resolve(tx, now, (studio_id, found.id), "kept", actor)
            return Resolved(await by_id(tx, studio_id, found.id), done=True)

    result: Resolved = await retrying(attempt)
    return result


async def cancel(
    db: Database,
    clock: Clock,
    studio_id: int,
    conflict_id: int,
    *,
    reason: str,
    actor: str,
    staff_id: int | None = None,
) -> Resolved:
    """Cancel the appointment as staff (the member told, with `reason`, and refunded or
    credited per policy by `appointment_endings.cancel_by_staff`); the conflict resolved
    'cancelled'. `staff_id`: only that staff member's conflict."""
    reason = " ".join(reason.split())
    if not reason:
        raise errors.InvalidRequest(reason="Say why: the customer is told.")

    async def claim() -> tuple[Conflict, bool]:
        now = clock.now()
        async with db.transaction() as tx:
            found = await _locked(tx, studio_id, conflict_id, staff_id)
            if not found.open:  # handled; unless a cancel was cut short: finish it
                unfinished = found.resolution == "cancelled" and not _undecidable(found, now)
                return found, unfinished
            if _undecidable(found, now):
                await _resolve(tx, now, (studio_id, found.id), "cleared", actor)
                return await by_id(tx, studio_id, found.id), False
            await _resolve(tx, now, (studio_id, found.id), "cancelled", actor)
            return await by_id(tx, studio_id, found.id), True

    found, proceed = await retrying(claim)
    if not proceed:
        return Resolved(found, done=False)
    try:
        ended = await appointment_endings.cancel_by_staff(
            db,
            clock,
            studio_id,
            appointment_id=found.appointment_id,
            staff_id=found.staff_id,
            reason=reason,
        )
    except errors.AppointmentNotActive:  # ended another way since: nothing was cancelled
        await db.execute(
            "UPDATE appointment_conflicts SET resolution = 'cleared'"
            " WHERE studio_id = :studio_id AND id = :id AND resolution = 'cancelled'",
            {"studio_id": studio_id, "id": found.id},
        )
        return Resolved(await get(db, studio_id, found.id), done=False)
    return Resolved(await get(db, studio_id, found.id), done=True, appointment=ended)
