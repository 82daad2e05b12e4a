"""The words of each outbox message, rendered when it is sent: in the customer's language
and zone as they are then, not as they were when it was queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bookbot.handlers.appointment_templates import (
    APPOINTMENT_TEMPLATES,
    RECURRING_TEMPLATES,
    STAFF_TEMPLATES,
    render_appointment,
)
from bookbot.handlers.payment_templates import PAYMENT_TEMPLATES, render_payment
from bookbot.handlers.template_values import money, session_when, when_of
from bookbot.presentation.i18n import Translator


def render(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """The text of a message; unknown templates are a programming error (KeyError)."""
    _ = t._
    name = params.get("class_name", "")
    if template == "reminder_24h":
        return _(
            "Reminder: {name} is tomorrow, {when}. Send MY to see or cancel your bookings."
        ).format(name=name, when=session_when(t, params, zone))
    if template == "reminder_1h":
        extra = _("Send HERE when you arrive to check in.") if params.get("reservation") else ""
        return " ".join(
            filter(
                None,
                [
                    _("{name} starts in an hour, {when}.").format(
                        name=name, when=session_when(t, params, zone)
                    ),
                    extra,
                ],
            )
        )
    if template == "waitlist_offer":
        people = t.n_("{n} person", "{n} people", int(params["guests"])).format(n=params["guests"])
        return _(
            "A place freed up in {name} on {when}, for {people}. It is held for you until "
            "{until}: send ACCEPT to book it, or DECLINE to pass it on."
        ).format(
            name=name,
            when=session_when(t, params, zone),
            people=people,
            until=when_of(t, params, "expires_at", zone),
        )
    if template == "auto_cancelled":
        dates = ", ".join(t.when(datetime.fromisoformat(d), zone) for d in params["cancelled"])
        return t.n_(
            "You missed {name} on {missed}, so your other reservation ({dates}) was cancelled, "
            "as the studio's rules say. Send MENU to book again.",
            "You missed {name} on {missed}, so your other reservations ({dates}) were cancelled, "
            "as the studio's rules say. Send MENU to book again.",
            len(params["cancelled"]),
        ).format(name=name, missed=when_of(t, params, "missed", zone), dates=dates)
    if template == "payment_staff_event_failed":
        return _(
            "Stripe's {event_type} event ({event_id}) for payment {payment_id} could not be "
            "applied, even after retrying. Please check that payment in Stripe's dashboard."
        ).format(
            event_type=params["event_type"],
            event_id=params["event_id"],
            payment_id=params["payment_id"],
        )
    if template == "session_cancelled":
        return _session_cancelled(params, t, zone)
    if template in PAYMENT_TEMPLATES:
        return render_payment(template, params, t, zone)
    if template in APPOINTMENT_TEMPLATES or template in RECURRING_TEMPLATES:
        return render_appointment(template, params, t, zone)
    if template in STAFF_TEMPLATES:  # on the staff member's clock
        return STAFF_TEMPLATES[template](template, params, t, params.get("staff_timezone") or zone)
    return NOTICE_TEMPLATES[template](params, t, zone)  # unknown: KeyError


def _session_cancelled(params: dict[str, Any], t: Translator, zone: str) -> str:
    """Staff cancelled a class: what it means for this customer's booking, reservation or
    waiting-list place, and the reason staff gave."""
    _ = t._
    lines = [
        _("The studio has cancelled {name} on {when}.").format(
            name=params.get("class_name", ""), when=session_when(t, params, zone)
        )
    ]
    if params.get("reason"):
        reason = str(params["reason"])
        # Its own sentence: the next one starts right after it.
        reason += "" if reason.endswith((".", "!", "?")) else "."
        lines.append(_("Reason: {reason}").format(reason=reason))
    kind = params.get("kind")
    if kind == "booking" and params.get("refund"):
        lines.append(
            _("Your booking is cancelled and {amount} is being refunded to your card.").format(
                amount=money(t, params, "refund")
            )
        )
    elif kind == "booking":
        lines.append(_("Your booking is cancelled; you owe nothing for it."))
    elif kind == "reservation":
        lines.append(_("Your reservation is cancelled; your pass keeps the session."))
    else:
        lines.append(_("You are no longer on its waiting list."))
    lines.append(_("Sorry for the trouble. Send MENU to book another class."))
    return " ".join(lines)


# --- certificates (issue 17: services.certificates) ---------------------------------------


def _certificate_issued(params: dict[str, Any], t: Translator, _zone: str) -> str:
    """A certificate issued: attached on Telegram, a link to its PDF by text."""
    _ = t._
    code = params["code"]
    shown = "-".join(code[i : i + 4] for i in range(0, len(code), 4))
    words = {"holder": params.get("holder_name", ""), "course": params["class_name"], "code": shown}
    if params.get("attached"):
        return _(
            "Congratulations! {holder} passed {course}. The certificate is attached (code {code})."
        ).format(**words)
    if params.get("url"):
        return _(
            "Congratulations! {holder} passed {course}. Download the certificate: {url} "
            "(code {code})."
        ).format(url=params["url"], **words)
    return _("Congratulations! {holder} passed {course}. Certificate code: {code}.").format(**words)


# More notices by template, each rendered as (params, translator, customer's zone).
NOTICE_TEMPLATES: dict[str, Callable[[dict[str, Any], Translator, str], str]] = {
    "certificate_issued": _certificate_issued,
}


# --- session changes (issue 17: services.session_changes) ---------------------------------


def _session_changed(params: dict[str, Any], t: Translator, zone: str) -> str:
    """Staff moved a class or changed its place: the new time and place, what it was."""
    _ = t._
    words = {
        "name": params.get("class_name", ""),
        "when": session_when(t, params, zone),
        "was": when_of(t, params, "was", zone),
        "place": params.get("location", ""),
    }
    if params.get("moved") and words["place"] != params.get("was_location", ""):
        first = _("{name} on {was} has moved to {when}, at {place}.")
    elif params.get("moved"):
        first = _("{name} on {was} has moved to {when}.")
    else:
        first = _("{name} on {when} is now at {place}.")
    lines = [first.format(**words)]
    if params.get("kind") == "reservation":
        lines.append(_("Your reservation moves with it."))
    else:
        lines.append(_("Your booking moves with it."))
    if params.get("attached"):
        lines.append(_("The updated calendar entry is attached."))
    lines.append(_("Send MY to see or cancel your bookings."))
    return " ".join(lines)


NOTICE_TEMPLATES["session_changed"] = _session_changed


# --- feedback (issue 17: services.feedback) ----------------------------------------------


def _feedback_request(params: dict[str, Any], t: Translator, _zone: str) -> str:
    """A day after a course or class: a 1-5 rating (stars under it on Telegram)."""
    return t._(
        "How was {name}? Please rate it from 1 (poor) to 5 (excellent): "
        "send RATE and a number, e.g. RATE 5."
    ).format(name=params.get("class_name", ""))


NOTICE_TEMPLATES["feedback_request"] = _feedback_request
