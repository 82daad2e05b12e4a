"""Recurring bookings in chat (issue 15): right after an appointment is booked the member may
make it weekly or every 2 weeks (that appointment becomes the first date, the next 6 weeks
are booked at once); "🗓 My bookings" lists each series, where one date can be skipped and
the series ended.

Rules:
- The offer shows with the menu after the confirmation, never in the way: any menu choice
  simply leaves it. A moved appointment (or one already in a series) gets no offer.
- Dates are said on the member's clock (`Context.when`); the series keeps the staff
  member's wall time across DST, which the series line names ("Tue 10:00, London time").
- Skipping a booked date cancels it as the member would (refused inside the cutoff, with the
  reason); ending says first which dates will be cancelled and which stay (inside the
  cutoff), then does it.
- Occurrences are paid at the studio (no online checkout for series).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from babel.dates import format_date

from bookbot.conversations import account_steps
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.conversations.timezone_steps import city
from bookbot.engine import errors, series
from bookbot.presentation.i18n import render_error
from bookbot.services import appointments, recurring
from bookbot.services.appointments import Appointment
from bookbot.services.recurring import RecurringBooking

_MONDAY = date(2024, 1, 1)
PAUSE_DATES = 6


def offer_state(ctx: Context, a: Appointment) -> State:
    """Where a confirmation goes: the recurring offer for a freshly booked one-time
    appointment (its id kept for the offer), else the menu."""
    if a.sequence or a.recurring_booking_id is not None or a.status != "confirmed":
        return State.MENU
    ctx.data["series_from"] = a.id
    return State.RECURRING_OFFER


async def offer_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    ctx.data.pop("history", None)  # a menu: nothing to go back to
    choices = []
    if ctx.data.get("series_from") is not None:
        choices = [
            Choice("series_make", _("🔁 Make this weekly"), 1, (_("weekly"),)),
            Choice("series_make", _("🔁 Every 2 weeks"), 2, (_("every 2 weeks"),)),
        ]
    # After the menu's own choices: the menu stays where the member knows it.
    return Screen(_("What would you like to do?"), account_steps.menu_choices(ctx) + choices)


async def make_series(ctx: Context, choice: Choice) -> Transition:
    _ = ctx.t._
    appointment_id = ctx.data.pop("series_from", None)
    if appointment_id is None:
        return Transition(State.MENU)
    try:
        made = await recurring.create_from_appointment(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            appointment_id=int(appointment_id),
            customer_id=ctx.customer.id,
            interval_weeks=int(choice.value),
        )
    except errors.BookingError as error:
        return Transition(State.MENU, render_error(error, ctx.t, ctx.zone))
    lines = [
        _("🔁 Done: {what}.").format(what=series_line(ctx, made.series)),
        *placement_lines(ctx, made.series, made.placement),
        _("The new dates are paid at the studio. See, skip a date or end it in My bookings."),
    ]
    return Transition(State.MENU, "\n".join(filter(None, lines)))


def _weekday(ctx: Context, weekday: int) -> str:
    return format_date(_MONDAY + timedelta(days=weekday), "EEEE", locale=ctx.t.language)


def series_line(ctx: Context, s: RecurringBooking) -> str:
    """'Wheel lesson with Maya every 2 weeks, Tuesday 10:00 (London time)'."""
    _ = ctx.t._
    text = (
        _("{service} with {staff} every week, {weekday} {time}")
        if s.interval_weeks == 1
        else _("{service} with {staff} every 2 weeks, {weekday} {time}")
    ).format(
        service=s.service_name,
        staff=s.staff_name,
        weekday=_weekday(ctx, s.weekday),
        time=s.start_time,
    )
    if s.timezone != ctx.zone:
        text += " " + _("({city} time)").format(city=city(s.timezone))
    return text


def _start(s: RecurringBooking, day: date) -> datetime:
    return series.starts_at(s.rule(), day)[0]


def placement_lines(ctx: Context, s: RecurringBooking, placement: recurring.Placement) -> list[str]:
    _ = ctx.t._
    why = {
        "blocked": _("{staff} is away").format(staff=s.staff_name),
        "unavailable": _("{staff} does not work then").format(staff=s.staff_name),
        "clash": _("already taken"),
    }
    lines = []
    if placement.placed:
        booked = ", ".join(ctx.when(_start(s, d)) for d in placement.placed)
        lines.append(_("Booked: {dates}.").format(dates=booked))
    for day, reason in placement.skipped:
        lines.append(
            _("Not possible on {when}: {why}.").format(
                when=ctx.when(_start(s, day)), why=why.get(reason, reason)
            )
        )
    return lines


async def series_choices(ctx: Context) -> list[Choice]:
    """The member's active series, for My bookings."""
    found = await recurring.series_of_customer(ctx.db, ctx.studio.id, ctx.customer.id)
    return [Choice("series", "🔁 " + series_line(ctx, s), s.id) for s in found]


async def _mine(ctx: Context) -> RecurringBooking | None:
    try:
        found = await recurring.series_by_id(ctx.db, ctx.studio.id, int(ctx.data["series_id"]))
    except (errors.NotFound, KeyError):
        return None
    return found if found.customer_id == ctx.customer.id and found.status == "active" else None


def _gone(ctx: Context) -> Screen:
    return Screen(ctx.t._("That recurring booking has ended."), back_and_cancel(ctx))


async def _upcoming_dates(
    ctx: Context, s: RecurringBooking
) -> list[tuple[date, Appointment | None]]:
    """The series' next dates in its 6-week window that are not skipped: each with its
    booked occurrence (None: not placed yet, or could not be)."""
    today = series.local_today(ctx.now, s.timezone)
    placed = {
        a.occurrence_date: a
        for a in await recurring.occurrences(ctx.db, ctx.studio.id, s.id, after=ctx.now)
    }
    skipped = {k.on_date for k in await recurring.skips(ctx.db, ctx.studio.id, s.id, since=today)}
    # A date cancelled on its own (from its appointment screen) stays cancelled: not offered.
    skipped |= await recurring.occurrence_dates(ctx.db, ctx.studio.id, s.id, since=today) - set(
        placed
    )
    days = series.dates(s.rule(), start=today, end=series.window_end(today))
    return [(d, placed.get(d)) for d in days if d not in skipped and _start(s, d) > ctx.now]


async def series_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    s = await _mine(ctx)
    if s is None:
        return _gone(ctx)
    lines = [_("🔁 {what}").format(what=series_line(ctx, s))]
    if s.ends_on is not None:
        lines.append(_("Until {date}.").format(date=ctx.t.date(s.ends_on)))
    booked = [a for _day, a in await _upcoming_dates(ctx, s) if a is not None]
    if booked:
        lines.append(
            _("Next: {dates}.").format(dates=", ".join(ctx.when(a.starts_at) for a in booked))
        )
    today = series.local_today(ctx.now, s.timezone)
    for k in await recurring.skips(ctx.db, ctx.studio.id, s.id, since=today):
        lines.append(_("Skipped: {when}.").format(when=ctx.when(_start(s, k.on_date))))
    lines.append(_("Each lesson is paid at the studio."))
    choices = [
        Choice("series_pause_dates", _("⏸ Skip one date"), aliases=(_("skip"),)),
        Choice("series_end_terms", _("⏹ End this series"), aliases=(_("end"),)),
    ]
    return Screen("\n".join(lines), choices + back_and_cancel(ctx))


async def pause_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    s = await _mine(ctx)
    if s is None:
        return _gone(ctx)
    dates = (await _upcoming_dates(ctx, s))[:PAUSE_DATES]
    if not dates:
        return Screen(_("There is no date to skip in the next 6 weeks."), back_and_cancel(ctx))
    choices = [
        Choice("series_pause", ctx.when(a.starts_at if a else _start(s, d)), d.isoformat())
        for d, a in dates
    ]
    return Screen(_("Which date do you want to skip?"), choices + back_and_cancel(ctx))


async def pause(ctx: Context, choice: Choice) -> Transition:
    _ = ctx.t._
    s = await _mine(ctx)
    if s is None:
        return Transition(State.BOOKINGS, _("That recurring booking has ended."))
    day = date.fromisoformat(str(choice.value))
    try:
        await recurring.pause(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            series_id=s.id,
            on_date=day,
            customer_id=ctx.customer.id,
        )
    except errors.BookingError as error:
        return Transition(State.SERIES, render_error(error, ctx.t, ctx.zone))
    return Transition(
        State.SERIES,
        _("⏸ Skipped: {when}. The other dates stay booked.").format(when=ctx.when(_start(s, day))),
        back=True,
    )


async def _kept_and_cancelled(
    ctx: Context, s: RecurringBooking
) -> tuple[list[Appointment], list[Appointment]]:
    kept: list[Appointment] = []
    cancelled: list[Appointment] = []
    for a in await recurring.occurrences(ctx.db, ctx.studio.id, s.id, after=ctx.now):
        service = await appointments.service_by_id(ctx.db, ctx.studio.id, a.service_id)
        (cancelled if appointments.can_cancel(a, service, ctx.now) else kept).append(a)
    return kept, cancelled


async def end_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    s = await _mine(ctx)
    if s is None:
        return _gone(ctx)
    kept, cancelled = await _kept_and_cancelled(ctx, s)
    lines = [_("End {what}?").format(what=series_line(ctx, s))]
    if cancelled:
        lines.append(
            _("These will be cancelled: {dates}.").format(
                dates=", ".join(ctx.when(a.starts_at) for a in cancelled)
            )
        )
    if kept:
        lines.append(
            _("These are too close to cancel and stay booked: {dates}.").format(
                dates=", ".join(ctx.when(a.starts_at) for a in kept)
            )
        )
    return Screen(
        "\n".join(lines),
        [
            Choice("series_end", _("Yes, end it"), aliases=(_("yes"), "yes", "si")),
            Choice("back", _("No, keep it"), aliases=(_("no"), "no")),
        ],
    )


async def end(ctx: Context) -> Transition:
    _ = ctx.t._
    s = await _mine(ctx)
    if s is None:
        return Transition(State.BOOKINGS, _("That recurring booking has ended."))
    try:
        done = await recurring.end(
            ctx.db, ctx.clock, ctx.studio.id, series_id=s.id, customer_id=ctx.customer.id
        )
    except errors.BookingError as error:
        return Transition(State.SERIES, render_error(error, ctx.t, ctx.zone))
    lines = [_("⏹ Your recurring booking has ended.")]
    if done.cancelled:
        lines.append(
            ctx.t.n_(
                "{n} lesson was cancelled.", "{n} lessons were cancelled.", len(done.cancelled)
            ).format(n=len(done.cancelled))
        )
    if done.kept:
        lines.append(
            _("Still booked: {dates}.").format(
                dates=", ".join(ctx.when(a.starts_at) for a in done.kept)
            )
        )
    return Transition(State.BOOKINGS, "\n".join(lines))


SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.RECURRING_OFFER: offer_screen,
    State.SERIES: series_screen,
    State.SERIES_PAUSE: pause_screen,
    State.SERIES_END: end_screen,
}
ACTIONS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "series_make": make_series,
    "series_pause": pause,
}
PLAIN_ACTIONS: dict[str, Callable[[Context], Awaitable[Transition]]] = {
    "series_end": end,
}
