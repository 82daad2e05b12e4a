"""The cancellation policy in one line, said before the customer books (the class page, the
summary) and wherever a Cancel would be refused.

The rules are the ones cancelling applies (`services.cancellation`): free until the studio's
cutoff before the start; after it, a booking paid at the studio can no longer be cancelled,
and one paid online can, for what the class's policy gives back
(`engine.payments.cancellation_refunds`: `refund_after_cutoff_percent`, a deposit only if
the class says deposits are refundable).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bookbot.conversations.matching import fold
from bookbot.conversations.states import Context
from bookbot.engine import payments as rules
from bookbot.services import refunds


def whole_days(hours: int) -> int | None:
    """A cutoff said in days when it is whole days ("14 days before", not "336 h before");
    None: said in hours."""
    days, rest = divmod(hours, 24)
    return days if days and not rest else None


def _after(ctx: Context, policy: rules.PaymentPolicy | None) -> str:
    """What happens after the cutoff, by how the class is paid."""
    _ = ctx.t._
    if policy is None or not policy.online:
        return _("after that, no cancellations")
    percent = policy.refund_after_cutoff_percent
    if policy.payment == "either":
        if percent:
            return _(
                "after that, {percent}% back if paid online; "
                "if paid at the studio, no cancellations"
            ).format(percent=percent)
        return _("after that, no refund if paid online; if paid at the studio, no cancellations")
    if percent:
        return _("after that, {percent}% back").format(percent=percent)
    return _("after that, no refund")


def cancellation_line(
    ctx: Context, starts_at: datetime | None, *, policy: rules.PaymentPolicy | None = None
) -> str:
    """E.g. "Free cancellation until Thu 4 Dec, 18:00 (2 days before); after that, no refund."
    A cutoff of whole days is said in days, any other in hours ("(36 h before)").

    `starts_at`: the first date booked (None: the class in general, "up to 2 days before the
    start"). `policy`: the class's payment terms when the studio takes payments online
    (None: everything is paid at the studio)."""
    _ = ctx.t._
    hours = ctx.studio.cancellation_cutoff_hours
    if hours == 0:
        return _("Free cancellation up to the start.")
    after = _after(ctx, policy)
    if starts_at is None:
        if days := whole_days(hours):
            head = ctx.t.n_(
                "Free cancellation up to {n} day before the start",
                "Free cancellation up to {n} days before the start",
                days,
            ).format(n=days)
        else:
            head = ctx.t.n_(
                "Free cancellation up to {n} h before the start",
                "Free cancellation up to {n} h before the start",
                hours,
            ).format(n=hours)
    else:
        deadline = starts_at - timedelta(hours=hours)
        if deadline <= ctx.now:
            return _late(ctx, hours, policy)
        if days := whole_days(hours):
            head = ctx.t.n_(
                "Free cancellation until {when} ({n} day before)",
                "Free cancellation until {when} ({n} days before)",
                days,
            ).format(when=ctx.when(deadline), n=days)
        else:
            head = ctx.t.n_(
                "Free cancellation until {when} ({n} h before)",
                "Free cancellation until {when} ({n} h before)",
                hours,
            ).format(when=ctx.when(deadline), n=hours)
    text = _("{rule}; {after}.").format(rule=head, after=after)
    if policy is not None and policy.online and _deposit_kept(policy):
        text += " " + _("A deposit is not refunded after the cutoff.")
    return text


def _deposit_kept(policy: rules.PaymentPolicy) -> bool:
    return (
        policy.deposit_percent is not None
        and not policy.deposit_refundable
        and policy.refund_after_cutoff_percent > 0
    )


def _late(ctx: Context, hours: int, policy: rules.PaymentPolicy | None) -> str:
    """The first date is inside the cutoff already: what booking it now means."""
    _ = ctx.t._
    days = whole_days(hours)
    if policy is None or not policy.online:
        if days:
            return ctx.t.n_(
                "Cancellations close {n} day before the start, so once booked this cannot be "
                "cancelled.",
                "Cancellations close {n} days before the start, so once booked this cannot be "
                "cancelled.",
                days,
            ).format(n=days)
        return ctx.t.n_(
            "Cancellations close {n} h before the start, so once booked this cannot be cancelled.",
            "Cancellations close {n} h before the start, so once booked this cannot be cancelled.",
            hours,
        ).format(n=hours)
    if days:
        closed = ctx.t.n_(
            "Free cancellation closed {n} day before the start",
            "Free cancellation closed {n} days before the start",
            days,
        ).format(n=days)
    else:
        closed = ctx.t.n_(
            "Free cancellation closed {n} h before the start",
            "Free cancellation closed {n} h before the start",
            hours,
        ).format(n=hours)
    percent = policy.refund_after_cutoff_percent
    if policy.payment == "either":
        if percent:
            tail = _(
                "{percent}% back if paid online and cancelled; "
                "if paid at the studio, no cancellations"
            ).format(percent=percent)
        else:
            tail = _(
                "no refund if paid online and cancelled; if paid at the studio, no cancellations"
            )
    elif percent:
        tail = _("cancelling gives {percent}% back").format(percent=percent)
    else:
        tail = _("no refund if cancelled")
    return _("{rule}: {after}.").format(rule=closed, after=tail)


def closed_line(ctx: Context) -> str:
    """Said instead of a Cancel or Move button that would be refused."""
    hours = ctx.studio.cancellation_cutoff_hours
    if days := whole_days(hours):
        return ctx.t.n_(
            "Cancellations close {n} day before the start; contact the studio.",
            "Cancellations close {n} days before the start; contact the studio.",
            days,
        ).format(n=days)
    return ctx.t.n_(
        "Cancellations close {n} h before the start; contact the studio.",
        "Cancellations close {n} h before the start; contact the studio.",
        hours,
    ).format(n=hours)


# Words asking to cancel, at a booking's page that offers no Cancel (its cutoff passed).
_CANCEL_WORDS = frozenset({"cancel", "cancelar", "cancela", "cancelo", "anular", "anula"})


def cancel_refused(ctx: Context, typed: str) -> str | None:
    """Why not, for "cancel…" typed at a booking whose page offers no Cancel; else None."""
    offered = {o.get("action") for o in ctx.conversation.options}
    if "cancel_booking" in offered or not _CANCEL_WORDS & set(fold(typed).split()):
        return None
    return closed_line(ctx)


async def class_policy(ctx: Context, class_id: int) -> rules.PaymentPolicy | None:
    """The class's payment terms where they matter (the studio takes payments online)."""
    if ctx.payments is None:
        return None
    row = await ctx.db.one(
        f"SELECT {refunds.POLICY_COLUMNS} FROM classes k"  # noqa: S608 - constants
        " WHERE k.studio_id = :s AND k.id = :k",
        {"s": ctx.studio.id, "k": class_id},
    )
    return None if row is None else refunds.policy_of(row)


async def class_line(ctx: Context, class_id: int, starts_at: datetime | None = None) -> str:
    """`cancellation_line` for a class, its payment terms read when they matter."""
    return cancellation_line(ctx, starts_at, policy=await class_policy(ctx, class_id))
