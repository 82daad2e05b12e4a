"""What refers to what in a studio file: keys unique per section, roles, resources, classes
and staff that exist, payment fields that fit the class's way of paying, course patterns with
an end; then the schedule as a whole (`schedule`), staff notices and appointments. Run by
`StudioFile`'s validator once every field has passed pydantic's own checks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from bookbot.engine import recurrence
from bookbot.engine.attendees import ATTENDEE_FIELDS
from bookbot.engine.pricing import ClassKind
from bookbot.studio.appointments import appointment_problems
from bookbot.studio.fields import price_problem, unknown
from bookbot.studio.notices import staff_notice_problems
from bookbot.studio.schedule import schedule_problems

if TYPE_CHECKING:
    from bookbot.studio.appointments import ServiceSpec
    from bookbot.studio.model import ClassSpec, PatternSpec, Resource, Role, Staff, StudioFile


def _duplicate_keys(
    section: str,
    items: Sequence[Role | Staff | Resource | ClassSpec | PatternSpec | ServiceSpec],
) -> Iterator[str]:
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.key in first:
            yield (
                f'{section}[{index}].key: duplicate key "{item.key}"'
                f" (also {section}[{first[item.key]}])"
            )
        first.setdefault(item.key, index)


def _repeats(where: str, values: Sequence[str], field: str = "") -> Iterator[str]:
    for index, value in enumerate(values):
        if value in values[:index]:
            yield f'{where}[{index}]{field}: "{value}" is listed twice'


def _staff_problems(spec: StudioFile) -> Iterator[str]:
    roles = [r.key for r in spec.roles]
    for i, person in enumerate(spec.staff):
        yield from _repeats(f"staff[{i}].roles", person.roles)
        for j, role in enumerate(person.roles):
            if role not in roles:
                yield unknown(f"staff[{i}].roles[{j}]", "role", role, roles)


def _class_problems(spec: StudioFile) -> Iterator[str]:
    roles = [r.key for r in spec.roles]
    resources = [r.key for r in spec.resources]
    for i, klass in enumerate(spec.classes):
        if klass.role is not None and klass.role not in roles:
            yield unknown(f"classes[{i}].role", "role", klass.role, roles)
        used = [r.resource for r in klass.requirements]
        yield from _repeats(f"classes[{i}].requirements", used, ".resource")
        for j, resource in enumerate(used):
            if resource not in resources:
                yield unknown(
                    f"classes[{i}].requirements[{j}].resource", "resource", resource, resources
                )
        yield from price_problem(f"classes[{i}].price", klass.price, spec.studio.currency)
        for j, offer in enumerate(klass.passes):
            where = f"classes[{i}].passes[{j}]"
            yield from price_problem(f"{where}.price", offer.price, spec.studio.currency)
            if offer.kind == "punch" and not offer.sessions:
                yield f"{where}.sessions: a punch pass needs a number of sessions"
        yield from _payment_problems(f"classes[{i}]", klass)
        yield from _repeats(f"classes[{i}].attendee_fields", klass.attendee_fields)
        for j, name in enumerate(klass.attendee_fields):
            if name not in ATTENDEE_FIELDS:
                where = f"classes[{i}].attendee_fields[{j}]"
                yield unknown(where, "attendee field", name, ATTENDEE_FIELDS)


def _payment_problems(where: str, klass: ClassSpec) -> Iterator[str]:
    if klass.payment != "at_studio":
        return
    if klass.deposit_percent is not None:
        yield f'{where}.deposit_percent: a deposit is paid online: set payment = "online" or "either"'
    if klass.company_billing:
        yield f'{where}.company_billing: invoices go through Stripe: set payment = "online" or "either"'


def _pattern_problems(spec: StudioFile) -> Iterator[str]:
    # Reversed so that a duplicated key means its first entry (the duplicate is reported).
    classes = {c.key: c for c in reversed(spec.classes)}
    for i, pattern in enumerate(spec.patterns):
        klass = classes.get(pattern.class_key)
        if klass is None:
            yield unknown(f"patterns[{i}].class", "class", pattern.class_key, list(classes))
        elif klass.kind is ClassKind.COURSE and not recurrence.is_finite(pattern.rrule):
            yield (
                f'patterns[{i}].rrule: class "{klass.key}" is a course, so its pattern needs an'
                " end: add COUNT=n or UNTIL=date"
            )
        if klass is not None and klass.passes and pattern.days > 1:
            yield (
                f'patterns[{i}].days: class "{klass.key}" sells passes, and a pass reserves'
                " one-day sessions only: give a course over several days a class of its own"
            )
        yield from _pattern_staff_problems(spec, i, pattern, klass)


def _pattern_staff_problems(
    spec: StudioFile, index: int, pattern: PatternSpec, klass: ClassSpec | None
) -> Iterator[str]:
    staff = {s.key: s for s in reversed(spec.staff)}
    where = f"patterns[{index}]"
    people = [(f"{where}.instructor", pattern.instructor)] if pattern.instructor else []
    people += [(f"{where}.assistants[{j}]", key) for j, key in enumerate(pattern.assistants)]
    yield from _repeats(f"{where}.assistants", pattern.assistants)
    for field, key in people:
        person = staff.get(key)
        if person is None:
            yield unknown(field, "staff", key, list(staff))
        elif key == pattern.instructor and field != f"{where}.instructor":
            yield f'{field}: "{key}" is already the instructor'
        elif klass is not None and klass.role is not None and klass.role not in person.roles:
            yield (
                f'{field}: "{key}" does not hold role "{klass.role}",'
                f' which class "{klass.key}" needs'
            )


def cross_reference_problems(spec: StudioFile) -> Iterator[str]:
    """Everything wrong between sections of an otherwise well-formed file, and in its
    schedule as a whole (patterns that make no session, people in two places at once)."""
    for section in ("roles", "staff", "resources", "classes", "patterns", "services"):
        yield from _duplicate_keys(section, getattr(spec, section))
    yield from _staff_problems(spec)
    yield from _class_problems(spec)
    yield from _pattern_problems(spec)
    yield from schedule_problems(spec)
    yield from staff_notice_problems(
        spec.staff_notices, {s.key: s.telegram_user_id for s in spec.staff}
    )
    yield from appointment_problems(
        staff=[(s.key, s.timezone, s.availability) for s in spec.staff],
        services=spec.services,
        studio_zone=spec.studio.timezone,
        currency=spec.studio.currency,
        packages=spec.packages,
    )
