"""The studio file: one TOML file describing a studio, its people, classes and schedule.

Checking happens in two layers. Pydantic checks each field on its own, against the types
and ranges in `bookbot.studio.fields`; then `StudioFile`'s validator checks what refers to
what (keys, roles, course ends) and the schedule as a whole (`bookbot.studio.schedule`:
every pattern makes sessions, nobody works two at once). Either way the caller gets a
`StudioFileError` whose problems read `section[index].field: what is wrong`, in the file's
own spelling (`patterns[0].class`, not pydantic's internals).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, ValidationError, model_validator
from pydantic_core import ErrorDetails

from bookbot.engine import recurrence
from bookbot.engine.attendees import ATTENDEE_FIELDS
from bookbot.engine.pricing import ClassKind
from bookbot.studio.appointments import (
    AvailabilitySpec,
    PackageSpec,
    ServiceSpec,
    appointment_problems,
)
from bookbot.studio.channels import ChannelsSpec
from bookbot.studio.fields import (
    Currency,
    Description,
    DurationMinutes,
    FileModel,
    Headcount,
    Key,
    Language,
    LimitMinutes,
    Location,
    Name,
    PassDays,
    Phone,
    PolicyHours,
    PolicyMinutes,
    Price,
    Quantity,
    Rule,
    StartDate,
    TelegramId,
    TimeZone,
    WallTime,
    shown,
    to_minor_units,
    unknown,
)
from bookbot.studio.notices import StaffNoticeSpec, staff_notice_problems
from bookbot.studio.schedule import schedule_problems

# Payments (issue 13): a deposit is 1..99 % of the total; a refund 0..100 % of what was paid;
# a Checkout Session lasts 30 minutes to 24 hours (Stripe's bounds).
Percent = Annotated[int, Field(strict=True, ge=1, le=99)]
RefundPercent = Annotated[int, Field(strict=True, ge=0, le=100)]
PaymentHoldMinutes = Annotated[int, Field(strict=True, ge=30, le=1440)]
PolicyDays = Annotated[int, Field(strict=True, ge=0, le=365)]
InvoiceDays = Annotated[int, Field(strict=True, ge=1, le=365)]
# A Telegram chat: a person's id (positive) or a group's (negative), 64-bit.
# A multi-day session's length in consecutive days (schema: sessions.days BETWEEN 1 AND 31).
CourseDays = Annotated[int, Field(strict=True, ge=1, le=31)]
StaffChatId = Annotated[int, Field(strict=True, ge=-(2**63) + 1, le=2**63 - 1)]


class StudioFileError(Exception):
    """A studio file that cannot be used; `problems` lists every reason found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


_Model = FileModel


class Policies(_Model):
    booking_cutoff_minutes: PolicyMinutes = 0
    cancellation_cutoff_hours: PolicyHours = 0
    waitlist_offer_minutes: LimitMinutes = 120
    hold_minutes: LimitMinutes = 10
    no_show_uses_punch: bool = True
    # A hold awaiting online payment lasts as long as its Checkout Session: Stripe allows
    # 30 minutes to 24 hours.
    payment_hold_minutes: PaymentHoldMinutes = 30


class QuietHours(_Model):
    """Local hours when non-urgent notices wait (a reminder for a class sooner than the end
    still goes). The same start and end: no quiet hours."""

    start: WallTime = time(21, 0)
    end: WallTime = time(8, 0)


class StudioSettings(_Model):
    slug: Key
    name: Name
    timezone: TimeZone
    currency: Currency
    language: Language = "en"
    policies: Policies = Policies()
    # The Telegram chat (a group's id is negative) told of paid bookings and payment trouble,
    # and where /human conversations are forwarded.
    staff_chat: StaffChatId | None = None
    # Where classes take place, as a confirmation names it.
    address: Location | None = None
    quiet_hours: QuietHours = QuietHours()
    # SMS replies fold á -> a, … -> ... so they stay in 160-character GSM-7 segments.
    sms_fold_gsm: bool = True


class Role(_Model):
    key: Key
    name: Name


class Staff(_Model):
    key: Key
    name: Name
    roles: tuple[Key, ...] = ()
    phone: Phone | None = None
    telegram_user_id: TelegramId | None = None
    timezone: TimeZone | None = None  # None: the studio's zone
    availability: AvailabilitySpec = AvailabilitySpec()


class Resource(_Model):
    key: Key
    name: Name
    quantity: Quantity


class Requirement(_Model):
    resource: Key
    per_student: Headcount = 1


class Part(_Model):
    name: Name
    description: Description = ""


class PassOffer(_Model):
    """A pass customers can ask for in chat (paid at the studio until online payment)."""

    kind: Literal["unlimited", "punch", "full_course"]
    sessions: Headcount | None = None
    valid_days: PassDays | None = None
    price: Price
    max_advance: Headcount | None = 3
    sequential: bool = False
    grace_hours: PolicyHours = 0


class ClassSpec(_Model):
    key: Key
    name: Name
    description: Description = ""
    price: Price
    kind: ClassKind
    role: Key | None = None
    requirements: tuple[Requirement, ...] = ()
    parts: tuple[Part, ...] = ()
    passes: tuple[PassOffer, ...] = ()
    # Paying: online (Stripe), at the studio, or either; without Stripe configured every
    # class is paid at the studio. A deposit is a percent of the total, the balance due
    # `balance_due_days` before the first session.
    payment: Literal["online", "at_studio", "either"] = "at_studio"
    deposit_percent: Percent | None = None
    balance_due_days: PolicyDays = 7
    company_billing: bool = False
    invoice_days_until_due: InvoiceDays = 14
    # A customer cancelling after the cutoff gets this percent of what they paid back
    # (before it, everything); a deposit only if it is refundable.
    refund_after_cutoff_percent: RefundPercent = 0
    deposit_refundable: bool = True
    # Issue 17: details asked before the summary (fields.ATTENDEE_FIELDS), and certificates.
    attendee_fields: tuple[str, ...] = ()
    certificates: StrictBool = False


class PatternSpec(_Model):
    key: Key
    class_key: Key = Field(alias="class")
    rrule: Rule
    start_date: StartDate
    start_time: WallTime
    duration_minutes: DurationMinutes
    capacity: Headcount
    location: Location = ""
    instructor: Key | None = None
    assistants: tuple[Key, ...] = ()
    timezone: TimeZone | None = None
    part: Headcount | None = None  # the part of a multi-part class these sessions teach
    makeup: bool = False  # makeup sessions: any part
    # Each session runs this many consecutive days (a course 15-17 Jan), its hours each day.
    days: CourseDays = 1


class StudioFile(_Model):
    studio: StudioSettings
    roles: tuple[Role, ...] = ()
    staff: tuple[Staff, ...] = ()
    resources: tuple[Resource, ...] = ()
    classes: tuple[ClassSpec, ...] = ()
    patterns: tuple[PatternSpec, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    packages: tuple[PackageSpec, ...] = ()
    staff_notices: tuple[StaffNoticeSpec, ...] = ()  # issue 16: bookbot.studio.notices
    channels: ChannelsSpec = ChannelsSpec()  # its own bot and numbers: bookbot.studio.channels

    @model_validator(mode="after")
    def _cross_references(self) -> StudioFile:
        # Raised as our own error, not ValueError, so pydantic passes it through as is.
        problems = list(cross_reference_problems(self))
        if problems:
            raise StudioFileError(problems)
        return self

    def price_minor(self, klass: ClassSpec) -> int:
        return to_minor_units(klass.price, self.studio.currency)

    def timezone_of(self, item: PatternSpec | Staff) -> str:
        return item.timezone or self.studio.timezone


# --- cross-reference checks -------------------------------------------------------------


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
        yield from _price_problem(f"classes[{i}].price", klass.price, spec.studio.currency)
        for j, offer in enumerate(klass.passes):
            where = f"classes[{i}].passes[{j}]"
            yield from _price_problem(f"{where}.price", offer.price, spec.studio.currency)
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


def _price_problem(where: str, amount: Decimal, currency: str) -> Iterator[str]:
    try:
        to_minor_units(amount, currency)
    except ValueError as error:
        yield f"{where}: {error}"


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


# --- reading files ----------------------------------------------------------------------


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "file"


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "missing":
        return "missing (required)"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling)"
    text = error["msg"][:1].lower() + error["msg"][1:]
    value = error["input"]
    if isinstance(value, str | int | float | date | time):
        text += f" (got {shown(value)})"
    return text


def readable_problems(error: ValidationError) -> list[str]:
    """Pydantic's errors as `section[index].field: message` lines."""
    return [f"{_location(e['loc'])}: {_message(e)}" for e in error.errors(include_url=False)]


def parse_studio_data(data: Mapping[str, Any]) -> StudioFile:
    """A `StudioFile` from already-parsed TOML, or `StudioFileError` listing what is wrong."""
    try:
        return StudioFile.model_validate(data)
    except ValidationError as error:
        raise StudioFileError(readable_problems(error)) from None


def parse_studio_text(text: str, source: str = "studio file") -> StudioFile:
    """Parse and check studio-file TOML; `source` names it in syntax errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StudioFileError([f"{source}: not valid TOML: {error}"]) from None
    except ValueError as error:  # an integer of more than 4,300 digits: int() refuses it
        raise StudioFileError([f"{source}: a number is far too long: {error}"]) from None
    return parse_studio_data(data)


def parse_studio_file(path: str | Path) -> StudioFile:
    """Read and check the studio file at `path`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise StudioFileError([f"{path}: cannot read the file: {error}"]) from None
    return parse_studio_text(text, source=str(path))
