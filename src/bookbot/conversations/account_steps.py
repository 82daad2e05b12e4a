"""The menu, the customer's bookings (classes and appointments), language and time zone,
help. One booking's own screen and cancelling it are in `my_booking_steps`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookbot.conversations import feedback_steps, waitlist_places_steps
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.model import Channel
from bookbot.conversations.payment_status import status_label
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.conversations.timezone_steps import city
from bookbot.presentation.i18n import SUPPORTED, translator
from bookbot.services import appointments, browse, customers
from bookbot.services.pages import Page, PageAsk
from bookbot.services.reservations import live_reservations

LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def menu_choices(ctx: Context) -> list[Choice]:
    """The menu; "Book an appointment" only where the studio offers services, "My passes"
    only where there are passes or packages to have."""
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
    passes = []
    if ctx.studio.sells_passes or ctx.studio.has_services:  # packages are listed there too
        passes = [Choice("passes", _("🎟 My passes"), aliases=(_("my passes"), "passes", "bonos"))]
    return [
        Choice("browse", _("📅 Book a class"), aliases=(_("book"), "book", "reservar")),
        *appointment,
        Choice("mine", _("🗓 My bookings"), aliases=(_("my bookings"), "my", "mis reservas")),
        *passes,
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


def booking_when(ctx: Context, b: browse.BookingSummary) -> str:
    """When a booking of theirs is (its first date, or a course's days)."""
    return ctx.session_when(b.first_start, b.first_end, b.days)


async def bookings_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await browse.my_bookings_and_past(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    booked = []
    series: list[Choice] = []
    if ctx.studio.has_services:  # a class-only studio has no appointments or series of them
        booked = await appointments.customer_upcoming(
            ctx.db, ctx.studio.id, ctx.customer.id, ctx.now
        )
        from bookbot.conversations import recurring_steps  # it imports this module

        series = await recurring_steps.series_choices(ctx)  # each series: see, skip, end
    past = [past_choice(ctx, "past_bookings", _("🕘 Past bookings"))] if found.has_past else []
    series = await waitlist_places_steps.place_choices(ctx) + series  # places waited for
    reserved = await _reserved_with_a_pass(ctx)
    if not found.upcoming and not booked:
        text = reserved or _("You have no upcoming bookings.")
        return Screen(text, series + past + menu_choices(ctx))
    dated: list[tuple[datetime, Choice]] = []
    for b in found.upcoming:
        people = ctx.t.n_("{n} person", "{n} people", b.guests).format(n=b.guests)
        label = f"{b.class_name} · {booking_when(ctx, b)} · {people}"
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
