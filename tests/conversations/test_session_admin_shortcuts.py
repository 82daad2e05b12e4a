"""/session's shortcuts (issue 17, found by a tester): "/session add" goes straight to
choosing the class and "/session change" to choosing the session; a course's usual days
are chosen to start with; a start and an end typed together ("09:00-17:00") answer both
questions; the end question offers the class's usual day ("17:00 (8 h)"); more seats say
how many places the waiting list was offered (English only until that message is
translated). The training centre, Fri 20 Nov 2026 09:00 London, in English and Spanish."""

from __future__ import annotations

from datetime import date, time

import pytest

from bookbot.cli.demo import TRAINING_EXAMPLE
from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.services import booking, waitlist
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import customer
from tests.examples import load_example_studio

GARETH = "+441174960301"  # on the example's staff list

WORDS = {
    "en": {
        "add": "/session add",
        "change": "/session change",
        "class": "Which class is the new session of?",
        "pick": "Choose a session to change:",
        "range": "9am-5pm",
        "new": "New session of Gas Safe ACS Core:",
        "seats": "How many seats? Type a number (usually 12).",
        "days": "A course over 3 days: type its first date",
    },
    "es": {
        "add": "/session añadir",
        "change": "/session cambiar",
        "class": "¿De qué clase es la nueva sesión?",
        "pick": "Elige una sesión para cambiarla:",
        "range": "de 9:00 a 17:00",
        "new": "Nueva sesión de Gas Safe ACS Core:",
        "seats": "¿Cuántas plazas? Escribe un número (normalmente 12).",
        "days": "Un curso de 3 días: escribe la fecha del primer día",
    },
}


@pytest.fixture
async def studio_id(db: Database, clock: FrozenClock) -> int:
    return await load_example_studio(db, clock, name=TRAINING_EXAMPLE)


async def _gareth(dialogues: Dialogues, language: str) -> Chat:
    gareth = Chat(dialogues, address=GARETH, name="Gareth", language=language)
    await gareth.say("/start")
    return gareth


@pytest.mark.parametrize("language", ["en", "es"])
async def test_session_add_and_change_go_straight_there(
    dialogues: Dialogues, language: str
) -> None:
    words = WORDS[language]
    gareth = await _gareth(dialogues, language)
    await gareth.say(words["add"])
    assert gareth.text.startswith(words["class"])
    assert "Gas Safe ACS Core" in gareth.labels
    await gareth.say(words["change"])
    assert gareth.text.startswith(words["pick"])
    await gareth.say("/session")  # alone: the menu of both, as before
    assert not gareth.text.startswith(words["class"])
    assert not gareth.text.startswith(words["pick"])


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_start_and_end_typed_together_skip_the_end_question(
    dialogues: Dialogues, db: Database, studio_id: int, language: str
) -> None:
    words = WORDS[language]
    gareth = await _gareth(dialogues, language)
    await gareth.say(words["add"])
    await gareth.press("Gas Safe ACS Core")
    assert gareth.text.startswith(words["days"])  # its schedule's three days, to start with
    await gareth.say("8/12" if language == "es" else "8 Dec")
    await gareth.say(words["range"])
    assert gareth.text.startswith(words["seats"])
    await gareth.say("12")
    assert words["new"] in gareth.text
    assert "09:00–17:00" in gareth.text
    await gareth.press("✅")
    row = await db.one(
        "SELECT starts_at, ends_at FROM sessions WHERE studio_id = :s AND pattern_id IS NULL",
        {"s": studio_id},
    )
    assert row is not None
    assert str(row["starts_at"]).startswith("2026-12-08 09:00")
    assert str(row["ends_at"]).startswith("2026-12-10 17:00")  # Tue 8 – Thu 10 Dec


@pytest.mark.parametrize("language", ["en", "es"])
async def test_the_end_question_offers_the_class_usual_day(
    dialogues: Dialogues, db: Database, studio_id: int, language: str
) -> None:
    gareth = await _gareth(dialogues, language)
    await gareth.say(WORDS[language]["add"])
    await gareth.press("Heat Pump Installation Awareness")
    await gareth.say("9/12" if language == "es" else "9 Dec")
    await gareth.say("9:30")
    assert gareth.labels[0] == "16:30 (7 h)"  # its schedule's 420 minutes
    assert "60 min" in gareth.labels
    await gareth.press("16:30 (7 h)")
    await gareth.say("10")
    assert "09:30–16:30" in gareth.text
    await gareth.press("✅")
    ends = await db.scalar(
        "SELECT ends_at FROM sessions WHERE studio_id = :s AND pattern_id IS NULL",
        {"s": studio_id},
    )
    assert str(ends).startswith("2026-12-09 16:30")


async def test_more_seats_say_the_waiting_list_was_offered_them(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    made = await add_session(
        db, clock, studio_id, NewSession("acs-core", date(2026, 12, 9), time(9), time(17), 1)
    )
    ben = await customer(db, clock, studio_id, "Ben Baker", "+447700900201")
    cy = await customer(db, clock, studio_id, "Cy Young", "+447700900202")
    await booking.book_session(db, clock, studio_id, ben, made.id, guests=1)
    await waitlist.join_waitlist(db, clock, studio_id, cy, made.id, guests=1)
    gareth = await _gareth(dialogues, "en")
    await gareth.say(WORDS["en"]["change"])
    await gareth.say("9 Dec")  # the one session that day: opened at once
    await gareth.press("👥 Change the capacity")
    await gareth.say("2")
    await gareth.press("✅")
    assert "2 seats. 1 place was offered to the waiting list." in gareth.text
