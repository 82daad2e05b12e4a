"""Loading the studio file's appointments part: services, who offers them, availability.

Services are upserted by (studio_id, key) like classes; a service no longer in the file is
made inactive (never deleted: it may have appointments), and active again when it comes
back. Who offers a service (`service_staff`) is replaced to match the file.

Availability rows carry a `source`. The file's rows (source 'file') of each staff member in
the file are replaced to match it when they differ; rows added in chat or the CLI (any
other source) are never touched, so reloading the file keeps a vacation blocked in chat.
Blocked periods and additions are local wall times in the staff member's zone, stored as
UTC instants (`appointments.utc_period`).

Every staff member without a calendar token (the secret of their iCalendar feed URL) gets
one; a token once set is kept, so a subscribed calendar keeps working across reloads.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from bookbot.store.db import Tx
from bookbot.studio.appointments import ServiceSpec, utc_period
from bookbot.studio.fields import to_minor_units
from bookbot.studio.model import Staff, StudioFile
from bookbot.studio.upserts import Children, Outcome, Table, sync_children, upsert

FILE = "file"
_SERVICES = Table(
    "services",
    (
        "name",
        "description",
        "duration_minutes",
        "price_minor",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "step_minutes",
        "min_notice_minutes",
        "horizon_days",
        "capacity",
        "location",
        "online",
        "meeting_url",
        "reschedule_cutoff_hours",
        "cancellation_cutoff_hours",
        "payment",
        "refund_after_cutoff_percent",
        "active",
    ),
)
_SERVICE_STAFF = Children("service_staff", "service_id", ("staff_id",))
_WINDOWS = Children(
    "availability_windows",
    "staff_id",
    ("weekday", "start_time", "end_time", "room", "individual", "group_ok"),
    source=FILE,
)
_OVERRIDES = Children(
    "availability_overrides",
    "staff_id",
    ("on_date", "start_time", "end_time", "room", "individual", "group_ok"),
    source=FILE,
)
_BLOCKS = Children(
    "availability_blocks", "staff_id", ("starts_at", "ends_at", "reason"), source=FILE
)
_ADDITIONS = Children(
    "availability_additions", "staff_id", ("starts_at", "ends_at", "room", "reason"), source=FILE
)


# Called in the load's transaction for each staff member whose availability the file changed
# (or whose own row changed: a new zone moves their hours), after their rows are written:
# the services' conflict check (`services.conflicts.after_reload`), handed in by the caller
# because the studio layer does not import services.
AvailabilityChanged = Callable[[Tx, int, int], Awaitable[object]]


def _service_row(service: ServiceSpec, currency: str) -> dict[str, Any]:
    return {
        "name": service.name,
        "description": service.description,
        "duration_minutes": service.duration_minutes,
        "price_minor": to_minor_units(service.price, currency),
        "buffer_before_minutes": service.buffer_before_minutes,
        "buffer_after_minutes": service.buffer_after_minutes,
        "step_minutes": service.step_minutes,
        "min_notice_minutes": service.min_notice_hours * 60,
        "horizon_days": service.horizon_days,
        "capacity": service.capacity,
        "location": service.location,
        "online": service.online,
        "meeting_url": service.meeting_url,
        "reschedule_cutoff_hours": service.reschedule_cutoff_hours,
        "cancellation_cutoff_hours": service.cancellation_cutoff_hours,
        "payment": service.payment,
        "refund_after_cutoff_percent": service.refund_after_cutoff_percent,
        "active": True,
    }


async def load_services(
    tx: Tx, studio_id: int, spec: StudioFile, staff_ids: dict[str, int]
) -> Outcome:
    """Upsert the file's services and who offers them; retire the ones it no longer has."""
    wanted = {s.key: _service_row(s, spec.studio.currency) for s in spec.services}
    outcome = await upsert(tx, _SERVICES, studio_id, wanted)
    offered = {outcome.ids[s.key]: [(staff_ids[k],) for k in s.staff] for s in spec.services}
    outcome.updated |= await sync_children(tx, _SERVICE_STAFF, studio_id, offered)
    gone = await tx.all(
        "SELECT id, key FROM services WHERE studio_id = :studio_id AND active",
        {"studio_id": studio_id},
    )
    for row in gone:
        if row["key"] not in wanted:
            await tx.execute(
                "UPDATE services SET active = :active WHERE studio_id = :studio_id AND id = :id",
                {"studio_id": studio_id, "id": row["id"], "active": False},
            )
            outcome.ids[row["key"]] = row["id"]
            outcome.updated.add(row["id"])
    # Offers name services, so they follow them; counted with them in the load report.
    outcome.updated |= await load_package_offers(tx, studio_id, spec, outcome.ids)
    return outcome


_PACKAGE_OFFERS = Table(
    "package_offers",
    ("name", "service_id", "sessions", "minutes", "price_minor", "valid_days", "payment", "active"),
)


async def load_package_offers(
    tx: Tx, studio_id: int, spec: StudioFile, service_ids: dict[str, int]
) -> set[int]:
    """Upsert the file's `[[packages]]` offers; an offer no longer in the file stops being
    sold (inactive: packages bought from it keep their balance). The services whose offers
    changed."""
    wanted: dict[str, dict[str, object]] = {
        p.key: {
            "name": p.name,
            "service_id": service_ids[p.service],
            "sessions": p.sessions,
            "minutes": p.minutes,
            "price_minor": to_minor_units(p.price, spec.studio.currency),
            "valid_days": p.valid_days,
            "payment": p.payment,
            "active": True,
        }
        for p in spec.packages
    }
    outcome = await upsert(tx, _PACKAGE_OFFERS, studio_id, wanted)
    rows = await tx.all(
        "SELECT id, key, service_id FROM package_offers WHERE studio_id = :studio_id AND active",
        {"studio_id": studio_id},
    )
    for row in rows:
        if row["key"] not in wanted:
            await tx.execute(
                "UPDATE package_offers SET active = :active WHERE studio_id = :studio_id"
                " AND id = :id",
                {"studio_id": studio_id, "id": row["id"], "active": False},
            )
            outcome.updated.add(row["id"])
    changed = outcome.created | outcome.updated
    services = {service_ids[p.service] for p in spec.packages if outcome.ids[p.key] in changed}
    return services | {int(r["service_id"]) for r in rows if r["id"] in changed}


def _hhmm(value: Any) -> str:
    return f"{value:%H:%M}"


def _availability_rows(person: Staff, zone: str) -> dict[Children, list[tuple[Any, ...]]]:
    """The rows the file gives one staff member, per availability table."""
    spec = person.availability
    overrides: list[tuple[Any, ...]] = []
    for override in spec.overrides:
        overrides += [
            (override.on_date, _hhmm(w.start), _hhmm(w.end), w.room, w.individual, w.group)
            for w in override.windows
        ] or [(override.on_date, None, None, "", True, True)]
    return {
        _WINDOWS: [
            (w.weekday, _hhmm(w.start), _hhmm(w.end), w.room, w.individual, w.group)
            for w in spec.weekly
        ],
        _OVERRIDES: overrides,
        _BLOCKS: [(*utc_period(b, zone), b.reason) for b in spec.blocked],
        _ADDITIONS: [(*utc_period(a, zone), a.room, a.reason) for a in spec.additions],
    }


async def load_availability(
    tx: Tx,
    studio_id: int,
    spec: StudioFile,
    staff: Outcome,
    *,
    changed_hook: AvailabilityChanged | None = None,
) -> Outcome:
    """Replace each file staff member's file-sourced availability rows where they differ;
    then `changed_hook` for each staff member whose availability may have changed."""
    rows = {staff.ids[p.key]: _availability_rows(p, spec.timezone_of(p)) for p in spec.staff}
    changed: set[int] = set()
    for table in (_WINDOWS, _OVERRIDES, _BLOCKS, _ADDITIONS):
        wanted = {staff_id: tables[table] for staff_id, tables in rows.items()}
        changed |= await sync_children(tx, table, studio_id, wanted)
    if changed_hook is not None:
        for staff_id in sorted((changed | staff.updated) & rows.keys()):
            await changed_hook(tx, studio_id, staff_id)
    keys = {staff_id: key for key, staff_id in staff.ids.items()}
    having = {sid for sid, tables in rows.items() if any(tables.values())} | changed
    return Outcome(
        ids={keys[sid]: sid for sid in having},
        created=changed & staff.created,
        updated=changed,
    )


async def issue_calendar_tokens(tx: Tx, studio_id: int) -> set[int]:
    """Give every staff member of the studio without a calendar token a fresh one."""
    rows = await tx.all(
        "SELECT id FROM staff WHERE studio_id = :studio_id AND calendar_token IS NULL",
        {"studio_id": studio_id},
    )
    for row in rows:
        await tx.execute(
            "UPDATE staff SET calendar_token = :token"
            " WHERE studio_id = :studio_id AND id = :id AND calendar_token IS NULL",
            {"studio_id": studio_id, "id": row["id"], "token": secrets.token_urlsafe(24)},
        )
    return {row["id"] for row in rows}
