"""Notices the bot sends first (reminders, offers…): to the customer's preferred channel.

The order: the channel they last wrote from, then their other channels. An opted-out SMS
or WhatsApp number is skipped (never written to). WhatsApp allows free text only within
24 hours of the customer's last message; after that only an approved template may be
sent, so a configured template (content SID + variables) is used instead, and without one
the next channel is tried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from bookbot.conversations.model import Channel
from bookbot.engine.clock import Clock
from bookbot.handlers.twilio_webhook import TwilioChannel
from bookbot.services import optouts, reachability
from bookbot.store.db import Database

WHATSAPP_WINDOW = timedelta(hours=24)
FALLBACK_ORDER = (Channel.TELEGRAM, Channel.WHATSAPP, Channel.SMS)
NO_CHANNEL = "no channel available (opted out, outside the WhatsApp window, or none)"


class TelegramText(Protocol):
    async def send_message(self, chat_id: int, text: str) -> object: ...


@dataclass(frozen=True)
class Notice:
    text: str
    # For the WhatsApp template: {"1": "Wheel Throwing Taster", "2": "Sat 28 Nov, 14:00"}
    template_variables: dict[str, str] = field(default_factory=dict)
    # Whose notice it is: by SMS, whether that studio folds texts to GSM-7.
    studio_id: int | None = None


@dataclass(frozen=True)
class Sent:
    channel: Channel | None  # None: no channel could take it
    how: str  # "text", "template", or why nothing was sent


@dataclass
class NoticeRouter:
    db: Database
    clock: Clock
    telegram: TelegramText | None = None
    twilio: TwilioChannel | None = None
    whatsapp_template_sid: str | None = None
    # Several bots: the one that speaks for a studio (its own, else the default).
    telegram_for: Callable[[int | None], TelegramText | None] | None = None

    def _telegram(self, studio_id: int | None) -> TelegramText | None:
        return self.telegram if self.telegram_for is None else self.telegram_for(studio_id)

    async def deliver(self, studio_id: int, customer_id: int, notice: Notice) -> Sent:
        """Send `notice` on the first channel that can take it."""
        for channel, address in await self.routes(studio_id, customer_id):
            sent = await self.deliver_on(channel, address, notice)
            if sent is not None:
                return sent
        return Sent(None, NO_CHANNEL)

    async def deliver_on(self, channel: Channel, address: str, notice: Notice) -> Sent | None:
        """Send `notice` on this one channel; None when it cannot take it now."""
        how = await self._how(channel, address, notice.studio_id)
        return await self._try(channel, address, notice, how) if how else None

    async def first_reachable(self, studio_id: int, customer_id: int) -> tuple[Channel, str] | None:
        """The channel `deliver` would try first: configured in this process, not opted out,
        and WhatsApp only within its window or with a template. None: the notice has nowhere
        to go, known before any wait for a rate token (an SMS customer while Twilio is not
        configured here)."""
        for channel, address in await self.routes(studio_id, customer_id):
            if await self._how(channel, address, studio_id) is not None:
                return channel, address
        return None

    async def routes(self, studio_id: int, customer_id: int) -> list[tuple[Channel, str]]:
        """The customer's channels, preferred first, whether or not they can be sent on."""
        found = await reachability.contacts(self.db, studio_id, customer_id)
        preferred = found.preferred
        known = {
            Channel(channel): address
            for channel, address in found.addresses.items()
            if channel in Channel.__members__.values()
        }
        order = sorted(
            known,
            key=lambda c: (
                c.value != preferred,
                FALLBACK_ORDER.index(c) if c in FALLBACK_ORDER else 99,
            ),
        )
        return [(c, known[c]) for c in order if c is not Channel.CONSOLE]

    async def _how(self, channel: Channel, address: str, studio_id: int | None) -> str | None:
        """How this process can send to `address` on `channel` now: "text", "template", or
        None when it cannot (not configured here, opted out of the studio's number,
        WhatsApp window closed)."""
        if channel is Channel.TELEGRAM:
            return "text" if self._telegram(studio_id) is not None else None
        if self.twilio is None:
            return None
        ours = self.twilio.endpoint(channel, studio_id, None)
        if await optouts.is_opted_out(self.db, channel.value, address, endpoint=ours):
            return None
        if channel is Channel.WHATSAPP and not await self._in_window(address, ours):
            return "template" if self.whatsapp_template_sid else None
        return "text"

    async def _try(self, channel: Channel, address: str, notice: Notice, how: str) -> Sent | None:
        """Send as `_how` decided; None when the channel turned it down (opted out meanwhile)."""
        telegram = self._telegram(notice.studio_id)
        if channel is Channel.TELEGRAM and telegram is not None:
            await telegram.send_message(int(address), notice.text)
            return Sent(channel, "text")
        if self.twilio is None:
            return None
        if how == "template" and self.whatsapp_template_sid:
            ours = self.twilio.endpoint(channel, notice.studio_id, None)
            await self.twilio.sender.send_whatsapp_template(
                address,
                self.whatsapp_template_sid,
                notice.template_variables,
                from_number=ours or None,
            )
            return Sent(channel, "template")
        sids = await self.twilio.send_text(
            channel, address, notice.text, studio_id=notice.studio_id
        )
        return Sent(channel, "text") if sids else None

    async def _in_window(self, address: str, endpoint: str) -> bool:
        """Did the customer write to that number of ours on WhatsApp within 24 hours?"""
        last = await reachability.last_written(
            self.db, Channel.WHATSAPP.value, address, endpoint=endpoint
        )
        return last is not None and self.clock.now() - last < WHATSAPP_WINDOW
