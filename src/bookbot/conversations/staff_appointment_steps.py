"""/upcoming, /pending, /past, /cancelled: a staff member's own appointments, a page at a
time, and one appointment: cancel it with a reason, or mark a no-show once it has started.

Times are on the staff member's clock unless they switch to each customer's ("Show
customer's time"). An appointment an option points at is looked up again in the staff
member's own list (`services.appointments.staff_list`, scoped to `ctx.staff_id`): a forged
or stale id finds nothing, and nobody reaches another staff member's appointments. The
services tell the customer (cancellation with the reason); appointments are paid at the
studio in this round, so a cancellation refunds nothing online.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime

from bookbot.conversations import payment_steps
from bookbot.conversations.staff_admin_steps import (
    cancel_screen,
    int_value,
    nav,
    reason_refusal,
    typed_reason,
)
from bookbot.conversations.staff_availability_steps import (
    Handler,
    Step,
    Typed,
    asking,
    own,
    own_id,
    own_typed,
)
from bookbot.conversations.staff_week import staff_zone
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.conversations.timezone_steps import city
from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import N_, render_error
from bookbot.services import appointments
from bookbot.services.appointment_rows import Appointment
from bookbot.services.customers import customer_by_id

PAGE = 8
MOST_PAGES = 25  # past the 200th appointment, use the CLI
LIVE = ("held", "confirmed")
ATTENDABLE = ("confirmed", "completed")  # may be marked a no-show once started
VIEWS = {
    "staff_upcoming": "upcoming",
    "staff_pending": "pending",
    "staff_past": "past",
    "staff_cancelled": "cancelled",
}
TITLES = {
    "upcoming": N_("Your upcoming appointments"),
    "pending": N_("Held, waiting for the customer to confirm"),
    "past": N_("Your past appointments"),
    "cancelled": N_("Cancelled appointments"),
}
STATUSES = {
    "held": N_("held, not yet confirmed"),
    "confirmed": N_("confirmed"),
    "cancelled_by_customer": N_("cancelled by the customer"),
    "cancelled_by_staff": N_("cancelled by staff"),
    "no_show": N_("no-show"),
    "completed": N_("completed"),
    "expired": N_("expired (never confirmed)"),
}


def _view(ctx: Context) -> str:
    view = ctx.data.get("appt_view")
    return view if view in TITLES else "upcoming"


def _page(ctx: Context) -> int:
    page = int_value(ctx.data.get("appt_page"))
    return page if page is not None and 0 <= page < MOST_PAGES else 0


async def _listed(ctx: Context, staff_id: int) -> list[Appointment]:
    """The current view up to one past the current page (so we know if there is more)."""
    key = f"staff_appointments:{_view(ctx)}:{_page(ctx)}"
    if key not in ctx.turn:
        ctx.turn[key] = await appointments.staff_list(
            ctx.db,
            ctx.studio.id,
            staff_id,
            view=_view(ctx),
            now=ctx.now,
            limit=(_page(ctx) + 1) * PAGE + 1,
        )
    listed: list[Appointment] = ctx.turn[key]
    return listed


def _forget(ctx: Context) -> None:
    """After a change: the lists this update read are out of date."""
    for key in [k for k in ctx.turn if k.startswith("staff_appointments:")]:
        del ctx.turn[key]


async def _shown(ctx: Context, staff_id: int, value: object) -> Appointment | None:
    wanted = int_value(value)
    listed = await _listed(ctx, staff_id)
    return next((a for a in listed if a.id == wanted), None)


async def _time_zone(ctx: Context, staff_id: int, appointment: Appointment) -> str:
    """The zone a time is shown in: the staff member's, or the customer's if they asked."""
    if not ctx.data.get("appt_theirs"):
        return await staff_zone(ctx, staff_id)
    key = f"customer_zone:{appointment.customer_id}"
    if key not in ctx.turn:
        customer = await customer_by_id(ctx.db, ctx.studio.id, appointment.customer_id)
        ctx.turn[key] = (customer.timezone if customer else None) or ctx.studio.timezone
    return str(ctx.turn[key])


def _at(ctx: Context, instant: datetime, zone_name: str) -> str:
    local = instant.astimezone(zone(zone_name))
    return format_datetime(local, "EEE d MMM, HH:mm", locale=ctx.t.language)


async def _label(ctx: Context, staff_id: int, appointment: Appointment) -> str:
    """'Tue 1 Dec, 10:00 · Ana Alvarez · Spanish lesson' (the city too in customers' time)."""
    zone_name = await _time_zone(ctx, staff_id, appointment)
    at = _at(ctx, appointment.starts_at, zone_name)
    if ctx.data.get("appt_theirs"):
        at = f"{at} ({city(zone_name)})"
    return f"{at} · {appointment.customer_name} · {appointment.service_name}"


def _toggle(ctx: Context) -> Choice:
    _ = ctx.t._
    if ctx.data.get("appt_theirs"):
        return Choice("staff_appts_zone", _("🕘 Show my time"), aliases=(_("my time"),))
    return Choice("staff_appts_zone", _("🌐 Show customer's time"), aliases=(_("their time"),))


def _other_views(ctx: Context) -> list[Choice]:
    _ = ctx.t._
    labels = {
        "staff_upcoming": _("📆 Upcoming"),
        "staff_pending": _("⏳ Pending"),
        "staff_past": _("🗂 Past"),
        "staff_cancelled": _("✖ Cancelled"),
    }
    return [Choice(a, label) for a, label in labels.items() if VIEWS[a] != _view(ctx)]


def _paging(ctx: Context, *, more: bool) -> list[Choice]:
    _ = ctx.t._
    page = _page(ctx)
    newest_first = _view(ctx) in ("past", "cancelled")
    earlier, later = (_("⬅ Newer"), _("Older ➡")) if newest_first else (_("⬅ Sooner"), _("Later ➡"))
    choices = []
    if page > 0:
        choices.append(Choice("staff_appts_page", earlier, page - 1))
    if more and page + 1 < MOST_PAGES:
        choices.append(Choice("staff_appts_page", later, page + 1))
    return choices


async def list_screen(ctx: Context, staff_id: int) -> Screen:
    _ = ctx.t._
    listed = await _listed(ctx, staff_id)
    start = _page(ctx) * PAGE
    shown = listed[start : start + PAGE]
    if ctx.data.get("appt_theirs"):
        head = _("Times in each customer's zone.")
    else:
        head = _("Times in {city}.").format(city=city(await staff_zone(ctx, staff_id)))
    text = [f"{_(TITLES[_view(ctx)])} · {head}"]
    choices = [Choice("staff_appointment", await _label(ctx, staff_id, a), a.id) for a in shown]
    if not shown:
        text.append(_("None."))
    else:
        text.append(_("Choose one to see it, cancel it or mark a no-show."))
    choices += _paging(ctx, more=len(listed) > start + PAGE)
    choices += [_toggle(ctx), *_other_views(ctx), *nav(ctx)]
    return Screen("\n".join(text), choices)


async def appointment_screen(ctx: Context, staff_id: int) -> Screen:
    _ = ctx.t._
    appointment = await _shown(ctx, staff_id, ctx.data.get("appt_id"))
    if appointment is None:
        return Screen(_("That appointment is no longer in this list."), nav(ctx))
    zone_name = await _time_zone(ctx, staff_id, appointment)
    at = _at(ctx, appointment.starts_at, zone_name)
    until = ctx.t.time(appointment.ends_at, zone_name)
    lines = [
        appointment.service_name,
        _("Customer: {name}").format(name=appointment.customer_name),
        _("When: {start}–{end} ({city})").format(start=at, end=until, city=city(zone_name)),
        _("Status: {status}").format(status=_(STATUSES.get(appointment.status, "?"))),
    ]
    if appointment.guest_count > 1:
        lines.insert(2, _("Party of {n}").format(n=appointment.guest_count))
    if appointment.cancel_reason:
        lines.append(_("Reason: {reason}").format(reason=appointment.cancel_reason))
    choices = []
    if appointment.status in LIVE and appointment.starts_at > ctx.now:
        choices.append(Choice("staff_appt_cancel", _("✖ Cancel with a reason")))
    if appointment.status in ATTENDABLE and appointment.starts_at <= ctx.now:
        choices.append(Choice("staff_appt_no_show", _("🚫 Mark no-show")))
    elif appointment.status in ATTENDABLE:
        lines.append(_("You can mark a no-show once it has started."))
    return Screen("\n".join(lines), [*choices, _toggle(ctx), *nav(ctx)])


# --- choices ---------------------------------------------------------------------------


def open_view(ctx: Context, action: str) -> Transition:
    ctx.data["appt_view"], ctx.data["appt_page"] = VIEWS[action], 0
    return Transition(State.STAFF_APPOINTMENTS)


def turn_page(ctx: Context, value: object) -> Transition:
    page = int_value(value)
    if page is not None and 0 <= page < MOST_PAGES:
        ctx.data["appt_page"] = page
    return Transition(State.STAFF_APPOINTMENTS)


def toggle_zone(ctx: Context) -> Transition:
    ctx.data["appt_theirs"] = not ctx.data.get("appt_theirs")
    here = State(ctx.conversation.state)
    return Transition(here if here is State.STAFF_APPOINTMENT else State.STAFF_APPOINTMENTS)


async def open_appointment(ctx: Context, staff_id: int, value: object) -> Transition:
    appointment = await _shown(ctx, staff_id, value)
    if appointment is None:
        notice = ctx.t._("That appointment is no longer in this list.")
        return Transition(State.STAFF_APPOINTMENTS, notice)
    ctx.data["appt_id"] = appointment.id
    return Transition(State.STAFF_APPOINTMENT)


async def ask_reason(ctx: Context, staff_id: int) -> Transition:
    appointment = await _shown(ctx, staff_id, ctx.data.get("appt_id"))
    if appointment is None or appointment.status not in LIVE or appointment.starts_at <= ctx.now:
        notice = ctx.t._("That appointment can no longer be cancelled here.")
        return Transition(State.STAFF_APPOINTMENT, notice)
    return Transition(State.STAFF_APPOINTMENT_CANCEL)


async def on_reason(ctx: Context, staff_id: int, typed: str) -> Transition:
    _ = ctx.t._
    reason = typed_reason(typed)
    if reason is None:
        return Transition(State.STAFF_APPOINTMENT_CANCEL, reason_refusal(ctx))
    appointment = await _shown(ctx, staff_id, ctx.data.get("appt_id"))
    if appointment is None:
        notice = _("That appointment is no longer in this list.")
        return Transition(State.STAFF_APPOINTMENTS, notice)
    try:
        done = await appointments.cancel_by_staff(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            appointment_id=appointment.id,
            staff_id=staff_id,
            reason=reason,
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_APPOINTMENT, render_error(error, ctx.t, ctx.zone))
    ctx.data.pop("appt_id", None)
    _forget(ctx)
    when = _at(ctx, done.starts_at, await staff_zone(ctx, staff_id))
    if appointment.status == "held":  # never booked: nobody to tell, nothing paid
        notice = _("Released: {service} with {name}, {when}, was only held; it is free again.")
        text = notice.format(service=done.service_name, name=done.customer_name, when=when)
        return Transition(State.STAFF_APPOINTMENTS, text)
    notice = _("Cancelled: {service} with {name}, {when}. We have told {name}, with your reason.")
    text = notice.format(service=done.service_name, name=done.customer_name, when=when)
    # Paid online: the refund (all of it) goes to the provider now, and staff are told so.
    refunded = await payment_steps.refund_after_staff_cancel(ctx, done.id)
    money = refunded or _("It was to be paid at the studio, so there is nothing to refund.")
    return Transition(State.STAFF_APPOINTMENTS, f"{text} {money}")


async def no_show(ctx: Context, staff_id: int) -> Transition:
    _ = ctx.t._
    appointment = await _shown(ctx, staff_id, ctx.data.get("appt_id"))
    if appointment is None:
        notice = _("That appointment is no longer in this list.")
        return Transition(State.STAFF_APPOINTMENTS, notice)
    if appointment.starts_at > ctx.now:
        return Transition(State.STAFF_APPOINTMENT, _("It has not started yet: not a no-show."))
    try:
        done = await appointments.mark_no_show(
            ctx.db, ctx.clock, ctx.studio.id, appointment_id=appointment.id, staff_id=staff_id
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_APPOINTMENT, render_error(error, ctx.t, ctx.zone))
    ctx.data.pop("appt_id", None)
    _forget(ctx)
    notice = _("{name} is marked as a no-show.").format(name=done.customer_name)
    return Transition(State.STAFF_APPOINTMENTS, notice)


# --- wiring (staff_steps takes these in) -----------------------------------------------


async def _open_view(ctx: Context, choice: Choice) -> Transition:
    return open_view(ctx, choice.action)


async def _turn_page(ctx: Context, choice: Choice) -> Transition:
    return turn_page(ctx, choice.value)


async def _toggle_zone(ctx: Context, _choice: Choice) -> Transition:
    return toggle_zone(ctx)


async def _open(ctx: Context, choice: Choice) -> Transition:
    return await open_appointment(ctx, own_id(ctx), choice.value)


async def _cancel(ctx: Context, _choice: Choice) -> Transition:
    return await ask_reason(ctx, own_id(ctx))


async def _no_show(ctx: Context, _choice: Choice) -> Transition:
    return await no_show(ctx, own_id(ctx))


HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(VIEWS, _open_view),
    "staff_appts_page": _turn_page,
    "staff_appts_zone": _toggle_zone,
    "staff_appointment": _open,
    "staff_appt_cancel": _cancel,
    "staff_appt_no_show": _no_show,
}
SCREENS: dict[State, Step] = {
    State.STAFF_APPOINTMENTS: own(list_screen),
    State.STAFF_APPOINTMENT: own(appointment_screen),
    State.STAFF_APPOINTMENT_CANCEL: asking(cancel_screen),
}
TYPED: dict[State, Typed] = {State.STAFF_APPOINTMENT_CANCEL: own_typed(on_reason)}
