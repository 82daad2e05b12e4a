"""Reserving sessions with a pass in chat: the sessions a tap can reserve (a page at a
time, or from a typed day), a full one's waitlist, a makeup session's part; checking in to
a reservation and cancelling one. The pass itself (getting one, its page) is `pass_steps`."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bookbot.conversations import answers, paging, pass_steps
from bookbot.conversations import request_steps as requests
from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import render_error
from bookbot.services import reservable, reservations
from bookbot.services.date_pages import DateAsk

RESERVE_PAGE = 6  # sessions a page of the reservation list shows
RESERVE_READ = 40  # sessions read for a page of a class in parts (a few of each part)


async def reserve_screen(ctx: Context) -> Screen:
    """The sessions a tap can reserve, a page at a time: open, after the booking cutoff,
    within the pass's dates; a full one offers its waitlist, one already held says so."""
    _ = ctx.t._
    current = await pass_steps.current_pass(ctx)
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
