"""The booking funnel in the staff /report: the table (and, where images go, the chart)
of the last days, per channel."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bookbot.conversations.model import Attachment
from bookbot.conversations.states import Context, State, Transition
from bookbot.engine.recurrence import zone
from bookbot.presentation.funnel_report import funnel_chart, funnel_table
from bookbot.services import funnel


async def funnel_report(ctx: Context, since: datetime) -> Transition:
    """Views, starts and bookings per channel over the whole local days from `since`'s to
    today's, as the title says (today's events so far included)."""
    local = zone(ctx.zone)
    first, last = since.astimezone(local).date(), ctx.now.astimezone(local).date()
    found = await funnel.report(
        ctx.db,
        ctx.studio.id,
        since=datetime.combine(first, time(0), tzinfo=local),
        until=datetime.combine(last + timedelta(days=1), time(0), tzinfo=local),
    )
    title = ctx.t._("Booking funnel, {start} – {end}").format(
        start=ctx.t.date(first), end=ctx.t.date(last)
    )
    ctx.turn["report_table"] = funnel_table(found, ctx.t, title=title)  # report_screen shows it
    if ctx.texting:  # no images by SMS
        return Transition(State.STAFF_REPORT)
    chart = Attachment("funnel.png", "image/png", funnel_chart(found, ctx.t, title=title))
    return Transition(State.STAFF_REPORT, None, chart)
