"""Booking a class in chat, after its dates are chosen (`class_dates`): the party size,
holding the seats, the summary, confirming and the "Booked!" message."""

from __future__ import annotations

from datetime import datetime

from bookbot.conversations import attendee_steps, booked_text, policy_text
from bookbot.conversations.calendar import booking_attachment
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.pricing import RegistrationKind, registration_price
from bookbot.engine.reservations import PassKind
from bookbot.presentation.i18n import render_error
from bookbot.services import booking, browse, holds, passes

MAX_GUEST_BUTTONS = 6
MAX_GUESTS = 50


def back_and_cancel(ctx: Context, *, menu: bool = False) -> list[Choice]:
    """Back, and the way out: ✖ Cancel, or ✖ Menu where "cancel" must mean the page's own
    option (`menu`: a booking or reservation to cancel)."""
    _ = ctx.t._
    back = Choice("back", _("⬅ Back"), aliases=(_("back"), "back", "atras"))
    if ctx.texting or menu:  # a lone CANCEL texted to Twilio unsubscribes: call it Menu there
        return [back, Choice("menu", _("✖ Menu"), aliases=(_("menu"), "menu"))]
    return [back, Choice("menu", _("✖ Cancel"), aliases=(_("cancel"), _("menu"), "menu"))]


def offer_label(ctx: Context, offer: passes.Offer, *, capital: bool = False) -> str:
    """'a pass for 8 sessions to use within 60 days', 'an unlimited pass for 28 days': the
    article belongs to the noun ("a pass", "an unlimited pass"), never to a number, whose
    sound ("an 8", "a 9") it would have to guess. `capital`: to start a sentence."""
    if offer.kind is PassKind.PUNCH:
        n = offer.sessions or 0
        what = ctx.t.n_("a pass for {n} session", "a pass for {n} sessions", n).format(n=n)
        if offer.valid_days:
            what += " " + ctx.t.n_(
                "to use within {n} day", "to use within {n} days", offer.valid_days
            ).format(n=offer.valid_days)
    elif offer.valid_days:
        what = ctx.t.n_(
            "an unlimited pass for {n} day", "an unlimited pass for {n} days", offer.valid_days
        ).format(n=offer.valid_days)
    else:
        what = ctx.t._("an unlimited pass")
    return what[:1].upper() + what[1:] if capital else what


async def guests_screen(ctx: Context) -> Screen:
    """The party size: its values are the first options (1, 2, …), so a typed "3" means 3
    people either way; a party above the buttons is typed with a word ("8 people").
    A full date says so once and asks instead how many would join its waitlist."""
    _ = ctx.t._
    dates = await browse.dates_by_id(ctx.db, ctx.studio.id, ctx.data["session_ids"], ctx.now, 1)
    most = min((most_that_fit(d) for d in dates), default=0)
    if most == 0:
        return _full_screen(ctx, dates)
    text = _("How many people are coming (you included)?")
    if most > MAX_GUEST_BUTTONS:
        text += " " + _more_people(ctx, most)
    return Screen(
        text, _party_choices(ctx, most) + _full_alternatives(ctx, most) + back_and_cancel(ctx)
    )


def _party_choices(ctx: Context, most: int) -> list[Choice]:
    return [
        Choice("guests", str(n), n, aliases=(ctx.t.n_("{n} person", "{n} people", n).format(n=n),))
        for n in range(1, min(most, MAX_GUEST_BUTTONS) + 1)
    ]


def _more_people(ctx: Context, most: int) -> str:
    example = min(most, MAX_GUEST_BUTTONS + 2)
    return ctx.t._("For more people, send e.g. “{n} people”.").format(n=example)


def _waitlisted(ctx: Context) -> bool:
    """Whether these dates have a waitlist: one date (a single class, or one drop-in
    date); a course run and several drop-in dates have none."""
    kind = ctx.data.get("kind")
    single = kind in (RegistrationKind.SINGLE.value, RegistrationKind.DROP_IN.value)
    return single and len(ctx.data.get("session_ids", [])) == 1


def date_when(ctx: Context, d: browse.DateChoice) -> str:
    """A date as the date pickers show it: a multi-day course's dates and daily hours."""
    return ctx.session_when(d.session.starts_at, d.session.ends_at, d.session.days)


def _full_screen(ctx: Context, dates: list[browse.DateChoice]) -> Screen:
    _ = ctx.t._
    other = Choice("other_dates", _("Other dates"), aliases=(_("other dates"),))
    full = [d for d in dates if most_that_fit(d) == 0]
    if not full:  # gone since they were chosen
        return Screen(_("Those dates are no longer available."), [other, *back_and_cancel(ctx)])
    day = date_when(ctx, full[0])
    if not _waitlisted(ctx):
        if ctx.data.get("kind") == RegistrationKind.FULL_SCHEDULE.value:
            text = _("This course is full. Please choose another start date.")
        else:
            text = _("{date} is full now. Please choose other dates.").format(date=day)
        return Screen(text, [other, *back_and_cancel(ctx)])
    text = _(
        "{date} is full. Join the waitlist? If a place frees up, we offer it to the first "
        "in line. How many people (you included)?"
    ).format(date=day)
    text += " " + _more_people(ctx, MAX_GUESTS)
    return Screen(text, _party_choices(ctx, MAX_GUESTS) + [other, *back_and_cancel(ctx)])


def _full_alternatives(ctx: Context, most: int) -> list[Choice]:
    """For a party bigger than the date takes: other dates, and its waitlist."""
    _ = ctx.t._
    if most >= MAX_GUEST_BUTTONS:
        return []
    extra = [Choice("other_dates", _("Other dates"), aliases=(_("other dates"),))]
    if _waitlisted(ctx):
        extra.append(Choice("waitlist", _("Join the waitlist"), aliases=(_("waitlist"),)))
    return extra


async def choose_guests(ctx: Context, guests: int) -> Transition:
    """Check the party against seats and every resource now; say why not, and what instead.
    A date already full: the party is what its waitlist place is for."""
    _ = ctx.t._
    if not 1 <= guests <= MAX_GUESTS:
        return Transition(
            State.GUESTS, _("Please send a number from 1 to {most}.").format(most=MAX_GUESTS)
        )
    ctx.data["guests"] = guests  # also what a waitlist place would be for
    dates = await browse.dates_by_id(
        ctx.db, ctx.studio.id, ctx.data["session_ids"], ctx.now, guests
    )
    if _waitlisted(ctx) and dates and most_that_fit(dates[0]) == 0:
        return Transition(State.WAITLIST)
    for d in dates:
        if most_that_fit(d) == 0:  # the screen says it is full, once
            return Transition(State.GUESTS)
        if d.availability.seats_left < guests:
            reason = ctx.t.n_(
                "Only {n} seat left on {date}.",
                "Only {n} seats left on {date}.",
                d.availability.seats_left,
            )
            return Transition(
                State.GUESTS,
                reason.format(n=d.availability.seats_left, date=date_when(ctx, d)),
            )
        for r in d.availability.resources:
            if not r.ok:
                return Transition(
                    State.GUESTS,
                    _(
                        "Only {available} × {resource} free on {date}, {needed} needed for {guests}."
                    ).format(
                        available=r.available,
                        resource=r.resource_name,
                        needed=r.needed,
                        guests=guests,
                        date=date_when(ctx, d),
                    ),
                )
    # The summary shown next in this update needs these dates: it need not read them again.
    ctx.turn["dates"] = (tuple(ctx.data["session_ids"]), guests, dates)
    attendee_steps.ask_again(ctx)  # a class's attendee details: asked (again) after the hold
    return await hold_seats(ctx, guests)


async def hold_seats(ctx: Context, guests: int) -> Transition:
    """Keep the seats while the customer reads the summary: "full" is said now, not after
    Confirm. Backing out lets them go (see `entering.enter`); otherwise they lapse."""
    data = ctx.data
    kind = RegistrationKind(data["kind"])
    course = kind is RegistrationKind.FULL_SCHEDULE
    try:
        placed = await holds.hold(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            ctx.customer.id,
            kind,
            guests=guests,
            session_ids=None if course else data["session_ids"],
            pattern_id=data["pattern_id"] if course else None,
        )
    except errors.BookingError as error:
        return Transition(State.GUESTS, render_error(error, ctx.t, ctx.zone))
    assert placed.held_until is not None  # noqa: S101 - a hold has an end
    data["hold_id"] = placed.id
    data["held_until"] = placed.held_until.isoformat()
    return await attendee_steps.after_hold(ctx)  # the summary, or the class's details first


async def confirm_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    data = ctx.data
    read = ctx.turn.get("dates")
    if read is not None and read[:2] == (tuple(data["session_ids"]), data["guests"]):
        dates = read[2]
    else:
        dates = await browse.dates_by_id(
            ctx.db, ctx.studio.id, data["session_ids"], ctx.now, data["guests"]
        )
    card = browse.card_of(dates, data["class_id"], ctx.now)
    if card is None:
        card = await browse.class_card(ctx.db, ctx.studio.id, data["class_id"], ctx.now)
    if card is None or not dates:
        return Screen(_("Those dates are no longer available."), back_and_cancel(ctx))
    kind = RegistrationKind(data["kind"])
    price = registration_price(kind, card.price_minor, data["guests"], len(dates))
    lines = [_("Please check your booking:"), card.name]
    for d in dates[:8]:
        s = d.session
        lines.append(f"• {ctx.session_when(s.starts_at, s.ends_at, s.days, with_year=True)}")
    if len(dates) > 8:
        lines.append(_("… and {n} more").format(n=len(dates) - 8))
    lines.append(ctx.t.n_("{n} person", "{n} people", data["guests"]).format(n=data["guests"]))
    lines += attendee_steps.summary_lines(ctx)
    lines.append(await policy_text.class_line(ctx, card.id, dates[0].session.starts_at))
    # Imported here: the payment steps build on this module (holding seats, the booked text).
    from bookbot.conversations import payment_steps

    online = await payment_steps.offer(ctx, card.id, price, dates[0].session.starts_at)
    if online is None:
        lines.append(_("Total: {price}, paid at the studio.").format(price=ctx.money(price)))
    else:
        lines.append(_("Total: {price}.").format(price=ctx.money(price)))
    if data.get("held_until"):
        until = datetime.fromisoformat(data["held_until"])
        held = ctx.t.n_(
            "Your place is held until {time}.", "Your places are held until {time}.", data["guests"]
        )
        lines.append(held.format(time=ctx.t.time(until, ctx.zone)))
    if online is not None:
        return Screen(
            "\n".join(lines), payment_steps.offer_choices(ctx, online) + back_and_cancel(ctx)
        )
    confirm = Choice(
        "confirm", _("✅ Confirm booking"), aliases=(_("confirm"), _("yes"), "yes", "si")
    )
    return Screen("\n".join(lines), [confirm, *back_and_cancel(ctx)])


async def confirm(ctx: Context) -> Transition:
    data = ctx.data
    args = (ctx.db, ctx.clock, ctx.studio.id, ctx.customer.id)
    try:
        if data.get("hold_id") is not None:
            reg = await holds.confirm_hold(*args, int(data["hold_id"]))
        elif data["kind"] == RegistrationKind.FULL_SCHEDULE.value:
            reg = await booking.book_course(*args, data["pattern_id"], guests=data["guests"])
        elif data["kind"] == RegistrationKind.DROP_IN.value:
            reg = await booking.book_drop_in(*args, data["session_ids"], guests=data["guests"])
        else:
            reg = await booking.book_session(*args, data["session_ids"][0], guests=data["guests"])
    except errors.BookingError as error:
        return Transition(State.GUESTS, render_error(error, ctx.t, ctx.zone))
    return await booked_message(ctx, reg.id)


async def booked_message(ctx: Context, registration_id: int, how: str | None = None) -> Transition:
    """ "Booked!" with the calendar file; `how` says how it is paid (default: at the studio)."""
    _ = ctx.t._
    ctx.data.clear()
    found = await browse.booked(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now, registration_id)
    summary, sessions = found.summary, found.sessions
    if summary is None:
        return Transition(State.MENU, how, settled=True)
    people = ctx.t.n_("{n} person", "{n} people", summary.guests).format(n=summary.guests)
    date = ctx.session_when(summary.first_start, summary.first_end, summary.days, with_year=True)
    if how is None:
        text = _(
            "🎉 Booked! {name}, {date}, for {people}. Total {price}, to pay at the studio."
        ).format(
            name=summary.class_name, date=date, people=people, price=ctx.money(summary.price_minor)
        )
    else:
        text = _("🎉 Booked! {name}, {date}, for {people}.").format(
            name=summary.class_name, date=date, people=people
        )
        text += " " + how
    dates = [(s.starts_at, found.instructors.get(s.id)) for s in sessions]
    text += "\n" + booked_text.details(ctx, kind="class", ident=registration_id, dates=dates)
    if ctx.texting:  # no files over SMS; WhatsApp media would need a public file URL
        return Transition(State.MENU, text, settled=True)
    text += "\n" + _("The calendar file below adds it to your calendar.")
    attachment = booking_attachment(ctx, registration_id, summary.class_name, sessions)
    return Transition(State.MENU, text, attachment, settled=True)


def most_that_fit(d: browse.DateChoice) -> int:
    """The largest party the date takes: seats, and each resource's free units per person
    (whatever party size the date was read for)."""
    per = {q.resource_id: q.quantity_per_student for q in d.requirements}
    per_resource = [
        r.available // per[r.resource_id]
        for r in d.availability.resources
        if per.get(r.resource_id)
    ]
    return max(0, min([d.seats_left, *per_resource]))
