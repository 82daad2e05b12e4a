"""/conflicts: a staff member's own appointments that a change of availability left outside
their hours or inside a block (`services.conflicts`), each with Cancel and Keep.

Keep acts at once: an extra window for exactly that slot. Cancel asks for the reason first
(the member is told it, with what their policy gives back), as the staff cancel under
/upcoming does. A conflict an option points at is looked up again scoped to the staff
member (`staff_id`): a forged id finds nothing. A conflict handled meanwhile (the other
button, the CLI, the appointment cancelled or moved) is not acted on twice: the staff
member is told how it was handled.
"""

from __future__ import annotations

from babel.dates import format_datetime

from bookbot.conversations import payment_steps
from bookbot.conversations.staff_admin_steps import (
    cancel_screen,
    int_value,
    nav,
    reason_refusal,
    typed_reason,
)
from bookbot.conversations.staff_availability_steps import (
    Handler,
    Step,
    Typed,
    asking,
    own,
    own_id,
    own_typed,
)
from bookbot.conversations.staff_week import staff_zone
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.conversations.timezone_steps import city
from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import N_, render_error
from bookbot.services import conflicts
from bookbot.services.conflict_rows import Conflict

SOURCE = "chat"
SHOWN = 8  # conflicts on one screen, two buttons each; the next ones once these are settled
REASONS = {
    "outside_hours": N_("outside your hours"),
    "blocked": N_("in a blocked period"),
}
HANDLED = {
    "kept": N_("That conflict was already handled: the appointment was kept."),
    "cancelled": N_("That conflict was already handled: the appointment was cancelled."),
    "cleared": N_(
        "That conflict was already settled: the appointment fits your hours again, or is no"
        " longer booked."
    ),
}


async def _open(ctx: Context, staff_id: int) -> list[Conflict]:
    """The staff member's open conflicts, read once per update."""
    if "conflicts" not in ctx.turn:
        ctx.turn["conflicts"] = await conflicts.open_conflicts(
            ctx.db, ctx.clock, ctx.studio.id, staff_id=staff_id
        )
    found: list[Conflict] = ctx.turn["conflicts"]
    return found


async def _when(ctx: Context, staff_id: int, conflict: Conflict) -> str:
    """'Tue 3 Nov, 10:00–11:00' on the staff member's clock."""
    zone_name = await staff_zone(ctx, staff_id)
    local = conflict.starts_at.astimezone(zone(zone_name))
    start = format_datetime(local, "EEE d MMM, HH:mm", locale=ctx.t.language)
    return f"{start}–{ctx.t.time(conflict.ends_at, zone_name)}"


async def list_screen(ctx: Context, staff_id: int) -> Screen:
    _ = ctx.t._
    found = await _open(ctx, staff_id)
    if not found:
        return Screen(_("No conflicts: every booked appointment fits your hours."), nav(ctx))
    zone_name = await staff_zone(ctx, staff_id)
    lines = [
        _("Booked appointments that no longer fit your availability (times in {city}):").format(
            city=city(zone_name)
        )
    ]
    choices = []
    for number, conflict in enumerate(found[:SHOWN], start=1):
        reason = _(REASONS.get(conflict.reason, conflict.reason))
        lines.append(
            f"{number}. {await _when(ctx, staff_id, conflict)} · {conflict.customer_name}"
            f" · {conflict.service_name}: {reason}"
        )
        choices += [
            Choice("staff_conflict_cancel", _("✖ Cancel {n}").format(n=number), conflict.id),
            Choice("staff_conflict_keep", _("✅ Keep {n}").format(n=number), conflict.id),
        ]
    if len(found) > SHOWN:
        lines.append(_("… and {n} more").format(n=len(found) - SHOWN))
    lines.append(
        _(
            "Cancel tells the customer, with your reason, and gives back what their policy"
            " says. Keep adds an extra window for exactly that slot."
        )
    )
    return Screen("\n".join(lines), choices + nav(ctx))


def _handled(ctx: Context, conflict: Conflict) -> str:
    return ctx.t._(HANDLED.get(conflict.resolution or "", HANDLED["cleared"]))


async def _settled_elsewhere(ctx: Context, staff_id: int, value: object) -> Transition | None:
    """A Transition back to the list when the option's conflict is not this staff member's
    or is no longer open; None when it can be acted on."""
    wanted = int_value(value)
    try:
        if wanted is None:
            raise errors.NotFound(what="conflict", ident=0)
        found = await conflicts.get(ctx.db, ctx.studio.id, wanted, staff_id=staff_id)
    except errors.NotFound:
        return Transition(State.STAFF_CONFLICTS, ctx.t._("That conflict is not yours to settle."))
    if found.open:
        return None
    return Transition(State.STAFF_CONFLICTS, _handled(ctx, found))


async def keep(ctx: Context, staff_id: int, value: object) -> Transition:
    _ = ctx.t._
    wanted = int_value(value)
    refused = await _settled_elsewhere(ctx, staff_id, wanted)
    if refused is not None or wanted is None:
        return refused or Transition(State.STAFF_CONFLICTS)
    try:
        done = await conflicts.keep(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            wanted,
            source=SOURCE,
            actor=f"chat:staff {staff_id}",
            staff_id=staff_id,
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_CONFLICTS, render_error(error, ctx.t, ctx.zone))
    ctx.turn.pop("conflicts", None)
    if not done.done:
        return Transition(State.STAFF_CONFLICTS, _handled(ctx, done.conflict))
    notice = _("Kept: {service} with {name}, {when}. Your availability now includes that slot.")
    text = notice.format(
        service=done.conflict.service_name,
        name=done.conflict.customer_name,
        when=await _when(ctx, staff_id, done.conflict),
    )
    return Transition(State.STAFF_CONFLICTS, text)


async def ask_reason(ctx: Context, staff_id: int, value: object) -> Transition:
    refused = await _settled_elsewhere(ctx, staff_id, value)
    if refused is not None:
        return refused
    ctx.data["conflict_id"] = int_value(value)
    return Transition(State.STAFF_CONFLICT_CANCEL)


async def on_reason(ctx: Context, staff_id: int, typed: str) -> Transition:
    _ = ctx.t._
    reason = typed_reason(typed)
    if reason is None:
        return Transition(State.STAFF_CONFLICT_CANCEL, reason_refusal(ctx))
    conflict_id = int_value(ctx.data.pop("conflict_id", None))
    refused = await _settled_elsewhere(ctx, staff_id, conflict_id)
    if refused is not None or conflict_id is None:
        return refused or Transition(State.STAFF_CONFLICTS)
    try:
        done = await conflicts.cancel(
            ctx.db,
            ctx.clock,
            ctx.studio.id,
            conflict_id,
            reason=reason,
            actor=f"chat:staff {staff_id}",
            staff_id=staff_id,
        )
    except errors.BookingError as error:
        return Transition(State.STAFF_CONFLICTS, render_error(error, ctx.t, ctx.zone))
    ctx.turn.pop("conflicts", None)
    if not done.done:
        return Transition(State.STAFF_CONFLICTS, _handled(ctx, done.conflict))
    conflict = done.conflict
    notice = _("Cancelled: {service} with {name}, {when}. We have told {name}, with your reason.")
    text = notice.format(
        service=conflict.service_name,
        name=conflict.customer_name,
        when=await _when(ctx, staff_id, conflict),
    )
    # Paid online: the refund goes to the provider now, and staff are told so.
    refunded = await payment_steps.refund_after_staff_cancel(ctx, conflict.appointment_id)
    return Transition(State.STAFF_CONFLICTS, f"{text} {refunded}" if refunded else text)


# --- wiring (staff_steps takes these in) -----------------------------------------------


async def _list(ctx: Context, _choice: Choice) -> Transition:
    ctx.data.pop("conflict_id", None)
    return Transition(State.STAFF_CONFLICTS)


async def _keep(ctx: Context, choice: Choice) -> Transition:
    return await keep(ctx, own_id(ctx), choice.value)


async def _cancel(ctx: Context, choice: Choice) -> Transition:
    return await ask_reason(ctx, own_id(ctx), choice.value)


HANDLERS: dict[str, Handler] = {
    "staff_conflicts": _list,
    "staff_conflict_keep": _keep,
    "staff_conflict_cancel": _cancel,
}
SCREENS: dict[State, Step] = {
    State.STAFF_CONFLICTS: own(list_screen),
    State.STAFF_CONFLICT_CANCEL: asking(cancel_screen),
}
TYPED: dict[State, Typed] = {State.STAFF_CONFLICT_CANCEL: own_typed(on_reason)}
