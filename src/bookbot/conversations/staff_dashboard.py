"""The dashboard and the feedback averages in the staff /report (issue 17): per course over
whole local days up to today, as tables (no charts)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bookbot.conversations.states import Choice, Context, State, Transition
from bookbot.engine.recurrence import zone
from bookbot.presentation.dashboard_report import dashboard_table, feedback_table
from bookbot.services import dashboard

# The report choices' values: which report, over how many days.
REPORTS = {
    "dashboard:30": ("dashboard", 30),
    "dashboard:90": ("dashboard", 90),
    "feedback:30": ("feedback", 30),
    "feedback:365": ("feedback", 365),
}


def choices(ctx: Context) -> list[Choice]:
    _ = ctx.t._
    return [
        Choice("staff_report_run", _("Dashboard by course, last 30 days"), "dashboard:30"),
        Choice("staff_report_run", _("Dashboard by course, last 90 days"), "dashboard:90"),
        Choice("staff_report_run", _("Feedback, last 30 days"), "feedback:30"),
        Choice("staff_report_run", _("Feedback, last 12 months"), "feedback:365"),
    ]


async def run(ctx: Context, value: str) -> Transition:
    """The report `value` names, shown as the /report screen's table."""
    by, days = REPORTS[value]
    local = zone(ctx.zone)
    last = ctx.now.astimezone(local).date()
    first = last - timedelta(days=days - 1)
    start = datetime.combine(first, time(0), tzinfo=local)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=local)
    words = {"start": ctx.t.date(first), "end": ctx.t.date(last)}
    if by == "feedback":
        by_class, by_instructor = await dashboard.averages(
            ctx.db, ctx.studio.id, start=start, end=end
        )
        title = ctx.t._("Feedback, {start} – {end}").format(**words)
        table = feedback_table(by_class, by_instructor, ctx.t, title=title)
    else:
        rows = await dashboard.figures(
            ctx.db, ctx.studio.id, ctx.studio.currency, start=start, end=end
        )
        title = ctx.t._("Dashboard by course, {start} – {end}").format(**words)
        table = dashboard_table(rows, ctx.t, title=title, currency=ctx.studio.currency)
    ctx.turn["report_table"] = table  # staff_reports.report_screen shows it
    return Transition(State.STAFF_REPORT)
