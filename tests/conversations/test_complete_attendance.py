"""/complete ticks those who came (the booking checked in, or any day of it marked
attended) to start with, and a certificate issued to someone with no attendance recorded
is issued, but the confirmation says so (found by a tester: certificates went to people
who never checked in, unremarked). English and Spanish, both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_complete_chat import MAYA, clock  # noqa: F401  (fixture)
from tests.services.test_certificates import START, Course, make_course

ISSUE_2 = {"en": "🎓 Issue 2 certificates", "es": "🎓 Emitir 2 certificados"}


async def _maya(db: Database, clock: FrozenClock, language: str) -> tuple[Course, Chat]:  # noqa: F811
    c = await make_course(db, clock)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE staff SET telegram_user_id = :tg WHERE id = :id",
            {"tg": int(MAYA), "id": c.w["maya"]},
        )
    maya = Chat(
        Dialogues(db, clock),
        address=MAYA,
        name="Maya",
        channel=Channel.TELEGRAM,
        language=language,
    )
    await maya.say("/start")
    clock.set(START + timedelta(days=2, hours=1))  # the course's last day, under way
    await maya.say("/complete")
    return c, maya


async def _came(db: Database, c: Course, how: str) -> None:
    """Ann's booking (her and Zoë) on the last session came: checked in, or a day marked."""
    async with db.transaction() as tx:
        rs = await tx.scalar(
            "SELECT id FROM registration_sessions WHERE registration_id = :r AND session_id = :s",
            {"r": c.ann_reg, "s": c.w["c2"]},
        )
        if how == "checked_in":
            await tx.execute(
                "UPDATE registration_sessions SET attendance = 'checked_in' WHERE id = :id",
                {"id": rs},
            )
        else:
            await tx.execute(
                "INSERT INTO day_attendance (studio_id, registration_session_id, session_id,"
                " day_number, status, marked_at) VALUES (:st, :rs, :s, 1, 'attended', :now)",
                {"st": c.w.studio_id, "rs": rs, "s": c.w["c2"], "now": START},
            )


@pytest.mark.parametrize("how", ["checked_in", "day_marked"])
@pytest.mark.parametrize("language", ["en", "es"])
async def test_those_who_came_start_ticked(
    db: Database,
    clock: FrozenClock,  # noqa: F811
    language: str,
    how: str,
) -> None:
    c, maya = await _maya(db, clock, language)
    await _came(db, c, how)
    await maya.press(maya.labels[0])  # the last day's session, newest first
    assert maya.labels[:3] == ["✅ ann", "✅ Zoë Łukasiewicz", ISSUE_2[language]]
    await maya.press(ISSUE_2[language])
    if language == "en":
        assert "Session completed: 2 certificates issued" in maya.text
        assert "attendance" not in maya.text
    issued = await db.scalar("SELECT COUNT(*) FROM certificates")
    assert issued == 2


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_certificate_to_someone_not_checked_in_is_issued_with_a_warning(
    db: Database,
    clock: FrozenClock,  # noqa: F811
    language: str,
) -> None:
    _c, maya = await _maya(db, clock, language)
    await maya.press(maya.labels[0])  # the last day's session, newest first
    assert maya.labels[:2] == ["☐ ann", "☐ Zoë Łukasiewicz"]  # nobody came: none ticked
    await maya.press("☐ Zoë")
    await maya.press("🎓")
    assert "1" in maya.text
    if language == "en":
        assert "Session completed: 1 certificate issued" in maya.text
        assert "1 of them has no attendance recorded." in maya.text
    assert await db.scalar("SELECT COUNT(*) FROM certificates") == 1
