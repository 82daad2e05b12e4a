"""/complete in chat (staff): pick a recent session of a course with certificates, tap who
passed (attendees' names, else the customer's), issue; the count is confirmed, certificates
exist once, and a second issue finds them already issued (🎓). Customers are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.services.test_certificates import START, Course, make_course

MAYA = "5101"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


async def _maya(db: Database, clock: FrozenClock) -> tuple[Course, Chat]:
    c = await make_course(db, clock)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE staff SET telegram_user_id = :tg WHERE id = :id",
            {"tg": int(MAYA), "id": c.w["maya"]},
        )
    maya = Chat(Dialogues(db, clock), address=MAYA, name="Maya", channel=Channel.TELEGRAM)
    await maya.say("/start")
    return c, maya


async def test_staff_tap_who_passed_and_issue(db: Database, clock: FrozenClock) -> None:
    c, maya = await _maya(db, clock)
    clock.set(START + timedelta(days=2, hours=1))  # the course's last day, under way
    await maya.say("/complete")
    assert maya.last.text == "Which session is complete?"
    assert maya.labels == [
        "Wed 11 Nov, 10:00 · Course",
        "Tue 10 Nov, 10:00 · Course",
        "Mon 9 Nov, 10:00 · Taster",
        "Mon 9 Nov, 10:00 · Course",
        "⬅ Back",
        "🧰 Staff menu",
    ]
    await maya.press("Wed 11 Nov, 10:00 · Course")
    assert maya.last.text == "Tap the names of those who passed, then issue their certificates."
    assert maya.labels[:2] == ["☐ ann", "☐ Zoë Łukasiewicz"]
    await maya.press("☐ Zoë")
    await maya.press("☐ ann")
    await maya.press("✅ ann")  # changed her mind
    assert maya.labels[:3] == ["☐ ann", "✅ Zoë Łukasiewicz", "🎓 Issue 1 certificate"]
    await maya.press("🎓 Issue 1 certificate")
    assert "Session completed: 1 certificate issued" in maya.text
    assert maya.labels[:2] == ["☐ ann", "🎓 Zoë Łukasiewicz"]
    rows = await db.all("SELECT holder_name, session_id, first_day FROM certificates")
    assert [(r["holder_name"], r["session_id"]) for r in rows] == [("Zoë Łukasiewicz", c.w["c2"])]
    closed = await db.scalar("SELECT closed_at FROM sessions WHERE id = :id", {"id": c.w["c2"]})
    assert closed is not None  # completed early: closed as the sweep would
    notices = await db.scalar("SELECT COUNT(*) FROM outbox WHERE template = 'certificate_issued'")
    assert notices == 1
    await maya.press("🎓 Zoë")  # already issued: nothing to issue again
    assert "Issue" not in " ".join(maya.labels)
    await maya.press("⬅ Back")
    assert maya.labels[0] == "Wed 11 Nov, 10:00 · Course ✔"  # completed


async def test_sessions_listed_are_recent_courses_with_certificates(
    db: Database, clock: FrozenClock
) -> None:
    c, maya = await _maya(db, clock)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE classes SET issues_certificates = :no WHERE id = :id",
            {"no": False, "id": c.w["taster"]},
        )
    clock.set(START + timedelta(days=20))  # all more than two weeks ago
    await maya.say("/complete")
    assert maya.last.text == "No recent sessions of a course with certificates."
    clock.set(START + timedelta(hours=4))
    await maya.say("/complete")
    labels = maya.labels
    assert [label for label in labels if "·" in label] == ["Mon 9 Nov, 10:00 · Course"]


async def test_customers_cannot_complete(db: Database, clock: FrozenClock) -> None:
    await make_course(db, clock)
    ana = Chat(Dialogues(db, clock))
    await ana.say("/start")
    await ana.say("/complete")
    assert "Sorry, that is for studio staff only." in ana.text


async def test_a_session_not_started_is_not_listed(db: Database, clock: FrozenClock) -> None:
    _c, maya = await _maya(db, clock)
    clock.set(START - timedelta(minutes=1))
    await maya.say("/complete")
    assert maya.last.text == "No recent sessions of a course with certificates."
