"""/mydata (MYDATA, MISDATOS) and /forget (FORGET, OLVIDAME): what we hold about the
customer, and forgetting it after a confirmation.

On Telegram the export is a JSON file; by text (SMS, WhatsApp, the shell) a short summary,
saying the full export comes from the studio or on Telegram. The confirmation by text asks
for FORGET (or BORRAR), never an opt-out word such as STOP or CANCEL.
"""

from __future__ import annotations

import json

from bookbot.conversations.model import Attachment, Channel
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.services import privacy

EXPORT_FILE = "my-data.json"
NEXT_SHOWN = 3  # upcoming bookings named in the text summary


async def my_data(ctx: Context) -> Transition:
    """The export, audited: a file on Telegram, a summary elsewhere."""
    channel = ctx.conversation.channel
    async with ctx.db.transaction() as tx:
        data = await privacy.export(
            tx, ctx.now, studio_id=ctx.studio.id, customer_id=ctx.customer.id, channel=channel
        )
    _ = ctx.t._
    if channel == Channel.TELEGRAM.value:
        content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        attachment = Attachment(EXPORT_FILE, "application/json", content)
        notice = _("Here is everything we hold about you, as a file.")
        return Transition(State.MENU, notice, attachment)
    return Transition(State.MENU, await _summary(ctx, data))


async def _summary(ctx: Context, data: dict[str, object]) -> str:
    t = ctx.t
    bookings, appointments = _count(data, "bookings"), _count(data, "appointments")
    passes, payments = _count(data, "passes"), _count(data, "payments")
    counts = ", ".join(
        [
            t.n_("{n} booking", "{n} bookings", bookings).format(n=bookings),
            t.n_("{n} appointment", "{n} appointments", appointments).format(n=appointments),
            t.n_("{n} pass", "{n} passes", passes).format(n=passes),
            t.n_("{n} payment", "{n} payments", payments).format(n=payments),
        ]
    )
    lines = [t._("We hold your contact details and language, and: {counts}.").format(counts=counts)]
    soon = await privacy.upcoming(
        ctx.db, ctx.now, studio_id=ctx.studio.id, customer_id=ctx.customer.id
    )
    if soon:
        shown = "; ".join(
            f"{u.name}, {ctx.session_when(u.starts_at, u.ends_at or u.starts_at, u.days)}"
            for u in soon[:NEXT_SHOWN]
        )
        lines.append(t._("Next: {list}.").format(list=shown))
    lines.append(
        t._("The full export is a file: ask the studio for it, or send /mydata on Telegram.")
    )
    return "\n".join(lines)


def _count(data: dict[str, object], key: str) -> int:
    value = data.get(key)
    return len(value) if isinstance(value, list) else 0


async def forget(ctx: Context) -> Transition:
    """FORGET: the confirmation; said again at the confirmation, it confirms."""
    if ctx.conversation.state == State.FORGET_CONFIRM.value:
        return await forget_yes(ctx)
    return Transition(State.FORGET_CONFIRM)


async def forget_screen(ctx: Context) -> Screen:
    """What forgetting removes and keeps, and the question."""
    _ = ctx.t._
    soon = await privacy.upcoming(
        ctx.db, ctx.now, studio_id=ctx.studio.id, customer_id=ctx.customer.id
    )
    lines = [
        _(
            "Forget me: we delete your name, phone number, language and our chats, and you "
            "start again as a new customer. Past bookings and payments stay in the studio's "
            "records without your name."
        )
    ]
    if soon:
        lines.append(
            ctx.t.n_(
                "Your upcoming booking stays booked: the seat is still yours and the studio "
                "expects you. If you will not come, call it off first (MY).",
                "Your {n} upcoming bookings stay booked: the seats are still yours and the "
                "studio expects you. If you will not come, call them off first (MY).",
                len(soon),
            ).format(n=len(soon))
        )
    if ctx.texting:
        lines.append(_("Reply FORGET to confirm, or MENU to keep your data."))
    choices = [
        Choice("forget_yes", _("🗑 Yes, forget me"), aliases=(_("forget"), "forget", "borrar")),
        Choice("menu", _("Keep my data"), aliases=(_("keep"), _("no"), "no")),
    ]
    return Screen("\n\n".join(lines), choices)


async def forget_yes(ctx: Context) -> Transition:
    """Forget the customer, audited, in one transaction; this dialogue starts afresh (its
    next message makes a new customer)."""
    _ = ctx.t._
    try:
        async with ctx.db.transaction() as tx:
            await privacy.forget(
                tx,
                ctx.now,
                studio_id=ctx.studio.id,
                customer_id=ctx.customer.id,
                channel=ctx.conversation.channel,
                keep=ctx.conversation.id,
            )
    except privacy.AlreadyForgotten:
        pass  # forgotten from another channel a moment ago: the same outcome
    ctx.turn[FORGOTTEN] = True  # this message's inbox row too is blanked as it is finished
    ctx.conversation.customer_id = None  # saved with the turn: no link to the old row
    ctx.data.clear()
    return Transition(
        State.MENU,
        _("Done: we have forgotten you. If you write again, you start as a new customer."),
    )


FORGOTTEN = "forgotten"  # ctx.turn: the customer was forgotten in this turn
SCREENS = {State.FORGET_CONFIRM: forget_screen}
PLAIN_ACTIONS = {"mydata": my_data, "forget": forget, "forget_yes": forget_yes}
