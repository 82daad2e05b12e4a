"""Loading a studio file into the database, idempotently.

`load_studio` upserts everything in one transaction, matching rows by the file's keys:
the studio by its slug, and roles, staff, resources, classes and patterns by
(studio_id, key). A row is written only when a value differs, so loading the same file
twice writes nothing, and an edited file updates just the rows it changed. The lists a
row owns (a person's roles, a class's requirements and parts, a pattern's assistants)
are replaced to match the file when they differ; that counts as updating the owner.

Rows in the database that are no longer in the file are left alone: removing a class
from the file does not delete it (it may have bookings). Sessions are never touched:
generating them from patterns is `bookbot.services.generation`'s job, so an edited
pattern affects only sessions generated after the load.

Services, who offers them and staff availability are `load_appointments`' part (services
missing from the file are made inactive; only availability rows the file wrote are
replaced).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from bookbot.store.db import Database, Tx
from bookbot.studio.channels import load_channels
from bookbot.studio.fields import to_minor_units
from bookbot.studio.load_appointments import (
    AvailabilityChanged,
    issue_calendar_tokens,
    load_availability,
    load_services,
)
from bookbot.studio.load_notices import load_staff_notices
from bookbot.studio.model import StudioFile, StudioSettings
from bookbot.studio.upserts import (
    Children,
    Outcome,
    Table,
    assignments,
    differs,
    placeholders,
    sync_children,
    upsert,
)

KINDS = (
    "studio",
    "roles",
    "staff",
    "resources",
    "classes",
    "patterns",
    "services",
    "availability",
    "staff_notices",
)


@dataclass(frozen=True)
class LoadReport:
    """What one load did, per kind of row (`KINDS`)."""

    studio_id: int
    slug: str
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def summary(self) -> str:
        """One line for a person, e.g. `clay-studio: updated classes 1; 20 unchanged`."""
        unchanged = sum(self.unchanged.values())
        if not self.changed:
            return f"{self.slug}: nothing changed ({unchanged} already up to date)"
        parts = [
            f"{verb} " + ", ".join(f"{kind} {n}" for kind, n in counts.items() if n)
            for verb, counts in (("created", self.created), ("updated", self.updated))
            if any(counts.values())
        ]
        if unchanged:
            parts.append(f"{unchanged} unchanged")
        return f"{self.slug}: {'; '.join(parts)}"


_STUDIO_COLUMNS = (
    "name",
    "timezone",
    "currency",
    "default_language",
    "booking_cutoff_minutes",
    "cancellation_cutoff_hours",
    "waitlist_offer_minutes",
    "hold_minutes",
    "no_show_uses_punch",
    "payment_hold_minutes",
    "staff_chat_id",
    "address",
    "quiet_start_minute",
    "quiet_end_minute",
    "sms_fold_gsm",
)
_ROLES = Table("teaching_roles", ("name",))
_STAFF = Table("staff", ("name", "phone", "telegram_user_id", "timezone"))
_RESOURCES = Table("resources", ("name", "total_quantity"))
_CLASSES = Table(
    "classes",
    (
        "name",
        "description",
        "price_minor",
        "kind",
        "teaching_role_id",
        "payment",
        "deposit_percent",
        "balance_due_days",
        "company_billing",
        "invoice_days_until_due",
        "refund_after_cutoff_percent",
        "deposit_refundable",
        "attendee_fields",
        "issues_certificates",
    ),
)
_PATTERNS = Table(
    "schedule_patterns",
    (
        "class_id",
        "rrule",
        "start_date",
        "start_time",
        "timezone",
        "duration_minutes",
        "capacity",
        "location",
        "instructor_id",
        "part_position",
        "makeup",
        "days",
    ),
)
_STAFF_ROLES = Children("staff_roles", "staff_id", ("role_id",))
_REQUIREMENTS = Children("class_requirements", "class_id", ("resource_id", "quantity_per_student"))
_PARTS = Children("class_parts", "class_id", ("position", "name", "description"))
_ASSISTANTS = Children("pattern_assistants", "pattern_id", ("staff_id",))
_PASS_OFFERS = Children(
    "pass_offers",
    "class_id",
    (
        "position",
        "kind",
        "sessions",
        "valid_days",
        "price_minor",
        "max_advance",
        "sequential",
        "absence_grace_hours",
    ),
)


async def load_studio(
    db: Database, spec: StudioFile, *, availability_changed: AvailabilityChanged | None = None
) -> LoadReport:
    """Bring the database in line with `spec` in one transaction; see the module docstring.
    `availability_changed` (the conflict check) runs in it for each staff member whose
    availability the file changed."""
    async with db.transaction() as tx:
        return await _load(tx, spec, availability_changed)


async def _load(
    tx: Tx, spec: StudioFile, availability_changed: AvailabilityChanged | None = None
) -> LoadReport:
    studio = await _upsert_studio(tx, spec.studio)
    studio_id = studio.ids[spec.studio.slug]
    roles = await upsert(tx, _ROLES, studio_id, {r.key: {"name": r.name} for r in spec.roles})
    staff = await _load_staff(tx, studio_id, spec, roles.ids)
    resources = await upsert(
        tx,
        _RESOURCES,
        studio_id,
        {r.key: {"name": r.name, "total_quantity": r.quantity} for r in spec.resources},
    )
    classes = await _load_classes(tx, studio_id, spec, roles.ids, resources.ids)
    patterns = await _load_patterns(tx, studio_id, spec, classes.ids, staff.ids)
    services = await load_services(tx, studio_id, spec, staff.ids)
    availability = await load_availability(
        tx, studio_id, spec, staff, changed_hook=availability_changed
    )
    staff.updated |= await issue_calendar_tokens(tx, studio_id) & set(staff.ids.values())
    notices = await load_staff_notices(tx, studio_id, spec)
    await load_channels(tx, studio_id, spec.channels)
    loaded = (studio, roles, staff, resources, classes, patterns, services, availability, notices)
    outcomes = dict(zip(KINDS, loaded, strict=True))
    return _report(studio_id, spec.studio.slug, outcomes)


def _report(studio_id: int, slug: str, outcomes: dict[str, Outcome]) -> LoadReport:
    created = {kind: len(o.created) for kind, o in outcomes.items()}
    updated = {kind: len(o.updated - o.created) for kind, o in outcomes.items()}
    unchanged = {kind: len(o.ids) - created[kind] - updated[kind] for kind, o in outcomes.items()}
    return LoadReport(studio_id, slug, created, updated, unchanged)


async def _load_staff(
    tx: Tx, studio_id: int, spec: StudioFile, role_ids: dict[str, int]
) -> Outcome:
    wanted = {
        s.key: {
            "name": s.name,
            "phone": s.phone,
            "telegram_user_id": s.telegram_user_id,
            "timezone": s.timezone,
        }
        for s in spec.staff
    }
    outcome = await upsert(tx, _STAFF, studio_id, wanted)
    roles = {outcome.ids[s.key]: [(role_ids[r],) for r in s.roles] for s in spec.staff}
    outcome.updated |= await sync_children(tx, _STAFF_ROLES, studio_id, roles)
    return outcome


async def _load_classes(
    tx: Tx,
    studio_id: int,
    spec: StudioFile,
    role_ids: dict[str, int],
    resource_ids: dict[str, int],
) -> Outcome:
    wanted = {
        c.key: {
            "name": c.name,
            "description": c.description,
            "price_minor": spec.price_minor(c),
            "kind": c.kind.value,
            "teaching_role_id": role_ids[c.role] if c.role else None,
            "payment": c.payment,
            "deposit_percent": c.deposit_percent,
            "balance_due_days": c.balance_due_days,
            "company_billing": c.company_billing,
            "invoice_days_until_due": c.invoice_days_until_due,
            "refund_after_cutoff_percent": c.refund_after_cutoff_percent,
            "deposit_refundable": c.deposit_refundable,
            "attendee_fields": ",".join(c.attendee_fields),
            "issues_certificates": c.certificates,
        }
        for c in spec.classes
    }
    outcome = await upsert(tx, _CLASSES, studio_id, wanted)
    ids = outcome.ids
    requirements = {
        ids[c.key]: [(resource_ids[r.resource], r.per_student) for r in c.requirements]
        for c in spec.classes
    }
    # Positions count from 1 in the order the file lists the parts.
    parts = {
        ids[c.key]: [(n, p.name, p.description) for n, p in enumerate(c.parts, start=1)]
        for c in spec.classes
    }
    offers = {
        ids[c.key]: [
            (
                n,
                o.kind,
                o.sessions,
                o.valid_days,
                to_minor_units(o.price, spec.studio.currency),
                o.max_advance,
                o.sequential,
                o.grace_hours,
            )
            for n, o in enumerate(c.passes, start=1)
        ]
        for c in spec.classes
    }
    outcome.updated |= await sync_children(tx, _REQUIREMENTS, studio_id, requirements)
    outcome.updated |= await sync_children(tx, _PARTS, studio_id, parts)
    outcome.updated |= await sync_children(tx, _PASS_OFFERS, studio_id, offers)
    return outcome


async def _load_patterns(
    tx: Tx,
    studio_id: int,
    spec: StudioFile,
    class_ids: dict[str, int],
    staff_ids: dict[str, int],
) -> Outcome:
    wanted = {
        p.key: {
            "class_id": class_ids[p.class_key],
            "rrule": p.rrule,
            "start_date": p.start_date,
            "start_time": p.start_time,
            "timezone": spec.timezone_of(p),
            "duration_minutes": p.duration_minutes,
            "capacity": p.capacity,
            "location": p.location,
            "instructor_id": staff_ids[p.instructor] if p.instructor else None,
            "part_position": p.part,
            "makeup": p.makeup,
            "days": p.days,
        }
        for p in spec.patterns
    }
    outcome = await upsert(tx, _PATTERNS, studio_id, wanted)
    assistants = {
        outcome.ids[p.key]: [(staff_ids[a],) for a in p.assistants] for p in spec.patterns
    }
    outcome.updated |= await sync_children(tx, _ASSISTANTS, studio_id, assistants)
    return outcome


async def _upsert_studio(tx: Tx, studio: StudioSettings) -> Outcome:
    values = {
        "name": studio.name,
        "timezone": studio.timezone,
        "currency": studio.currency,
        "default_language": studio.language,
        **studio.policies.model_dump(),
        "staff_chat_id": studio.staff_chat,
        "address": studio.address,
        "quiet_start_minute": _minute_of_day(studio.quiet_hours.start),
        "quiet_end_minute": _minute_of_day(studio.quiet_hours.end),
        "sms_fold_gsm": studio.sms_fold_gsm,
    }
    cols = _STUDIO_COLUMNS
    row = await tx.one(
        f"SELECT id, {', '.join(cols)} FROM studios WHERE slug = :slug",  # noqa: S608
        {"slug": studio.slug},
    )
    if row is None:
        studio_id = await tx.scalar(
            f"INSERT INTO studios (slug, {', '.join(cols)})"  # noqa: S608
            f" VALUES (:slug, {placeholders(cols)}) RETURNING id",
            {"slug": studio.slug, **values},
        )
        return Outcome({studio.slug: studio_id}, created={studio_id})
    outcome = Outcome({studio.slug: row["id"]})
    if differs(row, values):
        await tx.execute(
            f"UPDATE studios SET {assignments(cols)} WHERE id = :id",  # noqa: S608
            {"id": row["id"], **values},
        )
        outcome.updated.add(row["id"])
    return outcome


def _minute_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute
