"""One booking of the customer's: its screen (dates, place, party, price and payment, its
reference, check in, cancel and move), cancelling it with the refund said first, and opening
it by its reference (MY B-7F3Q)."""

from __future__ import annotations

from datetime import timedelta

from bookbot.conversations import booked_text, policy_text
from bookbot.conversations.account_steps import booking_when, menu_choices
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.payment_status import status_label
from bookbot.conversations.reschedule_steps import class_movable
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.presentation.i18n import render_error
from bookbot.services import browse, references, self_check_in
from bookbot.services.cancellation import cancel_registration, quote_cancellation
from bookbot.services.references import parse_reference


async def _summary(ctx: Context) -> browse.BookingSummary | None:
    found = await browse.my_bookings(
        ctx.db, ctx.studio.id, ctx.customer.id, ctx.now, ctx.data.get("registration_id")
    )
    return found[0] if found else None


async def booking_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    b = await _summary(ctx)
    if b is None:
        return Screen(_("That booking is no longer upcoming."), menu_choices(ctx))
    if b.session_count == 1 and b.days > 1:
        dates = [ctx.session_when(b.first_start, b.first_end, b.days, with_year=True)]
    else:
        dates = await booked_text.dates_ahead(
            ctx, b.registration_id, b.first_start, b.session_count
        )
    lines = [b.class_name, *dates]
    if b.location:
        lines.append(b.location)
    lines.append(ctx.t.n_("{n} person", "{n} people", b.guests).format(n=b.guests))
    lines += await booked_text.details_lines(ctx, b.registration_id)
    total = _("Total: {price}").format(price=ctx.money(b.price_minor))
    if ctx.payments is not None:
        total += " · " + await status_label(ctx, b.registration_id, ctx.customer.id)
    lines.append(total)
    lines.append(booked_text.reference_line(ctx, "class", b.registration_id))
    choices = await _check_in_choices(ctx, b)
    if await _cancel_terms(ctx, b, lines):
        # "cancel" typed here means this booking (the way out is called Menu on this page).
        said = (_("cancel booking"), _("cancel"), "cancel")
        choices.append(Choice("cancel_booking", _("Cancel this booking"), aliases=said))
    if class_movable(ctx, b):
        deadline = b.first_start - timedelta(hours=ctx.studio.cancellation_cutoff_hours)
        lines.append(
            _("You can move it to another date until {when}.").format(when=ctx.when(deadline))
        )
        choices.append(
            Choice("class_reschedule", _("🔁 Move to another date"), aliases=(_("move"),))
        )
    return Screen("\n".join(lines), [*choices, *back_and_cancel(ctx, menu=True)])


async def _cancel_terms(ctx: Context, b: browse.BookingSummary, lines: list[str]) -> bool:
    """Whether the customer may cancel now, with the policy added to `lines` before they
    ask: free until the cutoff before the first date; after it only a booking paid online
    (its cancel screen says what comes back). A course of several sessions under way is
    judged by the service at its next date, so nothing is promised here; one session over
    several days, under way, is past its cutoff like any other."""
    _ = ctx.t._
    hours = ctx.studio.cancellation_cutoff_hours
    if b.first_start <= ctx.now and b.session_count > 1:
        return True
    deadline = b.first_start - timedelta(hours=hours)
    if hours == 0 or ctx.now < deadline:
        if hours:
            lines.append(_("Free cancellation until {when}.").format(when=ctx.when(deadline)))
        return True
    if ctx.payments is not None and await quote_cancellation(
        ctx.db, ctx.clock, ctx.studio.id, b.registration_id, customer_id=ctx.customer.id
    ):
        return True  # paid online: cancellable late, for what the policy gives back
    lines.append(policy_text.closed_line(ctx))
    return False


async def _check_in_choices(ctx: Context, b: browse.BookingSummary) -> list[Choice]:
    """✅ Check in, while this booking's check-in window is open and it is not done yet."""
    _ = ctx.t._
    found = await self_check_in.bookings_open(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    return [
        Choice(
            "check_in_booking",
            _("✅ Check in: {date}").format(date=ctx.when(a.starts_at)),
            a.id,
            aliases=(_("here"), "here", "aqui"),
        )
        for a in found
        if a.registration_id == b.registration_id and not a.checked_in
    ]


async def cancel_confirm_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    b = await _summary(ctx)
    if b is None:
        return Screen(_("That booking is no longer upcoming."), menu_choices(ctx))
    text = _("Cancel {name} on {date}? This cannot be undone.").format(
        name=b.class_name, date=booking_when(ctx, b)
    )
    terms = await quote_cancellation(
        ctx.db, ctx.clock, ctx.studio.id, b.registration_id, customer_id=ctx.customer.id
    )
    # What they agree to here is what the cancellation must give back (or it asks again).
    ctx.data["refund_shown"] = 0 if terms is None else terms.total
    if terms is not None:
        text += "\n" + refund_text(ctx, terms)
    return Screen(
        text,
        [
            Choice("cancel_yes", _("Yes, cancel it"), aliases=(_("yes"), "yes", "si")),
            Choice("back", _("No, keep it"), aliases=(_("no"), "no")),
        ],
    )


def refund_text(ctx: Context, terms: rules.CancellationTerms) -> str:
    """What a booking paid online gives back if cancelled now, said before they confirm."""
    _ = ctx.t._
    lines = []
    if terms.total > 0 and not terms.late:
        lines.append(_("You'll get {amount} back.").format(amount=ctx.money(terms.total)))
    elif terms.total > 0:
        lines.append(
            _(
                "The cancellation cutoff has passed: you'll get {amount} back"
                " ({percent}% of what you paid)."
            ).format(amount=ctx.money(terms.total), percent=terms.percent)
        )
    elif terms.deposit_kept and terms.percent > 0:
        lines.append(_("No refund: the deposit is not refundable."))
    else:
        lines.append(_("No refund: the cancellation cutoff has passed."))
    if terms.deposit_kept and terms.total > 0:
        lines.append(_("The deposit is not refundable."))
    return "\n".join(lines)


async def cancel_booking(ctx: Context) -> Transition:
    _ = ctx.t._
    try:
        await cancel_registration(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            ctx.data["registration_id"],
            customer_id=ctx.customer.id,
            gateway=None if ctx.payments is None else ctx.payments.gateway,
            expected_refund=ctx.data.get("refund_shown"),
        )
    except rules.RefundChanged as error:
        # Shown the new terms on the same question: nothing was cancelled.
        return Transition(State.CANCEL_CONFIRM, render_error(error, ctx.t, ctx.zone))
    except errors.CancellationTooLate:  # the cutoff passed while they were asked
        return Transition(State.BOOKINGS, policy_text.closed_line(ctx))
    except errors.BookingError as error:
        return Transition(State.BOOKINGS, render_error(error, ctx.t, ctx.zone))
    return Transition(State.BOOKINGS, _("Your booking is cancelled."))


async def open_reference(ctx: Context, choice: Choice) -> Transition:
    """MY B-7F3Q: the screen of the booking that reference names, if it is this customer's.
    Any other (someone else's, none at all) gets the same polite answer and their own list:
    a reference never tells a stranger that a booking exists."""
    _ = ctx.t._
    typed = str(choice.value)
    found = parse_reference(typed)
    if found is not None and await references.owned(ctx.db, ctx.studio.id, ctx.customer.id, *found):
        kind, ident = found
        if kind == "class":
            ctx.data["registration_id"] = ident
            return Transition(State.BOOKING)
        ctx.data["appointment_id"] = ident
        return Transition(State.APPOINTMENT)
    return Transition(
        State.BOOKINGS,
        _("None of your bookings has the reference {ref}.").format(
            ref=typed.upper().replace(" ", "-")
        ),
    )
