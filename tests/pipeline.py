"""The path from a stored inbound update to a sent reply, run to the end in tests:
the inbox worker processes what is stored, the delivery worker sends what was queued."""

from __future__ import annotations

from dataclasses import dataclass

from bookbot.engine.clock import Clock
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import NoticeRouter
from bookbot.handlers.telegram_bot import TelegramBot
from bookbot.handlers.twilio_webhook import TwilioChannel
from bookbot.jobs.delivery import DeliveryWorker, RateLimits
from bookbot.jobs.inbox_worker import InboxWorker, Processor
from bookbot.store.db import Database

UNLIMITED = RateLimits(per_channel={}, per_address={})


@dataclass
class Pipeline:
    inbox: InboxWorker
    delivery: DeliveryWorker

    async def drain(self) -> None:
        """Process and deliver until nothing is left to do."""
        while True:
            processed = await self.inbox.run_until_idle()
            stats = await self.delivery.run_until_idle()
            if not processed and not stats.handled:
                return


def pipeline(
    db: Database,
    clock: Clock,
    processors: dict[str, Processor],
    *,
    twilio: TwilioChannel | None = None,
    telegram: TelegramBot | None = None,
) -> Pipeline:
    router = NoticeRouter(db, clock, telegram.bot if telegram else None, twilio)
    delivery = DeliveryWorker(db, clock, NoticeTransport(router, telegram), limits=UNLIMITED)
    inbox = InboxWorker(db, clock, processors, on_processed=delivery.wake)
    return Pipeline(inbox, delivery)
