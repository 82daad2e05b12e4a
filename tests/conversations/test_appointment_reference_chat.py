"""An appointment's confirmation carries its reference, and MY <reference> opens it for its
customer only."""

from __future__ import annotations

from bookbot.conversations.dialogue import Dialogues
from bookbot.services.references import booking_reference
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_appointments_chat import _to_times, trial

__all__ = ["trial"]  # the fixture: a trial lesson with Sam and Tom


async def test_an_appointment_is_found_by_its_reference(
    chat: Chat, dialogues: Dialogues, db: Database, trial: int
) -> None:
    assert trial
    await _to_times(chat, "Tom")
    await chat.press("11:00")
    await chat.press("✅ Confirm")
    ident = int(await db.scalar("SELECT id FROM appointments"))
    ref = booking_reference("appointment", ident)
    assert ref.startswith("A-")
    assert f"Reference: {ref}" in chat.replies[0].text

    await chat.say(f"my {ref}")
    assert chat.text.startswith(f"Appointment #{ident}: Trial lesson with Tom")

    ben = Chat(dialogues, address="+447700900333", name="Ben")
    await ben.say("/start")
    await ben.say(f"MY {ref}")
    assert f"None of your bookings has the reference {ref}." in ben.text
    assert "Trial lesson" not in ben.text
