"""Stripe's events in: POST /stripe/webhook, verified, stored in the inbox, acknowledged.

The `Stripe-Signature` header is checked by the `stripe` library on the raw body, with the
endpoint's secret and a timestamp tolerance (a replayed old delivery is refused). A bad or
missing signature gets 400 and nothing is stored. A good event is stored under its event id
(Stripe delivers at least once: a redelivery is recognised and stored once) and only then
acknowledged with 200; the inbox worker hands it to `process`, once, which applies it with
`services.payment_events.apply_event`. An event that keeps failing is given up on, logged
and, when it names one of our payments, told to the studio's staff chat.

Events of one payment share an inbox chat, so they are applied one at a time in arrival
order; `services.payments.apply_event` is idempotent per event and per payment state, so a
duplicate or an out-of-order event is harmless anyway.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import stripe
from aiohttp import web

from bookbot.engine.clock import Clock
from bookbot.services import inbox
from bookbot.services.inbox import InboxItem
from bookbot.services.payment_events import (
    StripeEvent,
    apply_event,
    find_payment_id,
    read_payment,
)
from bookbot.services.payment_gateway import PaymentGateway
from bookbot.services.payment_rows import notify_staff
from bookbot.store.db import Database

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/stripe/webhook"
SOURCE = "stripe"
SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE = 300  # seconds: Stripe's own default for a signature's timestamp
# The events bookbot acts on: what the README asks to enable in Stripe's dashboard.
EVENT_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    "refund.updated",
    "invoice.paid",
    "invoice.payment_failed",
)


class NotAnEvent(ValueError):
    """A signed body that is not a Stripe event we can store."""


def event_chat(event: dict[str, Any]) -> str:
    """The inbox chat that serialises one payment's events.

    Our payment id when the object carries it (the Session, its charge and the invoice do:
    the gateway puts it in their metadata); otherwise the object's own tie to the payment:
    a refund's PaymentIntent, a Session's or an invoice's id.
    """
    obj = event["data"]["object"]
    metadata = obj.get("metadata") or {}
    payment = metadata.get("payment_id") if isinstance(metadata, dict) else None
    if isinstance(payment, str) and payment:
        return f"stripe:payment:{payment}"
    kind = obj.get("object")
    intent = obj.get("payment_intent")
    if kind in ("charge", "refund") and isinstance(intent, str) and intent:
        return f"stripe:{intent}"
    return f"stripe:{obj.get('id') or event['id']}"


def parse_event(body: str) -> dict[str, Any]:
    """The event as Stripe sent it; NotAnEvent for a body without the parts we read."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise NotAnEvent("not JSON") from error
    if not isinstance(event, dict):
        raise NotAnEvent("not an object")
    data = event.get("data")
    if (
        not isinstance(event.get("id"), str)
        or not event["id"]
        or not isinstance(event.get("type"), str)
        or not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
    ):
        raise NotAnEvent("no id, type or data.object")
    return event


class StripeWebhook:
    """The aiohttp endpoint Stripe posts events to, and the inbox processor of what it
    stores (source "stripe")."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        webhook_secret: str,
        *,
        gateway: PaymentGateway | None = None,
        wake: Callable[[], None] = lambda: None,
        tolerance: int = TOLERANCE,
    ) -> None:
        self.db = db
        self.clock = clock
        self._secret = webhook_secret
        self.gateway = gateway  # a late payment is refunded through it
        self.wake = wake  # the inbox worker: something new is stored
        self.tolerance = tolerance

    def routes(self) -> list[web.RouteDef]:
        return [web.post(WEBHOOK_PATH, self._receive)]

    async def _receive(self, request: web.Request) -> web.Response:
        """Verify, store, then acknowledge: a 200 means the event is in the inbox."""
        raw = await request.read()
        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            log.warning("stripe webhook: no %s header from %s", SIGNATURE_HEADER, request.remote)
            return web.Response(status=400, text="missing signature")
        try:
            body = raw.decode("utf-8")
            # Verifies only: the event is read from the same bytes below, as Stripe sent it.
            stripe.WebhookSignature.verify_header(body, header, self._secret, self.tolerance)
        except UnicodeDecodeError:
            log.warning("stripe webhook: body is not UTF-8, from %s", request.remote)
            return web.Response(status=400, text="invalid body")
        except stripe.SignatureVerificationError as error:
            # The library's message names the failure (no timestamp, too old, no match);
            # neither the secret nor the header's signature is in it.
            log.warning("stripe webhook: signature refused from %s: %s", request.remote, error)
            return web.Response(status=400, text="invalid signature")
        try:
            event = parse_event(body)
        except NotAnEvent as error:
            log.warning("stripe webhook: signed body is not an event: %s", error)
            return web.Response(status=400, text="not a Stripe event")
        stored = await inbox.accept(
            self.db, SOURCE, event["id"], event_chat(event), event, now=self.clock.now()
        )
        if stored:
            self.wake()
        else:
            log.info("stripe webhook: %s %s delivered again", event["type"], event["id"])
        return web.json_response({"received": True})

    async def process(self, item: InboxItem) -> None:
        """Apply one stored event; `apply_event` is idempotent, so marking the row done in a
        transaction of its own after it is safe: a crash in between applies it again, to no
        effect."""
        event = StripeEvent.from_payload(item.payload)
        outcome = await apply_event(self.db, self.clock, self.gateway, event)
        log.info("stripe event %s (%s): %s", event.id, event.type, outcome)
        await inbox.finish_alone(self.db, item, self.clock.now())

    async def gave_up(self, item: InboxItem) -> None:
        """An event that kept failing: nobody is waiting in a chat for it, but money may be,
        so say so loudly and tell the payment's studio."""
        event = StripeEvent.from_payload(item.payload)
        log.error(
            "stripe event %s (%s) given up after %s attempts; check it in Stripe's dashboard",
            event.id,
            event.type,
            item.attempts,
        )
        payment_id = await find_payment_id(self.db, event.object)
        payment = await read_payment(self.db, payment_id) if payment_id is not None else None
        if payment is None:
            return
        params = {"payment_id": payment.id, "event_id": event.id, "event_type": event.type}
        async with self.db.transaction() as tx:
            await notify_staff(
                tx,
                self.clock.now(),
                payment.studio_id,
                "payment_staff_event_failed",
                params,
                key=event.id,
            )
