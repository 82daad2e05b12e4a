"""/packages: staff see customers' lesson packages and correct a balance by hand (issue 15).

The list shows the studio's live packages, newest first; typing a phone number narrows it
to that customer's. One package offers + and - (a session, or 30 minutes); the reason is
typed next, and the change is made with an audit row (who, why, how much) by
`services.packages.adjust`, which refuses a balance below zero. Any staff member of the
studio may do it (the dispatcher's staff gate); the package an option points at is looked
up again in this studio, so a forged id finds nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from bookbot.conversations.package_steps import balance_text
from bookbot.conversations.staff_admin_steps import int_value, nav, reason_refusal, typed_reason
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.phones import InvalidPhone, normalise_phone
from bookbot.presentation.i18n import render_error
from bookbot.services import packages
from bookbot.services.package_rows import Package

LISTED = 10
MINUTES_STEP = 30


def _label(ctx: Context, p: Package) -> str:
    who = p.customer_name or p.customer_phone or "?"
    until = ctx.t._("until {date}").format(date=ctx.t.date(p.expires_on))
    return f"{who} · {p.name} · {balance_text(ctx, p)} · {until}"


async def list_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    phone = ctx.data.get("package_phone")
    customer_id = None
    if phone:
        customer_id = await ctx.db.scalar(
            "SELECT id FROM customers WHERE studio_id = :s AND phone = :phone",
            {"s": ctx.studio.id, "phone": phone},
        )
    found = (
        []
        if phone and customer_id is None
        else await packages.list_packages(
            ctx.db, ctx.studio.id, customer_id=customer_id, limit=LISTED
        )
    )
    found = [p for p in found if p.status != "cancelled"]
    ask = _("Type a customer's phone number to see their packages.")
    if not found:
        none = _("No packages for {phone}.").format(phone=phone) if phone else _("No packages yet.")
        return Screen("\n".join([none, ask]), nav(ctx))
    title = _("Packages of {phone}:").format(phone=phone) if phone else _("Latest packages:")
    choices = [Choice("staff_package", _label(ctx, p), p.id) for p in found]
    return Screen("\n".join([title, ask]), choices + nav(ctx))


async def on_phone(ctx: Context, text: str) -> Transition:
    try:
        ctx.data["package_phone"] = normalise_phone(text)
    except InvalidPhone:
        sorry = ctx.t._("That is not a phone number: write it with its country code, like +44…")
        return Transition(State.STAFF_PACKAGES, sorry)
    return Transition(State.STAFF_PACKAGES)


async def _current(ctx: Context) -> Package | None:
    package_id = int_value(ctx.data.get("package_id"))
    if package_id is None:
        return None
    try:
        return await packages.package_by_id(ctx.db, ctx.studio.id, package_id)
    except errors.NotFound:
        return None


async def package_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    p = await _current(ctx)
    if p is None:
        return Screen(_("That package is no longer there."), nav(ctx))
    step = MINUTES_STEP if p.in_minutes else 1
    unit = (
        ctx.t.n_("{n} minute", "{n} minutes", step)
        if p.in_minutes
        else ctx.t.n_("{n} session", "{n} sessions", step)
    ).format(n=step)
    choices = [
        Choice("staff_package_delta", f"➕ {unit}", step, ("+", "plus")),
        Choice("staff_package_delta", f"➖ {unit}", -step, ("-", "minus")),
    ]
    lines = [_label(ctx, p), _("Change the balance by hand (a reason is asked next):")]
    return Screen("\n".join(lines), choices + nav(ctx))


async def reason_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    return Screen(_("Why? Type the reason (it is kept with the change)."), nav(ctx))


def _back_to_package(ctx: Context) -> Transition:
    """To the package's screen, as Back would: its entry on the history is taken off."""
    history = ctx.data.get("history", [])
    if history and history[-1] == State.STAFF_PACKAGE.value:
        history.pop()
    return Transition(State.STAFF_PACKAGE, back=True)


async def on_reason(ctx: Context, text: str) -> Transition:
    _ = ctx.t._
    p = await _current(ctx)
    delta = int_value(ctx.data.get("package_delta"))
    if p is None or delta is None:
        return Transition(State.STAFF_PACKAGES, _("That package is no longer there."))
    reason = typed_reason(text)
    if reason is None:
        return Transition(State.STAFF_PACKAGE_REASON, reason_refusal(ctx))
    actor = await ctx.db.scalar(
        "SELECT name FROM staff WHERE studio_id = :s AND id = :id",
        {"s": ctx.studio.id, "id": ctx.staff_id},
    )
    change = packages.Adjustment(
        0 if p.in_minutes else delta,
        delta if p.in_minutes else 0,
        reason,
        f"staff:{actor or ctx.staff_id}",
    )
    try:
        after = await packages.adjust(ctx.db, ctx.now, ctx.studio.id, p.id, change)
    except errors.BookingError as error:
        return replace(_back_to_package(ctx), notice=render_error(error, ctx.t, ctx.zone))
    ctx.data.pop("package_delta", None)
    done = _("Done: {balance}. The change and its reason are recorded.").format(
        balance=balance_text(ctx, after)
    )
    return replace(_back_to_package(ctx), notice=done)


async def _open_list(ctx: Context, _choice: Choice) -> Transition:
    ctx.data.pop("package_phone", None)
    return Transition(State.STAFF_PACKAGES)


async def _open(ctx: Context, choice: Choice) -> Transition:
    ctx.data["package_id"] = int_value(choice.value)
    return Transition(State.STAFF_PACKAGE)


async def _delta(ctx: Context, choice: Choice) -> Transition:
    ctx.data["package_delta"] = int_value(choice.value)
    return Transition(State.STAFF_PACKAGE_REASON)


HANDLERS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "staff_packages": _open_list,
    "staff_package": _open,
    "staff_package_delta": _delta,
}
SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.STAFF_PACKAGES: list_screen,
    State.STAFF_PACKAGE: package_screen,
    State.STAFF_PACKAGE_REASON: reason_screen,
}
TYPED: dict[State, Callable[[Context, str], Awaitable[Transition]]] = {
    State.STAFF_PACKAGES: on_phone,
    State.STAFF_PACKAGE_REASON: on_reason,
}
