"""The words of each outbox message, rendered when it is sent: in the customer's language
and zone as they are then, not as they were when it was queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from babel.numbers import is_currency

from bookbot.presentation import staff_activity_text
from bookbot.presentation.i18n import Translator
from bookbot.services.references import booking_reference


def _when(t: Translator, params: dict[str, Any], key: str, zone: str) -> str:
    return t.when(datetime.fromisoformat(params[key]), zone)


def render(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """The text of a message; unknown templates are a programming error (KeyError)."""
    _ = t._
    name = params.get("class_name", "")
    if template == "reminder_24h":
        return _(
            "Reminder: {name} is tomorrow, {when}. Send MY to see or cancel your bookings."
        ).format(name=name, when=_session_when(t, params, zone))
    if template == "reminder_1h":
        extra = _("Send HERE when you arrive to check in.") if params.get("reservation") else ""
        return " ".join(
            filter(
                None,
                [
                    _("{name} starts in an hour, {when}.").format(
                        name=name, when=_session_when(t, params, zone)
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
            when=_session_when(t, params, zone),
            people=people,
            until=_when(t, params, "expires_at", zone),
        )
    if template == "auto_cancelled":
        dates = ", ".join(t.when(datetime.fromisoformat(d), zone) for d in params["cancelled"])
        return t.n_(
            "You missed {name} on {missed}, so your other reservation ({dates}) was cancelled, "
            "as the studio's rules say. Send MENU to book again.",
            "You missed {name} on {missed}, so your other reservations ({dates}) were cancelled, "
            "as the studio's rules say. Send MENU to book again.",
            len(params["cancelled"]),
        ).format(name=name, missed=_when(t, params, "missed", zone), dates=dates)
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
        return _payment(template, params, t, zone)
    if template in APPOINTMENT_TEMPLATES or template in RECURRING_TEMPLATES:
        return _appointment(template, params, t, zone)
    if template in STAFF_TEMPLATES:  # on the staff member's clock
        return STAFF_TEMPLATES[template](template, params, t, params.get("staff_timezone") or zone)
    return NOTICE_TEMPLATES[template](params, t, zone)  # unknown: KeyError


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


def _appointment(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """Appointments (issue 14): the customer's reminders and staff's cancellation, in the
    customer's zone; notices to the staff member, in the staff member's zone."""
    if template in RECURRING_TEMPLATES:
        return _recurring(template, params, t, zone)
    _ = t._
    service, staff = params.get("service_name", ""), params.get("staff_name", "")
    if template == "appointment_reminder_24h":
        lines = [
            _("Reminder: your {service} with {staff} is tomorrow, {when}.").format(
                service=service, staff=staff, when=_when(t, params, "starts_at", zone)
            ),
            _place(params, t),
            # Sent a day ahead, when the usual 24-hour cutoffs have just closed: no promise here.
            _("Send MY to see your bookings."),
        ]
    elif template == "appointment_reminder_1h":
        lines = [
            _("Your {service} with {staff} starts in an hour, {when}.").format(
                service=service, staff=staff, when=_when(t, params, "starts_at", zone)
            ),
            _place(params, t),
        ]
    elif template == "appointment_cancelled_by_staff":
        lines = [
            _("{staff} has cancelled your {service} on {when}.").format(
                service=service, staff=staff, when=_when(t, params, "starts_at", zone)
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
    service, when = params.get("service_name", ""), _when(t, params, "starts_at", zone)
    if template == "staff_appointment_booked":
        return _("New appointment: {who} booked {service} on {when}.").format(
            who=who, service=service, when=when
        )
    if template in ("staff_appointment_moved", "staff_booking_moved"):
        return _("{who} moved {service} from {was} to {when}.").format(
            who=who, service=service, was=_when(t, params, "was", zone), when=when
        )
    return _("{who} cancelled {service} on {when}.").format(who=who, service=service, when=when)


# Notices to a staff member outside the appointment set: a class booking moved (told as an
# appointment's move is) and appointments a change of availability left outside it.
STAFF_TEMPLATES: dict[str, Callable[[str, dict[str, Any], Translator, str], str]] = {
    "staff_booking_moved": _staff_appointment,
    "staff_conflicts_found": _conflicts_found,
    # Staff notices of customer activity (issue 16, services.staff_activity).
    "staff_activity": staff_activity_text.render,
    "staff_digest": staff_activity_text.render,
}


def _session_cancelled(params: dict[str, Any], t: Translator, zone: str) -> str:
    """Staff cancelled a class: what it means for this customer's booking, reservation or
    waiting-list place, and the reason staff gave."""
    _ = t._
    lines = [
        _("The studio has cancelled {name} on {when}.").format(
            name=params.get("class_name", ""), when=_session_when(t, params, zone)
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
                amount=_money(t, params, "refund")
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


PAYMENT_TEMPLATES = frozenset(
    {
        "payment_receipt",
        "payment_refunded_late",
        "payment_failed",
        "refund_issued",
        "balance_link",
        "payment_staff_paid",
        "payment_staff_mismatch",
        "payment_staff_refund_failed",
        "payment_staff_invoice_failed",
        "payment_staff_invoice_unsent",
        "payment_staff_balance_unpaid",
    }
)


def _money(t: Translator, params: dict[str, Any], key: str = "amount") -> str:
    return t.money(int(params[key]), str(params["currency"]))


def _paid(t: Translator, params: dict[str, Any]) -> str:
    """What Stripe reported paid, as money when it names an amount and a currency we know
    (a mismatch may be exactly an unknown currency: then amount and code as they came)."""
    paid, currency = params.get("paid"), str(params.get("paid_currency") or "").upper()
    if paid is None:
        return "?"
    if not is_currency(currency):
        return f"{paid} {currency}".strip()
    return t.money(int(paid), currency)


def _reference(params: dict[str, Any]) -> str:
    """The booking's reference as customers and staff see it everywhere else (B-7F3Q,
    A-K2WD for an appointment), not its row id."""
    booking = params.get("booking")
    if booking is None:
        return "?"
    return booking_reference("appointment" if params.get("appointment") else "class", int(booking))


def _payment(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """Payments (issue 13): receipts, refunds, balance links, and staff notices."""
    _ = t._
    amount = _money(t, params)
    name = params.get("class_name") or ""
    if template == "payment_receipt":
        lines = [_("Payment received: {amount}. Thank you!").format(amount=amount)]
        if params.get("booking") and params.get("ends_at"):
            when = _session_when(t, params, zone)
            line = _("Booking reference: {ref}, {name}, {when}.")
            lines.append(line.format(ref=_reference(params), name=name, when=when))
        elif params.get("booking"):
            line = _("Booking reference: {ref}, {name}.")
            lines.append(line.format(ref=_reference(params), name=name))
        if params.get("package"):
            lines.append(_("Your package is active: book with it from the appointment summary."))
        if params.get("receipt_url"):
            lines.append(_("Receipt: {url}").format(url=params["receipt_url"]))
        return " ".join(lines)
    if template == "payment_refunded_late":
        return _(
            "Your payment of {amount} for {name} arrived after the seats you had chosen were "
            "taken, so we could not book you. The full amount is being refunded to your card."
        ).format(amount=amount, name=name)
    if template == "payment_failed":
        return _("Your payment of {amount} did not go through, so nothing was booked.").format(
            amount=amount
        )
    if template == "refund_issued":
        return _("We have refunded {amount} to your card.").format(amount=amount)
    if template == "balance_link":
        intro = (
            _("Reminder: the balance of {amount} for booking {ref} is still due.")
            if params.get("reminder")
            else _("The balance of {amount} for booking {ref} is now due.")
        )
        return " ".join(
            [
                intro.format(amount=amount, ref=_reference(params)),
                _("Pay here by {until}: {url}").format(
                    until=_when(t, params, "expires_at", zone), url=params.get("url")
                ),
            ]
        )
    return _staff_payment(template, params, t)


def _staff_payment(template: str, params: dict[str, Any], t: Translator) -> str:
    """Notices to the studio's staff chat, in the studio's language."""
    _ = t._
    amount = _money(t, params)
    if template == "payment_staff_paid":
        return _("Paid online: {amount}, payment #{payment}.").format(
            amount=amount, payment=params["payment"]
        )
    if template == "payment_staff_mismatch":
        return _(
            "Payment #{payment} does not match: expected {expected}, Stripe says {paid}. "
            "The booking was not confirmed; please check and refund it."
        ).format(
            payment=params["payment"],
            expected=t.money(int(params["expected"]), str(params["currency"])),
            paid=_paid(t, params),
        )
    if template == "payment_staff_refund_failed":
        return _("A refund of {amount} for payment #{payment} failed.").format(
            amount=amount, payment=params["payment"]
        )
    if template == "payment_staff_invoice_unsent":
        return _(
            "The invoice of {amount} for payment #{payment} ({company}) could not be created "
            "at Stripe after {attempts} attempts. The booking stands; please invoice it by hand."
        ).format(
            amount=amount,
            payment=params["payment"],
            company=params.get("company") or "",
            attempts=params.get("attempts", "?"),
        )
    if template == "payment_staff_invoice_failed":
        return _("A payment attempt on the invoice for payment #{payment} failed.").format(
            payment=params["payment"]
        )
    return _("The balance of {amount} for booking {ref} was not paid by its deadline.").format(
        amount=amount, ref=_reference(params)
    )


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
        when = _when(t, params, "starts_at", zone)
        if template == "recurring_skipped":
            return _(
                "Your {service} with {staff} on {when} could not be booked: {why}. The other "
                "dates of your recurring booking stand. Send MY to see your bookings."
            ).format(service=service, staff=staff, when=when, why=why)
        return _("{who}'s recurring {service} on {when} was not booked: {why}.").format(
            who=who, service=service, when=when, why=why
        )
    if template in ("recurring_created", "staff_recurring_created"):
        when = _when(t, params, "starts_at", zone)
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


def _session_when(t: Translator, params: dict[str, Any], zone: str) -> str:
    """The session's (new) start; a multi-day course's dates and daily hours (params with
    `days` > 1 carry `ends_at`)."""
    days = int(params.get("days", 1))
    if days <= 1:
        return _when(t, params, "starts_at", zone)
    starts, ends = (datetime.fromisoformat(params[k]) for k in ("starts_at", "ends_at"))
    return t.days(starts, ends, days, zone, with_year=True)


def _session_changed(params: dict[str, Any], t: Translator, zone: str) -> str:
    """Staff moved a class or changed its place: the new time and place, what it was."""
    _ = t._
    words = {
        "name": params.get("class_name", ""),
        "when": _session_when(t, params, zone),
        "was": _when(t, params, "was", zone),
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
