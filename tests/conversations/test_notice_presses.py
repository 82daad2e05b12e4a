"""A press on a notice's button (a receipt, a reminder, an offer the bot sent first) answers
with a new message: the notice is a record the customer keeps, never replaced by the next
screen. Presses on the dialogue's own screens keep replacing them (Telegram edits them)."""

from __future__ import annotations

from datetime import timedelta

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_waitlist_chain import full_taster_with_a_queue, offers

ANA = "701"
REMINDER = "Reminder: Wheel Throwing Taster is tomorrow, Sat 28 Nov, 14:00."
EXPIRED = "That option has expired. Please use the latest message."


def token(replies: list[Reply], label_start: str) -> str:
    found = [o.token for o in replies[-1].options if o.label.startswith(label_start)]
    assert len(found) == 1, (label_start, [o.label for o in replies[-1].options])
    return found[0]


async def press(dialogues: Dialogues, address: str, token: str, on: str) -> list[Reply]:
    """A Telegram press on the message `on` (its message_ref)."""
    return await dialogues.handle(Inbound(Channel.TELEGRAM, address, token=token, message_ref=on))


async def shown(dialogues: Dialogues, address: str, ref: str) -> None:
    """What the Telegram adapter does once a message carrying options is sent."""
    await dialogues.note_message(Inbound(Channel.TELEGRAM, address), ref)


async def state(db: Database, address: str) -> str:
    found = await db.scalar("SELECT state FROM conversations WHERE address = :a", {"a": address})
    return str(found)


async def reminded(dialogues: Dialogues) -> tuple[list[Reply], list[Reply]]:
    """Ana on Telegram with the menu on message 1, then a reminder pushed as message 2."""
    menu = await Chat(dialogues, address=ANA, channel=Channel.TELEGRAM).say("/start")
    await shown(dialogues, ANA, f"{ANA}:1")
    notice = await dialogues.push(Channel.TELEGRAM, ANA, "reminder_24h", REMINDER)
    await shown(dialogues, ANA, f"{ANA}:2")
    return menu, notice


async def test_a_press_on_a_reminder_answers_with_a_new_message(dialogues: Dialogues) -> None:
    _, notice = await reminded(dialogues)
    assert [(r.text, r.edit) for r in notice] == [(REMINDER, False)]

    replies = await press(dialogues, ANA, token(notice, "🗓 My bookings"), on=f"{ANA}:2")
    assert [(r.text, r.edit) for r in replies] == [("You have no upcoming bookings.", False)]
    await shown(dialogues, ANA, f"{ANA}:3")

    # The answer is the dialogue's screen now: a press on it edits it, as on any screen.
    replies = await press(dialogues, ANA, token(replies, "📅 Book a class"), on=f"{ANA}:3")
    assert replies[-1].text.startswith("Our classes:")
    assert replies[-1].edit


async def test_the_notice_and_the_screen_before_it_are_stale_after_the_press(
    dialogues: Dialogues, db: Database
) -> None:
    menu, notice = await reminded(dialogues)
    replies = await press(dialogues, ANA, token(notice, "📅 Book a class"), on=f"{ANA}:2")
    assert [r.edit for r in replies] == [False]
    assert replies[-1].text.startswith("Our classes:")
    await shown(dialogues, ANA, f"{ANA}:3")

    # The notice's buttons and the menu before it still show in the chat: pressing them
    # changes nothing, and the answer replaces neither message.
    for old, on in ((notice, f"{ANA}:2"), (menu, f"{ANA}:1")):
        replies = await press(dialogues, ANA, token(old, "🗓 My bookings"), on=on)
        assert [(r.text, r.notice, r.toast) for r in replies] == [("", EXPIRED, True)]
        assert await state(db, ANA) == "classes"


async def test_a_reminder_pressed_after_the_chat_went_quiet_is_kept(
    dialogues: Dialogues, db: Database, clock: FrozenClock
) -> None:
    _, notice = await reminded(dialogues)
    clock.advance(timedelta(hours=20))  # the reminder is pressed the next morning
    replies = await press(dialogues, ANA, token(notice, "🗓 My bookings"), on=f"{ANA}:2")
    assert [r.edit for r in replies] == [False]
    assert await state(db, ANA) != "notice"


async def test_an_offer_accepted_on_the_notice_books_once_in_a_new_message(
    dialogues: Dialogues, db: Database, clock: FrozenClock
) -> None:
    await full_taster_with_a_queue(dialogues, db)
    await db.execute(
        "INSERT INTO channel_identities (studio_id, customer_id, channel, address)"
        " SELECT studio_id, id, 'telegram', '9090' FROM customers WHERE name = 'Ben'"
    )
    offer = await dialogues.push(Channel.TELEGRAM, "9090", "waitlist_offer", "A place freed up.")
    await shown(dialogues, "9090", "9090:5")

    accept = token(offer, "✅ Accept")
    clock.advance(timedelta(minutes=90))  # the offer holds for hours; the chat's 30 min idle
    replies = await press(dialogues, "9090", accept, on="9090:5")
    assert replies[0].text.startswith("🎉 Booked! Wheel Throwing Taster, Sat 28 Nov 2026")
    assert not any(r.edit for r in replies)
    await shown(dialogues, "9090", "9090:6")

    again = await press(dialogues, "9090", accept, on="9090:5")  # a second tap on the offer
    assert [(r.notice, r.toast) for r in again] == [(EXPIRED, True)]
    assert await offers(db) == [("Ben", "accepted"), ("Cy", "waiting")]
    booked = await db.scalar(
        "SELECT COUNT(*) FROM registrations g JOIN customers c ON c.id = g.customer_id"
        " WHERE c.name = 'Ben' AND g.status = 'confirmed'"
    )
    assert booked == 1


async def test_back_from_the_answer_to_a_notice_goes_to_the_menu(
    dialogues: Dialogues, db: Database
) -> None:
    """Not to the notice: shown again it would be an empty message, and no longer a notice."""
    _, notice = await reminded(dialogues)
    replies = await press(dialogues, ANA, token(notice, "📅 Book a class"), on=f"{ANA}:2")
    await shown(dialogues, ANA, f"{ANA}:3")
    replies = await press(dialogues, ANA, token(replies, "⬅ Back"), on=f"{ANA}:3")
    assert [(r.text, r.edit) for r in replies] == [("What would you like to do?", True)]
    assert await state(db, ANA) == "menu"
