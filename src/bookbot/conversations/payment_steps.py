"""Paying online in chat: the summary's ways to pay, the payment link, backing out, and
invoicing a company. Only with a payment provider configured (`Context.payments`) and a
class whose policy allows it; otherwise every booking is paid at the studio, as before.

Nothing here decides money: amounts come from the engine through `services.payments`, and
the booking is confirmed by the provider's event (the webhook), never by the chat. The chat
shows the link, says until when the seats are held, and tells what it finds when asked.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from bookbot.conversations import booking_steps as booking
from bookbot.conversations import package_steps
from bookbot.conversations.account_steps import menu_choices
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.model import TEXTING
from bookbot.conversations.payment_status import status_text
from bookbot.conversations.states import Choice, Context, Link, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.presentation.i18n import render_error
from bookbot.services import (
    appointment_payments,
    appointments,
    passes,
    payment_reports,
    payments,
    refunds,
)
from bookbot.services.package_checkout import PACKAGE
from bookbot.services.payment_events import read_payment
from bookbot.services.payment_gateway import GatewayError
from bookbot.services.payment_urls import CANCEL_PATH, SESSION_PLACEHOLDER, SUCCESS_PATH
from bookbot.services.payments import Company, ReturnUrls

log = logging.getLogger(__name__)

# What a customer types for a company is shown to staff and sent to the provider: kept to
# one line of printable text, of a sensible length.
MAX_COMPANY = 100
MAX_PO = 40
MAX_EMAIL = 254
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")
# The payments a chat's link can be for (a balance's link comes from the job, not the chat).
CHAT_PURPOSES = (rules.FULL, rules.DEPOSIT, rules.PASS, PACKAGE)


@dataclass(frozen=True)
class PayOffer:
    """The ways to pay online the summary offers for one held booking."""

    total: int
    deposit: int | None  # what the deposit would be now; None: no deposit offered
    company: bool
    at_studio: bool  # 'either': paying at the studio is still offered


async def class_policy(ctx: Context, class_id: int) -> rules.PaymentPolicy:
    row = await ctx.db.one(
        f"SELECT {refunds.POLICY_COLUMNS} FROM classes k"  # noqa: S608 - constants
        " WHERE k.studio_id = :s AND k.id = :k",
        {"s": ctx.studio.id, "k": class_id},
    )
    return rules.PaymentPolicy() if row is None else refunds.policy_of(row)


async def offer(ctx: Context, class_id: int, total: int, first_start: datetime) -> PayOffer | None:
    """What can be paid online for this summary; None when nothing can (no provider, a
    class paid at the studio, or nothing held to pay for)."""
    if ctx.payments is None or ctx.data.get("hold_id") is None or total <= 0:
        return None
    policy = await class_policy(ctx, class_id)
    if not policy.online:
        return None
    deposit = None
    if policy.deposit_percent is not None and rules.deposit_offered(
        policy, total, now=ctx.now, first_start=first_start
    ):
        deposit = rules.percent_of(total, policy.deposit_percent)
    return PayOffer(total, deposit, policy.company_billing, policy.payment == "either")


def offer_choices(ctx: Context, found: PayOffer) -> list[Choice]:
    _ = ctx.t._
    choices = [Choice("pay", _("💳 Pay now"), rules.Choice.FULL.value, (_("pay"), "pay"))]
    if found.deposit is not None:
        label = _("💳 Pay {amount} deposit now").format(amount=ctx.money(found.deposit))
        choices.append(Choice("pay", label, rules.Choice.DEPOSIT.value, (_("deposit"),)))
    if found.company:
        choices.append(Choice("company", _("🏢 Invoice my company"), aliases=(_("invoice"),)))
    if found.at_studio:
        choices.append(
            Choice(
                "confirm",
                _("Pay at the studio"),
                aliases=(_("confirm"), _("yes"), "yes", "si"),
            )
        )
    return choices


# --- appointments ----------------------------------------------------------------------------


async def appointment_choices(
    ctx: Context, a: appointments.Appointment, confirm: Choice
) -> list[Choice]:
    """The appointment summary's ways to book: `confirm` alone (paid at the studio, as
    before payments) unless a provider is configured, the slot is held and its service is
    paid online; then "💳 Pay now", and for "either" paying at the studio (`confirm`,
    relabelled) too."""
    if ctx.payments is None or a.status != "held" or a.price_minor <= 0:
        return [confirm]
    policy = await appointment_payments.service_policy(ctx.db, ctx.studio.id, a.service_id)
    if not policy.online:
        return [confirm]
    _ = ctx.t._
    choices = [Choice("pay", _("💳 Pay now"), rules.Choice.FULL.value, (_("pay"), "pay"))]
    if policy.payment == "either":
        choices.append(Choice(confirm.action, _("Pay at the studio"), aliases=confirm.aliases))
    return choices


def appointment_price_line(ctx: Context, a: appointments.Appointment, choices: list[Choice]) -> str:
    """The summary's price: paid at the studio unless paying online is the only way."""
    _ = ctx.t._
    price = ctx.money(a.price_minor)
    if any(c.action == "pay" for c in choices):
        if len(choices) == 1:
            return _("Price: {price}, paid online now.").format(price=price)
        return _("Price: {price}: pay now online, or at the studio.").format(price=price)
    return _("Price: {price}, paid at the studio.").format(price=price)


async def appointment_paid_line(ctx: Context, a: appointments.Appointment) -> str | None:
    """The price of an appointment paid online with its payment's status ('Price: £40.00 ·
    paid'); None when nothing was paid online (the line says 'paid at the studio')."""
    status = await appointment_payments.payment_status(ctx.db, ctx.studio.id, a.id)
    if status is None:
        return await package_steps.paid_line(ctx, a)  # or paid with a package
    return ctx.t._("Price: {price} · {status}").format(
        price=ctx.money(a.price_minor), status=status_text(ctx.t, status, None, ctx.zone)
    )


async def appointment_refund_line(ctx: Context, a: appointments.Appointment) -> str | None:
    """What cancelling now gives back, said before the customer confirms (the amount the
    cancellation then refunds); None when nothing was paid online."""
    async with ctx.db.transaction(write=False) as tx:
        terms = await appointment_payments.refund_terms(tx, a, before_cutoff=True, by_staff=False)
    if not terms.lines:
        return await package_steps.cancel_line(ctx, a)  # or its package's credit
    return ctx.t._("{amount} paid online comes back to your card.").format(
        amount=ctx.money(terms.total)
    )


async def _held_again(ctx: Context, appointment_id: int) -> appointments.Appointment:
    """The customer's held appointment, live: one whose hold lapsed (or was let go) is held
    afresh for the same time, if still free (SlotTaken if not)."""
    was = await appointments.appointment_for_customer(
        ctx.db, ctx.studio.id, ctx.customer.id, appointment_id
    )
    if was.status == "held" and was.held_until is not None and was.held_until > ctx.now:
        return was
    again = await appointments.hold(
        ctx.db,
        ctx.clock,
        ctx.studio.id,
        customer_id=ctx.customer.id,
        service_id=was.service_id,
        staff_id=was.staff_id,
        starts_at=was.starts_at,
        guests=was.guest_count,
    )
    ctx.data["held"] = again.id
    ctx.data["held_until"] = again.held_until.isoformat() if again.held_until else None
    return again


async def _pay_appointment(ctx: Context) -> Transition:
    """Pay now from the appointment summary: a Checkout link for the held time (held
    afresh first if the summary sat past its hold)."""
    assert ctx.payments is not None  # noqa: S101 - offered only with payments on
    try:
        held = (await _held_again(ctx, int(ctx.data["held"]))).id
        checkout = await payments.start_appointment_checkout(
            ctx.db,
            ctx.clock,
            ctx.payments.gateway,
            studio_id=ctx.studio.id,
            customer_id=ctx.customer.id,
            appointment_id=held,
            urls=return_urls(ctx),
        )
    except GatewayError as error:
        log.warning("checkout for appointment %s: %s", ctx.data.get("held"), error)
        sorry = ctx.t._(
            "Sorry, the payment page could not be opened just now. Your time is still held: "
            "please try again in a moment."
        )
        return Transition(State.APPOINTMENT_CONFIRM, sorry)
    except errors.BookingError as error:
        ctx.data.pop("held", None)
        return Transition(State.APPOINTMENT_TIMES, render_error(error, ctx.t, ctx.zone))
    return _link_out(ctx, checkout, kept=True)


async def _hold_appointment_again(ctx: Context, appointment_id: int, notice: str) -> Transition:
    """Back from an appointment's link (called off, so its slot was let go): the same time
    held again for the summary, or the day's times if someone took it meanwhile."""
    try:
        await _held_again(ctx, appointment_id)
    except errors.BookingError as error:
        ctx.data.pop("held", None)
        text = "\n".join([notice, render_error(error, ctx.t, ctx.zone)])
        return Transition(State.APPOINTMENT_TIMES, text, back=True)
    return Transition(State.APPOINTMENT_CONFIRM, notice, back=True)


async def refund_after_cancel(ctx: Context, appointment_id: int) -> None:
    """After an appointment paid online is cancelled: its refunds go to the provider now
    (reconciliation sends them otherwise); the customer is told each when accepted."""
    gateway = ctx.payments.gateway if ctx.payments is not None else None
    try:
        await appointment_payments.submit_refunds(ctx.db, ctx.clock, gateway, appointment_id)
    except GatewayError as error:  # left pending: reconciliation asks again
        log.warning("refunds of appointment %s: %s", appointment_id, error)


async def refund_after_staff_cancel(ctx: Context, appointment_id: int) -> str | None:
    """After a staff member cancels an appointment paid online: its refunds (all of it) go
    to the provider now, and the line that tells the staff member so; None when nothing
    was paid online."""
    refunded = await appointment_payments.refunded_for(ctx.db, appointment_id, "staff_cancel")
    if not refunded:
        return await package_steps.credited_line(ctx, appointment_id)  # or its package's
    await refund_after_cancel(ctx, appointment_id)
    return ctx.t._("It was paid online: {amount} is refunded to the customer.").format(
        amount=ctx.money(refunded)
    )


def return_urls(ctx: Context) -> ReturnUrls:
    """Our return pages, in the customer's language, linking back to this chat."""
    assert ctx.payments is not None  # noqa: S101 - only called with payments on
    query = {"lang": ctx.t.language}
    if ctx.conversation.channel in ("telegram", *TEXTING):
        query["via"] = ctx.conversation.channel
    base, params = ctx.payments.public_url.rstrip("/"), urlencode(query)
    return ReturnUrls(
        success=f"{base}{SUCCESS_PATH}?{params}&session_id={SESSION_PLACEHOLDER}",
        cancel=f"{base}{CANCEL_PATH}?{params}",
    )


def _sorry(ctx: Context) -> str:
    return ctx.t.n_(
        "Sorry, the payment page could not be opened just now. Your place is still held: "
        "please try again in a moment.",
        "Sorry, the payment page could not be opened just now. Your places are still held: "
        "please try again in a moment.",
        int(ctx.data.get("guests") or 1),
    )


def _link_out(ctx: Context, checkout: payments.Checkout, *, kept: bool = False) -> Transition:
    """To the link's screen. `kept`: leaving the appointment summary for it lets nothing
    go (the link keeps the hold; calling the link off lets it go)."""
    ctx.data.update(payment_id=checkout.payment_id, held_until=checkout.expires_at.isoformat())
    return Transition(State.PAY, settled=kept)


async def pay(ctx: Context, choice: Choice) -> Transition:
    """Pay now (in full or the deposit): a Checkout link for the held seats (or, from the
    appointment summary, for the held appointment)."""
    if ctx.conversation.state == State.APPOINTMENT_CONFIRM.value and ctx.data.get("held"):
        return (
            await _pay_appointment(ctx) if ctx.payments else Transition(State.APPOINTMENT_CONFIRM)
        )
    hold_id = ctx.data.get("hold_id")
    if ctx.payments is None or hold_id is None:
        return Transition(State.CONFIRM)
    try:
        checkout = await payments.start_checkout(
            ctx.db,
            ctx.clock,
            ctx.payments.gateway,
            studio_id=ctx.studio.id,
            customer_id=ctx.customer.id,
            registration_id=int(hold_id),
            choice=rules.Choice(choice.value),
            urls=return_urls(ctx),
        )
    except GatewayError as error:
        log.warning("checkout for hold %s: %s", hold_id, error)
        return Transition(State.CONFIRM, _sorry(ctx))
    except errors.BookingError as error:
        return Transition(State.GUESTS, render_error(error, ctx.t, ctx.zone))
    return _link_out(ctx, checkout)


async def pay_pass(ctx: Context, offered: passes.Offer) -> Transition:
    """A pass bought online: issued when asked, usable once paid."""
    assert ctx.payments is not None  # noqa: S101 - offered only with payments on
    try:
        checkout = await payments.start_pass_checkout(
            ctx.db,
            ctx.clock,
            ctx.payments.gateway,
            studio_id=ctx.studio.id,
            customer_id=ctx.customer.id,
            class_id=int(ctx.data["class_id"]),
            terms=offered.terms(),
            urls=return_urls(ctx),
        )
    except GatewayError as error:
        log.warning("pass checkout: %s", error)
        return Transition(
            State.OFFER,
            ctx.t._("Sorry, the payment page could not be opened just now. Please try again."),
        )
    except errors.BookingError as error:
        return Transition(State.OFFER, render_error(error, ctx.t, ctx.zone))
    return _link_out(ctx, checkout)


async def pay_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    payment = await read_payment(ctx.db, int(ctx.data.get("payment_id") or 0))
    if payment is None or payment.customer_id != ctx.customer.id:
        return Screen(_("There is no payment waiting for you."), menu_choices(ctx))
    amount = ctx.t.money(payment.amount_minor, payment.currency)
    if payment.status == "paid":
        if payment.purpose == rules.PASS:
            return Screen(_("✅ Payment received: your pass is active."), menu_choices(ctx))
        if payment.purpose == PACKAGE:
            return Screen(_("✅ Payment received: your package is active."), menu_choices(ctx))
        if payment.appointment_id is not None:
            return Screen(
                _("✅ Payment received: your appointment is confirmed."), menu_choices(ctx)
            )
        return Screen(_("✅ Payment received: your booking is confirmed."), menu_choices(ctx))
    if payment.status != "pending" or not payment.checkout_url or payment.expires_at is None:
        return Screen(
            _("This payment link is no longer valid, and nothing was charged."), menu_choices(ctx)
        )
    until = ctx.t.time(payment.expires_at, ctx.zone)
    if payment.purpose in (rules.PASS, PACKAGE):
        held = _("I'll confirm here when the payment arrives; the link works until {time}.")
    elif payment.appointment_id is not None:
        held = _("I'll confirm here when the payment arrives; the time is held until {time}.")
    else:
        held = _("I'll confirm here when the payment arrives; the seats are held until {time}.")
    text = "\n".join(
        [_("To pay {amount}, open the secure payment page.").format(amount=amount), held]
    ).format(time=until)
    link = Link(_("💳 Pay {amount}").format(amount=amount), payment.checkout_url)
    _back, menu = back_and_cancel(ctx)
    choices = [
        Choice("noop", _("🔄 I have paid"), aliases=(_("paid"), "paid", "pagado")),
        Choice("pay_back", _("⬅ Back"), aliases=(_("back"), "back", "atras")),
        menu,
    ]
    return Screen(text, choices, [link])


async def _call_off(ctx: Context, line: payment_reports.PaymentLine) -> payments.Outcome:
    """Expire one open link of the customer's and let what it held go (a link found paid
    meanwhile is honoured as paid)."""
    assert ctx.payments is not None  # noqa: S101 - only with payments on
    gateway = ctx.payments.gateway
    if line.registration_id is not None:
        return await payments.cancel_checkout(
            ctx.db,
            ctx.clock,
            gateway,
            studio_id=ctx.studio.id,
            customer_id=ctx.customer.id,
            registration_id=line.registration_id,
        )
    payment = await read_payment(ctx.db, line.id)
    if payment is None:
        return payments.Outcome.UNCHANGED
    return await payments.call_off(ctx.db, ctx.clock, gateway, payment)


async def call_off_links(ctx: Context) -> payments.Outcome:
    """The customer left the payment screen: call off their open links from the chat. Read
    from the payments, not the dialogue's data, which MENU clears before this runs."""
    if ctx.payments is None:
        return payments.Outcome.UNCHANGED
    lines = await payment_reports.customer_payments(ctx.db, ctx.studio.id, ctx.customer.id, limit=5)
    outcome = payments.Outcome.UNCHANGED
    for line in lines:
        if line.status == "pending" and line.purpose in CHAT_PURPOSES:
            try:
                found = await _call_off(ctx, line)
            except GatewayError as error:  # the link lapses at its expiry; reconciliation
                log.warning("calling off payment %s: %s", line.id, error)
                continue
            outcome = found if found is not payments.Outcome.UNCHANGED else outcome
    return outcome


async def pay_back(ctx: Context) -> Transition:
    """Back from the link: it is expired, and the same seats held again for the summary
    (or, for a pass, back to its offer)."""
    _ = ctx.t._
    data = ctx.data
    history = data.get("history", [])
    before = State(history.pop()) if history else State.MENU
    outcome = await call_off_links(ctx)
    if outcome is payments.Outcome.PAID:
        data.clear()
        return Transition(State.MENU, _("✅ Your payment had already gone through."))
    notice = _("Payment cancelled; nothing was charged.")
    data.pop("payment_id", None)
    if before is State.APPOINTMENT_CONFIRM and data.get("held"):
        return await _hold_appointment_again(ctx, int(data["held"]), notice)
    if before is not State.CONFIRM or "guests" not in data:
        return Transition(before, notice, back=True)
    data.pop("hold_id", None)
    again = await booking.hold_seats(ctx, int(data["guests"]))
    return Transition(again.state, "\n".join(filter(None, [notice, again.notice])), back=True)


# --- invoicing a company ----------------------------------------------------------------------


def one_line(typed: str, most: int) -> str:
    """Typed text as one printable line: control and format characters dropped, spaces
    collapsed, at most `most` characters."""
    kept = "".join(
        " " if c.isspace() else c for c in typed if c.isspace() or unicodedata.category(c)[0] != "C"
    )
    return " ".join(kept.split())[:most]


def valid_email(typed: str) -> str | None:
    """A billing address we can send an invoice to, or None: one @, a dot-atom local part
    of at most 64 characters, a domain of DNS labels with an alphabetic top level (an
    internationalised one is checked in its IDNA form, and kept as typed)."""
    email = typed.strip()
    if not email or len(email) > MAX_EMAIL or email.count("@") != 1:
        return None
    local, domain = email.split("@")
    if len(local) > 64 or not _LOCAL.fullmatch(local):
        return None
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return email if _TLD.fullmatch(labels[-1]) else None


async def company(ctx: Context) -> Transition:
    for key in ("company_name", "billing_email"):
        ctx.data.pop(key, None)
    return Transition(State.COMPANY_NAME)


async def company_name_screen(ctx: Context) -> Screen:
    text = ctx.t._("Which company should we invoice? Send its name.")
    return Screen(text, back_and_cancel(ctx))


async def company_email_screen(ctx: Context) -> Screen:
    text = ctx.t._("Which email address should the invoice go to?")
    return Screen(text, back_and_cancel(ctx))


async def company_po_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    text = _("A purchase order (PO) number for the invoice? Send it, or choose No PO number.")
    skip = Choice("company_po", _("No PO number"), aliases=(_("no"), "no", "skip"))
    return Screen(text, [skip, *back_and_cancel(ctx)])


async def on_company_name(ctx: Context, typed: str) -> Transition:
    name = one_line(typed, MAX_COMPANY)
    if len(name) < 2:
        return Transition(State.COMPANY_NAME, ctx.t._("Please send the company's name."))
    ctx.data["company_name"] = name
    return Transition(State.COMPANY_EMAIL)


async def on_company_email(ctx: Context, typed: str) -> Transition:
    email = valid_email(typed)
    if email is None:
        return Transition(
            State.COMPANY_EMAIL,
            ctx.t._(
                "That does not look like an email address. Please send one like name@company.com."
            ),
        )
    ctx.data["billing_email"] = email
    return Transition(State.COMPANY_PO)


async def on_company_po(ctx: Context, typed: str | None) -> Transition:
    """The last answer: confirm the booking as invoiced, and have the invoice sent."""
    _ = ctx.t._
    data = ctx.data
    po = one_line(typed, MAX_PO) if typed else ""
    hold_id, name, email = data.get("hold_id"), data.get("company_name"), data.get("billing_email")
    if ctx.payments is None or hold_id is None or not name or not email:
        return Transition(State.MENU, _("Sorry, I lost track of that booking. Please start again."))
    billed = Company(str(name), str(email), po or None)
    args = (ctx.db, ctx.clock, ctx.payments.gateway)
    try:
        payment_id = await payments.start_invoice(
            *args,
            studio_id=ctx.studio.id,
            customer_id=ctx.customer.id,
            registration_id=int(hold_id),
            company=billed,
        )
    except GatewayError as error:
        # The booking is confirmed before the invoice is asked for: it stands.
        log.warning("invoice for hold %s: %s", hold_id, error)
        how = _(
            "The invoice to {email} could not be sent just now; the studio has your billing "
            "details."
        )
        return await booking.booked_message(ctx, int(hold_id), how.format(email=email))
    except errors.BookingError as error:
        return Transition(State.GUESTS, render_error(error, ctx.t, ctx.zone))
    payment = await read_payment(ctx.db, payment_id)
    registration_id = payment.registration_id if payment and payment.registration_id else hold_id
    how = _("The invoice goes to {email}.").format(email=email)
    return await booking.booked_message(ctx, int(registration_id), how)
