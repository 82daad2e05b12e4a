"""A one-off session added in chat (/session add) is taught by its class's schedule's
instructor, as its capacity and place come from that schedule, when they are qualified
and free; else it has none and the confirmation says why (found by a tester: the class
page said "Teacher: Gareth Lewis" of a session nobody taught). The training centre, Fri 20
Nov 2026 09:00 London, in English and Spanish."""

from __future__ import annotations

import pytest

from bookbot.cli.demo import TRAINING_EXAMPLE
from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.examples import load_example_studio

GARETH = "+441174960301"  # on the example's staff list
ADD = {"en": "/session add", "es": "/session añadir"}


@pytest.fixture
async def studio_id(db: Database, clock: FrozenClock) -> int:
    return await load_example_studio(db, clock, name=TRAINING_EXAMPLE)


async def _add_acs(dialogues: Dialogues, language: str, day: str) -> Chat:
    gareth = Chat(dialogues, address=GARETH, name="Gareth", language=language)
    await gareth.say("/start")
    await gareth.say(ADD[language])
    await gareth.press("Gas Safe ACS Core")
    await gareth.say(day)
    await gareth.say("9:00-17:00")
    await gareth.say("12")
    await gareth.press("✅")
    return gareth


async def _instructor(db: Database, studio_id: int) -> object:
    return await db.scalar(
        "SELECT st.name FROM sessions s LEFT JOIN staff st ON st.id = s.instructor_id"
        " WHERE s.studio_id = :s AND s.pattern_id IS NULL",
        {"s": studio_id},
    )


@pytest.mark.parametrize("language", ["en", "es"])
async def test_the_schedule_instructor_teaches_a_one_off_session(
    dialogues: Dialogues, db: Database, studio_id: int, language: str
) -> None:
    gareth = await _add_acs(dialogues, language, "8/12" if language == "es" else "8 Dec")
    assert await _instructor(db, studio_id) == "Gareth Lewis"
    assert "Gareth Lewis" in gareth.text
    if language == "en":
        assert "Instructor: Gareth Lewis." in gareth.text


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_busy_schedule_instructor_leaves_it_untaught_and_says_so(
    dialogues: Dialogues, db: Database, studio_id: int, language: str
) -> None:
    # Wed 2 Dec: the fortnightly course Gareth teaches runs then.
    gareth = await _add_acs(dialogues, language, "2/12" if language == "es" else "2 Dec")
    assert await _instructor(db, studio_id) is None
    assert "Gareth Lewis" in gareth.text  # who could not, and why
    if language == "en":
        assert "No instructor assigned:" in gareth.text
