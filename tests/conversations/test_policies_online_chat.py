"""With online payments, the policy said up front includes what comes back after the cutoff
(the class's refund_after_cutoff_percent), as cancelling then applies it. The taster is paid
online or at the studio ("either"), 50% back late; it is Fri 20 Nov 09:00, the cutoff 48 h."""

from __future__ import annotations

from tests.conversations.test_cancel_refunds_chat import shop, standin
from tests.conversations.test_payments_chat import Shop

__all__ = ["shop", "standin"]  # the payment fixtures, shared with the refund tests

EITHER_AFTER = "after that, 50% back if paid online; if paid at the studio, no cancellations."


async def test_the_class_page_says_what_a_late_cancel_gives_back(shop: Shop) -> None:
    chat = shop.chat()
    await chat.say("/start")
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    assert f"Free cancellation up to 2 days before the start; {EITHER_AFTER}" in chat.text


async def test_the_summary_gives_the_deadline_and_the_late_refund(shop: Shop) -> None:
    chat = shop.chat()
    await chat.say("/start")
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    await chat.press("Sat 28 Nov")
    await chat.say("2")
    assert f"Free cancellation until Thu 26 Nov, 14:00 (2 days before); {EITHER_AFTER}" in chat.text


async def test_a_summary_inside_the_cutoff_says_what_cancelling_would_give(shop: Shop) -> None:
    chat = shop.chat()
    await chat.say("/start")
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    await chat.press("Sat 21 Nov")
    await chat.say("2")
    assert (
        "Free cancellation closed 2 days before the start: 50% back if paid online and "
        "cancelled; if paid at the studio, no cancellations." in chat.text
    )
