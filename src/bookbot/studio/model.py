"""The studio file: one TOML file describing a studio, its people, classes and schedule.

Checking happens in two layers. Pydantic checks each field on its own, against the types
and ranges in `bookbot.studio.fields`; then `StudioFile`'s validator checks what refers to
what (`bookbot.studio.cross_checks`: keys, roles, course ends) and the schedule as a whole (`bookbot.studio.schedule`:
every pattern makes sessions, nobody works two at once). Either way the caller gets a
`StudioFileError` whose problems read `section[index].field: what is wrong`, in the file's
own spelling (`patterns[0].class`, not pydantic's internals).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, ValidationError, model_validator
from pydantic_core import ErrorDetails

from bookbot.engine.pricing import ClassKind
from bookbot.studio.appointments import (
    AvailabilitySpec,
    PackageSpec,
    ServiceSpec,
)
from bookbot.studio.channels import ChannelsSpec
from bookbot.studio.cross_checks import cross_reference_problems
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
)
from bookbot.studio.notices import StaffNoticeSpec

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
