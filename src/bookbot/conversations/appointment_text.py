"""How an appointment is told in chat: its time on the customer's clock (and the staff
member's, when they keep another zone), its place, deadlines and details, its calendar file,
and the confirmation once booked or moved (`appointment_steps`, `reschedule_steps`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bookbot.conversations import booked_text
from bookbot.conversations.model import Attachment
from bookbot.conversations.states import Context, Transition
from bookbot.conversations.timezone_steps import city
from bookbot.engine.recurrence import zone
from bookbot.presentation.calendar_ics import appointment_event, booking_calendar
from bookbot.services import appointments
from bookbot.services.appointments import Appointment, Service

# --- Times, in the customer's zone and the staff member's -------------------------------


def _other_zone(ctx: Context, instant: datetime, staff_zone: str) -> str:
    """'16:00 in Madrid', with the date when it is another day there."""
    there = instant.astimezone(zone(staff_zone)).date()
    here = instant.astimezone(zone(ctx.zone)).date()
    clock = ctx.t.time(instant, staff_zone)
    if there != here:
        clock = f"{ctx.t.date(there)}, {clock}"
    return ctx.t._("{time} in {city}").format(time=clock, city=city(staff_zone))


def time_label(ctx: Context, instant: datetime, staff_zone: str) -> str:
    """A time on the customer's clock, naming the zone where it is not the studio's."""
    local = ctx.t.time(instant, ctx.zone)
    if staff_zone != ctx.zone:
        return ctx.t._("{time} your time ({other})").format(
            time=local, other=_other_zone(ctx, instant, staff_zone)
        )
    if ctx.zone != ctx.studio.timezone:
        return f"{local} {instant.astimezone(zone(ctx.zone)).tzname() or ''}".strip()
    return local


def when_label(ctx: Context, instant: datetime, staff_zone: str) -> str:
    """A date and time as `Context.when` says it, and the staff member's time if elsewhere."""
    text = ctx.when(instant, with_year=True)
    if staff_zone == ctx.zone:
        return text
    return ctx.t._("{when} your time ({other})").format(
        when=text, other=_other_zone(ctx, instant, staff_zone)
    )


def place_line(ctx: Context, a: Appointment) -> str:
    _ = ctx.t._
    if a.online:
        if a.meeting_url:
            return _("Online: {url}").format(url=a.meeting_url)
        return _("Online: the studio sends the link.")
    return _("Where: {place}").format(place=a.location) if a.location else ""


def policy_lines(ctx: Context, a: Appointment, service: Service) -> list[str]:
    """The cancellation and reschedule deadlines as they stand now, or that they passed.
    A held slot (the summary) is judged as the booking it would become."""
    _ = ctx.t._
    a = replace(a, status="confirmed") if a.status == "held" else a
    cancel_by = a.starts_at - timedelta(hours=service.cancellation_cutoff_hours)
    move_by = a.starts_at - timedelta(hours=service.reschedule_cutoff_hours)
    lines = []
    if appointments.can_cancel(a, service, ctx.now):
        lines.append(_("Free cancellation until {when}.").format(when=ctx.when(cancel_by)))
    else:
        lines.append(
            ctx.t.n_(
                "It can no longer be cancelled: cancelling closes {n} hour before the start.",
                "It can no longer be cancelled: cancelling closes {n} hours before the start.",
                service.cancellation_cutoff_hours,
            ).format(n=service.cancellation_cutoff_hours)
        )
    if appointments.can_reschedule(a, service, ctx.now):
        lines.append(
            _("You can move it to another time until {when}.").format(when=ctx.when(move_by))
        )
    else:
        lines.append(
            ctx.t.n_(
                "It can no longer be moved: moving closes {n} hour before the start.",
                "It can no longer be moved: moving closes {n} hours before the start.",
                service.reschedule_cutoff_hours,
            ).format(n=service.reschedule_cutoff_hours)
        )
    return lines


def detail_lines(
    ctx: Context, a: Appointment, service: Service, *, price: str | None = None
) -> list[str]:
    """When, where, the party, the price and the deadlines: what the summary and the
    appointment's own screen both say under their first line ('' where there is no place).
    `price`: the price line when it is paid online (`payment_steps`)."""
    _ = ctx.t._
    lines = [when_label(ctx, a.starts_at, a.staff_timezone), place_line(ctx, a)]
    if a.guest_count > 1:
        lines.append(ctx.t.n_("{n} person", "{n} people", a.guest_count).format(n=a.guest_count))
    at_studio = _("Price: {price}, paid at the studio.").format(price=ctx.money(a.price_minor))
    lines.append(price or at_studio)
    return lines + policy_lines(ctx, a, service)


def calendar_attachment(ctx: Context, a: Appointment) -> Attachment:
    """The appointment as a calendar event: the same UID when it moves, SEQUENCE raised."""
    event = appointment_event(a, ctx.t, studio_name=ctx.studio.name)
    content = booking_calendar([event], stamp=ctx.now)
    return Attachment(f"appointment-{a.id}.ics", "text/calendar", content)


def booked(
    ctx: Context, a: Appointment, headline: str, *, paid_line: str | None = None
) -> Transition:
    """The confirmation (booked or moved): reference, staff, time, place, and the .ics.
    `paid_line` replaces "Pay … at the studio" (a package paid for it)."""
    _ = ctx.t._
    lines = [
        headline,
        _("Appointment #{number}: {service} with {staff}").format(
            number=a.id, service=a.service_name, staff=a.staff_name
        ),
        when_label(ctx, a.starts_at, a.staff_timezone),
        place_line(ctx, a),
        paid_line or _("Pay {price} at the studio.").format(price=ctx.money(a.price_minor)),
        booked_text.reference_line(ctx, "appointment", a.id),
    ]
    text = "\n".join(filter(None, lines))
    from bookbot.conversations import recurring_steps  # it imports this module, indirectly

    after = recurring_steps.offer_state(ctx, a)  # a new booking: "make this weekly"
    if ctx.texting:  # no files over SMS (see booking_steps.booked_message)
        return Transition(after, text, settled=True)
    if a.sequence:  # moved: the same event, a higher SEQUENCE
        text += "\n" + _("The calendar file below updates it in your calendar.")
    else:
        text += "\n" + _("The calendar file below adds it to your calendar.")
    return Transition(after, text, calendar_attachment(ctx, a), settled=True)
