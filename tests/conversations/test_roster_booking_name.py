"""A booking is on the roster under the name given for it (issue 17, found by a tester):
a customer whose chat name is "Ana" books as "Ana López"; the roster, its table and the
check-in say "Ana López", as the certificate will. Without details, the customer's name."""

from __future__ import annotations

from bookbot.conversations.dialogue import Dialogues
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_roster_details_notes import SESSION, _book_with_details
from tests.conversations.test_staff import staff_chat


async def test_the_roster_names_a_booking_as_it_was_booked(
    chat: Chat, dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    await _book_with_details(chat, db, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/roster")
    await maya.press(SESSION)
    assert maya.labels[0].startswith("Ana López · 2 people")


async def test_without_details_the_roster_has_the_customer_name(
    chat: Chat, dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    for said in ("book", "Wheel Throwing Taster", "1", "1"):
        await chat.say(said)
    await chat.press("✅ Confirm booking")
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/roster")
    await maya.press(SESSION)
    assert maya.labels[0].startswith("Ana")
    assert not maya.labels[0].startswith("Ana López")
