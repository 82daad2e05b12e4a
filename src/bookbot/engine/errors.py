"""Domain refusals: a stable code plus the numbers a person needs to understand them.

Adapters render these in the reader's language (see `bookbot.presentation.i18n`); services never
raise transport or database errors at a caller.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar


def N_(msgid: str) -> str:  # the gettext marker's conventional name
    """Marks a message for extraction; translated where it is shown."""
    return msgid


# What `NotFound(what=...)` names; `bookbot.presentation.i18n.render_error` translates it.
THINGS = (
    N_("studio"),
    N_("class"),
    N_("session"),
    N_("customer"),
    N_("booking"),
    N_("course run"),
    N_("schedule pattern"),
    N_("staff member"),
    N_("assignment of staff member"),
    N_("waitlist offer"),
    N_("service"),
    N_("appointment"),
    N_("package"),
    N_("package offer"),
    N_("recurring booking"),
)


class BookingError(Exception):
    """A refusal with a stable `code` and `params` for the message template.

    Instants in `params` stay datetimes so that each reader sees them in their own zone
    and language; `str()` shows them in UTC.
    """

    code: ClassVar[str] = "booking_error"
    template: ClassVar[str] = "That cannot be done."

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.render(lambda instant: instant.strftime("%a %d %b %Y %H:%M UTC")))

    def render(
        self,
        show_instant: Callable[[datetime], str],
        template: str | None = None,
        translate: Callable[[str], str] = str,
        show_day: Callable[[date], str] = date.isoformat,
    ) -> str:
        """The message with every instant passed through `show_instant`, every calendar date
        through `show_day` and the `what` of a NotFound through `translate`."""

        def shown(key: str, value: Any) -> Any:
            if isinstance(value, datetime):
                return show_instant(value)
            if isinstance(value, date):
                return show_day(value)
            return translate(value) if key == "what" else value

        params = {k: shown(k, v) for k, v in self.params.items()}
        return (template or self.template).format(**params)


class NotFound(BookingError):
    code = "not_found"
    template = "No {what} with id {ident}."


class InvalidRequest(BookingError):
    code = "invalid_request"
    template = "{reason}"


class GuestCountInvalid(BookingError):
    code = "guest_count_invalid"
    template = "The number of people must be at least 1 (got {guests})."


class SessionInPast(BookingError):
    code = "session_in_past"
    template = "The session on {when} has already started or is past its booking cutoff."


class SessionNotOpen(BookingError):
    code = "session_not_open"
    template = "The session on {when} is cancelled."


class NotEnoughSeats(BookingError):
    code = "not_enough_seats"
    template = "Only {seats_left} seats left on {when}, {needed} needed."


class NotEnoughResource(BookingError):
    code = "not_enough_resource"
    template = "Only {available} × {resource} free on {when}, {needed} needed."


class AlreadyBooked(BookingError):
    code = "already_booked"
    template = "You are already booked on {when}."


class AlreadyCancelled(BookingError):
    code = "already_cancelled"
    template = "That booking is already cancelled."


class CancellationTooLate(BookingError):
    code = "cancellation_too_late"
    template = "Bookings can be cancelled up to {hours} hours before the start."


class AlreadyWaitlisted(BookingError):
    code = "already_waitlisted"
    template = "You are already on the waitlist for {when}."


class SeatsAvailable(BookingError):
    code = "seats_available"
    template = "The session on {when} still has room: book it instead of waiting."


class OfferExpired(BookingError):
    code = "offer_expired"
    template = "Your waitlist offer for {when} has expired."


class OfferDeclined(BookingError):
    code = "offer_declined"
    template = "You declined the waitlist offer for {when}."


class OfferAlreadyAccepted(BookingError):
    code = "offer_already_accepted"
    template = "You have already accepted the waitlist offer for {when}."


class StaffNotQualified(BookingError):
    code = "staff_not_qualified"
    template = "{staff} is not qualified as {role}."


class StaffDoubleBooked(BookingError):
    code = "staff_double_booked"
    template = "{staff} already teaches an overlapping session ({other})."


class StaffAlreadyAssigned(BookingError):
    code = "staff_already_assigned"
    template = "{staff} is already assigned to this session."


class PassNotUsable(BookingError):
    code = "pass_not_usable"
    template = "That pass cannot be used any more."


class PassNotValidThen(BookingError):
    code = "pass_not_valid_then"
    template = "Your pass is not valid on {when}."


class WrongClassForPass(BookingError):
    code = "wrong_class_for_pass"
    template = "Your pass is for another class."


class CourseNotForPasses(BookingError):
    """A pass reserves one-day sessions: a course over several days is booked."""

    code = "course_not_for_passes"
    template = (
        "That course runs over several days, so it is booked rather than reserved with a pass."
    )


class AdvanceLimitReached(BookingError):
    code = "advance_limit_reached"
    template = "You already hold {limit} reservations ahead; cancel one or attend one first."


class NoPunchesLeft(BookingError):
    code = "no_punches_left"
    template = "Your pass has no sessions left to reserve ({remaining} left, {reserved} reserved)."


class PartOutOfOrder(BookingError):
    code = "part_out_of_order"
    template = "Part {part} needs part {needed} attended first."


class WrongPart(BookingError):
    code = "wrong_part"
    template = "That session teaches part {offered}, not part {part}."


class CheckInNotOpen(BookingError):
    code = "check_in_not_open"
    template = "Check-in opens at {opens}."


class CheckInClosed(BookingError):
    code = "check_in_closed"
    template = "Check-in for this class has closed."


class NotClassDay(BookingError):
    code = "not_class_day"
    template = "Staff can check people in only on the day of the class."


class NotCancellable(BookingError):
    code = "not_cancellable"
    template = "That reservation can no longer be cancelled."


class NotAllowed(BookingError):
    code = "not_allowed"
    template = "Sorry, that is for studio staff only."


class ChooseStudio(BookingError):
    code = "choose_studio"
    template = "Choose a studio with --studio (studios: {studios})."


class MixedClasses(BookingError):
    code = "mixed_classes"
    template = "All chosen sessions must be of the same class."


class WrongRegistrationKind(BookingError):
    code = "wrong_registration_kind"
    template = "A {class_kind} class is booked as {expected}, not {kind}."


class NoSessionChosen(BookingError):
    code = "no_session_chosen"
    template = "Choose at least one session."


class OneSessionOnly(BookingError):
    code = "one_session_only"
    template = "A single-session booking takes exactly one session."


class PunchPassNeedsSessions(BookingError):
    code = "punch_pass_needs_sessions"
    template = "A punch pass needs a number of sessions."


class SlotTaken(BookingError):
    code = "slot_taken"
    template = "That time was just taken. Please pick another."


class SlotNotAvailable(BookingError):
    code = "slot_not_available"
    template = "{when} is not a time that can be booked."


class RescheduleTooLate(BookingError):
    code = "reschedule_too_late"
    template = (
        "Bookings can be moved up to {cutoff_hours} hours before the start (until {deadline})."
    )


class ServiceNotOffered(BookingError):
    code = "service_not_offered"
    template = "{staff} does not offer {service}."


class NotYourAppointment(BookingError):
    code = "not_your_appointment"
    template = "That appointment is not yours."


class AppointmentNotActive(BookingError):
    code = "appointment_not_active"
    template = "That appointment is no longer active, so it cannot be changed."


class PackageExpired(BookingError):
    code = "package_expired"
    template = (
        'Your package "{name}" is valid until {expires_on}, so it cannot pay for this appointment.'
    )


class PackageUsedUp(BookingError):
    code = "package_used_up"
    template = 'Your package "{name}" has no sessions left.'


class PackageMinutesShort(BookingError):
    code = "package_minutes_short"
    template = (
        'Your package "{name}" has {left} minutes left; this appointment takes {needed} minutes.'
    )


class PackageNotActive(BookingError):
    code = "package_not_active"
    template = 'Your package "{name}" cannot be used now: it is not paid yet, or was cancelled.'


class PackageOtherService(BookingError):
    code = "package_other_service"
    template = 'Your package "{name}" is for another service.'


class PackageBalanceNegative(BookingError):
    code = "package_balance_negative"
    template = "A balance cannot go below zero: the package has {left} left."


class SeriesEnded(BookingError):
    code = "series_ended"
    template = "That recurring booking has ended."


class NotASeriesDate(BookingError):
    code = "not_a_series_date"
    template = "{when} is not an upcoming date of that recurring booking."
