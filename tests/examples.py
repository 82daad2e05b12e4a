"""The example studios, loaded and generated, for tests that need a whole studio: the pottery
studio (classes) and the tutor studio (one-to-one appointments, examples/tutor-studio.toml)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bookbot.cli.demo import EXAMPLE, TUTOR_EXAMPLE, example_path
from bookbot.engine.clock import Clock
from bookbot.services import generation
from bookbot.store.db import Database, connect
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_file

# Friday 20 Nov 2026, 09:00 in London; the course runs start in March and June 2027.
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def load_example_studio(
    db: Database, clock: Clock, weeks: int = 4, *, name: str | None = None
) -> int:
    """Load examples/clay-studio.toml (or the example `name`) and generate `weeks` of
    sessions; return the studio id."""
    report = await load_studio(db, parse_studio_file(example_path(name or EXAMPLE)))
    for pattern_id in await generation.pattern_ids(db, report.studio_id):
        await generation.generate_sessions(
            db, clock, report.studio_id, pattern_id, preview=False, horizon=timedelta(weeks=weeks)
        )
    return report.studio_id


async def load_tutor_studio(db: Database, clock: Clock, weeks: int = 4) -> int:
    """Load examples/tutor-studio.toml (services, availability, the coach's weekly class) and
    generate `weeks` of the class's sessions; return the studio id."""
    return await load_example_studio(db, clock, weeks, name=TUTOR_EXAMPLE)


def first_bookable_drop_in(database_url: str) -> int:
    """The demo's next Open Studio Drop-in that can still be booked by the real clock the
    command line reads: the first in `bookbot sessions list` may be today's, already inside
    its booking cutoff (an hour) when the tests run in the afternoon."""
    return asyncio.run(_first_drop_in_after(database_url, datetime.now(UTC) + timedelta(hours=3)))


async def _first_drop_in_after(database_url: str, after: datetime) -> int:
    db = await connect(database_url)
    try:
        found = await db.scalar(
            "SELECT s.id FROM sessions s JOIN classes c ON c.id = s.class_id"
            " WHERE c.key = 'open-studio' AND s.starts_at > :after"
            " ORDER BY s.starts_at, s.id LIMIT 1",
            {"after": after},
        )
    finally:
        await db.close()
    assert found is not None, "the demo has no drop-in session to book"
    return int(found)
