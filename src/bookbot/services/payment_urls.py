"""Where Stripe's Checkout sends the customer back: our return pages under BOOKBOT_PUBLIC_URL.

Here, below the conversations and the payment services, so both can build a Session's
`success_url` and `cancel_url`; `handlers/payment_pages.py` serves the pages.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlencode

SUCCESS_PATH = "/pay/success"
CANCEL_PATH = "/pay/cancel"
# Stripe puts the Session's id in its place when it redirects; it must stay unencoded.
SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
CHANNELS = frozenset({"telegram", "whatsapp", "sms"})


class PaymentUrls(NamedTuple):
    success_url: str
    cancel_url: str


def payment_urls(
    public_url: str, payment_id: int, lang: str, *, channel: str | None = None
) -> PaymentUrls:
    """The return pages for one payment, in the customer's language; `channel` (telegram,
    whatsapp, sms) makes the page link back to the chat the customer came from."""
    query = {"p": str(payment_id), "lang": lang}
    if channel in CHANNELS:
        query["via"] = channel
    base = public_url.rstrip("/")
    params = urlencode(query)
    return PaymentUrls(
        success_url=f"{base}{SUCCESS_PATH}?{params}&session_id={SESSION_PLACEHOLDER}",
        cancel_url=f"{base}{CANCEL_PATH}?{params}",
    )


def generic_urls(public_url: str) -> PaymentUrls:
    """The return pages without a payment or language (the jobs' links): the pages then
    speak the default studio's language."""
    base = public_url.rstrip("/")
    return PaymentUrls(
        success_url=f"{base}{SUCCESS_PATH}?session_id={SESSION_PLACEHOLDER}",
        cancel_url=f"{base}{CANCEL_PATH}",
    )
