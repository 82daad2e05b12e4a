"""A class's bookable dates a page at a time, for the customer's lists of dates.

Read one page (+1, to know there is more) through ix_sessions_studio_starts, from the
first bookable start or from a position, never all of a class's future sessions; see
`_PAGE_FROM`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.services import browse, facts
from bookbot.store.db import Database

DATE_PAGE = 6  # dates a page of a class's dates shows

# A page of a class's open dates, on ix_sessions_studio_starts: from the first bookable start
# (`floor`: now + the booking cutoff, exclusive) or from a page's first start (inclusive),
# `size + 1` rows in start order; the one past the page says it goes on. Each query has
# one lower bound on starts_at (the later of the two is chosen in Python), so the index is
# entered there, never walked up to it. A page not at the start carries, in the same
# statement, a one-row probe the other way: whether anything bookable lies before it.
_CLASS_OPEN = "{a}.studio_id = :studio_id AND {a}.class_id = :class_id AND {a}.status = 'open'"
_FIRST_PAGE = f"""s.id IN (SELECT u.id FROM sessions u WHERE {_CLASS_OPEN.format(a="u")}
    AND u.starts_at > :floor ORDER BY u.starts_at, u.id LIMIT :limit)"""  # noqa: S608 - constants
_PAGE_FROM = f"""s.id IN (SELECT p.id FROM (SELECT u.id FROM sessions u
    WHERE {_CLASS_OPEN.format(a="u")} AND u.starts_at >= :start
    ORDER BY u.starts_at, u.id LIMIT :limit) p
  UNION ALL SELECT q.id FROM (SELECT v.id FROM sessions v
    WHERE {_CLASS_OPEN.format(a="v")} AND v.starts_at < :start AND v.starts_at > :floor
    ORDER BY v.starts_at DESC, v.id DESC LIMIT 1) q)"""  # noqa: S608 - constants
_PAGE_BEFORE = f"""s.id IN (SELECT p.id FROM (SELECT u.id FROM sessions u
    WHERE {_CLASS_OPEN.format(a="u")} AND u.starts_at < :start AND u.starts_at > :floor
    ORDER BY u.starts_at DESC, u.id DESC LIMIT :limit) p
  UNION ALL SELECT q.id FROM (SELECT v.id FROM sessions v
    WHERE {_CLASS_OPEN.format(a="v")} AND v.starts_at >= :start
    ORDER BY v.starts_at, v.id LIMIT 1) q)"""  # noqa: S608 - constants


@dataclass(frozen=True)
class DateAsk:
    """Which page of a list of dates: everything after `floor` (now + the booking cutoff:
    what may still be booked), from the first, from `start` on (inclusive), or the page
    ending just before `before`."""

    floor: datetime
    start: datetime | None = None
    before: datetime | None = None

    def going_back(self) -> bool:
        return self.before is not None and self.before > self.floor

    def from_start(self) -> bool:
        return self.start is not None and self.start > self.floor


@dataclass(frozen=True)
class DatePage:
    """A page of a class's bookable dates, soonest first; `later`: where the next page
    starts (inclusive), `earlier`: the first start shown, when there are dates before it.
    A page boundary between two dates at the same instant may show one of them twice,
    never skip one."""

    dates: list[browse.DateChoice]
    later: datetime | None
    earlier: datetime | None


async def date_page(
    db: Database,
    studio_id: int,
    class_id: int,
    now: datetime,
    ask: DateAsk,
    *,
    size: int = DATE_PAGE,
    customer_id: int = 0,
) -> DatePage:
    """The class's open dates a page at a time (see `DateAsk`), each with its seats left:
    one statement (see `_PAGE_FROM`). A page with nothing on it from a position (all gone
    since, or a day past the last date) is the first page instead."""
    params: dict[str, object] = {"class_id": class_id, "floor": ask.floor, "limit": size + 1}
    edge = ask.before if ask.going_back() else ask.start if ask.from_start() else None
    where = _PAGE_BEFORE if ask.going_back() else _PAGE_FROM if edge else _FIRST_PAGE
    if edge is not None:
        params["start"] = edge
    found = browse.browsed(
        await facts.browse_facts(
            db, studio_id, now, where=where, params=params, customer_id=customer_id
        ),
        guests=1,
    )
    if edge is None:
        return DatePage(found[:size], _start(found, size), None)
    shown = [d for d in found if (d.session.starts_at < edge) == ask.going_back()]
    first = DateAsk(ask.floor)
    if not shown:
        return await date_page(
            db, studio_id, class_id, now, first, size=size, customer_id=customer_id
        )
    if ask.going_back():
        page = shown[-size:]
        after = [d for d in found if d.session.starts_at >= edge]
        earlier = page[0].session.starts_at if len(shown) > size else None
        return DatePage(page, after[0].session.starts_at if after else None, earlier)
    before_it = len(shown) < len(found)
    return DatePage(
        shown[:size], _start(shown, size), shown[0].session.starts_at if before_it else None
    )


def _start(found: list[browse.DateChoice], size: int) -> datetime | None:
    return found[size].session.starts_at if len(found) > size else None
