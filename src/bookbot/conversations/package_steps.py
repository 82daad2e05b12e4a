"""Lesson packages in chat (issue 15): paying for an appointment with one at the summary,
buying one from a service's page, and the packages "🎟 My passes" lists.

- The appointment summary offers "🎟 Use my package (N left, until D)" for each of the
  customer's packages that can pay for it; one that cannot (expired, used up, short of
  minutes) is named with the reason, and the usual ways to pay stay offered.
- Using it confirms the appointment and redeems the package in one transaction. Refused
  meanwhile (another booking took the last session): the reason, and the summary again
  with the ways to pay; the hold is kept.
- A service with `[[packages]]` offers lists them after the service is chosen; buying one
  is paid online (a Checkout link, usable once paid) or at the studio (usable at once),
  as the offer's `payment` and the configured provider allow.
"""

from __future__ import annotations

import logging
from datetime import date

from bookbot.conversations.appointment_text import booked
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.presentation.i18n import render_error
from bookbot.services import appointments, packages
from bookbot.services.package_checkout import start_package_checkout
from bookbot.services.package_rows import Package, PackageOffer, local_day
from bookbot.services.payment_gateway import GatewayError

log = logging.getLogger(__name__)
_REFUSED = (
    errors.PackageExpired,
    errors.PackageUsedUp,
    errors.PackageMinutesShort,
    errors.PackageNotActive,
    errors.PackageOtherService,
)


def balance_text(ctx: Context, p: Package) -> str:
    """'3 of 5 sessions left' / '240 of 300 minutes left'."""
    if p.in_minutes:
        return ctx.t.n_(
            "{left} of {total} minute left", "{left} of {total} minutes left", p.total
        ).format(left=p.remaining, total=p.total)
    return ctx.t.n_(
        "{left} of {total} session left", "{left} of {total} sessions left", p.total
    ).format(left=p.remaining, total=p.total)


def package_line(ctx: Context, p: Package) -> str:
    """'5 lessons with Lucía · 3 of 5 sessions left · until Fri 19 Feb' (+ unpaid)."""
    _ = ctx.t._
    parts = [p.name, balance_text(ctx, p), _("until {date}").format(date=ctx.t.date(p.expires_on))]
    if p.status == "pending_payment":
        parts.append(_("waiting for its payment"))
    elif p.payment == "at_studio":
        parts.append(_("pay at the studio"))
    return " · ".join(parts)


async def my_packages_text(ctx: Context) -> str:
    """What "🎟 My passes" says of packages: each with its balance and expiry; '' if none."""
    found = await packages.customer_packages(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    if not found:
        return ""
    return "\n".join([ctx.t._("Your packages:"), *(f"• {package_line(ctx, p)}" for p in found)])


# --- the appointment summary ----------------------------------------------------------------


def _minutes(a: appointments.Appointment) -> int:
    return int((a.ends_at - a.starts_at).total_seconds() // 60)


def _why_not(ctx: Context, p: Package, a: appointments.Appointment, day: date) -> str:
    _ = ctx.t._
    if p.expires_on < day:
        return _('Your package "{name}" is valid until {date}: it cannot pay for this one.').format(
            name=p.name, date=ctx.t.date(p.expires_on)
        )
    if p.in_minutes:
        return _(
            'Your package "{name}" has {left} minutes left; this appointment takes {needed}.'
        ).format(name=p.name, left=p.remaining, needed=_minutes(a))
    return _('Your package "{name}" has no sessions left.').format(name=p.name)


def _use_choice(ctx: Context, p: Package) -> Choice:
    left = ctx.t.n_("{n} left", "{n} left", p.remaining).format(n=p.remaining)
    label = ctx.t._("🎟 Use my package ({left}, until {date})").format(
        left=left, date=ctx.t.date(p.expires_on)
    )
    return Choice("appt_package", label, p.id, (ctx.t._("package"), "package"))


async def summary_offer(
    ctx: Context, a: appointments.Appointment
) -> tuple[list[Choice], list[str]]:
    """The summary's "Use my package" choices (one per package that can pay for it); when
    none can, a line saying why the latest one cannot. Nothing when the customer has no
    package of this service."""
    found = await packages.packages_for_service(
        ctx.db, ctx.studio.id, ctx.customer.id, a.service_id
    )
    day = max(local_day(ctx.now, ctx.studio.timezone), local_day(a.starts_at, ctx.studio.timezone))
    usable = [p for p in found if p.covers(_minutes(a), day)]
    if usable:
        return [_use_choice(ctx, p) for p in usable], []
    return [], [_why_not(ctx, p, a, day) for p in found[:1]]


async def use_package(ctx: Context, choice: Choice) -> Transition:
    """Confirm the held appointment, paid with the chosen package. A package refusal keeps
    the hold and shows the summary again, with the reason and the ways to pay."""
    _ = ctx.t._
    try:
        a = await appointments.confirm(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            appointment_id=int(ctx.data["held"]),
            customer_id=ctx.customer.id,
            package_id=int(choice.value),
        )
    except _REFUSED as refusal:
        reason = render_error(refusal, ctx.t, ctx.zone)
        return Transition(
            State.APPOINTMENT_CONFIRM, "\n".join([reason, _("You can pay for it instead:")])
        )
    except errors.BookingError as error:  # the time went meanwhile: the day's times again
        ctx.data.pop("held", None)
        return Transition(State.APPOINTMENT_TIMES, render_error(error, ctx.t, ctx.zone))
    ctx.data.clear()
    used = await packages.package_by_id(ctx.db, ctx.studio.id, int(choice.value))
    paid = _('Paid with your package "{name}": {balance}.').format(
        name=used.name, balance=balance_text(ctx, used)
    )
    return booked(ctx, a, _("✅ Booked!"), paid_line=paid)


async def paid_line(ctx: Context, a: appointments.Appointment) -> str | None:
    """An appointment's price line when a package pays for it; None otherwise."""
    used = await packages.redemption_of(ctx.db, ctx.studio.id, a.id)
    if used is None:
        return None
    return ctx.t._('Paid with your package "{name}".').format(name=used.name)


async def cancel_line(ctx: Context, a: appointments.Appointment) -> str | None:
    """Said before a cancellation within the policy: the credit goes back."""
    used = await packages.redemption_of(ctx.db, ctx.studio.id, a.id)
    if used is None:
        return None
    return ctx.t._('It goes back to your package "{name}".').format(name=used.name)


async def credited_line(ctx: Context, appointment_id: int) -> str | None:
    """Told to staff who cancelled an appointment a package paid for: it got it back."""
    credited = await packages.credited_package(ctx.db, ctx.studio.id, appointment_id)
    if credited is None:
        return None
    return ctx.t._('It was paid with the package "{name}": it is back on it.').format(
        name=credited.name
    )


# --- buying one from a service's page ---------------------------------------------------------


async def offer_choices(ctx: Context, service_id: int) -> list[Choice]:
    """One "🎟 name · price" choice per package the service is sold in."""
    found = await packages.offers_for_service(ctx.db, ctx.studio.id, service_id)
    return [
        Choice(
            "package_offer",
            ctx.t._("🎟 {name} · {price}").format(name=o.name, price=ctx.money(o.price_minor)),
            o.id,
        )
        for o in found
        if _buyable(ctx, o)
    ]


def _buyable(ctx: Context, o: PackageOffer) -> bool:
    return o.payment != "online" or (ctx.payments is not None and o.price_minor > 0)


def _online(ctx: Context, o: PackageOffer) -> bool:
    return o.payment != "at_studio" and ctx.payments is not None and o.price_minor > 0


async def choose_offer(ctx: Context, choice: Choice) -> Transition:
    ctx.data["package_offer"] = int(choice.value)
    return Transition(State.PACKAGE_OFFER)


async def _offer(ctx: Context) -> PackageOffer | None:
    try:
        return await packages.offer_by_id(ctx.db, ctx.studio.id, int(ctx.data["package_offer"]))
    except (errors.NotFound, KeyError, ValueError):
        return None


def _what(ctx: Context, o: PackageOffer) -> str:
    _ = ctx.t._
    if o.minutes is not None:
        amount = ctx.t.n_("{n} minute", "{n} minutes", o.minutes).format(n=o.minutes)
    else:
        amount = ctx.t.n_("{n} session", "{n} sessions", o.sessions or 0).format(n=o.sessions)
    days = ctx.t.n_("{n} day", "{n} days", o.valid_days).format(n=o.valid_days)
    return _("{name}: {amount} of {service}, valid for {days}, for {price}.").format(
        name=o.name,
        amount=amount,
        service=o.service_name,
        days=days,
        price=ctx.money(o.price_minor),
    )


async def offer_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    o = await _offer(ctx)
    if o is None or not _buyable(ctx, o):
        return Screen(_("That package is no longer offered."), back_and_cancel(ctx))
    choices = []
    if _online(ctx, o):
        choices.append(Choice("package_pay", _("💳 Pay now"), aliases=(_("pay"), "pay")))
    if o.payment != "online":
        label = _("Pay at the studio") if choices else _("✅ Get it, pay at the studio")
        choices.append(Choice("package_at_studio", label, aliases=(_("yes"), "yes", "si")))
    lines = [_what(ctx, o), _("Book with it from the appointment summary.")]
    return Screen("\n".join(lines), choices + back_and_cancel(ctx))


async def buy_at_studio(ctx: Context) -> Transition:
    _ = ctx.t._
    o = await _offer(ctx)
    if o is None or o.payment == "online":
        return Transition(State.MENU, _("That package is no longer offered."))
    made = await packages.issue(
        ctx.db,
        ctx.now,
        ctx.studio.id,
        customer_id=ctx.customer.id,
        terms=packages.terms_of(o),
        payment="at_studio",
    )
    ctx.data["service_id"] = o.service_id
    notice = _('Your package "{name}" is ready: pay for it at the studio. Now book with it:')
    return Transition(State.APPOINTMENT_STAFF, notice.format(name=made.name), back=True)


async def buy_online(ctx: Context) -> Transition:
    _ = ctx.t._
    o = await _offer(ctx)
    if o is None or ctx.payments is None or not _online(ctx, o):
        return Transition(State.MENU, _("That package is no longer offered."))
    from bookbot.conversations import payment_steps as paying  # it imports this module

    try:
        checkout = await start_package_checkout(
            ctx.db,
            ctx.clock,
            ctx.payments.gateway,
            studio_id=ctx.studio.id,
            customer_id=ctx.customer.id,
            offer_id=o.id,
            urls=paying.return_urls(ctx),
        )
    except GatewayError as error:
        log.warning("package checkout: %s", error)
        sorry = _("Sorry, the payment page could not be opened just now. Please try again.")
        return Transition(State.PACKAGE_OFFER, sorry)
    except errors.BookingError as error:
        return Transition(State.PACKAGE_OFFER, render_error(error, ctx.t, ctx.zone))
    ctx.data.update(payment_id=checkout.payment_id, held_until=checkout.expires_at.isoformat())
    return Transition(State.PAY)


SCREENS = {State.PACKAGE_OFFER: offer_screen}
ACTIONS = {"appt_package": use_package, "package_offer": choose_offer}
PLAIN_ACTIONS = {"package_pay": buy_online, "package_at_studio": buy_at_studio}
