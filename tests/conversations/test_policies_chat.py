"""Policies up front, confirmations that say everything, references that find a booking,
and self check-in for ordinary bookings, through the dialogue.

The example studio: free cancellation up to 48 h (2 days) before; now is Fri 20 Nov 2026 09:00."""

from __future__ import annotations

from datetime import UTC, datetime

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.services.references import booking_reference
from bookbot.store.db import Database
from tests.conversations.chat import Chat

AT_STUDIO_RULE = "Free cancellation up to 2 days before the start; after that, no cancellations."


async def _registrations(db: Database) -> list[int]:
    rows = await db.all("SELECT id FROM registrations WHERE status = 'confirmed' ORDER BY id")
    return [int(r["id"]) for r in rows]


async def _book_taster(chat: Chat, date: str, guests: str = "2") -> None:
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    await chat.press(date)
    await chat.say(guests)


async def _book_dropin(chat: Chat, *dates: str) -> None:
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    for date in dates:
        await chat.press(date)
    await chat.press("Continue")
    await chat.say("1")
    await chat.say("confirm")


async def test_the_class_page_states_the_cutoff_and_what_comes_after(chat: Chat) -> None:
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    assert AT_STUDIO_RULE in chat.text


async def test_the_summary_states_the_deadline_of_its_date(chat: Chat) -> None:
    await _book_taster(chat, "Sat 28 Nov")
    assert "Please check your booking:" in chat.text
    assert (
        "Free cancellation until Thu 26 Nov, 14:00 (2 days before); after that, "
        "no cancellations." in chat.text
    )


async def test_a_summary_inside_the_cutoff_says_it_cannot_be_cancelled(chat: Chat) -> None:
    await _book_taster(chat, "Sat 21 Nov")
    assert (
        "Cancellations close 2 days before the start, so once booked this cannot be cancelled."
        in chat.text
    )


async def test_past_the_cutoff_no_cancel_or_move_is_offered(chat: Chat) -> None:
    await _book_taster(chat, "Sat 21 Nov")
    await chat.say("confirm")
    await chat.say("my")
    await chat.press("Wheel Throwing Taster")
    assert "Cancellations close 2 days before the start; contact the studio." in chat.text
    assert not [label for label in chat.labels if "Cancel this" in label or "Move" in label]


async def test_before_the_cutoff_cancel_and_move_are_offered(chat: Chat) -> None:
    await _book_taster(chat, "Sat 28 Nov")
    await chat.say("confirm")
    await chat.say("my")
    await chat.press("Wheel Throwing Taster")
    assert "Free cancellation until Thu 26 Nov, 14:00." in chat.text
    assert "Cancel this booking" in chat.labels
    assert "contact the studio" not in chat.text


async def test_a_drop_in_for_two_dates_confirms_both_with_venue_teacher_and_reference(
    chat: Chat, db: Database
) -> None:
    await _book_dropin(chat, "Mon 23 Nov", "Tue 24 Nov")
    [reg] = await _registrations(db)
    text = chat.replies[0].text
    assert text.startswith("🎉 Booked! Open Studio Drop-in, Mon 23 Nov 2026, 16:00")
    assert "• Mon 23 Nov 2026, 16:00 · with Tom Hargreaves" in text
    assert "• Tue 24 Nov 2026, 16:00 · with Tom Hargreaves" in text
    assert "Where: 14 Kiln Yard, London E8 3QP" in text
    assert f"Reference: {booking_reference('class', reg)}" in text


async def test_sms_confirmation_carries_the_reference_too(
    dialogues: Dialogues, db: Database
) -> None:
    sms = Chat(dialogues, address="+447700900123", channel=Channel.SMS)
    await sms.say("hi")
    await _book_taster(sms, "Sat 28 Nov")
    await sms.say("yes")
    [reg] = await _registrations(db)
    assert f"Reference: {booking_reference('class', reg)}" in sms.text
    assert "Where: 14 Kiln Yard" in sms.text


async def test_my_reference_opens_the_customers_own_booking(chat: Chat, db: Database) -> None:
    await _book_taster(chat, "Sat 28 Nov")
    await chat.say("confirm")
    [reg] = await _registrations(db)
    ref = booking_reference("class", reg)
    await chat.say(f"MY {ref.lower()}")
    assert chat.text.startswith("Wheel Throwing Taster\nSat 28 Nov 2026, 14:00")
    assert f"Reference: {ref}" in chat.text
    await chat.say("menu")
    await chat.say(f"mis {ref.replace('-', '')}")
    assert chat.text.startswith("Wheel Throwing Taster")


async def test_a_reference_of_another_customers_booking_is_refused_politely(
    chat: Chat, dialogues: Dialogues, db: Database
) -> None:
    await _book_taster(chat, "Sat 28 Nov")
    await chat.say("confirm")
    [reg] = await _registrations(db)
    ref = booking_reference("class", reg)
    ben = Chat(dialogues, address="+447700900222", name="Ben")
    await ben.say("/start")
    await ben.say(f"MY {ref}")
    assert f"None of your bookings has the reference {ref}." in ben.text
    assert "Wheel Throwing Taster" not in ben.text  # nothing of Ana's booking is shown
    assert "You have no upcoming bookings." in ben.text
    await ben.say("MY B-ZZZZ")  # no such booking at all: the same answer
    assert "None of your bookings has the reference B-ZZZZ." in ben.text
    await ben.say("MY CK-7F3Q")  # not even a reference: the same answer
    assert "None of your bookings has the reference CK-7F3Q." in ben.text


async def test_here_checks_in_an_ordinary_booking_inside_the_window(
    chat: Chat, db: Database, clock: FrozenClock
) -> None:
    await _book_dropin(chat, "Fri 20 Nov")  # 16:00 today
    clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # 1 h before: check-in is open
    await chat.say("HERE")
    assert "You are checked in. Enjoy the class!" in chat.text
    assert "check-in opens" not in chat.text
    assert await db.scalar("SELECT attendance FROM registration_sessions") == "checked_in"
    await chat.say("estoy aquí")
    assert "You are already checked in." in chat.text


async def test_here_outside_the_window_says_when_it_opens(
    chat: Chat, db: Database, clock: FrozenClock
) -> None:
    await _book_dropin(chat, "Fri 20 Nov")
    clock.set(datetime(2026, 11, 20, 13, 0, tzinfo=UTC))  # 3 h before
    await chat.say("here")
    assert "check-in opens at Fri 20 Nov, 14:00" in chat.text
    assert await db.scalar("SELECT attendance FROM registration_sessions") is None
    clock.set(datetime(2026, 11, 20, 18, 30, tzinfo=UTC))  # ended 18:00... after +2 h
    await chat.say("here")
    assert "You are checked in" not in chat.text


async def test_the_booking_screen_offers_check_in_while_it_is_open(
    chat: Chat, db: Database, clock: FrozenClock
) -> None:
    await _book_dropin(chat, "Fri 20 Nov")
    await chat.say("my")
    await chat.press("Open Studio Drop-in")
    assert not [label for label in chat.labels if label.startswith("✅ Check in")]
    clock.set(datetime(2026, 11, 20, 15, 30, tzinfo=UTC))
    await chat.say("menu")
    await chat.say("my")
    await chat.press("Open Studio Drop-in")
    await chat.press("✅ Check in")
    assert "You are checked in. Enjoy the class!" in chat.text
    assert not [label for label in chat.labels if label.startswith("✅ Check in")]
    assert await db.scalar("SELECT attendance FROM registration_sessions") == "checked_in"


async def test_the_last_reminder_of_a_booking_has_a_check_in_button(
    chat: Chat, dialogues: Dialogues, db: Database, clock: FrozenClock
) -> None:
    await _book_dropin(chat, "Fri 20 Nov")
    clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    chat.replies = await dialogues.push(
        Channel.CONSOLE, chat.address, "reminder_1h", "Open Studio Drop-in starts in an hour."
    )
    await chat.press("✅ Check in")
    assert "You are checked in. Enjoy the class!" in chat.text
    assert await db.scalar("SELECT attendance FROM registration_sessions") == "checked_in"


async def test_a_started_reservation_offers_no_cancel(
    dialogues: Dialogues, db: Database, clock: FrozenClock
) -> None:
    """A pass reservation can be cancelled until its class starts: a long class past its
    check-in window (2 h after the start) shows it as started, not a refused Cancel."""
    ana = Chat(dialogues, address="4242", name="Ana", channel=Channel.TELEGRAM)
    await ana.say("/start")
    await ana.say("book")
    await ana.say("Open Studio Drop-in")
    await ana.press("🎟 Get an unlimited pass")
    await ana.press("✅ Get this pass")
    await ana.press("📅 Reserve a session")
    await ana.press("Mon 23 Nov")
    assert ana.text.startswith("Reserved.")
    await db.execute(
        "UPDATE sessions SET ends_at = :ends WHERE starts_at = :starts",
        {
            "ends": datetime(2026, 11, 23, 21, 0, tzinfo=UTC),
            "starts": datetime(2026, 11, 23, 16, 0, tzinfo=UTC),
        },
    )
    clock.set(datetime(2026, 11, 23, 18, 30, tzinfo=UTC))  # started 2.5 h ago, ends at 21:00
    await ana.say("passes")
    await ana.press("Open Studio Drop-in ·")
    assert "Mon 23 Nov, 16:00 · started" in ana.labels
    assert not [label for label in ana.labels if label.startswith("Cancel")]
