"""What the delivery worker sends through: a route (channel, address) and a send.

Kept small so that a local stand-in (tests, bench/delivery.py) and the real channels
(Telegram, Twilio, through `handlers.notices`) are interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bookbot.services.outbox import OutboundMessage

# OutboundMessage is part of the contract: a transport is handed one.
__all__ = ["DeliveryError", "OutboundMessage", "Route", "Transport"]


@dataclass(frozen=True)
class Route:
    channel: str  # telegram, sms, whatsapp
    address: str


class DeliveryError(Exception):
    """A send that did not happen. `retry_after` (seconds) comes from a 429; `permanent`
    means retrying cannot help (blocked, opted out, invalid number).

    `maybe_sent`: the request may have arrived all the same (a timeout, a dropped
    connection), so before trying again the worker asks the channel."""

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent
        self.maybe_sent = maybe_sent


class Transport(Protocol):
    async def route(self, message: OutboundMessage) -> Route | None:
        """Where the message would go now; None when nowhere (opted out everywhere…)."""
        ...

    async def send(self, message: OutboundMessage, route: Route) -> None:
        """Send it, or raise DeliveryError."""
        ...

    async def already_sent(
        self, message: OutboundMessage, route: Route, since: datetime
    ) -> bool | None:
        """Did a send of this message that began at `since` arrive? None: the channel
        cannot say (Telegram keeps no record a bot can query). DeliveryError if unreachable."""
        ...
