"""Linking a phone to a Telegram customer: number, one-time code by SMS, done."""

from __future__ import annotations

from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.model import Channel
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.phones import InvalidPhone, normalise_phone
from bookbot.services import linking
from bookbot.services.customers import customer_by_id


async def phone_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    text = _(
        "Send your mobile number in international format, e.g. +44 7700 900123. "
        "I will text you a code to check it is yours."
    )
    return Screen(text, back_and_cancel(ctx))


async def code_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    text = _("I texted a 6-digit code to {phone}. Send it here.").format(
        phone=ctx.data.get("phone", "")
    )
    again = Choice("link_phone", _("Send a new code"))
    return Screen(text, [again, *back_and_cancel(ctx)])


async def on_phone(ctx: Context, typed: str) -> Transition:
    """Check the number, store a code, text it (after the write: no network in a transaction).

    The number is kept in E.164, the form Twilio reports senders in, so the customer who
    already texted from it is found. Neither customer nor studio has a country to read a
    national number in, so it must be international (the prompt says so).
    """
    _ = ctx.t._
    try:
        phone = normalise_phone(typed)
    except InvalidPhone:
        return Transition(State.LINK_PHONE, _not_a_phone(ctx, typed))
    if ctx.sms is None:
        return Transition(State.MENU, _("Texting is not set up here, so phones cannot be linked."))
    code = await linking.start(ctx.db, ctx.now, ctx.studio.id, ctx.customer.id, phone)
    message = _("Your {studio} code is {code}. It expires in 10 minutes.").format(
        studio=ctx.studio.name, code=code
    )
    # From the studio's own number when it has one: the number its customers know, and
    # the one their texts reach the same studio through.
    if not await ctx.sms.send_text(Channel.SMS, phone, message, studio_id=ctx.studio.id):
        return Transition(
            State.LINK_PHONE, _("I could not text that number. Check it and try again.")
        )
    ctx.data["phone"] = phone
    return Transition(State.LINK_CODE)


def _not_a_phone(ctx: Context, typed: str) -> str:
    _ = ctx.t._
    if typed.strip().startswith(("+", "00")):
        return _("That is not a valid phone number. Check the digits and try again.")
    return _(
        "That does not look like an international number (it starts with + and the country code)."
    )


async def on_code(ctx: Context, typed: str) -> Transition:
    _ = ctx.t._
    verdict = await linking.verify(ctx.db, ctx.now, ctx.studio.id, ctx.customer.id, typed)
    if verdict.outcome is linking.Outcome.WRONG:
        return Transition(State.LINK_CODE, _("That code is not right. Please try again."))
    if verdict.outcome is linking.Outcome.EXPIRED or verdict.customer_id is None:
        return Transition(State.LINK_PHONE, _("That code has expired. Let's send a new one."))
    customer = await customer_by_id(ctx.db, ctx.studio.id, verdict.customer_id)
    if customer is not None:
        ctx.customer = customer
        ctx.conversation.customer_id = customer.id
    return Transition(
        State.MENU,
        _(
            "Your phone {phone} is linked: your bookings are the same by SMS, WhatsApp and here."
        ).format(phone=verdict.phone),
    )
