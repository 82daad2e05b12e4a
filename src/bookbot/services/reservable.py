"""The sessions a pass holder can reserve, a page at a time (see `reservable_sessions`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.services import facts
from bookbot.services.date_pages import DateAsk
from bookbot.store.db import Database


@dataclass(frozen=True)
class Reservable:
    session_id: int
    starts_at: datetime
    seats_left: int
    part: int | None
    makeup: bool
    mine: bool = False  # the customer holds a place there already


# The class's open sessions after `floor` (now + the booking cutoff), by start on
# ix_sessions_studio_starts: from a start on (one lower bound, the later of the two), or
# going back from one (the page before it).
_RESERVABLE = f"""SELECT {facts.SESSION_COLUMNS}, part_position, makeup FROM sessions
WHERE studio_id = :s AND class_id = :c AND status = 'open' AND days = 1 AND {{bound}}
ORDER BY starts_at {{way}}, id {{way}} LIMIT :limit"""  # noqa: S608 - constants


async def reservable_sessions(
    db: Database,
    studio_id: int,
    class_id: int,
    now: datetime,
    ask: DateAsk,
    *,
    customer_id: int = 0,
    limit: int = 8,
) -> tuple[list[Reservable], bool]:
    """Up to `limit` open sessions of the class that may still be reserved (after
    `floor`), soonest first: from the first, from `start` on, or the ones just before
    `before`; with seats left, which part they teach and whether `customer_id` holds a
    place. And whether there are more the other way (before the first, going forward;
    before the page, going back)."""
    params: dict[str, object] = {"s": studio_id, "c": class_id, "floor": ask.floor}
    start, before = ask.start, ask.before
    async with db.transaction(write=False) as tx:
        if ask.going_back():
            bound = "starts_at < :start AND starts_at > :floor"
            rows = await tx.all(
                _RESERVABLE.format(bound=bound, way="DESC"),
                {**params, "start": before, "limit": limit + 1},
            )
            more = len(rows) > limit
            rows = list(reversed(rows[:limit]))
        else:
            going = ask.from_start()
            bound = "starts_at >= :start" if going else "starts_at > :floor"
            rows = await tx.all(
                _RESERVABLE.format(bound=bound, way="ASC"),
                {**params, "start": start, "limit": limit} if going else {**params, "limit": limit},
            )
        sessions = [facts.session_row(r) for r in rows]
        if not ask.going_back():
            more = (
                going
                and bool(sessions)
                and bool(
                    await tx.all(
                        _RESERVABLE.format(
                            bound="starts_at < :start AND starts_at > :floor", way="DESC"
                        ),
                        {**params, "start": sessions[0].starts_at, "limit": 1},
                    )
                )
            )
        found = (
            await facts.session_facts(tx, studio_id, [s.id for s in sessions], now, customer_id)
            if sessions
            else {}
        )
    return [
        Reservable(
            session_id=s.id,
            starts_at=s.starts_at,
            seats_left=found[s.id].state(s).seats_left,
            part=r["part_position"],
            makeup=bool(r["makeup"]),
            mine=found[s.id].customer_booked,
        )
        for s, r in zip(sessions, rows, strict=True)
    ], more
