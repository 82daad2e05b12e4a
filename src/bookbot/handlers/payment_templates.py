"""The words of payment notices: to the customer (receipt, refunds, a failed payment, a
balance's link) and to staff (paid, a mismatch, refunds and invoices that failed)."""

from __future__ import annotations

from typing import Any

from babel.numbers import is_currency

from bookbot.handlers.template_values import money, session_when, when_of
from bookbot.presentation.i18n import Translator
from bookbot.services.references import booking_reference

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


def render_payment(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """Payments (issue 13): receipts, refunds, balance links, and staff notices."""
    _ = t._
    amount = money(t, params)
    name = params.get("class_name") or ""
    if template == "payment_receipt":
        lines = [_("Payment received: {amount}. Thank you!").format(amount=amount)]
        if params.get("booking") and params.get("ends_at"):
            when = session_when(t, params, zone)
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
                    until=when_of(t, params, "expires_at", zone), url=params.get("url")
                ),
            ]
        )
    return _staff_payment(template, params, t)


def _staff_payment(template: str, params: dict[str, Any], t: Translator) -> str:
    """Notices to the studio's staff chat, in the studio's language."""
    _ = t._
    amount = money(t, params)
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
