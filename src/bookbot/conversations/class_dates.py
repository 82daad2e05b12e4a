"""Choosing what to book in chat: the classes, then a class's dates a page at a time (a
single class's dates, a course's runs, drop-in dates to pick several of), or from a typed
day on. The party size and the rest follow in `booking_steps`."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from bookbot.conversations import paging, policy_text
from bookbot.conversations.booking_steps import (
    back_and_cancel,
    date_when,
    most_that_fit,
    offer_label,
)
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine.pricing import ClassKind, RegistrationKind
from bookbot.services import browse, date_pages, passes


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
        next_date = (
            ctx.session_when(card.next_start, card.next_end or card.next_start, card.next_days)
            if card.next_start
            else ""
        )
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
        for o in (
            await passes.offers(ctx.db, ctx.studio.id, card.id) if ctx.studio.sells_passes else []
        )
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
        label = ctx.t._("{date} · booked").format(date=date_when(ctx, d))
        return Choice("noop", label, d.session.id)
    return Choice(action, _date_label(ctx, d), d.session.id)


def _date_label(ctx: Context, d: browse.DateChoice) -> str:
    if d.seats_left == 0:
        return ctx.t._("{date} · full (waitlist)").format(date=date_when(ctx, d))
    left = ctx.t.n_("{n} seat left", "{n} seats left", d.seats_left).format(n=d.seats_left)
    return f"{date_when(ctx, d)} · {left}"


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
        first = ctx.session_when(run.first.starts_at, run.first.ends_at, run.first.days)
        weeks = ctx.t.n_("{n} session", "{n} sessions", run.session_count).format(
            n=run.session_count
        )
        label = _("starts {date} · {sessions} · {enrolled}/{capacity} enrolled").format(
            date=first,
            sessions=weeks,
            enrolled=run.enrolled,
            capacity=run.capacity,
        )
        if run.enrolled >= run.capacity:
            label = _("starts {date} · full").format(date=first)
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
        if most_that_fit(d) == 0 and d.session.id not in selected:
            # Full: a tap offers its waitlist (a drop-in waits for one date), never a ✅.
            choices.append(Choice("waitlist_date", _date_label(ctx, d), d.session.id))
            continue
        choices.append(Choice("toggle", _picked(ctx, d, d.session.id in selected), d.session.id))
    if selected:
        total = ctx.money(card.price_minor * len(selected))
        label = ctx.t.n_(
            "Continue with {n} date · {total}", "Continue with {n} dates · {total}", len(selected)
        ).format(n=len(selected), total=total)
        said = (_("continue"), "continue", "ok", "done", "seguir", "listo", "hecho")
        choices.append(Choice("continue", label, aliases=said))
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
