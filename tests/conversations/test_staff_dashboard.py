"""/report's dashboard and feedback averages for staff: tables sent preformatted, with the
report menu again under them."""

from __future__ import annotations

from datetime import timedelta

from bookbot.conversations.dialogue import Dialogues
from bookbot.store.db import Database
from tests import builders
from tests.builders import World
from tests.conversations.test_staff import staff_chat
from tests.examples import NOW
from tests.feedback_world import booking, close


async def attended_class(db: Database, studio_id: int) -> World:
    """Ben attended a class two days ago (capacity 8, Maya teaching) and rated it 4."""
    w = World(studio_id)
    w.ids["ben"] = await builders.customer(db, w, "ben")
    w.ids["klass"] = int(
        await db.scalar(
            "SELECT id FROM classes WHERE studio_id = :s ORDER BY name LIMIT 1", {"s": studio_id}
        )
    )
    maya = await db.scalar("SELECT id FROM staff WHERE studio_id = :s AND key = 'maya'",
                           {"s": studio_id})  # fmt: skip
    start = NOW - timedelta(days=2)
    await builders.session(db, w, "past", "klass", start)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET instructor_id = :m WHERE id = :id", {"m": maya, "id": w["past"]}
        )
    await booking(db, w, "reg", customer="ben", class_key="klass", sessions=["past"],
                  attendance=["attended"], guests=2)  # fmt: skip
    await close(db, w, "past", start + timedelta(hours=2))
    async with db.transaction() as tx:
        await builders._insert(
            tx, "course_feedback", studio_id=studio_id, registration_id=w["reg"],
            class_id=w["klass"], instructor_id=maya, rating=4, comment="",
            created_at=NOW - timedelta(days=1),
        )  # fmt: skip
    return w


async def test_report_shows_dashboard_and_feedback(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    await attended_class(db, studio_id)
    name = str(
        await db.scalar(
            "SELECT name FROM classes WHERE studio_id = :s ORDER BY name LIMIT 1", {"s": studio_id}
        )
    )
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/report")
    replies = await maya.press("Feedback, last 30 days")
    assert replies[-1].preformatted
    table = replies[-1].text
    assert table.startswith("Feedback, ")
    assert ["1", "4.0"] in [line.split()[-2:] for line in table.splitlines()]
    assert any(line.startswith("Maya") for line in table.splitlines())
    assert "Dashboard by course, last 30 days" in maya.labels

    replies = await maya.press("Dashboard by course, last 30 days")
    table = replies[-1].text
    assert table.startswith("Dashboard by course, ")
    row = next(line for line in table.splitlines() if line.startswith(name[:6]))
    # One booking for two: 2 seats, the units Fill% counts (2 of 8), not 1 booking.
    assert row.split()[-5:] == ["1", "2", "25.0%", "100.0%", "0.0%"]
    assert "Seats" in table.splitlines()[1]
