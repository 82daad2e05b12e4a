"""Booking in chat: classes, dates (single, course run, drop-in), party size, confirmation."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date

from bookbot.conversations import attendee_steps, booked_text, paging, policy_text
from bookbot.conversations.calendar import booking_attachment
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.pricing import ClassKind, RegistrationKind, registration_price
from bookbot.engine.reservations import PassKind
from bookbot.presentation.i18n import render_error
from bookbot.services import (
    booking,
    booking_lookup,
    browse,
    date_pages,
    holds,
    passes,
    waitlist,
    waitlist_pass,
)
from bookbot.services.waitlist import join_waitlist

MAX_GUEST_BUTTONS = 6
MAX_GUESTS = 50


def back_and_cancel(ctx: Context) -> list[Choice]:
    _ = ctx.t._
    back = Choice("back", _("⬅ Back"), aliases=(_("back"), "back", "atras"))
    if ctx.texting:  # a lone CANCEL texted to Twilio unsubscribes: call it Menu there
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


async def classes_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    # What can still be booked: a class whose every date is inside the cutoff is not shown.
    cards = await browse.class_cards(ctx.db, ctx.studio.id, ctx.now + ctx.studio.booking_cutoff)
    if not cards:
        return Screen(_("There are no classes to book right now."), back_and_cancel(ctx))
    lines, choices = [_("Our classes:")], []
    for card in cards:
        price = ctx.money(card.price_minor)
        each = (
            _("{price} per session").format(price=price)
            if card.kind is ClassKind.DROP_IN
            else price
        )
        next_date = ctx.when(card.next_start) if card.next_start else ""
        lines.append(
            _("• {name} · {price} · next {date}").format(name=card.name, price=each, date=next_date)
        )
        choices.append(Choice("class", card.name, card.id))
    return Screen("\n".join(lines), choices + back_and_cancel(ctx))


async def class_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    class_id = ctx.data["class_id"]
    # A page of the class's bookable dates, read with their class: the card (None exactly
    # when no date can still be booked) and what the class needs per person come with them.
    page = await _date_page(ctx, class_id)
    dates = page.dates
    card = browse.card_of(dates, class_id, ctx.now)
    if card is None:
        return Screen(_("That class has no dates left to book."), back_and_cancel(ctx))
    text = [card.name, card.description] if card.description else [card.name]
    course = card.kind is ClassKind.COURSE
    needs = browse.needs_of(dates[0])
    for need in needs:
        text.append(
            ctx.t.n_(
                "Needs {n} {resource} per person.",
                "Needs {n} × {resource} per person.",
                need.per_student,
            ).format(n=need.per_student, resource=need.resource_name)
        )
    text.append(await policy_text.class_line(ctx, card.id))
    if course:
        return await _runs(ctx, card, text)
    if dates and dates[0].teacher:
        text.append(_("Teacher: {name}").format(name=dates[0].teacher))
    offers = [
        Choice(
            "offer",
            _("🎟 Get {what} · {price}").format(
                what=offer_label(ctx, o), price=ctx.money(o.price_minor)
            ),
            o.position,
        )
        for o in await passes.offers(ctx.db, ctx.studio.id, card.id)
    ]
    pages = paging.choices(
        ctx, "dates_page", _list_of(class_id), earlier=page.earlier, later=page.later
    )
    hint = paging.jump_hint(ctx, page.later)
    if card.kind is ClassKind.DROP_IN:
        screen = _dropin(ctx, card, text, dates)
        screen.choices[-2:-2] = pages + offers
        screen.text = "\n".join(filter(None, [screen.text, hint]))
        return screen
    text.append(
        _("Price: {price} per person. Choose a date:").format(price=ctx.money(card.price_minor))
    )
    choices = [_date_choice(ctx, d, "session") for d in dates]
    text += [hint] if hint else []
    return Screen("\n".join(text), choices + pages + back_and_cancel(ctx))


def _list_of(class_id: int) -> str:
    return f"class:{class_id}"


async def _date_page(ctx: Context, class_id: int) -> date_pages.DatePage:
    """The page of the class's dates the customer is at: only dates a tap can still book
    (open, after the booking cutoff); full ones are shown as full, with the waitlist."""
    at = paging.position(ctx, _list_of(class_id))
    ask = date_pages.DateAsk(ctx.now + ctx.studio.booking_cutoff, at.start, at.before)
    return await date_pages.date_page(
        ctx.db, ctx.studio.id, class_id, ctx.now, ask, customer_id=ctx.customer.id
    )


async def show_from(ctx: Context, day: date) -> Transition:
    """The class's dates from `day` on (a typed date at the class's page): the page
    starting that day, or, when nothing can be booked from then, say so and show the
    first page."""
    _ = ctx.t._
    class_id = ctx.data.get("class_id")
    if class_id is None:
        return Transition(State.CLASSES)
    paging.jump(ctx, _list_of(int(class_id)), day)
    page = await _date_page(ctx, int(class_id))
    start = paging.day_start(ctx, day)
    if page.dates and page.dates[0].session.starts_at < start:
        ctx.data.pop("page", None)
        day_text = format_date(day, "EEE d MMM", locale=ctx.t.language)
        return Transition(
            State.CLASS, _("There are no dates to book from {date} on.").format(date=day_text)
        )
    return Transition(State.CLASS)


def _date_choice(ctx: Context, d: browse.DateChoice, action: str) -> Choice:
    """A date to choose; one the customer is booked on already is shown as such, and a
    tap on it does nothing (booking it again would be refused)."""
    if d.mine:
        label = ctx.t._("{date} · booked").format(date=ctx.when(d.session.starts_at))
        return Choice("noop", label, d.session.id)
    return Choice(action, _date_label(ctx, d), d.session.id)


def _date_label(ctx: Context, d: browse.DateChoice) -> str:
    if d.seats_left == 0:
        return ctx.t._("{date} · full (waitlist)").format(date=ctx.when(d.session.starts_at))
    left = ctx.t.n_("{n} seat left", "{n} seats left", d.seats_left).format(n=d.seats_left)
    return f"{ctx.when(d.session.starts_at)} · {left}"


RUN_PAGE = 6  # course runs a page shows


async def _runs(ctx: Context, card: browse.ClassCard, text: list[str]) -> Screen:
    """The course's runs that can still be booked (their first session after the booking
    cutoff), a page at a time; a full run says so."""
    _ = ctx.t._
    floor = ctx.now + ctx.studio.booking_cutoff
    runs = await browse.course_runs(ctx.db, ctx.studio.id, card.id, ctx.now, floor=floor)
    at = paging.position(ctx, _list_of(card.id))
    starts = [run.first.starts_at for run in runs]
    if at.before is not None:
        end = sum(1 for s in starts if s < at.before)
        begin = max(0, end - RUN_PAGE)
    else:
        begin = sum(1 for s in starts if at.start is not None and s < at.start)
        begin = begin if begin < len(runs) else 0
        end = begin + RUN_PAGE
    shown = runs[begin:end]
    if not shown:  # its sessions ahead all belong to runs already under way
        text.append(_("This course has no start dates left to book."))
        return Screen("\n".join(text), back_and_cancel(ctx))
    text.append(
        _("Price: {price} per person for the whole course. Choose a start date:").format(
            price=ctx.money(card.price_minor)
        )
    )
    choices = []
    for run in shown:
        weeks = ctx.t.n_("{n} session", "{n} sessions", run.session_count).format(
            n=run.session_count
        )
        label = _("starts {date} · {sessions} · {enrolled}/{capacity} enrolled").format(
            date=ctx.when(run.first.starts_at),
            sessions=weeks,
            enrolled=run.enrolled,
            capacity=run.capacity,
        )
        if run.enrolled >= run.capacity:
            label = _("starts {date} · full").format(date=ctx.when(run.first.starts_at))
        choices.append(Choice("run", label, run.pattern_id))
    pages = paging.choices(
        ctx,
        "dates_page",
        _list_of(card.id),
        earlier=starts[begin] if begin > 0 else None,
        later=starts[end] if end < len(runs) else None,
    )
    return Screen("\n".join(text), choices + pages + back_and_cancel(ctx))


def _dropin(
    ctx: Context, card: browse.ClassCard, text: list[str], dates: list[browse.DateChoice]
) -> Screen:
    _ = ctx.t._
    selected = set(ctx.data.get("selected", []))
    if ctx.conversation.channel == "telegram":
        how = _(
            "{price} per session. Pick the dates you want (tap again to remove), then continue."
        )
    else:  # typed: a number picks a date, the same number again removes it
        how = _(
            "{price} per session. Send the number of each date you want (again to remove it), "
            "then continue."
        )
    text.append(how.format(price=ctx.money(card.price_minor)))
    choices = []
    for d in dates:
        if d.mine:
            choices.append(_date_choice(ctx, d, "toggle"))
            continue
        if _most_that_fit(d) == 0 and d.session.id not in selected:
            # Full: a tap offers its waitlist (a drop-in waits for one date), never a ✅.
            choices.append(Choice("waitlist_date", _date_label(ctx, d), d.session.id))
            continue
        choices.append(Choice("toggle", _picked(ctx, d, d.session.id in selected), d.session.id))
    if selected:
        total = ctx.money(card.price_minor * len(selected))
        label = ctx.t.n_(
            "Continue with {n} date · {total}", "Continue with {n} dates · {total}", len(selected)
        ).format(n=len(selected), total=total)
        choices.append(Choice("continue", label, aliases=(_("continue"), "continue", "ok")))
    return Screen("\n".join(text), choices + back_and_cancel(ctx))


def _picked(ctx: Context, d: browse.DateChoice, selected: bool) -> str:
    """A drop-in date's label, marked when chosen: a ✅ on screens, words by SMS and WhatsApp
    (whose GSM-7 folding drops the emoji)."""
    label = _date_label(ctx, d)
    if not selected:
        return label
    if ctx.texting:
        return ctx.t._("{date} · chosen").format(date=label)
    return "✅ " + label


async def choose_on_class(ctx: Context, choice: Choice) -> Transition:
    data = ctx.data
    if choice.action == "session":
        data.update(session_ids=[choice.value], kind=RegistrationKind.SINGLE.value, pattern_id=None)
    elif choice.action == "run":
        data.update(pattern_id=choice.value, kind=RegistrationKind.FULL_SCHEDULE.value)
        data["session_ids"] = [
            s.id for s in await browse.run_sessions(ctx.db, ctx.studio.id, choice.value)
        ]
    elif choice.action == "toggle":
        selected = set(data.get("selected", []))
        selected ^= {choice.value}
        data["selected"] = sorted(selected)
        return Transition(State.CLASS)
    elif choice.action == "continue":
        data.update(
            session_ids=list(data.get("selected", [])),
            kind=RegistrationKind.DROP_IN.value,
            pattern_id=None,
        )
    elif choice.action == "waitlist_date":  # a full drop-in date: its waitlist, one date
        data.update(
            session_ids=[choice.value], kind=RegistrationKind.DROP_IN.value, pattern_id=None
        )
    data.pop("guests", None)  # asked again for these dates
    return Transition(State.GUESTS)


async def guests_screen(ctx: Context) -> Screen:
    """The party size: its values are the first options (1, 2, …), so a typed "3" means 3
    people either way; a party above the buttons is typed with a word ("8 people").
    A full date says so once and asks instead how many would join its waitlist."""
    _ = ctx.t._
    dates = await browse.dates_by_id(ctx.db, ctx.studio.id, ctx.data["session_ids"], ctx.now, 1)
    most = min((_most_that_fit(d) for d in dates), default=0)
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


def _full_screen(ctx: Context, dates: list[browse.DateChoice]) -> Screen:
    _ = ctx.t._
    other = Choice("other_dates", _("Other dates"), aliases=(_("other dates"),))
    full = [d for d in dates if _most_that_fit(d) == 0]
    if not full:  # gone since they were chosen
        return Screen(_("Those dates are no longer available."), [other, *back_and_cancel(ctx)])
    day = ctx.when(full[0].session.starts_at)
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


def _most_that_fit(d: browse.DateChoice) -> int:
    """The largest party the date takes: seats, and each resource's free units per person
    (whatever party size the date was read for)."""
    per = {q.resource_id: q.quantity_per_student for q in d.requirements}
    per_resource = [
        r.available // per[r.resource_id]
        for r in d.availability.resources
        if per.get(r.resource_id)
    ]
    return max(0, min([d.seats_left, *per_resource]))


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
    if _waitlisted(ctx) and dates and _most_that_fit(dates[0]) == 0:
        return Transition(State.WAITLIST)
    for d in dates:
        if _most_that_fit(d) == 0:  # the screen says it is full, once
            return Transition(State.GUESTS)
        if d.availability.seats_left < guests:
            reason = ctx.t.n_(
                "Only {n} seat left on {date}.",
                "Only {n} seats left on {date}.",
                d.availability.seats_left,
            )
            return Transition(
                State.GUESTS,
                reason.format(n=d.availability.seats_left, date=ctx.when(d.session.starts_at)),
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
                        date=ctx.when(d.session.starts_at),
                    ),
                )
    # The summary shown next in this update needs these dates: it need not read them again.
    ctx.turn["dates"] = (tuple(ctx.data["session_ids"]), guests, dates)
    attendee_steps.ask_again(ctx)  # a class's attendee details: asked (again) after the hold
    return await hold_seats(ctx, guests)


async def hold_seats(ctx: Context, guests: int) -> Transition:
    """Keep the seats while the customer reads the summary: "full" is said now, not after
    Confirm. Backing out lets them go (see `Dialogues._enter`); otherwise they lapse."""
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
    lines += [f"• {ctx.when(d.session.starts_at, with_year=True)}" for d in dates[:8]]
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
        lines.append(
            _("Your places are held until {time}.").format(time=ctx.t.time(until, ctx.zone))
        )
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
    return await _booked(ctx, reg)


async def _booked(ctx: Context, reg: booking.Registration) -> Transition:
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
    date = ctx.when(summary.first_start, with_year=True)
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
    names = await booking_lookup.instructors(ctx.db, ctx.studio.id, registration_id)
    dates = [(s.starts_at, names.get(s.id)) for s in sessions]
    text += "\n" + booked_text.details(ctx, kind="class", ident=registration_id, dates=dates)
    if ctx.texting:  # no files over SMS; WhatsApp media would need a public file URL
        return Transition(State.MENU, text, settled=True)
    text += "\n" + _("The calendar file below adds it to your calendar.")
    attachment = booking_attachment(ctx, registration_id, summary.class_name, sessions)
    return Transition(State.MENU, text, attachment, settled=True)


async def waitlist_screen(ctx: Context) -> Screen:
    """Joining one date's waitlist (a single class's date, one drop-in date, or a session
    to reserve with a pass), for the party asked for before."""
    _ = ctx.t._
    guests = int(ctx.data.get("guests", 1))
    dates = await browse.dates_by_id(ctx.db, ctx.studio.id, ctx.data["session_ids"][:1], ctx.now, 1)
    if not dates:
        return Screen(_("Those dates are no longer available."), back_and_cancel(ctx))
    text = _(
        "Join the waitlist for {date}, for {people}? If a place frees up, we will offer it to "
        "you first in line."
    ).format(
        date=ctx.when(dates[0].session.starts_at),
        people=ctx.t.n_("{n} person", "{n} people", guests).format(n=guests),
    )
    join = Choice("join", _("Join the waitlist"), aliases=(_("yes"), "yes", "si"))
    return Screen(text, [join, *back_and_cancel(ctx)])


async def join(ctx: Context) -> Transition:
    """Queue for the date. A drop-in goes back to its dates (others may still be picked);
    a pass back to the pass; a single class to the menu."""
    _ = ctx.t._
    guests = ctx.data.get("guests", 1)
    try:
        await join_waitlist(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            ctx.customer.id,
            ctx.data["session_ids"][0],
            guests=guests,
        )
    except errors.BookingError as error:
        refused = render_error(error, ctx.t, ctx.zone)
        if ctx.data.get("waitlist_for") == "pass":
            return _return_to(ctx, State.RESERVE, refused)
        return Transition(State.GUESTS, refused)
    done = _("You are on the waitlist. We will message you if a place frees up.")
    if ctx.data.pop("waitlist_for", None) == "pass":
        return _return_to(ctx, State.TICKET, done)
    if ctx.data.get("kind") == RegistrationKind.DROP_IN.value:
        for key in ("session_ids", "guests", "kind"):
            ctx.data.pop(key, None)
        return _return_to(ctx, State.CLASS, done)
    ctx.data.clear()
    return Transition(State.MENU, done)


def _return_to(ctx: Context, state: State, notice: str) -> Transition:
    """Back to an earlier screen of this dialogue, as if Back had been pressed to it."""
    history = ctx.data.get("history", [])
    while history and history.pop() != state.value:
        pass
    return Transition(state, notice, back=True)


async def accept_offer(ctx: Context) -> Transition:
    """ACCEPT: book the seats and equipment a waitlist offer holds for this customer.

    The offer is checked again as it is taken (`waitlist.accept_offer`): if it lapsed or
    was declined since it was read here, the customer is told so, never "booked"."""
    _ = ctx.t._
    offer = await waitlist.live_offer(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    if offer is None:
        return Transition(State.MENU, _("There is no waitlist offer waiting for you right now."))
    try:
        # A pass holder's place is reserved on their pass (services.waitlist_pass).
        args = (ctx.db, ctx.clock, ctx.studio.id, ctx.customer.id, offer.id)
        reserved = await waitlist_pass.accept_with_pass(*args)
        if reserved is not None:
            ctx.data.clear()
            ctx.data["pass_id"] = reserved.pass_id
            text = _("🎉 Reserved with your pass: {name}, {date}.").format(
                name=reserved.class_name, date=ctx.when(reserved.starts_at)
            )
            return Transition(State.TICKET, text)
        reg = await waitlist.accept_offer(*args)
    except errors.BookingError as error:
        return Transition(State.MENU, render_error(error, ctx.t, ctx.zone))
    return await _booked(ctx, reg)


async def decline_offer(ctx: Context) -> Transition:
    _ = ctx.t._
    offer = await waitlist.live_offer(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    if offer is not None:
        await waitlist.decline(ctx.db, ctx.clock, ctx.studio.id, ctx.customer.id, offer.id)
    return Transition(State.MENU, _("Understood: the place goes to the next person waiting."))
