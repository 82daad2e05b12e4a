"""The sweeps the scheduler ticks: close ended classes, act on no-shows at 01:00 studio
time, expire waitlist offers and lapsed holds (passing the seats on), complete ended
appointments and expire lapsed appointment holds, extend recurring bookings at 02:00 studio
time, and keep open-ended patterns generated ahead. Each is idempotent, so a late,
repeated or concurrent tick changes each row once; their messages go through the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.conversations import handoff_staff
from bookbot.engine.clock import Clock
from bookbot.engine.recurrence import is_finite
from bookbot.services import (
    appointments,
    attendance,
    balances,
    feedback,
    generation,
    holds,
    payments,
    recurring,
    staff_activity,
    waitlist,
)
from bookbot.services.payment_gateway import PaymentGateway
from bookbot.services.payments import ReturnUrls
from bookbot.store.db import Database

log = logging.getLogger(__name__)
HORIZON = timedelta(weeks=8)
FEEDBACK_EVERY = timedelta(minutes=15)


@dataclass
class Sweeps:
    db: Database
    clock: Clock
    horizon: timedelta = HORIZON
    # With a payment provider configured: reconcile lapsed payment links, send due balances.
    gateway: PaymentGateway | None = None
    urls: ReturnUrls | None = None
    # Feedback requests (issue 17): the sessions closed since this instant are read next.
    feedback_since: datetime | None = None

    async def tick(self) -> None:
        """One pass of the attendance, waitlist and hold sweeps for every studio.

        Each sweep reads only what is due (through a partial index) and changes it in
        bounded, short write transactions, yielding to the event loop between them: on
        SQLite the conversations in this process wait for a few milliseconds at most."""
        await attendance.close_ended(self.db, self.clock)
        # A day after a course or class: a rating asked of those who attended (issue 17).
        # Every FEEDBACK_EVERY is often enough for a request due a day later (its read goes
        # through ix_sessions_closed).
        last = self.feedback_since
        if last is None or self.clock.now() - last >= FEEDBACK_EVERY:
            _, self.feedback_since = await feedback.queue_requests(self.db, self.clock, since=last)
        for studio_id in await self._studios():
            await attendance.auto_cancel_absences(self.db, self.clock, studio_id)
            # Staff digests of yesterday's activity, once quiet hours end (issue 16).
            await staff_activity.send_digest(self.db, self.clock, studio_id)
        await waitlist.expire_offers(self.db, self.clock)
        await holds.expire_holds(self.db, self.clock)
        await appointments.expire_holds(self.db, self.clock)
        await appointments.complete_ended(self.db, self.clock)
        # Talking to a person: a chat quiet for 30 minutes returns the customer to the bot.
        await handoff_staff.end_quiet(self.db, self.clock)
        await self.extend_series()
        if self.gateway is not None:
            # One bounded page each per tick (their partial indexes hold only what is due).
            await payments.reconcile(self.db, self.clock, self.gateway)
            if self.urls is not None:
                await balances.send_due_balances(self.db, self.clock, self.gateway, self.urls)

    async def extend_series(self) -> int:
        """Recurring bookings due for their daily extension (02:00 studio time) placed to
        today + 6 weeks; the dates placed. Reads only the due series (partial index)."""
        return await recurring.extend_due(self.db, self.clock)

    async def generate_ahead(self) -> int:
        """Rolling generation: open-ended patterns get sessions up to the horizon."""
        created = 0
        for studio_id in await self._studios():
            for pattern_id in await generation.pattern_ids(self.db, studio_id):
                report = await generation.generate_sessions(
                    self.db, self.clock, studio_id, pattern_id, preview=True, horizon=self.horizon
                )
                if is_finite(report.pattern.rule.rrule) or not report.plan.create:
                    continue
                done = await generation.generate_sessions(
                    self.db, self.clock, studio_id, pattern_id, preview=False, horizon=self.horizon
                )
                created += len(done.plan.create)
        return created

    async def _studios(self) -> list[int]:
        async with self.db.transaction(write=False) as tx:
            return [int(r["id"]) for r in await tx.all("SELECT id FROM studios ORDER BY id")]
