"""Staff tools in chat: the staff menu, no-shows, payments, and the dispatch (the reports
are in `staff_reports`).

Today's sessions and rosters with tap-to-check-in are in `staff_roster_steps`; paged
session lists that take a typed date in `staff_lists`.

The dispatcher lets only staff of the studio reach `choose` (and records every attempt);
the screens check again, so a person taken off the staff list mid-chat sees nothing more.
Schedule changes (assigning staff, generating sessions, restoring auto-cancelled
reservations) are in `staff_admin_steps`; a staff member's own availability (/availability)
in `staff_availability_steps` and their own appointments (/upcoming…) in
`staff_appointment_steps`. Screens there that ask for words (a period, hours, a reason)
take them through `TYPED`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial

from bookbot.conversations import complete_steps as complete
from bookbot.conversations import conflict_steps as clash
from bookbot.conversations import package_staff_steps as pkg
from bookbot.conversations import session_admin_steps as session_admin
from bookbot.conversations import session_cancel_steps as session_cancel
from bookbot.conversations import session_notes_steps as session_notes
from bookbot.conversations import staff_admin_steps as admin
from bookbot.conversations import staff_appointment_steps as appts
from bookbot.conversations import staff_availability_steps as avail
from bookbot.conversations import staff_lists
from bookbot.conversations import staff_notice_steps as notices
from bookbot.conversations import staff_reports as reports
from bookbot.conversations import staff_roster_steps as roster
from bookbot.conversations.staff_admin_steps import nav
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import N_, render_error
from bookbot.services import payment_reports, staff_views

MAX_OWED = 15  # outstanding items listed in chat (the CLI lists them all)
PURPOSES = {
    "full": N_("paid in full"),
    "deposit": N_("deposit"),
    "balance": N_("balance"),
    "pass": N_("pass"),
    "invoice": N_("invoice"),
    "package": N_("lesson package"),
}
NO_SHOW_DAYS = 7
MAX_NO_SHOWS = 20

Step = Callable[[Context], Awaitable[Screen]]


def _close(ctx: Context) -> Choice:
    return Choice("menu", ctx.t._("✖ Close"), aliases=(ctx.t._("close"), "menu"))


async def menu_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    choices = [
        Choice("staff_today", _("📋 Today"), aliases=(_("today"), "today")),
        Choice("staff_roster", _("🧾 Roster and check-in"), aliases=(_("roster"), "roster")),
        Choice("staff_noshows", _("🚫 No-shows"), aliases=(_("no-shows"), "noshows")),
        Choice("staff_availability", _("🗓 My week"), aliases=(_("availability"), "availability")),
        Choice("staff_upcoming", _("📆 My appointments"), aliases=(_("appointments"), "upcoming")),
        Choice("staff_conflicts", _("⚠ Conflicts"), aliases=(_("conflicts"), "conflicts")),
        Choice("staff_packages", _("🎟 Packages"), aliases=(_("packages"), "packages")),
        Choice("staff_report", _("📊 Reports"), aliases=(_("report"), "report")),
        Choice("staff_assign", _("👥 Assign staff"), aliases=(_("assign"), "assign")),
        Choice("staff_session", _("🛠 Add or change a session"), aliases=(_("session"), "session")),
        Choice("staff_complete", _("🎓 Complete a course"), aliases=(_("complete"), "complete")),
        Choice("staff_generate", _("🗓 Generate sessions"), aliases=(_("generate"), "generate")),
        Choice("staff_notices", _("🔔 Notices"), aliases=(_("notices"), "notices")),
        Choice(
            "staff_override", _("🔄 Restore auto-cancelled"), aliases=(_("restore"), "override")
        ),
        _close(ctx),
    ]
    if ctx.payments is not None:
        choices.insert(8, Choice("staff_payments", _("💳 Payments"), aliases=(_("payments"),)))
    return Screen(_("Staff tools for {studio}:").format(studio=ctx.studio.name), choices)


async def noshows_screen(ctx: Context) -> Screen:
    """No-shows of the 7 days to a day (today, unless another was typed or stepped to)."""
    _ = ctx.t._
    last = staff_lists.chosen_day(ctx)
    since, until = staff_lists.day_bounds(ctx, last, NO_SHOW_DAYS)
    found = await staff_views.no_shows(ctx.db, ctx.studio.id, since, min(until, ctx.now))
    restore = Choice("staff_override", _("🔄 Restore auto-cancelled"), aliases=(_("restore"),))
    weeks = staff_lists.day_choices(ctx, NO_SHOW_DAYS, later=until < ctx.now)
    choices = [restore, *weeks, *nav(ctx)]
    recent = until >= ctx.now
    if not found:
        empty = (
            _("No no-shows in the last 7 days.")
            if recent
            else _("No no-shows in the 7 days to {date}.").format(date=ctx.t.date(last))
        )
        return Screen(f"{empty}\n{staff_lists.hint(ctx)}", choices)
    title = (
        _("No-shows in the last 7 days:")
        if recent
        else _("No-shows in the 7 days to {date}:").format(date=ctx.t.date(last))
    )
    text = [title]
    text += [
        f"• {ctx.session_when(n.starts_at, n.ends_at or n.starts_at, n.days)}"
        f" · {n.class_name} · {n.name}"
        for n in found[:MAX_NO_SHOWS]
    ]
    if len(found) > MAX_NO_SHOWS:
        text.append(_("… and {n} more").format(n=len(found) - MAX_NO_SHOWS))
    text.append(staff_lists.hint(ctx))
    return Screen("\n".join(text), choices)


async def _open_noshows(ctx: Context, _choice: Choice) -> Transition:
    """/noshows afresh: the last 7 days."""
    staff_lists.reset(ctx)
    return Transition(State.STAFF_NOSHOWS)


def _payment_line(ctx: Context, p: payment_reports.PaymentLine, *, at: datetime | None) -> str:
    """'#12 · 14:05 · £90.00 · Wheel Throwing Taster · deposit'."""
    parts = [f"#{p.id}"]
    if at is not None:
        parts.append(ctx.t.time(at, ctx.zone))
    parts.append(ctx.t.money(p.amount_minor, p.currency))
    if p.class_name:
        parts.append(p.class_name)
    parts.append(ctx.t._(PURPOSES.get(p.purpose, p.purpose)))
    return " · ".join(parts)


def _owed(ctx: Context, p: payment_reports.PaymentLine) -> str:
    _ = ctx.t._
    line = _payment_line(ctx, p, at=None)
    if p.status == "invoiced":
        return line + " · " + _("invoice sent")
    if p.status == "failed":
        return line + " · " + _("amount did not match: refund or settle it in Stripe")
    if p.due_at is None:
        return line
    due = ctx.t.date(p.due_at.astimezone(zone(ctx.zone)).date())
    if p.status == "expired" or (p.due_at < ctx.now and p.status != "scheduled"):
        return line + " · " + _("unpaid, was due {date}").format(date=due)
    return line + " · " + _("due {date}").format(date=due)


async def payments_screen(ctx: Context) -> Screen:
    """What was paid on a day (today, or one typed or stepped to), and what is owed."""
    _ = ctx.t._
    day = staff_lists.chosen_day(ctx)
    since, until = staff_lists.day_bounds(ctx, day)
    paid = await payment_reports.staff_today(ctx.db, ctx.studio.id, start=since, end=until)
    owed = await payment_reports.outstanding(ctx.db, ctx.studio.id, ctx.now)
    today = day >= staff_lists.today(ctx)
    lines = [_("Paid today:") if today else _("Paid on {date}:").format(date=ctx.t.date(day))]
    none = _("nothing yet") if today else _("nothing")
    lines += [f"• {_payment_line(ctx, p, at=p.paid_at)}" for p in paid] or [none]
    if paid:
        total = sum(p.amount_minor - p.refunded_minor for p in paid)
        lines.append(_("Total: {price}").format(price=ctx.money(total)))
    lines += ["", _("Outstanding:")]
    lines += [f"• {_owed(ctx, p)}" for p in owed[:MAX_OWED]] or [_("nothing outstanding")]
    if len(owed) > MAX_OWED:
        lines.append(_("… and {n} more").format(n=len(owed) - MAX_OWED))
    lines.append(staff_lists.hint(ctx))
    days = staff_lists.day_choices(ctx, 1, later=not today)
    return Screen("\n".join(lines), days + nav(ctx))


async def _open_payments(ctx: Context, _choice: Choice) -> Transition:
    """/payments afresh: today's."""
    staff_lists.reset(ctx)
    return Transition(State.STAFF_PAYMENTS)


async def _to(state: State, _ctx: Context, _choice: Choice) -> Transition:
    """Straight to a screen (it reads what it shows itself)."""
    return Transition(state)


_HANDLERS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "staff_menu": partial(_to, State.STAFF_MENU),
    "staff_today": roster.open_today,
    "staff_roster": roster.open_roster,
    "staff_check_in": roster.check_in,
    "staff_all_present": roster.all_present,
    "staff_page": staff_lists.choose_page,
    "staff_day": staff_lists.choose_day,
    "staff_noshows": _open_noshows,
    "staff_report": partial(_to, State.STAFF_REPORT),
    "staff_report_run": reports.run,
    "staff_payments": _open_payments,
    "staff_assign": admin.choose_assign,
    "staff_assign_session": admin.choose_assign,
    "staff_assign_person": admin.choose_assign,
    "staff_assign_as": admin.choose_assign,
    "staff_generate": admin.choose_generate,
    "staff_generate_pattern": admin.choose_generate,
    "staff_generate_confirm": admin.choose_generate,
    "staff_override": admin.choose_override,
    "staff_override_customer": admin.choose_override,
    **avail.HANDLERS,
    **appts.HANDLERS,
    **clash.HANDLERS,
    **pkg.HANDLERS,
    **notices.HANDLERS,
    **complete.HANDLERS,
    **session_admin.HANDLERS,
    **session_cancel.HANDLERS,
    **session_notes.HANDLERS,
}


async def choose(ctx: Context, choice: Choice) -> Transition:
    """A staff action: the caller has checked the person is staff of this studio."""
    handler = _HANDLERS.get(choice.action)
    if handler is None:
        return Transition(State.STAFF_MENU)
    return await handler(ctx, choice)


def _staff_only(step: Step) -> Step:
    async def guarded(ctx: Context) -> Screen:
        if ctx.staff_id is None:
            return Screen(render_error(errors.NotAllowed(), ctx.t, ctx.zone), [_close(ctx)])
        return await step(ctx)

    return guarded


def _typed_by_staff(
    handler: Callable[[Context, str], Awaitable[Transition]],
) -> Callable[[Context, str], Awaitable[Transition]]:
    """Words typed on a staff screen are read only for staff of the studio: the dispatcher's
    gate checks choices, not typing."""

    async def typed(ctx: Context, text: str) -> Transition:
        if ctx.staff_id is None:
            return Transition(State.MENU, render_error(errors.NotAllowed(), ctx.t, ctx.zone))
        return await handler(ctx, text)

    return typed


# A date typed on a list of sessions starts the list at that day.
_DATES = {
    State.STAFF_ROSTER: staff_lists.on_date,
    State.STAFF_ASSIGN: staff_lists.on_date,
    State.STAFF_TODAY: staff_lists.on_any_date,
    State.STAFF_NOSHOWS: staff_lists.on_past_date,
    State.STAFF_PAYMENTS: staff_lists.on_past_date,
}

# What a staff member types where a screen asks for words; the dispatcher's own TYPED
# takes these in (`**staff.TYPED`).
TYPED: dict[State, Callable[[Context, str], Awaitable[Transition]]] = {
    state: _typed_by_staff(handler)
    for state, handler in (
        avail.TYPED
        | appts.TYPED
        | clash.TYPED
        | pkg.TYPED
        | _DATES
        | session_admin.TYPED
        | session_cancel.TYPED
        | session_notes.TYPED
    ).items()
}

SCREENS: dict[State, Step] = {
    state: _staff_only(step)
    for state, step in {
        State.STAFF_MENU: menu_screen,
        State.STAFF_TODAY: roster.today_screen,
        State.STAFF_ROSTER: roster.roster_screen,
        State.STAFF_ROSTER_SESSION: roster.session_screen,
        State.STAFF_NOSHOWS: noshows_screen,
        State.STAFF_REPORT: reports.report_screen,
        State.STAFF_ASSIGN: admin.assign_screen,
        State.STAFF_ASSIGN_SESSION: admin.assign_session_screen,
        State.STAFF_ASSIGN_ROLE: admin.assign_role_screen,
        State.STAFF_GENERATE: admin.generate_screen,
        State.STAFF_GENERATE_PREVIEW: admin.preview_screen,
        State.STAFF_OVERRIDE: admin.override_screen,
        State.STAFF_PAYMENTS: payments_screen,
        **avail.SCREENS,
        **appts.SCREENS,
        **clash.SCREENS,
        **pkg.SCREENS,
        **notices.SCREENS,
        **complete.SCREENS,
        **session_admin.SCREENS,
        **session_cancel.SCREENS,
        **session_notes.SCREENS,
    }.items()
}
