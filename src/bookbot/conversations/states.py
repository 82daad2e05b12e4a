"""The dialogue's states, what a state shows, and what choosing an option leads to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

from babel.dates import format_datetime

from bookbot.conversations.model import TEXTING, Attachment
from bookbot.conversations.store import Conversation
from bookbot.engine.clock import Clock
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import Translator
from bookbot.services.common import Studio
from bookbot.services.customers import Customer
from bookbot.services.payment_gateway import PaymentGateway
from bookbot.store.db import Database


class State(StrEnum):
    MENU = "menu"
    CLASSES = "classes"
    CLASS = "class"
    GUESTS = "guests"
    CONFIRM = "confirm"
    WAITLIST = "waitlist"
    BOOKINGS = "bookings"
    PAST_BOOKINGS = "past_bookings"  # newest first, a page at a time
    BOOKING = "booking"
    CANCEL_CONFIRM = "cancel_confirm"
    LANGUAGE = "language"
    HELP = "help"
    LINK_PHONE = "link_phone"
    LINK_CODE = "link_code"
    # Passes and reservations
    PASSES = "passes"
    PAST_PASSES = "past_passes"  # expired or used up, newest first, a page at a time
    TICKET = "ticket"  # one pass: status, reservations, check-in
    OFFER = "offer"  # getting a pass the class offers
    PACKAGE_OFFER = "package_offer"  # buying a lesson package a service is sold in
    RESERVE = "reserve"
    RESERVE_PART = "reserve_part"
    NOTICE = "notice"  # a message the bot sent first, with its one-tap actions
    # Paying online (only with a payment provider configured; see payment_steps)
    PAY = "pay"  # a payment link is out; the seats are held until it expires
    COMPANY_NAME = "company_name"  # invoicing a company: its name,
    COMPANY_EMAIL = "company_email"  # its billing email,
    COMPANY_PO = "company_po"  # and an optional purchase order number
    # Staff tools (only for staff of the studio; see staff_steps)
    STAFF_MENU = "staff_menu"
    STAFF_TODAY = "staff_today"
    STAFF_ROSTER = "staff_roster"
    STAFF_NOSHOWS = "staff_noshows"
    STAFF_REPORT = "staff_report"
    STAFF_ASSIGN = "staff_assign"
    STAFF_GENERATE = "staff_generate"
    STAFF_OVERRIDE = "staff_override"
    STAFF_PAYMENTS = "staff_payments"  # today's payments and what is still owed
    # Staff: customers' lesson packages, adjusted by hand (see package_staff_steps)
    STAFF_PACKAGES = "staff_packages"  # the packages (a typed phone narrows them)
    STAFF_PACKAGE = "staff_package"  # one package: + / - its balance
    STAFF_PACKAGE_REASON = "staff_package_reason"  # the adjustment's reason, typed
    # Appointments, booked by customers (see appointment_steps)
    APPOINTMENT_SERVICES = "appointment_services"  # which service
    APPOINTMENT_STAFF = "appointment_staff"  # with whom, or the first available
    APPOINTMENT_DAYS = "appointment_days"  # days that have free slots, a page at a time
    APPOINTMENT_TIMES = "appointment_times"  # the free times of one day
    APPOINTMENT_GUESTS = "appointment_guests"  # party size, for small-group services
    APPOINTMENT_CONFIRM = "appointment_confirm"  # the summary; the slot is held
    APPOINTMENT = "appointment"  # one of the customer's appointments
    APPOINTMENT_CANCEL = "appointment_cancel"  # the cancellation terms, before cancelling
    RESCHEDULE_DAYS = "reschedule_days"
    RESCHEDULE_TIMES = "reschedule_times"
    RESCHEDULE_CONFIRM = "reschedule_confirm"
    CLASS_RESCHEDULE = "class_reschedule"  # another date of a booked class
    CLASS_RESCHEDULE_CONFIRM = "class_reschedule_confirm"
    TIMEZONE = "timezone"  # the customer's time zone: a city or a zone name
    TIMEZONE_CONFIRM = "timezone_confirm"  # "is it 10:42 where you are?"
    # Recurring bookings (see recurring_steps)
    RECURRING_OFFER = "recurring_offer"  # after a booking: the menu, and "make this weekly"
    SERIES = "series"  # one of the member's series: its next dates, skip one, end it
    SERIES_PAUSE = "series_pause"  # which date to skip
    SERIES_END = "series_end"  # what ending cancels and what stays, before ending
    # Staff: their availability and their appointments (see staff_appointment_steps)
    STAFF_AVAILABILITY = "staff_availability"  # my week
    STAFF_BLOCK_DAY = "staff_block_day"
    STAFF_BLOCK_PERIOD = "staff_block_period"
    STAFF_ADD_WINDOW = "staff_add_window"
    STAFF_WEEKDAY_HOURS = "staff_weekday_hours"
    STAFF_APPOINTMENTS = "staff_appointments"  # upcoming / pending / past / cancelled
    STAFF_APPOINTMENT = "staff_appointment"  # one appointment: cancel, no-show
    STAFF_APPOINTMENT_CANCEL = "staff_appointment_cancel"  # the reason, typed
    # Staff: appointments a change of availability left outside it (see conflict_steps)
    STAFF_CONFLICTS = "staff_conflicts"  # each with Cancel and Keep
    STAFF_CONFLICT_CANCEL = "staff_conflict_cancel"  # the reason, typed
    WAITLIST_PLACE = "waitlist_place"  # one of the customer's waitlist places: leave it
    # Privacy (see privacy_steps)
    FORGET_CONFIRM = "forget_confirm"  # what forgetting removes and keeps, before doing it
    # Staff lists' second steps (issue 16, staff): a state of their own, so ⬅ Back returns
    # to the list (see staff_roster_steps and staff_admin_steps)
    STAFF_ROSTER_SESSION = "staff_roster_session"  # one session's roster, from a list
    STAFF_ASSIGN_SESSION = "staff_assign_session"  # who may work the session picked
    STAFF_ASSIGN_ROLE = "staff_assign_role"  # as instructor or as assistant
    STAFF_GENERATE_PREVIEW = "staff_generate_preview"  # one pattern's preview, then confirm
    # Talking to a person (see handoff_steps): messages go to the staff chat, not the bot
    HANDOFF = "handoff"
    # Staff notices of customer activity (issue 16, see staff_notice_steps)
    STAFF_NOTICES = "staff_notices"  # at once / daily summary / off, and which events
    # Issue 17, attendees: a class's details, asked one at a time before the summary while
    # the seats are held (see attendee_steps)
    ATTENDEE_DETAILS = "attendee_details"
    STAFF_SESSION_NOTES = "staff_session_notes"  # a session's instructor notes, typed

    # Feedback after a course (issue 17, feedback: see feedback_steps)
    FEEDBACK_RATING = "feedback_rating"  # ⭐1…⭐5 for the booking asked about
    FEEDBACK_COMMENT = "feedback_comment"  # an optional comment, typed (SKIP for none)
    # Issue 17, sessions: /session adds a one-off session or changes one (session_admin_steps)
    STAFF_SESSION = "staff_session"  # add one, or change one
    STAFF_SESSION_CLASS = "staff_session_class"  # the new session's class
    STAFF_SESSION_DATE = "staff_session_date"  # its date, typed
    STAFF_SESSION_START = "staff_session_start"  # its start, typed
    STAFF_SESSION_END = "staff_session_end"  # its end, typed, or a length tapped
    STAFF_SESSION_CAPACITY = "staff_session_capacity"  # seats, typed or the usual tapped
    STAFF_SESSION_CONFIRM = "staff_session_confirm"  # what will be done, then ✅
    STAFF_SESSION_PICK = "staff_session_pick"  # upcoming sessions to change, paged
    STAFF_SESSION_EDIT = "staff_session_edit"  # one session: change its time or capacity
    STAFF_SESSION_CANCEL_REASON = "staff_session_cancel_reason"  # why, typed (session_cancel_steps)
    STAFF_SESSION_CANCEL_CONFIRM = "staff_session_cancel_confirm"  # who is told, then ✖ Yes
    # Issue 17, certificates: /complete (see complete_steps)
    STAFF_COMPLETE = "staff_complete"  # recent sessions of courses with certificates
    STAFF_COMPLETE_MARK = "staff_complete_mark"  # its people: tap who passed, then issue


@dataclass(frozen=True)
class Choice:
    """An option as the dialogue stores it: an action, its value, its label, other names."""

    action: str
    label: str
    value: Any = None
    aliases: tuple[str, ...] = ()

    def stored(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "label": self.label,
            "value": self.value,
            "aliases": list(self.aliases),
        }

    @classmethod
    def from_stored(cls, raw: dict[str, Any]) -> Choice:
        return cls(raw["action"], raw["label"], raw.get("value"), tuple(raw.get("aliases", ())))


@dataclass(frozen=True)
class Link:
    """A link shown with a screen (a payment page): not a choice, nothing is stored."""

    label: str
    url: str


@dataclass
class Screen:
    text: str
    choices: list[Choice] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    preformatted: bool = False  # a table aligned with spaces (Reply.preformatted)


@dataclass(frozen=True)
class PaymentSetup:
    """Online payment, when a provider is configured: the gateway, and the public URL the
    provider's pages send the customer back to (our return pages)."""

    gateway: PaymentGateway
    public_url: str


@dataclass(frozen=True)
class Transition:
    """Where a choice leads, with a message to show first (a confirmation, a refusal)."""

    state: State
    notice: str | None = None
    attachment: Attachment | None = None
    back: bool = False  # going back pops the history instead of pushing onto it
    # The summary's hold became a booking: leaving the summary has nothing left to let go.
    settled: bool = False


class TextSender(Protocol):
    """Sends a text message by SMS (Twilio); used to deliver one-time codes, from the
    studio's own number when it has one (`studio_id`), else the deployment's sender."""

    async def send_text(
        self, channel: Any, address: str, text: str, *, studio_id: int | None = None
    ) -> list[str]: ...


@lru_cache(maxsize=4096)
def _wall_clock(instant: datetime, zone_name: str, pattern: str, language: str) -> tuple[str, str]:
    """`instant` on `zone_name`'s clock in `pattern`, and the zone's abbreviation then. Babel
    takes ~15 µs a date, and every customer is shown the same few dates: kept, bounded."""
    local = instant.astimezone(zone(zone_name))
    return format_datetime(local, pattern, locale=language), local.tzname() or ""


@dataclass
class Context:
    """Everything one step needs. `now` is read once per update."""

    db: Database
    clock: Clock
    now: datetime
    t: Translator
    studio: Studio
    customer: Customer
    conversation: Conversation
    sms: TextSender | None = None
    staff_id: int | None = None  # set when the person is staff of this studio
    payments: PaymentSetup | None = None  # None: everything is paid at the studio
    # What this update already read, for a later step of the same update (the screen after
    # a choice); gone with the update, never saved with the dialogue.
    turn: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    @property
    def texting(self) -> bool:
        """SMS or WhatsApp: numbered lists, no files, and Twilio's keywords to respect."""
        return self.conversation.channel in TEXTING

    @property
    def zone(self) -> str:
        return self.customer.timezone or self.studio.timezone

    def when(self, instant: datetime, *, with_year: bool = False) -> str:
        """'Sat 28 Nov, 14:00' in the customer's zone and language; the zone is named only
        when it is not the studio's."""
        pattern = "EEE d MMM y, HH:mm" if with_year else "EEE d MMM, HH:mm"
        text, zone_name = _wall_clock(instant, self.zone, pattern, self.t.language)
        return text if self.zone == self.studio.timezone else f"{text} {zone_name}"

    def session_when(
        self, starts_at: datetime, ends_at: datetime, days: int = 1, *, with_year: bool = False
    ) -> str:
        """`when` of a session's start; a multi-day one as 'Wed 13 – Fri 15 Jan, 09:00–17:00
        daily' (its wall-clock hours are the same each day)."""
        if days <= 1:
            return self.when(starts_at, with_year=with_year)
        text = self.t.days(starts_at, ends_at, days, self.zone, with_year=with_year)
        if self.zone == self.studio.timezone:
            return text
        return f"{text} {starts_at.astimezone(zone(self.zone)).tzname()}"

    def money(self, minor: int) -> str:
        return self.t.money(minor, self.studio.currency)
