"""A full date offers its waitlist wherever it is shown: a single class's date, a drop-in
date (the waitlist of that one date) and a session to reserve with a pass (whose freed
place is then reserved on the pass, not booked and paid again). The party-size screen
lists the sizes first, says how to ask for more, and says a full date once."""

from __future__ import annotations

from datetime import UTC, datetime

from bookbot.conversations.dialogue import Dialogues
from bookbot.store.db import Database
from tests.conversations.chat import Chat

MON_23 = (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC))
SAT_21 = (datetime(2026, 11, 21, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC))


async def set_capacity(db: Database, day: tuple[datetime, datetime], capacity: int) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET capacity = :c WHERE starts_at >= :a AND starts_at < :b",
            {"c": capacity, "a": day[0], "b": day[1]},
        )


async def waiting(db: Database) -> list[tuple[str, int, str]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT s.starts_at, w.guest_count, w.status FROM waitlist_entries w"
            " JOIN sessions s ON s.id = w.session_id ORDER BY w.id"
        )
    return [(str(r["starts_at"])[:10], int(r["guest_count"]), r["status"]) for r in rows]


async def count(db: Database, sql: str) -> int:
    async with db.transaction(write=False) as tx:
        return int(await tx.scalar(sql))


async def person(dialogues: Dialogues, n: int, name: str) -> Chat:
    chat = Chat(dialogues, address=f"+44770090080{n}", name=name)
    await chat.say("/start")
    return chat


async def book_drop_in_monday(chat: Chat) -> None:
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    await chat.press("Mon 23 Nov")
    await chat.press("Continue")
    await chat.say("1")
    await chat.say("yes")
    assert "Booked!" in chat.text


async def cancel_first_booking(chat: Chat) -> None:
    await chat.say("my bookings")
    await chat.say("1")
    await chat.press("Cancel this booking")
    await chat.press("Yes, cancel it")


async def test_a_full_class_date_says_so_once_and_asks_for_the_waitlist_party(
    chat: Chat, db: Database
) -> None:
    await set_capacity(db, SAT_21, 0)
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    assert chat.labels[0] == "Sat 21 Nov, 14:00 · full (waitlist)"
    await chat.say("1")
    assert chat.text.startswith("Sat 21 Nov, 14:00 is full. Join the waitlist?")
    assert chat.labels[:6] == ["1", "2", "3", "4", "5", "6"]  # sizes first: "2" is 2 either way
    await chat.say("2")
    assert "Only 0" not in chat.text
    assert chat.text.startswith("Join the waitlist for Sat 21 Nov, 14:00, for 2 people?")
    await chat.say("yes")
    assert "You are on the waitlist." in chat.text
    assert await waiting(db) == [("2026-11-21", 2, "waiting")]


async def test_the_party_screen_says_how_to_ask_for_more(chat: Chat, db: Database) -> None:
    async with db.transaction() as tx:  # more seats and wheels than buttons: 10 of each
        await tx.execute("UPDATE resources SET total_quantity = 10 WHERE key = 'potters-wheel'")
    await set_capacity(db, SAT_21, 10)
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    await chat.say("1")
    assert chat.text == (
        "How many people are coming (you included)? For more people, send e.g. “8 people”."
    )
    assert chat.labels[:6] == ["1", "2", "3", "4", "5", "6"]
    await chat.say("8 people")
    assert "Please check your booking" in chat.text
    await set_capacity(db, SAT_21, 3)
    await chat.say("menu")
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    await chat.say("1")
    assert "For more people" not in chat.text  # 3 seats: the buttons are all there is
    assert chat.labels[:5] == ["1", "2", "3", "Other dates", "Join the waitlist"]


async def test_a_drop_in_waitlist_is_for_one_date_and_books_it(
    dialogues: Dialogues, db: Database
) -> None:
    await set_capacity(db, MON_23, 1)
    ana, ben = await person(dialogues, 1, "Ana"), await person(dialogues, 2, "Ben")
    await book_drop_in_monday(ben)
    await ana.say("book")
    await ana.say("Open Studio Drop-in")
    await ana.press("Tue 24 Nov")
    assert "Mon 23 Nov, 16:00 · full (waitlist)" in ana.labels
    await ana.press("Mon 23 Nov")
    await ana.say("1")
    await ana.say("yes")
    assert ana.text.startswith("You are on the waitlist.")
    assert "✅ Tue 24 Nov, 16:00 · 8 seats left" in ana.labels  # her other date is still picked
    assert await waiting(db) == [("2026-11-23", 1, "waiting")]

    await cancel_first_booking(ben)
    assert await waiting(db) == [("2026-11-23", 1, "offered")]
    await ana.say("ACCEPT")
    assert ana.replies[0].text.startswith("🎉 Booked! Open Studio Drop-in, Mon 23 Nov 2026")
    assert (
        await count(
            db, "SELECT COUNT(*) FROM registrations WHERE kind = 'drop_in' AND status = 'confirmed'"
        )
        == 1
    )


async def test_a_pass_holder_waits_for_a_full_session_and_takes_it_with_the_pass(
    dialogues: Dialogues, db: Database
) -> None:
    await set_capacity(db, MON_23, 1)
    ana, ben = await person(dialogues, 1, "Ana"), await person(dialogues, 2, "Ben")
    await book_drop_in_monday(ben)
    await ana.say("book")
    await ana.say("Open Studio Drop-in")
    await ana.press("🎟 Get an unlimited pass")
    await ana.press("✅ Get this pass")
    await ana.press("📅 Reserve a session")
    assert "Mon 23 Nov, 16:00 · full (waitlist)" in ana.labels
    await ana.press("Mon 23 Nov")
    assert ana.text.startswith("Join the waitlist for Mon 23 Nov, 16:00, for 1 person?")
    await ana.say("yes")
    assert ana.text.startswith("You are on the waitlist.")
    assert "📅 Reserve a session" in ana.labels  # back on the pass
    await ana.say("back")  # to the offer: held already, so it is not sold twice by mistake
    assert ana.text == "You already have this pass (valid until Fri 18 Dec). Get another one?"

    await cancel_first_booking(ben)
    await ana.say("ACCEPT")
    assert ana.text.startswith(
        "🎉 Reserved with your pass: Open Studio Drop-in, Mon 23 Nov, 16:00."
    )
    assert await count(db, "SELECT COUNT(*) FROM reservations WHERE status = 'pending'") == 1
    assert await count(db, "SELECT COUNT(*) FROM registrations WHERE status = 'confirmed'") == 0
    assert await waiting(db) == [("2026-11-23", 1, "accepted")]
