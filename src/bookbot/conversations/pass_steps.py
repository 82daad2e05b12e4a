"""Passes in chat: getting one, its status, reserving sessions, checking in, cancelling."""

from __future__ import annotations

from babel.dates import format_date

from bookbot.conversations import package_steps
from bookbot.conversations import payment_steps as paying
from bookbot.conversations.account_steps import page_choices, past_choice
from bookbot.conversations.booking_steps import back_and_cancel, offer_label
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.reservations import PassKind, Status
from bookbot.presentation.i18n import render_error
from bookbot.services import passes, reservations
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
    choices = [Choice("ticket", pass_label(ctx, p), p.id) for p in found.usable]
    text = "\n\n".join(filter(None, [held, _("Your passes:")]))
    return Screen(text, choices + past + back_and_cancel(ctx))


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
    choices.append(Choice("reserve", _("📅 Reserve a session"), aliases=(_("reserve"),)))
    return Screen("\n".join(lines), choices + back_and_cancel(ctx))


async def reserve_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    current = await _current(ctx)
    if current is None:
        return Screen(_("That pass is no longer valid."), back_and_cancel(ctx))
    found = _few_per_part(
        await passes.reservable_sessions(ctx.db, ctx.studio.id, current.class_id, ctx.now, limit=40)
    )
    choices = []
    for s in found:
        label = ctx.when(s.starts_at)
        if s.makeup:
            label = _("Makeup · {date}").format(date=label)
        elif s.part:
            label = _("Part {part} · {date}").format(part=s.part, date=label)
        full = (
            _("full")
            if s.seats_left < 1
            else ctx.t.n_("{n} seat left", "{n} seats left", s.seats_left).format(n=s.seats_left)
        )
        choices.append(Choice("reserve_session", f"{label} · {full}", [s.session_id, s.makeup]))
    return Screen(_("Choose a session to reserve:"), choices + back_and_cancel(ctx))


def _few_per_part(
    found: list[passes.Reservable], each: int = 3, most: int = 8
) -> list[passes.Reservable]:
    """A plain series: the next `most` sessions. A class in parts: the next `each` of every
    part and of the makeup sessions, so later parts are reachable too."""
    if not any(s.part or s.makeup for s in found):
        return found[:most]
    kept: dict[tuple[int | None, bool], list[passes.Reservable]] = {}
    for s in found:
        group = kept.setdefault((s.part, s.makeup), [])
        if len(group) < each:
            group.append(s)
    return sorted((s for group in kept.values() for s in group), key=lambda s: s.starts_at)


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
    what, price = offer_label(ctx, offer), ctx.money(offer.price_minor)
    policy = await paying.class_policy(ctx, int(ctx.data.get("class_id", 0)))
    if ctx.payments is not None and policy.online and offer.price_minor > 0:
        choices = [Choice("pay_pass", _("💳 Pay now"), aliases=(_("pay"), "pay"))]
        if policy.payment == "either":
            choices.append(Choice("get_pass", _("Pay at the studio"), aliases=(_("yes"), "yes")))
        text = _("{what} for {price}. Get it?").format(what=what, price=price)
        return Screen(text, choices + back_and_cancel(ctx))
    text = _("{what} for {price}, to pay at the studio. Get it?").format(what=what, price=price)
    get = Choice("get_pass", _("✅ Get this pass"), aliases=(_("yes"), "yes", "si"))
    return Screen(text, [get, *back_and_cancel(ctx)])


async def pay_for_pass(ctx: Context) -> Transition:
    offer = await _offer(ctx)
    if offer is None or ctx.payments is None:
        return Transition(State.MENU, ctx.t._("That pass is no longer offered."))
    return await paying.pay_pass(ctx, offer)


async def _offer(ctx: Context) -> passes.Offer | None:
    found = await passes.offers(ctx.db, ctx.studio.id, ctx.data.get("class_id", 0))
    return next((o for o in found if o.position == ctx.data.get("offer")), None)


async def get_pass(ctx: Context) -> Transition:
    _ = ctx.t._
    offer = await _offer(ctx)
    if offer is None:
        return Transition(State.MENU, _("That pass is no longer offered."))
    pass_id = await passes.issue_pass(
        ctx.db,
        ctx.now,
        ctx.studio.id,
        ctx.customer.id,
        ctx.data["class_id"],
        terms=offer.terms(),
        payment="pay_at_studio",
        valid_from=ctx.now.date(),
    )
    ctx.data["pass_id"] = pass_id
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
