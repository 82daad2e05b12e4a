"""Staff reports in chat (/report): utilization by class or session, revenue, the booking
funnel, and the dashboard and feedback (`staff_dashboard`). A report's table is shown (after
its chart) as the report menu's text, preformatted: Telegram sends it in `<pre>`."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_datetime

from bookbot.conversations import staff_dashboard
from bookbot.conversations.model import Attachment
from bookbot.conversations.staff_admin_steps import nav
from bookbot.conversations.staff_funnel import funnel_report
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine.recurrence import zone
from bookbot.presentation.reports import utilization_chart, utilization_table
from bookbot.presentation.revenue_report import revenue_chart, revenue_table
from bookbot.services import payment_reports, staff_views

TABLE_CHAT = 3500  # characters of a report table in one message (Telegram, the shell)
TABLE_TEXTING = 1400  # and by SMS or WhatsApp
REPORTS = {"class:7": ("class", 7), "class:30": ("class", 30)}
REPORTS |= {"session:7": ("session", 7), "session:30": ("session", 30)}
REPORTS |= {"revenue:7": ("revenue", 7), "revenue:30": ("revenue", 30)}
REPORTS |= {"funnel:7": ("funnel", 7), "funnel:30": ("funnel", 30)}


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


async def run(ctx: Context, choice: Choice) -> Transition:
    """Run the report chosen: its table is shown (after its chart) on the report menu."""
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
