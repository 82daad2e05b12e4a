"""The attendance jobs: close ended classes, and act on no-shows at 01:00 studio time.

Both are idempotent sweeps over the clock (see `engine.reservations.absence_due`), so the
scheduler can tick every minute, a restart can run them late, and two processes running
them together change each row once (each change is conditional on the old state).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bookbot.engine.clock import Clock
from bookbot.handlers.notices import Notice, NoticeRouter
from bookbot.i18n import translator
from bookbot.services import attendance
from bookbot.services.common import studio_by_id
from bookbot.services.customers import customer_by_id
from bookbot.store.db import Database

log = logging.getLogger(__name__)


@dataclass
class AttendanceJobs:
    db: Database
    clock: Clock
    notices: NoticeRouter | None = None

    async def tick(self) -> None:
        """One pass of both sweeps for every studio."""
        await attendance.close_ended(self.db, self.clock)
        async with self.db.transaction(write=False) as tx:
            studio_ids = [r[0] for r in await tx.all("SELECT id FROM studios ORDER BY id")]
        for studio_id in studio_ids:
            for notice in await attendance.auto_cancel_absences(self.db, self.clock, studio_id):
                await self._tell(notice)

    async def _tell(self, notice: attendance.AbsenceNotice) -> None:
        """Tell the customer why (in their language and zone); a failure is logged, not raised."""
        if self.notices is None:
            log.info("auto-cancelled for customer %s; no notice channel", notice.customer_id)
            return
        text = await self.text(notice)
        try:
            await self.notices.deliver(
                notice.studio_id, notice.customer_id, Notice(text, {"1": text})
            )
        except Exception:  # noqa: BLE001 - one customer's channel must not stop the sweep
            log.exception(
                "could not tell customer %s about auto-cancelled reservations", notice.customer_id
            )

    async def text(self, notice: attendance.AbsenceNotice) -> str:
        customer = await customer_by_id(self.db, notice.studio_id, notice.customer_id)
        async with self.db.transaction(write=False) as tx:
            studio = await studio_by_id(tx, notice.studio_id)
        t = translator(customer.language if customer else studio.default_language)
        zone = (customer.timezone if customer else None) or studio.timezone
        dates = ", ".join(t.when(d, zone) for d in notice.cancelled)
        return t.n_(
            "You missed {name} on {missed}, so your other reservation ({dates}) was cancelled, "
            "as the studio's rules say. Send MENU to book again.",
            "You missed {name} on {missed}, so your other reservations ({dates}) were cancelled, "
            "as the studio's rules say. Send MENU to book again.",
            len(notice.cancelled),
        ).format(name=notice.class_name, missed=t.when(notice.missed_start, zone), dates=dates)
