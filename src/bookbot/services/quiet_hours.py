"""When a notice to a customer that they did not just ask for may go: the studio's quiet hours
(`engine.quiet`) hold it until morning.

Held: reminders (never past the session), waitlist offers (see `waitlist`), news from the
studio (a session or appointment cancelled, a series occurrence skipped: never later than
`PLAN_AHEAD` before the start, else sent at once), auto-cancellations and series notices.
Never held: replies to what the customer wrote, and what answers something they did just now
(a payment receipt, a refund they asked for, a payment link whose lifetime starts now).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.engine import errors
from bookbot.engine.quiet import release_at
from bookbot.services.common import Studio
from bookbot.store.db import Reads

# News that changes a customer's plans (their session is cancelled) reaches them at least
# this long before the start, if need be inside quiet hours: they may be on their way.
PLAN_AHEAD = timedelta(hours=2)


@dataclass(frozen=True)
class Quiet:
    """A studio's quiet hours: its zone and local minutes after midnight."""

    timezone: str
    start_minute: int
    end_minute: int

    def release(self, due: datetime, *, latest: datetime | None = None) -> datetime:
        """When a notice due at `due` may go (`due` itself if holding it passes `latest`)."""
        return release_at(due, self.timezone, self.start_minute, self.end_minute, latest=latest)


def of(studio: Studio) -> Quiet:
    return Quiet(studio.timezone, studio.quiet_start_minute, studio.quiet_end_minute)


async def of_studio(reads: Reads, studio_id: int) -> Quiet:
    """The studio's quiet hours, read by its id (one primary-key read)."""
    row = await reads.one(
        "SELECT timezone, quiet_start_minute, quiet_end_minute FROM studios WHERE id = :id",
        {"id": studio_id},
    )
    if row is None:
        raise errors.NotFound(what="studio", ident=studio_id)
    return Quiet(str(row["timezone"]), int(row["quiet_start_minute"]), int(row["quiet_end_minute"]))


async def release(
    reads: Reads, studio_id: int, due: datetime, *, latest: datetime | None = None
) -> datetime:
    """When a notice of `studio_id`'s due at `due` may go."""
    return (await of_studio(reads, studio_id)).release(due, latest=latest)
