"""The menu, the customer's bookings (classes and appointments) and cancelling them,
language and time zone, help."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bookbot.conversations import booked_text, feedback_steps, policy_text, waitlist_places_steps
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.model import Channel
from bookbot.conversations.payment_status import status_label
from bookbot.conversations.reschedule_steps import class_movable
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.conversations.timezone_steps import city
from bookbot.engine import errors
from bookbot.engine import payments as rules
from bookbot.presentation.i18n import SUPPORTED, render_error, translator
from bookbot.services import appointments, browse, customers, references, self_check_in
from bookbot.services.cancellation import cancel_registration, quote_cancellation
from bookbot.services.pages import Page, PageAsk
from bookbot.services.references import parse_reference
from bookbot.services.reservations import live_reservations

LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def menu_choices(ctx: Context) -> list[Choice]:
    """The menu; "Book an appointment" only where the studio offers services."""
    _ = ctx.t._
    link = []
    if ctx.sms is not None and not ctx.texting and not ctx.customer.phone:
        link = [Choice("link_phone", _("📱 Link your phone"), aliases=(_("link phone"),))]
    appointment, language = [], _("🌐 Language")
    if ctx.studio.offers_appointments:
        # Appointments with staff in other zones are where the customer's zone matters most:
        # say so there. (The language screen offers the time zone in every studio.)
        language = _("🌐 Language & time zone")
        appointment = [
            Choice(
                "book_appointment",
                _("👤 Book an appointment"),
                aliases=(_("appointment"), "appointment", "cita"),
            )
        ]
    return [
        Choice("browse", _("📅 Book a class"), aliases=(_("book"), "book", "reservar")),
        *appointment,
        Choice("mine", _("🗓 My bookings"), aliases=(_("my bookings"), "my", "mis reservas")),
        Choice("passes", _("🎟 My passes"), aliases=(_("my passes"), "passes", "bonos")),
        Choice(
            "language",
            language,
            aliases=(_("language"), "lang", "idioma", _("time zone"), "timezone"),
        ),
        Choice("help", _("❓ Help"), aliases=(_("help"), "help", "ayuda")),
        *link,
    ]


async def menu_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    # Talking to a person (handoff_steps): on the menu itself, not under every notice, and
    # only where someone can answer (a staff chat); typed, HUMAN still says why not.
    choices = menu_choices(ctx)
    if ctx.studio.staff_chat_id is not None:
        person = (_("person"), "person", "persona")
        choices.append(Choice("human", _("💬 Talk to a person"), aliases=person))
    return Screen(_("What would you like to do?"), choices)


def welcome(ctx: Context) -> str:
    if not ctx.customer.name:  # an SMS number tells us no name
        return ctx.t._("Hi! I'm the booking assistant of {studio}.").format(studio=ctx.studio.name)
    # Greeted by first name; rosters and receipts use the full name the channel gave.
    return ctx.t._("Hi {name}! I'm the booking assistant of {studio}.").format(
        name=ctx.customer.name.split()[0], studio=ctx.studio.name
    )


async def notice_screen(ctx: Context) -> Screen:
    """The actions under a message the bot sent first."""
    _ = ctx.t._
    template = ctx.data.get("notice", "")
    if template == "waitlist_offer":
        choices = [
            Choice("accept_offer", _("✅ Accept"), aliases=(_("accept"), _("yes"), "yes")),
            Choice("decline_offer", _("✖ Decline"), aliases=(_("decline"), _("no"), "no")),
        ]
    elif template in ("reminder_1h_reservation", "reminder_1h"):
        # HERE checks in to a booking and a pass reservation alike (check_in_steps).
        choices = [
            Choice("here", _("✅ Check in")),
            *(c for c in menu_choices(ctx) if c.action in ("mine", "passes")),
        ]
    elif template.startswith("feedback_request"):  # issue 17: ⭐1…⭐5 for the booking
        choices = await feedback_steps.notice_choices(ctx, template) or menu_choices(ctx)
    else:
        choices = menu_choices(ctx)
    return Screen("", choices)


async def help_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    if ctx.texting:
        return Screen(_texting_help(ctx), menu_choices(ctx))
    if ctx.conversation.channel == Channel.CONSOLE.value:  # nothing to tap in a terminal
        text = _(
            "I can book classes at {studio}, show your bookings and cancel them.\n"
            "Choose an option by typing its number or its words. "
            "Type MENU at any time to start again, BACK to go one step back."
        )
    else:
        text = _(
            "I can book classes at {studio}, show your bookings and cancel them.\n"
            "Choose an option by tapping it or by sending its number or its words. "
            "Send MENU at any time to start again, BACK to go one step back."
        )
    text = text.format(studio=ctx.studio.name)
    return Screen(text, menu_choices(ctx))


def _texting_help(ctx: Context) -> str:
    return ctx.t._(
        "I can book classes at {studio}. Reply with an option's number or its words.\n"
        "BOOK: book a class. MY: your bookings (to cancel one, choose it there). "
        "MENU: start again. BACK: one step back. LANG es / LANG en: language.\n"
        "STOP: no more messages from us (START to come back). Note that texting only CANCEL "
        "also unsubscribes you: to cancel a booking, use MY."
    ).format(studio=ctx.studio.name)


async def bookings_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await browse.my_bookings_and_past(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    booked = []
    if ctx.studio.has_services:  # a class-only studio has no appointments to look for
        booked = await appointments.customer_upcoming(
            ctx.db, ctx.studio.id, ctx.customer.id, ctx.now
        )
    past = [past_choice(ctx, "past_bookings", _("🕘 Past bookings"))] if found.has_past else []
    from bookbot.conversations import recurring_steps  # it imports this module

    series = await recurring_steps.series_choices(ctx)  # each series: see, skip, end
    series = await waitlist_places_steps.place_choices(ctx) + series  # places waited for
    reserved = await _reserved_with_a_pass(ctx)
    if not found.upcoming and not booked:
        text = reserved or _("You have no upcoming bookings.")
        return Screen(text, series + past + menu_choices(ctx))
    dated: list[tuple[datetime, Choice]] = []
    for b in found.upcoming:
        people = ctx.t.n_("{n} person", "{n} people", b.guests).format(n=b.guests)
        label = f"{b.class_name} · {_when(ctx, b)} · {people}"
        if b.session_count > 1:
            label += " · " + ctx.t.n_("{n} date", "{n} dates", b.session_count).format(
                n=b.session_count
            )
        if ctx.payments is not None:  # only a studio taking payments online has any to show
            label += " · " + await status_label(ctx, b.registration_id, ctx.customer.id)
        dated.append((b.first_start, Choice("booking", label, b.registration_id)))
    for a in booked:
        label = _("{service} with {staff} · {when}").format(
            service=a.service_name, staff=a.staff_name, when=ctx.when(a.starts_at)
        )
        dated.append((a.starts_at, Choice("appointment", label, a.id)))
    dated.sort(key=lambda pair: pair[0])
    text = _("Your upcoming bookings (choose one to see or cancel it):")
    mine = Choice("passes", _("🎟 My passes"), aliases=(_("my passes"), "passes", "bonos"))
    choices = [choice for _start, choice in dated] + series + past + ([mine] if reserved else [])
    return Screen("\n".join(filter(None, [reserved, text])), choices + back_and_cancel(ctx))


async def _reserved_with_a_pass(ctx: Context) -> str:
    """Sessions reserved with a pass are listed under My passes, not here: say so."""
    held = await live_reservations(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    if not held:
        return ""
    return ctx.t.n_(
        "You have {n} session reserved with a pass: see My passes.",
        "You have {n} sessions reserved with a pass: see My passes.",
        len(held),
    ).format(n=len(held))


def past_choice(ctx: Context, action: str, label: str) -> Choice:
    """The way into a past list (its newest page)."""
    return Choice(action, label, None, aliases=(ctx.t._("past"), "past", "pasadas", "pasados"))


def page_choices(ctx: Context, action: str, page: Page[Any]) -> list[Choice]:
    """Older / Newer for a page of a past list, then Back and Menu."""
    _ = ctx.t._
    choices = []
    if page.older is not None:
        older = page.older.stored()
        choices.append(Choice(action, _("⬇ Older"), older, (_("older"), "older", "anteriores")))
    if page.newer is not None:
        newer = page.newer.stored()
        choices.append(Choice(action, _("⬆ Newer"), newer, (_("newer"), "newer", "recientes")))
    return choices + back_and_cancel(ctx)


async def past_bookings_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    page = await browse.past_bookings(
        ctx.db, ctx.studio.id, ctx.customer.id, ctx.now, PageAsk.from_stored(ctx.data.get("page"))
    )
    if not page.items:
        return Screen(_("You have no past bookings."), back_and_cancel(ctx))
    lines = [_("Your past bookings, newest first:")]
    for b in page.items:
        when = ctx.when(b.last_start, with_year=True)
        if b.session_count > 1:
            when = ctx.t.n_(
                "{n} date, the last on {date}", "{n} dates, the last on {date}", b.session_count
            ).format(n=b.session_count, date=when)
        people = ctx.t.n_("{n} person", "{n} people", b.guests).format(n=b.guests)
        lines.append(f"• {b.class_name} · {when} · {people}")
    return Screen("\n".join(lines), page_choices(ctx, "past_bookings", page))


async def _summary(ctx: Context) -> browse.BookingSummary | None:
    found = await browse.my_bookings(
        ctx.db, ctx.studio.id, ctx.customer.id, ctx.now, ctx.data.get("registration_id")
    )
    return found[0] if found else None


def _when(ctx: Context, b: browse.BookingSummary) -> str:
    return ctx.session_when(b.first_start, b.first_end, b.days)


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
    (its cancel screen says what comes back). A course under way is judged by the service
    at its next date, so nothing is promised here."""
    _ = ctx.t._
    hours = ctx.studio.cancellation_cutoff_hours
    if b.first_start <= ctx.now:
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
        name=b.class_name, date=_when(ctx, b)
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
    except errors.BookingError as error:
        return Transition(State.BOOKINGS, render_error(error, ctx.t, ctx.zone))
    return Transition(State.BOOKINGS, _("Your booking is cancelled."))


async def language_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    choices = [Choice("set_language", LANGUAGE_NAMES[code], code, (code,)) for code in SUPPORTED]
    zone_label = _("🕒 Time zone: {city}").format(city=city(ctx.zone))
    choices.append(Choice("timezone", zone_label, aliases=(_("time zone"), "timezone", "zona")))
    return Screen(
        _("Choose your language, or change your time zone:"), choices + back_and_cancel(ctx)
    )


async def set_language(ctx: Context, code: str) -> Transition:
    if code not in SUPPORTED:
        return Transition(State.LANGUAGE)
    await customers.set_language(ctx.db, ctx.studio.id, ctx.customer.id, code)
    ctx.conversation.language = code
    ctx.t = translator(code)
    return Transition(State.MENU, ctx.t._("Done: I will write in English from now on."))


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
