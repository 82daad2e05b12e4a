"""Passes in chat: getting one (and paying for it), its status, past passes. Reserving
sessions with it, checking in and cancelling are in `reserve_steps`."""

from __future__ import annotations

from babel.dates import format_date

from bookbot.conversations import package_steps
from bookbot.conversations import payment_steps as paying
from bookbot.conversations.account_steps import page_choices, past_choice
from bookbot.conversations.booking_steps import back_and_cancel, offer_label
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
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
        none = _("You have no passes yet. A class that offers passes shows them on its page.")
        if ctx.studio.has_services:  # lesson packages are sold with the services
            none = _(
                "You have no passes or packages yet. A class that offers passes shows them "
                "on its page. A service offers its packages when you choose it."
            )
        return Screen(none, back_and_cancel(ctx))
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


async def current_pass(ctx: Context) -> passes.PassStatus | None:
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
    current = await current_pass(ctx)
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
