"""Cancelling a booking once it cannot be (issue 17, found by a tester): on day 2 of a
three-day course inside the cutoff, its page offers no Cancel and says why (it used to offer
one that was then refused as "up to 336 hours before the start"); and a cancel confirmed
after the cutoff passed says the policy in days. The example studio (free cancellation up
to 48 h before), in English and Spanish, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests.conversations.chat import Chat

CLOSED = {
    "en": "Cancellations close 2 days before the start; contact the studio.",
    "es": "Las cancelaciones cierran 2 días antes del inicio; contacta con el estudio.",
}
CANCEL = {"en": "Cancel this booking", "es": "Cancelar esta reserva"}
MY = {"en": "my", "es": "mis reservas"}


async def _booked(dialogues: Dialogues, language: str, label: str) -> Chat:
    chat = Chat(dialogues, language=language)
    for said in ("/start", "book", "Wheel Throwing Taster"):
        await chat.say(said)
    await chat.press(label)
    await chat.say("1")
    await chat.press("✅")
    await chat.say(MY[language])
    await chat.press("Wheel Throwing Taster")
    return chat


@pytest.mark.parametrize("language", ["en", "es"])
async def test_no_cancel_on_a_course_under_way(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int, language: str
) -> None:
    course = NewSession("wheel-taster", date(2026, 11, 25), time(9), time(17), 4, days=3)
    await add_session(db, clock, studio_id, course)
    label = "Wed 25 – Fri 27 Nov" if language == "en" else "mié 25 – vie 27 nov"
    chat = await _booked(dialogues, language, label)
    assert CANCEL[language] in chat.labels  # before the cutoff
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))  # day 2
    await chat.say(MY[language])
    await chat.press("Wheel Throwing Taster")
    assert CANCEL[language] not in chat.labels
    assert CLOSED[language] in chat.text
    await chat.say("cancel")
    assert chat.text.startswith(CLOSED[language])
    assert await db.scalar("SELECT COUNT(*) FROM registrations WHERE status = 'cancelled'") == 0


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_cancel_confirmed_after_the_cutoff_says_it_in_days(
    dialogues: Dialogues, clock: FrozenClock, language: str
) -> None:
    chat = await _booked(dialogues, language, "Sat 28 Nov" if language == "en" else "sáb 28 nov")
    clock.set(datetime(2026, 11, 26, 13, 55, tzinfo=UTC))  # 48 h and 5 min before 14:00
    await chat.say(MY[language])
    await chat.press("Wheel Throwing Taster")
    await chat.press(CANCEL[language])
    clock.set(datetime(2026, 11, 26, 14, 1, tzinfo=UTC))  # the cutoff passed while asked
    await chat.press("Yes" if language == "en" else "Sí")
    assert chat.text.startswith(CLOSED[language])
    assert "hours" not in chat.text
    assert "horas" not in chat.text
