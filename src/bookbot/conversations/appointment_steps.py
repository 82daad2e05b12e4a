"""Booking an appointment in chat: service, staff member (or the first available), day,
time, party size, a summary that holds the slot, and the confirmation with its .ics file.

Rules:
- Days and times are the customer's (`ctx.zone`). When the staff member keeps another
  zone, a time says both: "10:00 your time (16:00 in Madrid)"; a time in a zone that is
  not the studio's names it (as `Context.when` does for classes).
- The summary holds the slot (`appointments.hold`): "taken" is said before Confirm, and
  leaving the summary lets it go (`entering.enter` calls `appointments.release_holds`).
  Confirm re-checks; a slot taken meanwhile is refused politely, with the day's times again.
- The summary states the cancellation and reschedule deadlines before the customer
  commits. It is paid at the studio, or online where a payment provider is configured and
  the service's policy allows (`payment_steps.appointment_choices`: Pay now, and for
  "either" Pay at the studio); the link keeps the hold, the webhook confirms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

from bookbot.conversations import package_steps
from bookbot.conversations.appointment_pickers import (
    DAYS_PAGE,
    day_choices,
    offered_at,
    refused,
    time_choices,
    zone_note,
)
from bookbot.conversations.appointment_text import booked, detail_lines
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.presentation.i18n import render_error
from bookbot.services import appointments

# Keys of the booking in the dialogue's data: cleared when a new booking starts.
_BOOKING_KEYS = ("service_id", "staff_id", "days_after", "day", "times_page", "starts_at")
_MORE_KEYS = ("slot_staff", "capacity", "held", "held_until")


# --- Service, staff member, day, time -----------------------------------------------------


async def start(ctx: Context) -> Transition:
    for key in (*_BOOKING_KEYS, *_MORE_KEYS):
        ctx.data.pop(key, None)
    return Transition(State.APPOINTMENT_SERVICES)


async def services_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    services = await appointments.list_services(ctx.db, ctx.studio.id)
    if not services:
        return Screen(_("There are no appointments to book right now."), back_and_cancel(ctx))
    lines, choices = [_("What would you like to book?")], []
    for s in services:
        minutes = int(s.duration.total_seconds() // 60)
        label = _("{name} · {minutes} min · {price}").format(
            name=s.name, minutes=minutes, price=ctx.money(s.price_minor)
        )
        if s.description:
            lines.append(f"• {s.name}: {s.description}")
        choices.append(Choice("appt_service", label, s.id, (s.name,)))
    return Screen("\n".join(lines), choices + back_and_cancel(ctx))


async def choose_service(ctx: Context, choice: Choice) -> Transition:
    for key in (*_BOOKING_KEYS, *_MORE_KEYS):
        ctx.data.pop(key, None)
    ctx.data["service_id"] = int(choice.value)
    return Transition(State.APPOINTMENT_STAFF)


async def staff_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    service_id = int(ctx.data["service_id"])
    providers = await appointments.providers(ctx.db, ctx.studio.id, service_id)
    if not providers:
        return Screen(_("Nobody offers this at the moment."), back_and_cancel(ctx))
    label = _("⚡ First available")
    if len(providers) > 1:  # with one, the choice below says the same
        earliest = await appointments.first_available(
            ctx.db, ctx.studio.id, service_id=service_id, now=ctx.now
        )
        if earliest is not None:
            label = _("⚡ First available · {when}").format(when=ctx.when(earliest[1].start))
    first = Choice("appt_staff", label, 0, (_("first available"), _("first"), _("any"), "any"))
    choices = [first] + [Choice("appt_staff", p.name, p.id) for p in providers]
    choices += await package_steps.offer_choices(ctx, service_id)  # packages it is sold in
    return Screen(_("With whom?"), choices + back_and_cancel(ctx))


async def choose_staff(ctx: Context, choice: Choice) -> Transition:
    ctx.data["staff_id"] = int(choice.value) or None  # 0: whoever is free first
    ctx.data.pop("days_after", None)
    return Transition(State.APPOINTMENT_DAYS)


async def days_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    after = ctx.data.get("days_after")
    try:
        days = await appointments.days_with_slots(
            ctx.db,
            ctx.studio.id,
            service_id=int(ctx.data["service_id"]),
            staff_id=ctx.data.get("staff_id"),
            now=ctx.now,
            zone=ctx.zone,
            after=date.fromisoformat(after) if after else None,
            limit=DAYS_PAGE,
        )
    except errors.BookingError as error:  # the staff member stopped offering it meanwhile
        return refused(ctx, error)
    if not days:
        return Screen(_("There are no free times in the coming weeks."), back_and_cancel(ctx))
    text = _("Choose a day:") + "\n" + zone_note(ctx)
    return Screen(
        text,
        day_choices(ctx, days, action="appt_day", more="appt_days_page") + back_and_cancel(ctx),
    )


async def days_page(ctx: Context, choice: Choice) -> Transition:
    ctx.data["days_after"] = choice.value
    return Transition(State(ctx.conversation.state))


async def choose_day(ctx: Context, choice: Choice) -> Transition:
    ctx.data["day"] = str(choice.value)
    ctx.data["times_page"] = 0
    return Transition(State.APPOINTMENT_TIMES)


async def _slots(ctx: Context) -> list[tuple[datetime, str, str, int]]:
    found = await appointments.slots_on(
        ctx.db,
        ctx.studio.id,
        service_id=int(ctx.data["service_id"]),
        staff_id=ctx.data.get("staff_id"),
        now=ctx.now,
        zone=ctx.zone,
        day=date.fromisoformat(ctx.data["day"]),
    )
    seen: dict[datetime, tuple[datetime, str, str, int]] = {}
    for slot, provider in found:  # the first available: the earliest staff member listed
        seen.setdefault(slot.start, (slot.start, provider.timezone, provider.name, provider.id))
    return sorted(seen.values())


async def times_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    try:
        slots = await _slots(ctx)
    except errors.BookingError as error:  # the staff member stopped offering it meanwhile
        return refused(ctx, error)
    day = ctx.t.date(date.fromisoformat(ctx.data["day"]))
    if not slots:
        return Screen(_("No free times are left on {day}.").format(day=day), back_and_cancel(ctx))
    text = _("{day}: choose a time.").format(day=day) + "\n" + zone_note(ctx)
    choices = time_choices(ctx, slots, action="appt_time", more="appt_times_page")
    return Screen(text, choices + back_and_cancel(ctx))


async def times_page(ctx: Context, choice: Choice) -> Transition:
    ctx.data["times_page"] = int(choice.value)
    return Transition(State(ctx.conversation.state))


async def on_typed_time(ctx: Context, text: str) -> Transition:
    choice = offered_at(ctx, text, "appt_time")
    if choice is None:
        return Transition(
            State.APPOINTMENT_TIMES,
            ctx.t._("That time is not free. Please choose one of these:"),
        )
    return await choose_time(ctx, choice)


async def choose_time(ctx: Context, choice: Choice) -> Transition:
    starts_at, staff_id = choice.value
    ctx.data["starts_at"], ctx.data["slot_staff"] = starts_at, int(staff_id)
    service = await appointments.service_by_id(ctx.db, ctx.studio.id, int(ctx.data["service_id"]))
    if service.capacity > 1:
        ctx.data["capacity"] = service.capacity
        return Transition(State.APPOINTMENT_GUESTS)
    return await _hold(ctx, 1)


async def guests_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    most = int(ctx.data.get("capacity", 1))
    choices = [Choice("appt_guests", str(n), n) for n in range(1, most + 1)]
    return Screen(_("How many people are coming (you included)?"), choices + back_and_cancel(ctx))


async def choose_guests(ctx: Context, choice: Choice) -> Transition:
    return await _hold(ctx, int(choice.value))


async def _hold(ctx: Context, guests: int) -> Transition:
    try:
        held = await appointments.hold(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            customer_id=ctx.customer.id,
            service_id=int(ctx.data["service_id"]),
            staff_id=int(ctx.data["slot_staff"]),
            starts_at=datetime.fromisoformat(ctx.data["starts_at"]),
            guests=guests,
        )
    except errors.BookingError as error:
        return Transition(State.APPOINTMENT_TIMES, render_error(error, ctx.t, ctx.zone))
    ctx.data["held"] = held.id
    ctx.data["held_until"] = held.held_until.isoformat() if held.held_until else None
    return Transition(State.APPOINTMENT_CONFIRM)


# --- Summary and confirmation -------------------------------------------------------------


async def confirm_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    try:
        a = await appointments.appointment_for_customer(
            ctx.db, ctx.studio.id, ctx.customer.id, int(ctx.data["held"])
        )
    except errors.NotFound:
        return Screen(_("That time is no longer held for you."), back_and_cancel(ctx))
    service = await appointments.service_by_id(ctx.db, ctx.studio.id, a.service_id)
    from bookbot.conversations import payment_steps as paying  # it imports this module

    confirm = Choice(
        "appt_confirm", _("✅ Confirm appointment"), aliases=(_("confirm"), _("yes"), "yes", "si")
    )
    ways = await paying.appointment_choices(ctx, a, confirm)  # + pay online, where offered
    use, why_not = await package_steps.summary_offer(ctx, a)  # + its package, or why not
    lines = [
        _("Please check your appointment:"),
        _("{service} with {staff}").format(service=a.service_name, staff=a.staff_name),
        *detail_lines(ctx, a, service, price=paying.appointment_price_line(ctx, a, ways)),
        *why_not,
    ]
    if a.held_until is not None:
        lines.append(
            _("This time is held for you until {time}.").format(
                time=ctx.t.time(a.held_until, ctx.zone)
            )
        )
    return Screen("\n".join(filter(None, lines)), [*use, *ways, *back_and_cancel(ctx)])


async def confirm(ctx: Context) -> Transition:
    try:
        a = await appointments.confirm(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            appointment_id=int(ctx.data["held"]),
            customer_id=ctx.customer.id,
        )
    except errors.BookingError as error:
        # Taken meanwhile (the hold lapsed and someone else booked): the day's times again.
        ctx.data.pop("held", None)
        return Transition(State.APPOINTMENT_TIMES, render_error(error, ctx.t, ctx.zone))
    ctx.data.clear()
    return booked(ctx, a, ctx.t._("✅ Booked!"))


SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.APPOINTMENT_SERVICES: services_screen,
    State.APPOINTMENT_STAFF: staff_screen,
    State.APPOINTMENT_DAYS: days_screen,
    State.APPOINTMENT_TIMES: times_screen,
    State.APPOINTMENT_GUESTS: guests_screen,
    State.APPOINTMENT_CONFIRM: confirm_screen,
}
ACTIONS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "appt_service": choose_service,
    "appt_staff": choose_staff,
    "appt_days_page": days_page,
    "appt_day": choose_day,
    "appt_times_page": times_page,
    "appt_time": choose_time,
    "appt_guests": choose_guests,
}
PLAIN_ACTIONS: dict[str, Callable[[Context], Awaitable[Transition]]] = {
    "book_appointment": start,
    "appt_confirm": confirm,
}
TYPED: dict[State, Callable[[Context, str], Awaitable[Transition]]] = {
    State.APPOINTMENT_TIMES: on_typed_time,
}
