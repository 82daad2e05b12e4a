"""Staff tools in chat: the staff menu, no-shows, reports, payments, and the dispatch.

Today's sessions and rosters with tap-to-check-in are in `staff_roster_steps`; paged
session lists that take a typed date in `staff_lists`. A report's table is shown (after
its chart) as the report menu's text, preformatted: Telegram sends it in `<pre>`.

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
from datetime import datetime, timedelta
from functools import partial

from babel.dates import format_datetime

from bookbot.conversations import complete_steps as complete
from bookbot.conversations import conflict_steps as clash
from bookbot.conversations import package_staff_steps as pkg
from bookbot.conversations import session_admin_steps as session_admin
from bookbot.conversations import session_notes_steps as session_notes
from bookbot.conversations import staff_admin_steps as admin
from bookbot.conversations import staff_appointment_steps as appts
from bookbot.conversations import staff_availability_steps as avail
from bookbot.conversations import staff_dashboard, staff_lists
from bookbot.conversations import staff_notice_steps as notices
from bookbot.conversations import staff_roster_steps as roster
from bookbot.conversations.model import Attachment
from bookbot.conversations.staff_admin_steps import nav
from bookbot.conversations.staff_funnel import funnel_report
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import N_, render_error
from bookbot.presentation.reports import (
    revenue_chart,
    revenue_table,
    utilization_chart,
    utilization_table,
)
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
TABLE_CHAT = 3500  # characters of a report table in one message (Telegram, the shell)
TABLE_TEXTING = 1400  # and by SMS or WhatsApp
NO_SHOW_DAYS = 7
MAX_NO_SHOWS = 20
REPORTS = {"class:7": ("class", 7), "class:30": ("class", 30)}
REPORTS |= {"session:7": ("session", 7), "session:30": ("session", 30)}
REPORTS |= {"revenue:7": ("revenue", 7), "revenue:30": ("revenue", 30)}
REPORTS |= {"funnel:7": ("funnel", 7), "funnel:30": ("funnel", 30)}

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
    text += [f"• {ctx.when(n.starts_at)} · {n.class_name} · {n.name}" for n in found[:MAX_NO_SHOWS]]
    if len(found) > MAX_NO_SHOWS:
        text.append(_("… and {n} more").format(n=len(found) - MAX_NO_SHOWS))
    text.append(staff_lists.hint(ctx))
    return Screen("\n".join(text), choices)


async def _open_noshows(ctx: Context, _choice: Choice) -> Transition:
    """/noshows afresh: the last 7 days."""
    staff_lists.reset(ctx)
    return Transition(State.STAFF_NOSHOWS)


async def report_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    table = ctx.turn.get("report_table")
    choices = [
        Choice("staff_report_run", _("By class, last 7 days"), "class:7"),
        Choice("staff_report_run", _("By class, last 30 days"), "class:30"),
        Choice("staff_report_run", _("By session, last 7 days"), "session:7"),
        Choice("staff_report_run", _("By session, last 30 days"), "session:30"),
        Choice("staff_report_run", _("Booking funnel, last 7 days"), "funnel:7"),
        Choice("staff_report_run", _("Booking funnel, last 30 days"), "funnel:30"),
    ]
    text = _("Utilization: booked, attended and no-show rates. Which report?")
    if await _money_reports(ctx):
        choices += [
            Choice("staff_report_run", _("Revenue, last 7 days"), "revenue:7"),
            Choice("staff_report_run", _("Revenue, last 30 days"), "revenue:30"),
        ]
        text = _(
            "Utilization (booked, attended and no-show rates) or revenue (paid, refunded"
            " and owed, by class). Which report?"
        )
    choices += staff_dashboard.choices(ctx)  # issue 17: dashboard and feedback
    if isinstance(table, str):  # the report just run, then the menu for another
        return Screen(_fit_table(ctx, table), choices + nav(ctx), preformatted=True)
    return Screen(text, choices + nav(ctx))


def _fit_table(ctx: Context, table: str) -> str:
    """The table, its last lines cut to fit one message (a 30-day report by session of a
    busy studio does not): Telegram takes 4096 characters with <pre> and escapes, Twilio
    1600. `bookbot report` on the command line shows everything."""
    limit = TABLE_TEXTING if ctx.texting else TABLE_CHAT
    if len(table) <= limit:
        return table
    lines, size = table.splitlines(), 0
    kept = []
    for line in lines:
        size += len(line) + 1
        if size > limit - 120:  # room for the note
            break
        kept.append(line)
    more = len(lines) - len(kept)
    note = ctx.t.n_(
        "… and {n} more line: bookbot report on the command line has them all.",
        "… and {n} more lines: bookbot report on the command line has them all.",
        more,
    )
    return "\n".join([*kept, note.format(n=more)])


async def _money_reports(ctx: Context) -> bool:
    """Revenue is reported where payments are on, or were (their rows outlive the setting)."""
    return ctx.payments is not None or await payment_reports.has_payments(ctx.db, ctx.studio.id)


def _short_when(ctx: Context, name: str, starts_at: datetime) -> str:
    """'13 Nov 16:00 Open Studio': the date first, so a cut label keeps it."""
    local = starts_at.astimezone(zone(ctx.zone))
    return f"{format_datetime(local, 'd MMM HH:mm', locale=ctx.t.language)} {name}"


def _report_title(ctx: Context, by: str, since: datetime) -> str:
    _ = ctx.t._
    titles = {
        "class": _("Utilization by class, {start} – {end}"),
        "session": _("Utilization by session, {start} – {end}"),
        "revenue": _("Revenue by class, {start} – {end}"),
    }
    title = titles[by]
    local = zone(ctx.zone)
    return title.format(
        start=ctx.t.date(since.astimezone(local).date()),
        end=ctx.t.date(ctx.now.astimezone(local).date()),
    )


async def _report(ctx: Context, choice: Choice) -> Transition:
    if choice.value in staff_dashboard.REPORTS:
        return await staff_dashboard.run(ctx, str(choice.value))
    if choice.value not in REPORTS:
        return Transition(State.STAFF_REPORT)
    by, days = REPORTS[choice.value]
    since = ctx.now - timedelta(days=days)
    if by == "revenue":
        return await _revenue(ctx, since)
    if by == "funnel":
        return await funnel_report(ctx, since)
    rows = await staff_views.utilization(
        ctx.db,
        ctx.studio.id,
        since,
        ctx.now,
        "class" if by == "class" else "session",
        label=lambda name, at: _short_when(ctx, name, at),
    )
    title = _report_title(ctx, by, since)
    ctx.turn["report_table"] = utilization_table(rows, ctx.t, title=title)
    if ctx.texting:  # no images by SMS
        return Transition(State.STAFF_REPORT)
    chart = Attachment("utilization.png", "image/png", utilization_chart(rows, ctx.t, title=title))
    return Transition(State.STAFF_REPORT, None, chart)


async def _revenue(ctx: Context, since: datetime) -> Transition:
    if not await _money_reports(ctx):
        return Transition(State.STAFF_REPORT)
    rows = await payment_reports.money_by_class(ctx.db, ctx.studio.id, start=since, end=ctx.now)
    title = _report_title(ctx, "revenue", since)
    ctx.turn["report_table"] = revenue_table(rows, ctx.t, title=title)
    if ctx.texting:  # no images by SMS
        return Transition(State.STAFF_REPORT)
    chart = Attachment("revenue.png", "image/png", revenue_chart(rows, ctx.t, title=title))
    return Transition(State.STAFF_REPORT, None, chart)


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
    "staff_report_run": _report,
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
        State.STAFF_REPORT: report_screen,
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
        **session_notes.SCREENS,
    }.items()
}
