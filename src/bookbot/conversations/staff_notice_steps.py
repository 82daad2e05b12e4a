"""/notices: a staff member chooses what this chat is told of customer activity (issue 16).

One screen: at once, a daily digest (when quiet hours end) or off, and which events (new
bookings, cancellations, waitlist joins, requests for a person), each a toggle. Each press
saves at once (services.staff_activity.subscribe) and shows the screen again. The notices go
to the chat the command was sent in (a Telegram group when used there).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bookbot.conversations.staff_admin_steps import nav
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.presentation.i18n import N_
from bookbot.services import staff_activity

EVENT_LABELS = {
    "booking": N_("New bookings"),
    "cancellation": N_("Cancellations"),
    "waitlist": N_("Waitlist joins"),
    "handoff": N_("Requests for a person"),
}


async def _current(ctx: Context) -> staff_activity.Subscription | None:
    conversation = ctx.conversation
    return await staff_activity.subscription_of(
        ctx.db, ctx.studio.id, conversation.channel, conversation.address
    )


def _quiet_end(ctx: Context) -> str:
    minute = ctx.studio.quiet_end_minute
    if ctx.studio.quiet_start_minute == minute:
        minute = 8 * 60
    return f"{minute // 60:02d}:{minute % 60:02d}"


async def notices_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await _current(ctx)
    mode = found.mode if found else "off"
    how = {
        "instant": _("This chat is told at once of:"),
        "digest": _("This chat gets a summary every day at {time} of:").format(
            time=_quiet_end(ctx)
        ),
        "off": _("This chat is not told of customer activity."),
    }[mode]
    lines = [_("Staff notices"), how]
    if found:
        lines += [f"• {_(EVENT_LABELS[k])}" for k in found.events]
    modes = (
        ("instant", _("⚡ At once")),
        ("digest", _("🗓 Daily summary")),
        ("off", _("🔕 Off")),
    )
    choices = [
        Choice("staff_notices_mode", f"{label} ✓" if key == mode else label, key)
        for key, label in modes
    ]
    if found:
        for kind, label in EVENT_LABELS.items():
            mark = "☑" if kind in found.events else "☐"
            choices.append(Choice("staff_notices_event", f"{mark} {_(label)}", kind))
    return Screen("\n".join(lines), choices + nav(ctx))


async def choose(ctx: Context, choice: Choice) -> Transition:
    found = await _current(ctx)
    events = found.events if found else staff_activity.KINDS
    mode = found.mode if found else "off"
    if choice.action == "staff_notices_mode" and choice.value in (*staff_activity.MODES, "off"):
        mode = str(choice.value)
    elif choice.action == "staff_notices_event" and choice.value in staff_activity.KINDS:
        kind = str(choice.value)
        events = tuple(k for k in events if k != kind) if kind in events else (*events, kind)
    else:
        return Transition(State.STAFF_NOTICES)
    await staff_activity.subscribe(
        ctx.db,
        ctx.now,
        studio_id=ctx.studio.id,
        channel=ctx.conversation.channel,
        address=ctx.conversation.address,
        events=events,
        mode=mode,
    )
    return Transition(State.STAFF_NOTICES)


async def _open(_ctx: Context, _choice: Choice) -> Transition:
    return Transition(State.STAFF_NOTICES)


HANDLERS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "staff_notices": _open,
    "staff_notices_mode": choose,
    "staff_notices_event": choose,
}
SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.STAFF_NOTICES: notices_screen,
}
