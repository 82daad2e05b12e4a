"""A booking's payment status in words, for "My bookings" and the staff roster."""

from __future__ import annotations

from datetime import datetime

from bookbot.conversations.states import Context
from bookbot.engine import payments as rules
from bookbot.engine.recurrence import zone
from bookbot.presentation.i18n import Translator
from bookbot.services import payment_reports


async def status_label(ctx: Context, registration_id: int, customer_id: int) -> str:
    """'paid', 'deposit paid, balance due Sat 14 Mar', 'invoiced', 'pay at the studio'…"""
    status = await payment_reports.registration_status(ctx.db, ctx.studio.id, registration_id)
    due = None
    if status == "deposit_paid":
        lines = await payment_reports.customer_payments(ctx.db, ctx.studio.id, customer_id)
        due = next(
            (
                p.due_at
                for p in lines
                if p.registration_id == registration_id and p.purpose == rules.BALANCE
            ),
            None,
        )
    return status_text(ctx.t, status, due, ctx.zone)


def status_text(t: Translator, status: str | None, due: datetime | None, zone_name: str) -> str:
    _ = t._
    if status == "deposit_paid":
        if due is None:
            return _("deposit paid, balance due")
        day = due.astimezone(zone(zone_name)).date()
        return _("deposit paid, balance due {date}").format(date=t.date(day))
    words = {
        "paid": _("paid"),
        "pending": _("payment pending"),
        "invoiced": _("invoiced"),
        "refunded": _("refunded"),
        "partially_refunded": _("partly refunded"),
        "failed": _("payment failed"),
    }
    return words.get(status or "", _("pay at the studio"))
