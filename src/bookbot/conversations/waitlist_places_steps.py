"""The customer's own waitlist places, listed under My bookings: see one, and leave it."""

from __future__ import annotations

from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.services import waitlist_places


def _when(ctx: Context, place: waitlist_places.Place) -> str:
    return ctx.session_when(place.starts_at, place.ends_at or place.starts_at, place.days)


async def place_choices(ctx: Context) -> list[Choice]:
    """One option per live place, for the My bookings list."""
    found = await waitlist_places.places(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    _ = ctx.t._
    choices = []
    for place in found:
        mark = _("place offered") if place.offered else _("waitlist")
        label = f"⏳ {place.class_name} · {_when(ctx, place)} · {mark}"
        choices.append(Choice("waitlist_place", label, place.entry_id))
    return choices


async def place_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    entry_id = int(ctx.data.get("waitlist_entry", 0))
    found = await waitlist_places.places(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    place = next((p for p in found if p.entry_id == entry_id), None)
    if place is None:
        return Screen(_("That waitlist place is no longer open."), back_and_cancel(ctx))
    what = _("{name}, {date}, for {people}").format(
        name=place.class_name,
        date=_when(ctx, place),
        people=ctx.t.n_("{n} person", "{n} people", place.guests).format(n=place.guests),
    )
    leave = Choice("leave_waitlist", _("Leave the waitlist"), aliases=(_("leave"), "leave"))
    if place.offered:
        text = _("A place is held for you: {what}. Take it now?").format(what=what)
        take = Choice("accept_offer", _("✅ Accept"), aliases=(_("accept"), _("yes"), "yes"))
        return Screen(text, [take, leave, *back_and_cancel(ctx)])
    text = _("You are on the waitlist for {what}. If a place frees up, we offer it to you.")
    return Screen(text.format(what=what), [leave, *back_and_cancel(ctx)])


async def leave(ctx: Context) -> Transition:
    _ = ctx.t._
    entry_id = int(ctx.data.pop("waitlist_entry", 0))
    left = await waitlist_places.leave(
        ctx.db, ctx.clock, studio_id=ctx.studio.id, customer_id=ctx.customer.id, entry_id=entry_id
    )
    if not left:
        return Transition(State.BOOKINGS, _("That waitlist place is no longer open."))
    return Transition(State.BOOKINGS, _("You have left the waitlist."))
