"""The roster shows attendee details and instructor notes (issue 17); notes are added and
cleared from the roster, by staff only, and no customer screen ever shows them."""

from __future__ import annotations

from bookbot.conversations.dialogue import Dialogues
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_attendee_details import ask_for, to_details
from tests.conversations.test_staff import staff_chat

SESSION = "Sat 21 Nov, 14:00 · Wheel Throwing Taster"
NOTE = "Wheel 4 wobbles; spare key in box 4471"


async def _book_with_details(chat: Chat, db: Database, studio_id: int) -> None:
    await ask_for(db, studio_id, "email,company,requests,names")
    await to_details(chat, "2")
    await chat.say("Ana López")
    await chat.say("ana@acme.example")
    await chat.say("Acme Ltd")
    await chat.say("Gluten-free")
    await chat.say("Ben Ode")
    await chat.press("✅ Confirm booking")
    assert "🎉 Booked!" in chat.text


async def test_the_roster_lists_details_and_takes_notes(
    chat: Chat, dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    await _book_with_details(chat, db, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/roster")
    await maya.press(SESSION)
    assert "Attendee details:" in maya.text
    assert "• Ana López · ana@acme.example · Acme Ltd" in maya.text
    assert "  Requests: Gluten-free" in maya.text
    assert "  + Ben Ode" in maya.text
    assert "📝 Notes:" not in maya.text

    await maya.press("📝 Notes")
    assert "Instructor notes (staff only):\nnone yet" in maya.text
    await maya.say(f"  {NOTE}\u202e ")
    assert "Notes saved." in maya.text
    assert f"📝 Notes: {NOTE}" in maya.text  # back on the roster
    stored = await db.scalar("SELECT instructor_notes FROM sessions WHERE instructor_notes <> ''")
    assert stored == NOTE
    await maya.press("⬅ Back")  # the roster's Back: the list, not the notes again
    assert "Choose a session to see its roster:" in maya.text

    await maya.press(SESSION)
    await maya.press("📝 Notes")
    assert NOTE in maya.text
    await maya.say("clear")
    assert "Notes cleared." in maya.text
    assert "📝 Notes:" not in maya.text
    assert await db.scalar("SELECT COUNT(*) FROM sessions WHERE instructor_notes <> ''") == 0


async def test_customers_never_see_notes_nor_reach_them(
    chat: Chat, db: Database, studio_id: int
) -> None:
    await _book_with_details(chat, db, studio_id)
    async with db.transaction() as tx:
        await tx.execute("UPDATE sessions SET instructor_notes = :n", {"n": NOTE})
    seen = []
    for said in ("/start", "book", "Wheel Throwing Taster", "my", "1"):
        await chat.say(said)
        seen.append(chat.text)
    await chat.say("notes")
    seen.append(chat.text)
    await chat.say("/roster")
    seen.append(chat.text)
    assert all(NOTE not in text for text in seen)
    assert all("4471" not in text for text in seen)
    assert await db.scalar("SELECT COUNT(*) FROM sessions WHERE instructor_notes = :n", {"n": NOTE})
