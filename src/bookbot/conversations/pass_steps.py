"""Passes in chat: getting one, its status, reserving sessions, checking in, cancelling."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_date

from bookbot.conversations import answers, package_steps, paging
from bookbot.conversations import payment_steps as paying
from bookbot.conversations import request_steps as requests
from bookbot.conversations.account_steps import page_choices, past_choice
from bookbot.conversations.booking_steps import back_and_cancel, offer_label
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.engine.reservations import PassKind, Status
from bookbot.presentation.i18n import render_error
from bookbot.services import passes, reservable, reservations
from bookbot.services.date_pages import DateAsk
from bookbot.services.pages import PageAsk


def pass_label(ctx: Context, p: passes.PassStatus) -> str:
    """'Open Studio Drop-in · 5 of 8 left · 2 reserved · until 20 Feb'."""
    _ = ctx.t._
    parts = [p.class_name]
    if p.kind is PassKind.PUNCH and p.included is not None:
        parts.append(_("{left} of {total} left").format(left=p.remaining or 0, total=p.included))
    parts.append(ctx.t.n_("{n} reserved", "{n} reserved", p.reserved).format(n=p.reserved))
    if p.valid_until:
        parts.append(_("valid until {date}").format(date=ctx.t.date(p.valid_until)))
    if p.payment == "pay_at_studio":
        parts.append(_("pay at the studio"))
    return " · ".join(parts)


async def passes_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await passes.passes_and_past(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now.date())
    past = [past_choice(ctx, "past_passes", _("🕘 Past passes"))] if found.has_past else []
    held = await package_steps.my_packages_text(ctx)  # lesson packages: balance and expiry
    if not found.usable and not past and not held:
        return Screen(
            _("You have no passes yet. A class that offers passes shows them on its page."),
            back_and_cancel(ctx),
        )
    if not found.usable:
        text = held or _("You have no passes you can use now.")
        return Screen(text, past + back_and_cancel(ctx))
    offset = _passes_offset(ctx, len(found.usable))
    shown = found.usable[offset : offset + PASS_PAGE]
    choices = [Choice("ticket", pass_label(ctx, p), p.id) for p in shown]
    if offset > 0:
        choices.append(
            Choice(
                "passes_page",
                _("◂ Previous passes"),
                {"of": "passes", "offset": offset - PASS_PAGE},
            )
        )
    if offset + PASS_PAGE < len(found.usable):
        choices.append(
            Choice(
                "passes_page", _("More passes ▸"), {"of": "passes", "offset": offset + PASS_PAGE}
            )
        )
    text = "\n\n".join(filter(None, [held, _("Your passes:")]))
    return Screen(text, choices + past + back_and_cancel(ctx))


PASS_PAGE = 6  # usable passes a page of "My passes" shows


def _passes_offset(ctx: Context, count: int) -> int:
    """Where the page of "My passes" starts (a multiple of PASS_PAGE below `count`)."""
    raw = ctx.data.get("page")
    offset = raw.get("offset") if isinstance(raw, dict) and raw.get("of") == "passes" else 0
    if not isinstance(offset, int) or not 0 <= offset < count:
        return 0
    return offset - offset % PASS_PAGE


def _why_past(ctx: Context, p: passes.PassStatus) -> str:
    _ = ctx.t._
    if p.valid_until is not None and p.valid_until < ctx.now.date():
        # With the year: the past list reaches back beyond this one.
        day = format_date(p.valid_until, "EEE d MMM y", locale=ctx.t.language)
        return _("expired after {date}").format(date=day)
    if p.kind is PassKind.PUNCH and not p.remaining:
        return ctx.t.n_("its {n} session used", "all {n} sessions used", p.included or 0).format(
            n=p.included or 0
        )
    return _("no longer valid")


async def past_passes_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    ask = PageAsk.from_stored(ctx.data.get("page"))
    page = await passes.past_passes(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now.date(), ask)
    if not page.items:
        return Screen(_("You have no past passes."), back_and_cancel(ctx))
    lines = [_("Your past passes, newest first:")]
    lines += [f"• {p.class_name} · {_why_past(ctx, p)}" for p in page.items]
    return Screen("\n".join(lines), page_choices(ctx, "past_passes", page))


async def _current(ctx: Context) -> passes.PassStatus | None:
    found = await passes.customer_passes(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now.date())
    return next((p for p in found if p.id == ctx.data.get("pass_id")), None)


def _held_label(ctx: Context, held: reservations.Held) -> Choice:
    _ = ctx.t._
    when = ctx.when(held.starts_at)
    if reservations.check_in_open(ctx.now, held):
        return Choice(
            "check_in",
            _("✅ Check in: {date}").format(date=when),
            held.id,
            aliases=(_("here"), "here", "aqui"),
        )
    if held.status is Status.CHECKED_IN:
        return Choice("noop", _("{date} · checked in").format(date=when), held.id)
    if held.starts_at <= ctx.now:  # started: cancelling would be refused (NotCancellable)
        return Choice("noop", _("{date} · started").format(date=when), held.id)
    return Choice("cancel_reservation", _("Cancel {date}").format(date=when), held.id)


async def ticket_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    current = await _current(ctx)
    if current is None:
        return Screen(_("That pass is no longer valid."), back_and_cancel(ctx))
    held = await reservations.live_reservations(
        ctx.db, ctx.studio.id, ctx.customer.id, ctx.now, current.id
    )
    lines = [pass_label(ctx, current)]
    lines.append(_("Your reservations:") if held else _("No sessions reserved yet."))
    choices = [_held_label(ctx, h) for h in held]
    full_up = current.full_up()
    if full_up is None:
        choices.append(Choice("reserve", _("📅 Reserve a session"), aliases=(_("reserve"),)))
    else:  # not offered when reserving would be refused: say why instead
        lines.append(render_error(full_up, ctx.t, ctx.zone))
    cancels = any(c.action == "cancel_reservation" for c in choices)  # "cancel" means those
    return Screen("\n".join(lines), choices + back_and_cancel(ctx, menu=cancels))


RESERVE_PAGE = 6  # sessions a page of the reservation list shows
RESERVE_READ = 40  # sessions read for a page of a class in parts (a few of each part)


async def reserve_screen(ctx: Context) -> Screen:
    """The sessions a tap can reserve, a page at a time: open, after the booking cutoff,
    within the pass's dates; a full one offers its waitlist, one already held says so."""
    _ = ctx.t._
    current = await _current(ctx)
    if current is None:
        return Screen(_("That pass is no longer valid."), back_and_cancel(ctx))
    full_up = current.full_up()
    if full_up is not None:
        return Screen(render_error(full_up, ctx.t, ctx.zone), back_and_cancel(ctx))
    of = f"pass:{current.id}"
    at = paging.position(ctx, of)
    ask = DateAsk(ctx.now + ctx.studio.booking_cutoff, at.start, at.before)
    read, more = await reservable.reservable_sessions(
        ctx.db,
        ctx.studio.id,
        current.class_id,
        ctx.now,
        ask,
        customer_id=ctx.customer.id,
        limit=RESERVE_PAGE if ask.going_back() else RESERVE_READ,
    )
    later: datetime | None
    if ask.going_back():  # the page just before: the sessions right before it
        found, later = read, at.before
        earlier = found[0].starts_at if found and more else None
    else:
        found = _few_per_part(read, most=RESERVE_PAGE)
        unshown = [s.starts_at for s in read if s not in found]
        later = min(unshown) if unshown else None
        earlier = found[0].starts_at if found and more else None
    if current.valid_until is not None:  # the pass cannot be used after its last day
        last = paging.day_start(ctx, current.valid_until + timedelta(days=1))
        found = [s for s in found if s.starts_at < last]
        later = later if later is not None and later < last else None
    if not found:
        return Screen(_("There are no sessions you can reserve now."), back_and_cancel(ctx))
    choices = [_reservable_choice(ctx, s) for s in found]
    pages = paging.choices(ctx, "reserve_page", of, earlier=earlier, later=later)
    return Screen(_("Choose a session to reserve:"), choices + pages + back_and_cancel(ctx))


def _reservable_choice(ctx: Context, s: reservable.Reservable) -> Choice:
    _ = ctx.t._
    label = ctx.when(s.starts_at)
    if s.makeup:
        label = _("Makeup · {date}").format(date=label)
    elif s.part:
        label = _("Part {part} · {date}").format(part=s.part, date=label)
    if s.mine:
        return Choice("noop", _("{date} · reserved").format(date=label), s.session_id)
    if s.seats_left < 1:
        full = _("{date} · full (waitlist)").format(date=label)
        return Choice("reserve_waitlist", full, s.session_id)
    left = ctx.t.n_("{n} seat left", "{n} seats left", s.seats_left).format(n=s.seats_left)
    return Choice("reserve_session", f"{label} · {left}", [s.session_id, s.makeup])


def _few_per_part(
    found: list[reservable.Reservable], each: int = 3, most: int = 8
) -> list[reservable.Reservable]:
    """A plain series: the next `most` sessions. A class in parts: the next `each` of every
    part and of the makeup sessions, so later parts are reachable too."""
    if not any(s.part or s.makeup for s in found):
        return found[:most]
    kept: dict[tuple[int | None, bool], list[reservable.Reservable]] = {}
    for s in found:
        group = kept.setdefault((s.part, s.makeup), [])
        if len(group) < each:
            group.append(s)
    return sorted((s for group in kept.values() for s in group), key=lambda s: s.starts_at)


async def reserve_from(ctx: Context, day: date) -> Transition:
    """The sessions to reserve from `day` on (a date typed at the reservation list)."""
    pass_id = ctx.data.get("pass_id")
    if pass_id is None:
        return Transition(State.PASSES)
    paging.jump(ctx, f"pass:{pass_id}", day)
    return Transition(State.RESERVE)


async def on_typed(ctx: Context, text: str) -> Transition:
    """Words typed at the reservation list that name no option: a date jumps there; a
    one-line request ("book wheel taster for 2") starts that booking."""
    today = ctx.now.astimezone(zone(ctx.zone)).date()
    day = answers.day(text, ctx.t.language, today)
    if day is not None:
        return await reserve_from(ctx, day)
    asked = await requests.start(ctx, text)
    if asked is not None:
        return await requests.go_on(ctx, asked)
    return Transition(
        State.RESERVE, ctx.t._("Sorry, I did not understand that. Please choose one of these:")
    )


TYPED = {State.RESERVE: on_typed}


async def reserve_waitlist(ctx: Context, choice: Choice) -> Transition:
    """A full session: its waitlist, for the pass holder alone (a pass seats one)."""
    ctx.data.update(session_ids=[int(choice.value)], guests=1, waitlist_for="pass")
    return Transition(State.WAITLIST)


async def part_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    choices = [
        Choice("reserve_part", _("Part {part}").format(part=n), n, (str(n),)) for n in (1, 2, 3)
    ]
    return Screen(
        _("A makeup session can stand for any part. Which part is it for you?"),
        choices + back_and_cancel(ctx),
    )


async def offer_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    offer = await _offer(ctx)
    if offer is None:
        return Screen(_("That pass is no longer offered."), back_and_cancel(ctx))
    what, price = offer_label(ctx, offer, capital=True), ctx.money(offer.price_minor)
    policy = await paying.class_policy(ctx, int(ctx.data.get("class_id", 0)))
    online = ctx.payments is not None and policy.online and offer.price_minor > 0
    held = await _held(ctx, offer)
    if held is not None:  # one pass per offer, unless another is asked for in so many words
        text = _("You already have this pass ({left}). Get another one?").format(
            left=_what_is_left(ctx, held)
        )
        another = (
            Choice("pay_pass", _("💳 Pay for another one"))
            if online
            else Choice("get_another_pass", _("Get another one"), aliases=(_("another"),))
        )
        mine = Choice("ticket", _("🎟 Show my pass"), held.id, aliases=(_("my pass"),))
        return Screen(text, [mine, another, *back_and_cancel(ctx)])
    if online:
        choices = [Choice("pay_pass", _("💳 Pay now"), aliases=(_("pay"), "pay"))]
        if policy.payment == "either":
            choices.append(Choice("get_pass", _("Pay at the studio"), aliases=(_("yes"), "yes")))
        text = _("{what} for {price}. Get it?").format(what=what, price=price)
        return Screen(text, choices + back_and_cancel(ctx))
    text = _("{what} for {price}, to pay at the studio. Get it?").format(what=what, price=price)
    get = Choice("get_pass", _("✅ Get this pass"), aliases=(_("yes"), "yes", "si"))
    return Screen(text, [get, *back_and_cancel(ctx)])


def _what_is_left(ctx: Context, held: passes.PassStatus) -> str:
    if held.kind is PassKind.PUNCH and held.remaining is not None:
        return ctx.t.n_("{n} session left", "{n} sessions left", held.remaining).format(
            n=held.remaining
        )
    if held.valid_until is not None:
        return ctx.t._("valid until {date}").format(date=ctx.t.date(held.valid_until))
    return ctx.t._("unlimited")


def _issue_of(ctx: Context, offer: passes.Offer) -> passes.Issue:
    return passes.Issue(
        ctx.studio.id,
        ctx.customer.id,
        int(ctx.data.get("class_id", 0)),
        offer.terms(),
        "pay_at_studio",
        ctx.now.date(),
    )


async def _held(ctx: Context, offer: passes.Offer) -> passes.PassStatus | None:
    return await passes.held_like(ctx.db, _issue_of(ctx, offer), ctx.now.date())


async def pay_for_pass(ctx: Context) -> Transition:
    offer = await _offer(ctx)
    if offer is None or ctx.payments is None:
        return Transition(State.MENU, ctx.t._("That pass is no longer offered."))
    return await paying.pay_pass(ctx, offer)


async def _offer(ctx: Context) -> passes.Offer | None:
    found = await passes.offers(ctx.db, ctx.studio.id, ctx.data.get("class_id", 0))
    return next((o for o in found if o.position == ctx.data.get("offer")), None)


async def get_pass(ctx: Context) -> Transition:
    """The offer's pass, to pay at the studio; one the customer holds already is not
    issued again (Back and Get again, a repeated answer): they are shown theirs."""
    return await _issue(ctx, another=False)


async def get_another_pass(ctx: Context) -> Transition:
    """A second pass of an offer already held: asked for in so many words."""
    return await _issue(ctx, another=True)


async def _issue(ctx: Context, *, another: bool) -> Transition:
    _ = ctx.t._
    offer = await _offer(ctx)
    if offer is None:
        return Transition(State.MENU, _("That pass is no longer offered."))
    issue = _issue_of(ctx, offer)
    if another:
        pass_id, issued = (
            await passes.issue_pass(
                ctx.db,
                ctx.now,
                issue.studio_id,
                issue.customer_id,
                issue.class_id,
                terms=issue.terms,
                payment=issue.payment,
                valid_from=issue.valid_from,
            ),
            True,
        )
    else:
        pass_id, issued = await passes.issue_once(ctx.db, ctx.now, issue)
    ctx.data["pass_id"] = pass_id
    if not issued:
        return Transition(State.TICKET, _("You already have this pass: here it is."))
    return Transition(
        State.TICKET, _("Your pass is ready; pay for it at the studio. Reserve your sessions here.")
    )


async def reserve_session(ctx: Context, session_id: int, part: int | None) -> Transition:
    _ = ctx.t._
    try:
        await reservations.reserve(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            ctx.customer.id,
            ctx.data["pass_id"],
            session_id=session_id,
            part=part,
        )
    except errors.BookingError as error:
        return Transition(State.RESERVE, render_error(error, ctx.t, ctx.zone))
    return Transition(State.TICKET, _("Reserved."), back=True)


async def check_in(ctx: Context, reservation_id: int, then: State = State.TICKET) -> Transition:
    _ = ctx.t._
    try:
        await reservations.check_in(
            ctx.db, ctx.clock, ctx.studio.id, reservation_id, customer_id=ctx.customer.id
        )
    except errors.BookingError as error:
        return Transition(then, render_error(error, ctx.t, ctx.zone))
    return Transition(then, _("You are checked in. Enjoy the class!"))


async def check_in_now(ctx: Context) -> Transition:
    """HERE / AQUÍ by text: check in to the one reservation whose check-in is open."""
    _ = ctx.t._
    held = await reservations.live_reservations(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    open_now = [h for h in held if reservations.check_in_open(ctx.now, h)]
    if not open_now:
        return Transition(
            State.MENU,
            _(
                "There is nothing to check in to right now: check-in opens 2 hours before your class."
            ),
        )
    return await check_in(ctx, open_now[0].id, State.MENU)


async def cancel_reservation(ctx: Context, reservation_id: int) -> Transition:
    _ = ctx.t._
    try:
        await reservations.cancel(
            ctx.db, ctx.clock, ctx.studio.id, reservation_id, customer_id=ctx.customer.id
        )
    except errors.BookingError as error:
        return Transition(State.TICKET, render_error(error, ctx.t, ctx.zone))
    return Transition(State.TICKET, _("Reservation cancelled; no session used."))
