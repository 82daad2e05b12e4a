"""A class's dates are read a page at a time through a start index (the class's, or the
studio's): never the class's history (3,000 past sessions here), never all its future (200
ahead).

The page queries are EXPLAINed as `test_query_plans` does (SQLite's EXPLAIN QUERY PLAN
unanalysed, PostgreSQL's EXPLAIN after ANALYZE), and run: each page holds what it should.
"""

from __future__ import annotations

from datetime import timedelta

from bookbot.services import browse, date_pages, facts, reservable
from bookbot.store.db import Database
from tests import builders
from tests.store import test_query_plans
from tests.store.test_query_plans import NOW, _plan

history_world = test_query_plans.history  # the fixture: 3,000 sessions past, 200 ahead

# The sessions table under every alias the page queries give it.
SESSION_ALIASES = ("s", "u", "v", "sessions")
# The indexes that read sessions from a start on: a class's (what the planners take for one
# class's dates, since 0024) and the studio's.
START_INDEXES = ("ix_sessions_class_starts", "ix_sessions_studio_starts")


def _enters_a_start_index(plan: list[str]) -> bool:
    return any(index in step for step in plan for index in START_INDEXES)


def _reads_sessions_whole(plan: list[str]) -> list[str]:
    found = []
    for step in plan:
        words = step.lstrip(" ->").split()
        sqlite_scan = words[:1] == ["SCAN"] and len(words) > 1 and words[1] in SESSION_ALIASES
        pg_scan = words[:3] == ["Seq", "Scan", "on"] and words[3] == "sessions"
        if sqlite_scan or pg_scan:
            found.append(step)
    return found


def _where_sql(where: str) -> str:
    return facts._BROWSE_SQL + where + "\nORDER BY s.id, q.resource_id"


async def test_each_page_query_enters_the_start_index(
    db: Database, history_world: builders.World
) -> None:
    base = {"studio_id": history_world.studio_id, "now": NOW, "customer_id": 0}
    page = {"class_id": history_world["taster"], "floor": NOW, "limit": date_pages.DATE_PAGE + 1}
    start = {**page, "start": NOW + timedelta(days=20)}
    for where, params in (
        (date_pages._FIRST_PAGE, page),
        (date_pages._PAGE_FROM, start),
        (date_pages._PAGE_BEFORE, start),
    ):
        plan = await _plan(db, _where_sql(where), {**base, **params})
        shown = "\n".join(plan)
        assert _enters_a_start_index(plan), shown
        assert not _reads_sessions_whole(plan), shown


async def test_the_reservation_list_enters_the_start_index(
    db: Database, history_world: builders.World
) -> None:
    params = {"s": history_world.studio_id, "c": history_world["taster"], "floor": NOW, "limit": 7}
    for bound, way, extra in (
        ("starts_at > :floor", "ASC", {}),
        ("starts_at >= :start", "ASC", {"start": NOW + timedelta(days=20)}),
        ("starts_at < :start AND starts_at > :floor", "DESC", {"start": NOW + timedelta(days=20)}),
    ):
        sql = reservable._RESERVABLE.format(bound=bound, way=way)
        plan = await _plan(db, sql, {**params, **extra})
        shown = "\n".join(plan)
        assert _enters_a_start_index(plan), shown
        assert not _reads_sessions_whole(plan), shown


async def test_pages_go_forward_and_back_without_gaps(
    db: Database, history_world: builders.World
) -> None:
    """Sessions every 6 hours ahead: page after page forward, then back, the same dates."""
    ask = date_pages.DateAsk(NOW)
    forward = []
    for _ in range(4):
        page = await date_pages.date_page(
            db, history_world.studio_id, history_world["taster"], NOW, ask
        )
        assert len(page.dates) == date_pages.DATE_PAGE
        forward.append([d.session.id for d in page.dates])
        assert page.later is not None
        ask = date_pages.DateAsk(NOW, start=page.later)
    flat = [i for ids in forward for i in ids]
    assert len(set(flat)) == len(flat)  # nothing twice (no two share a start here)
    starts = sorted(flat)
    assert flat == starts  # soonest first, and consecutive: no gap
    # Back from the fourth page: the third, the second, then the first, which has no earlier.
    ask = date_pages.DateAsk(NOW, start=page.later)
    page = await date_pages.date_page(
        db, history_world.studio_id, history_world["taster"], NOW, ask
    )
    for ids in reversed(forward):
        assert page.earlier is not None
        back = date_pages.DateAsk(NOW, before=page.earlier)
        page = await date_pages.date_page(
            db, history_world.studio_id, history_world["taster"], NOW, back
        )
        assert [d.session.id for d in page.dates] == ids
    assert page.earlier is None


async def test_the_floor_hides_what_can_no_longer_be_booked(
    db: Database, history_world: builders.World
) -> None:
    first = await date_pages.date_page(
        db, history_world.studio_id, history_world["taster"], NOW, date_pages.DateAsk(NOW)
    )
    cutoff = first.dates[0].session.starts_at  # as if the booking cutoff reached it
    later = await date_pages.date_page(
        db, history_world.studio_id, history_world["taster"], NOW, date_pages.DateAsk(cutoff)
    )
    assert later.dates[0].session.id == first.dates[1].session.id
    assert all(d.session.starts_at > cutoff for d in later.dates)


async def test_a_courses_runs_are_read_from_the_floor_on(
    db: Database, history_world: builders.World
) -> None:
    """From a start index on; PostgreSQL, whose statistics here say no session belongs to
    a run, may enter by run instead: either way, an index and never the whole table."""
    params = {
        "studio_id": history_world.studio_id,
        "class_id": history_world["taster"],
        "floor": NOW,
    }
    plan = await _plan(db, browse._RUNS, params)
    shown = "\n".join(plan)
    indexes = (*START_INDEXES, "uq_sessions_pattern_id_occurrence_date")
    assert any(index in step for step in plan for index in indexes), shown
    assert not _reads_sessions_whole(plan), shown
