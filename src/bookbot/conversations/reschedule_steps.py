"""The customer's own appointments and class bookings: see one, move it, cancel it.

Rules:
- Reschedule and Cancel are offered only while allowed (`appointments.can_reschedule` /
  `can_cancel`; for a class booking of one date, `class_reschedule.can_reschedule`), and
  the deadline is stated before the customer commits: "Free cancellation until Tue 1 Dec,
  10:00". The services check again as they act; a refusal is shown, nothing changes.
- An appointment moves with the same staff member: day -> time -> confirm, one atomic
  `appointments.reschedule` (the old time is kept if the new one was taken meanwhile).
- A class booking moves to another date of the same class (`class_reschedule`).
- The .ics sent after a move keeps the event's UID and raises its SEQUENCE, so calendars
  update the event rather than add a second one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

from bookbot.conversations.appointment_pickers import (
    day_choices,
    offered_at,
    refused,
    time_choices,
    zone_note,
)
from bookbot.conversations.appointment_text import booked, detail_lines, policy_lines, when_label
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.calendar import booking_attachment
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.presentation.i18n import render_error
from bookbot.services import appointments, browse, class_reschedule
from bookbot.services.appointments import Appointment, Service


async def _mine(ctx: Context) -> tuple[Appointment, Service] | None:
    """The appointment the customer chose, while it is upcoming and confirmed."""
    try:
        a = await appointments.appointment_for_customer(
            ctx.db, ctx.studio.id, ctx.customer.id, int(ctx.data["appointment_id"])
        )
    except errors.NotFound:
        return None
    if a.status != "confirmed" or a.starts_at <= ctx.now:
        return None
    return a, await appointments.service_by_id(ctx.db, ctx.studio.id, a.service_id)


def _gone(ctx: Context) -> Screen:
    return Screen(ctx.t._("That appointment is no longer upcoming."), back_and_cancel(ctx))


async def appointment_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await _mine(ctx)
    if found is None:
        return _gone(ctx)
    a, service = found
    from bookbot.conversations import payment_steps as paying  # it imports this module

    paid = await paying.appointment_paid_line(ctx, a)
    lines = [
        _("Appointment #{number}: {service} with {staff}").format(
            number=a.id, service=a.service_name, staff=a.staff_name
        ),
        *detail_lines(ctx, a, service, price=paid),
    ]
    choices = []
    if appointments.can_reschedule(a, service, ctx.now):
        choices.append(Choice("appt_reschedule", _("🔁 Reschedule"), aliases=(_("reschedule"),)))
    if appointments.can_cancel(a, service, ctx.now):
        choices.append(
            Choice("appt_cancel", _("✖ Cancel appointment"), aliases=(_("cancel appointment"),))
        )
    cancels = any(c.action == "appt_cancel" for c in choices)  # "cancel" means that one
    return Screen("\n".join(filter(None, lines)), choices + back_and_cancel(ctx, menu=cancels))


async def cancel_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await _mine(ctx)
    if found is None:
        return _gone(ctx)
    a, service = found
    text = _("Cancel {service} with {staff} on {when}?").format(
        service=a.service_name, staff=a.staff_name, when=ctx.when(a.starts_at)
    )
    if not appointments.can_cancel(a, service, ctx.now):
        return Screen("\n".join([text, *policy_lines(ctx, a, service)[:1]]), back_and_cancel(ctx))
    text += "\n" + policy_lines(ctx, a, service)[0]
    from bookbot.conversations import payment_steps as paying  # it imports this module

    refund = await paying.appointment_refund_line(ctx, a)
    text += f"\n{refund}" if refund else ""
    return Screen(
        text,
        [
            Choice("appt_cancel_yes", _("Yes, cancel it"), aliases=(_("yes"), "yes", "si")),
            Choice("back", _("No, keep it"), aliases=(_("no"), "no")),
        ],
    )


async def cancel(ctx: Context) -> Transition:
    try:
        await appointments.cancel_by_customer(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            appointment_id=int(ctx.data["appointment_id"]),
            customer_id=ctx.customer.id,
        )
    except errors.BookingError as error:
        return Transition(State.APPOINTMENT, render_error(error, ctx.t, ctx.zone))
    from bookbot.conversations import payment_steps as paying  # it imports this module

    await paying.refund_after_cancel(ctx, int(ctx.data["appointment_id"]))
    return Transition(State.BOOKINGS, ctx.t._("Your appointment is cancelled."))


# --- Moving an appointment ----------------------------------------------------------------


async def start_reschedule(ctx: Context) -> Transition:
    for key in ("days_after", "day", "times_page", "starts_at"):
        ctx.data.pop(key, None)
    return Transition(State.RESCHEDULE_DAYS)


async def days_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await _mine(ctx)
    if found is None:
        return _gone(ctx)
    a, service = found
    if not appointments.can_reschedule(a, service, ctx.now):
        return Screen(policy_lines(ctx, a, service)[1], back_and_cancel(ctx))
    after = ctx.data.get("days_after")
    try:
        days = await appointments.days_with_slots(
            ctx.db,
            ctx.studio.id,
            service_id=a.service_id,
            staff_id=a.staff_id,
            now=ctx.now,
            zone=ctx.zone,
            after=date.fromisoformat(after) if after else None,
            moving=a.id,
        )
    except errors.BookingError as error:  # the staff member stopped offering it meanwhile
        return refused(ctx, error)
    head = _("Move {service} ({when}) to another day:").format(
        service=a.service_name, when=ctx.when(a.starts_at)
    )
    if not days:
        text = _("{staff} has no other free times in the coming weeks.").format(staff=a.staff_name)
        return Screen(text, back_and_cancel(ctx))
    text = "\n".join([head, policy_lines(ctx, a, service)[1], zone_note(ctx)])
    choices = day_choices(ctx, days, action="rs_day", more="rs_days_page")
    return Screen(text, choices + back_and_cancel(ctx))


async def days_page(ctx: Context, choice: Choice) -> Transition:
    ctx.data["days_after"] = choice.value
    return Transition(State.RESCHEDULE_DAYS)


async def choose_day(ctx: Context, choice: Choice) -> Transition:
    ctx.data["day"], ctx.data["times_page"] = str(choice.value), 0
    return Transition(State.RESCHEDULE_TIMES)


async def times_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await _mine(ctx)
    if found is None:
        return _gone(ctx)
    a, _service = found
    day = date.fromisoformat(ctx.data["day"])
    try:
        slots = await appointments.slots_on(
            ctx.db,
            ctx.studio.id,
            service_id=a.service_id,
            staff_id=a.staff_id,
            now=ctx.now,
            zone=ctx.zone,
            day=day,
            moving=a.id,
        )
    except errors.BookingError as error:  # the staff member stopped offering it meanwhile
        return refused(ctx, error)
    shown = [(s.start, p.timezone, p.name, p.id) for s, p in slots if s.start != a.starts_at]
    if not shown:
        return Screen(
            _("No free times are left on {day}.").format(day=ctx.t.date(day)), back_and_cancel(ctx)
        )
    text = _("{day}: choose a time.").format(day=ctx.t.date(day)) + "\n" + zone_note(ctx)
    choices = time_choices(ctx, shown, action="rs_time", more="rs_times_page")
    return Screen(text, choices + back_and_cancel(ctx))


async def times_page(ctx: Context, choice: Choice) -> Transition:
    ctx.data["times_page"] = int(choice.value)
    return Transition(State.RESCHEDULE_TIMES)


async def choose_time(ctx: Context, choice: Choice) -> Transition:
    ctx.data["starts_at"] = str(choice.value[0])
    return Transition(State.RESCHEDULE_CONFIRM)


async def on_typed_time(ctx: Context, text: str) -> Transition:
    choice = offered_at(ctx, text, "rs_time")
    if choice is None:
        return Transition(
            State.RESCHEDULE_TIMES, ctx.t._("That time is not free. Please choose one of these:")
        )
    return await choose_time(ctx, choice)


async def confirm_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await _mine(ctx)
    if found is None:
        return _gone(ctx)
    a, _service = found
    new = datetime.fromisoformat(ctx.data["starts_at"])
    text = _("Move {service} with {staff}\nfrom {old}\nto {new}?").format(
        service=a.service_name,
        staff=a.staff_name,
        old=when_label(ctx, a.starts_at, a.staff_timezone),
        new=when_label(ctx, new, a.staff_timezone),
    )
    move = Choice("rs_confirm", _("✅ Move it"), aliases=(_("confirm"), _("yes"), "yes", "si"))
    return Screen(text, [move, *back_and_cancel(ctx)])


async def confirm(ctx: Context) -> Transition:
    try:
        a = await appointments.reschedule(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            appointment_id=int(ctx.data["appointment_id"]),
            customer_id=ctx.customer.id,
            starts_at=datetime.fromisoformat(ctx.data["starts_at"]),
        )
    except errors.RescheduleTooLate as error:
        return Transition(State.APPOINTMENT, render_error(error, ctx.t, ctx.zone))
    except errors.BookingError as error:  # taken meanwhile: the day's times again
        return Transition(State.RESCHEDULE_TIMES, render_error(error, ctx.t, ctx.zone))
    ctx.data.clear()
    return booked(ctx, a, ctx.t._("✅ Moved!"))


# --- Moving a class booking to another date -----------------------------------------------


def class_movable(ctx: Context, b: browse.BookingSummary) -> bool:
    return class_reschedule.can_reschedule(
        kind=b.kind,
        session_count=b.session_count,
        status="confirmed",
        starts_at=b.first_start,
        cutoff_hours=ctx.studio.cancellation_cutoff_hours,
        now=ctx.now,
    )


async def class_dates_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    try:
        options = await class_reschedule.reschedule_options(
            ctx.db,
            ctx.studio.id,
            registration_id=int(ctx.data["registration_id"]),
            customer_id=ctx.customer.id,
            now=ctx.now,
        )
    except errors.BookingError as error:
        return Screen(render_error(error, ctx.t, ctx.zone), back_and_cancel(ctx))
    if not options:
        return Screen(_("There is no other date of this class to move to."), back_and_cancel(ctx))
    choices = [
        Choice(
            "class_move",
            ctx.t.n_("{date} · {n} seat left", "{date} · {n} seats left", o.seats_left).format(
                date=ctx.session_when(o.session.starts_at, o.session.ends_at, o.session.days),
                n=o.seats_left,
            ),
            [o.session.id, o.session.starts_at.isoformat()]
            + _course_span(o.session.ends_at, o.session.days),
        )
        for o in options
    ]
    return Screen(_("Move your booking to which date?"), choices + back_and_cancel(ctx))


def _course_span(ends_at: datetime, days: int) -> list[str | int]:
    """What a multi-day course's option carries beyond its start, for the confirmation."""
    return [ends_at.isoformat(), days] if days > 1 else []


async def choose_class_date(ctx: Context, choice: Choice) -> Transition:
    # [id, start] or, a multi-day course, [id, start, end, days] (an older dialogue: two).
    ctx.data["move_to"], ctx.data["move_to_start"], *span = choice.value
    ctx.data["move_to_span"] = span
    return Transition(State.CLASS_RESCHEDULE_CONFIRM)


async def class_confirm_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    new = datetime.fromisoformat(ctx.data["move_to_start"])
    when = ctx.when(new, with_year=True)
    span = ctx.data.get("move_to_span") or []
    if len(span) == 2:
        when = ctx.session_when(new, datetime.fromisoformat(span[0]), int(span[1]), with_year=True)
    text = _("Move your booking to {when}? Your payment and party stay as they are.").format(
        when=when
    )
    move = Choice("class_move_yes", _("✅ Move it"), aliases=(_("confirm"), _("yes"), "yes", "si"))
    return Screen(text, [move, *back_and_cancel(ctx)])


async def move_class_booking(ctx: Context) -> Transition:
    _ = ctx.t._
    try:
        moved = await class_reschedule.reschedule_booking(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            registration_id=int(ctx.data["registration_id"]),
            customer_id=ctx.customer.id,
            session_id=int(ctx.data["move_to"]),
        )
    except errors.BookingError as error:
        return Transition(State.CLASS_RESCHEDULE, render_error(error, ctx.t, ctx.zone))
    ctx.data.clear()
    new = moved.new_session
    date = ctx.session_when(new.starts_at, new.ends_at, new.days, with_year=True)
    text = _("✅ Moved! {name}, {date}.").format(name=moved.class_name, date=date)
    if ctx.texting:
        return Transition(State.MENU, text)
    text += " " + _("The calendar file below updates it in your calendar.")
    attachment = booking_attachment(ctx, moved.id, moved.class_name, [new], sequence=moved.sequence)
    return Transition(State.MENU, text, attachment)


SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.APPOINTMENT: appointment_screen,
    State.APPOINTMENT_CANCEL: cancel_screen,
    State.RESCHEDULE_DAYS: days_screen,
    State.RESCHEDULE_TIMES: times_screen,
    State.RESCHEDULE_CONFIRM: confirm_screen,
    State.CLASS_RESCHEDULE: class_dates_screen,
    State.CLASS_RESCHEDULE_CONFIRM: class_confirm_screen,
}
ACTIONS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "rs_days_page": days_page,
    "rs_day": choose_day,
    "rs_times_page": times_page,
    "rs_time": choose_time,
    "class_move": choose_class_date,
}
PLAIN_ACTIONS: dict[str, Callable[[Context], Awaitable[Transition]]] = {
    "appt_reschedule": start_reschedule,
    "appt_cancel_yes": cancel,
    "rs_confirm": confirm,
    "class_move_yes": move_class_booking,
}
TYPED: dict[State, Callable[[Context, str], Awaitable[Transition]]] = {
    State.RESCHEDULE_TIMES: on_typed_time,
}
