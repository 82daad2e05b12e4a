"""The words of appointment notices (issue 14) and recurring bookings' (issue 15), and the
notices to a staff member on their own clock (`STAFF_TEMPLATES`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bookbot.handlers.template_values import when_of
from bookbot.presentation import staff_activity_text
from bookbot.presentation.i18n import Translator

APPOINTMENT_TEMPLATES = frozenset(
    {
        "appointment_reminder_24h",
        "appointment_reminder_1h",
        "appointment_cancelled_by_staff",
        "staff_appointment_booked",
        "staff_appointment_moved",
        "staff_appointment_cancelled",
    }
)


def _place(params: dict[str, Any], t: Translator) -> str:
    """Where an appointment happens: the meeting link of an online one, else the place."""
    _ = t._
    if params.get("online"):
        if params.get("meeting_url"):
            return _("Join online: {url}").format(url=params["meeting_url"])
        return _("Online: the studio sends the link.")
    if params.get("location"):
        return _("Where: {place}.").format(place=params["location"])
    return ""


def render_appointment(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """Appointments (issue 14): the customer's reminders and staff's cancellation, in the
    customer's zone; notices to the staff member, in the staff member's zone."""
    if template in RECURRING_TEMPLATES:
        return _recurring(template, params, t, zone)
    _ = t._
    service, staff = params.get("service_name", ""), params.get("staff_name", "")
    if template == "appointment_reminder_24h":
        lines = [
            _("Reminder: your {service} with {staff} is tomorrow, {when}.").format(
                service=service, staff=staff, when=when_of(t, params, "starts_at", zone)
            ),
            _place(params, t),
            # Sent a day ahead, when the usual 24-hour cutoffs have just closed: no promise here.
            _("Send MY to see your bookings."),
        ]
    elif template == "appointment_reminder_1h":
        lines = [
            _("Your {service} with {staff} starts in an hour, {when}.").format(
                service=service, staff=staff, when=when_of(t, params, "starts_at", zone)
            ),
            _place(params, t),
        ]
    elif template == "appointment_cancelled_by_staff":
        lines = [
            _("{staff} has cancelled your {service} on {when}.").format(
                service=service, staff=staff, when=when_of(t, params, "starts_at", zone)
            ),
            _("Reason: {reason}").format(reason=params["reason"]) if params.get("reason") else "",
            _("You owe nothing for it. Sorry for the trouble. Send MENU to book another time."),
        ]
    else:
        lines = [_staff_appointment(template, params, t, params.get("staff_timezone") or zone)]
    return " ".join(filter(None, lines))


def _staff_appointment(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    _ = t._
    guests = int(params.get("guests") or 1)
    who = params.get("customer_name") or _("A customer")
    if guests > 1:
        who = _("{who} (party of {n})").format(who=who, n=guests)
    service, when = params.get("service_name", ""), when_of(t, params, "starts_at", zone)
    if template == "staff_appointment_booked":
        return _("New appointment: {who} booked {service} on {when}.").format(
            who=who, service=service, when=when
        )
    if template in ("staff_appointment_moved", "staff_booking_moved"):
        return _("{who} moved {service} from {was} to {when}.").format(
            who=who, service=service, was=when_of(t, params, "was", zone), when=when
        )
    return _("{who} cancelled {service} on {when}.").format(who=who, service=service, when=when)


def _conflicts_found(_template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """A change of availability left booked appointments outside it (services.conflicts):
    the first few, on the staff member's clock, and how to settle them."""
    _ = t._
    count = int(params["count"])
    reasons = {"outside_hours": _("outside your hours"), "blocked": _("in a blocked period")}
    lines = [
        t.n_(
            "Your availability changed: {n} booked appointment no longer fits it.",
            "Your availability changed: {n} booked appointments no longer fit it.",
            count,
        ).format(n=count)
    ]
    for c in params["conflicts"]:
        when = t.when(datetime.fromisoformat(c["starts_at"]), zone)
        reason = reasons.get(c["reason"], "")
        lines.append(f"• {when} {c['service_name']} · {c['customer_name']}: {reason}")
    if count > len(params["conflicts"]):
        lines.append(_("… and {n} more").format(n=count - len(params["conflicts"])))
    lines.append(_("Nothing was cancelled. Send /conflicts to cancel or keep each one."))
    return "\n".join(lines)


# Notices to a staff member outside the appointment set: a class booking moved (told as an
# appointment's move is) and appointments a change of availability left outside it.
STAFF_TEMPLATES: dict[str, Callable[[str, dict[str, Any], Translator, str], str]] = {
    "staff_booking_moved": _staff_appointment,
    "staff_conflicts_found": _conflicts_found,
    # Staff notices of customer activity (issue 16, services.staff_activity).
    "staff_activity": staff_activity_text.render,
    "staff_digest": staff_activity_text.render,
}


RECURRING_TEMPLATES = frozenset(
    {
        "recurring_created",
        "recurring_skipped",
        "recurring_ended",
        "staff_recurring_created",
        "staff_recurring_skipped",
        "staff_recurring_ended",
    }
)


def _recurring(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """Recurring bookings (issue 15): to the member in their zone; to the staff member (the
    staff_ ones) in the series' zone."""
    _ = t._
    if template.startswith("staff_"):
        zone = params.get("staff_timezone") or zone
    service, staff = params.get("service_name", ""), params.get("staff_name", "")
    who = params.get("customer_name") or _("A customer")
    every = _("every week") if int(params.get("interval_weeks", 1)) == 1 else _("every 2 weeks")
    reason = params.get("reason") or ""
    if template in ("recurring_skipped", "staff_recurring_skipped"):
        why = {
            "blocked": _("{staff} is away then").format(staff=staff),
            "unavailable": _("{staff} does not work then").format(staff=staff),
        }.get(reason, _("that time is already taken"))
        if params.get("detail"):
            why = f"{why} ({params['detail']})"
        when = when_of(t, params, "starts_at", zone)
        if template == "recurring_skipped":
            return _(
                "Your {service} with {staff} on {when} could not be booked: {why}. The other "
                "dates of your recurring booking stand. Send MY to see your bookings."
            ).format(service=service, staff=staff, when=when, why=why)
        return _("{who}'s recurring {service} on {when} was not booked: {why}.").format(
            who=who, service=service, when=when, why=why
        )
    if template in ("recurring_created", "staff_recurring_created"):
        when = when_of(t, params, "starts_at", zone)
        if template == "recurring_created":
            return _(
                "{staff} booked your {service} {every}, from {when}. Send MY to see, pause or "
                "end it."
            ).format(staff=staff, service=service, every=every, when=when)
        return _("New recurring booking: {who}, {service} {every}, from {when}.").format(
            who=who, service=service, every=every, when=when
        )
    lines = [
        _("Your recurring {service} with {staff} has ended.").format(service=service, staff=staff)
        if template == "recurring_ended"
        else _("{who}'s recurring {service} has ended.").format(who=who, service=service),
        _("Reason: {reason}").format(reason=reason) if reason else "",
    ]
    return " ".join(filter(None, lines))
