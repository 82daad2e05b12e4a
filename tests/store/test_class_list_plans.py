"""The class list reads each class's next open session through ix_sessions_class_starts and
that session by primary key: never the class's history (3,000 past sessions here), nor the
studio's sessions whole.

EXPLAINed as `test_query_plans` does (SQLite's EXPLAIN QUERY PLAN unanalysed, PostgreSQL's
EXPLAIN after ANALYZE), with the course and the drop-in having no session at all (a class
with nothing ahead must not read the studio's future to find that out), and run.
"""

from __future__ import annotations

from bookbot.services import browse
from bookbot.store.db import Database
from tests import builders
from tests.store import test_query_plans
from tests.store.test_query_plans import NOW, PAST, _plan, _when

history_world = test_query_plans.history  # the fixture: 3,000 sessions past, 200 ahead


def _reads_sessions_whole(plan: list[str]) -> list[str]:
    """Steps that scan the sessions table (under the query's aliases s and n) whole."""
    found = []
    for step in plan:
        words = step.lstrip(" ->").split()
        sqlite_scan = words[:2] in (["SCAN", "s"], ["SCAN", "n"], ["SCAN", "sessions"])
        pg_scan = words[:4] == ["Seq", "Scan", "on", "sessions"]
        if sqlite_scan or pg_scan:
            found.append(step)
    return found


async def test_the_class_list_probes_each_class_by_index(
    db: Database, history_world: builders.World
) -> None:
    for extra, params in (
        ("", {}),
        ("AND c.id = :class_id", {"class_id": history_world["taster"]}),
    ):
        sql = browse._CARDS.format(extra=extra)
        plan = await _plan(db, sql, {"studio_id": history_world.studio_id, "now": NOW, **params})
        shown = "\n".join(plan)
        assert any("ix_sessions_class_starts" in step for step in plan), shown
        by_key = ("pk_sessions", "INTEGER PRIMARY KEY")  # PostgreSQL's name, SQLite's rowid
        assert any(key in step for step in plan for key in by_key), shown
        assert not _reads_sessions_whole(plan), shown
        sorts = [step for step in plan if "TEMP B-TREE" in step or "Sort" in step]
        assert not sorts, shown  # the index gives (starts_at, id) order: nothing to sort


async def test_the_class_list_shows_the_next_open_session(
    db: Database, history_world: builders.World
) -> None:
    """Only the taster has sessions: its card, at the first one after NOW; none for the
    course and the drop-in, which have nothing ahead."""
    studio, taster = history_world.studio_id, history_world["taster"]
    cards = await browse.class_cards(db, studio, NOW)
    assert [c.id for c in cards] == [taster]
    assert cards[0].next_start == _when(PAST)
    assert await browse.class_card(db, studio, taster, NOW) == cards[0]
    assert await browse.class_card(db, studio, history_world["course"], NOW) is None
    # From just after the first session ahead: the second one.
    later = await browse.class_card(db, studio, taster, _when(PAST))
    assert later is not None
    assert later.next_start == _when(PAST + 1)
