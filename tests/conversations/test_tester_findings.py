"""Found by using bookbot as a customer would (the example studio; now is Fri 20 Nov 2026
09:00, free cancellation up to 48 h before)."""

from __future__ import annotations

from bookbot.conversations.dialogue import Dialogues
from tests.conversations.chat import Chat


async def _booked_taster(chat: Chat, date: str) -> None:
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    await chat.press(date)
    await chat.say("2")
    await chat.say("confirm")
    await chat.say("my")
    await chat.press("Wheel Throwing Taster")


async def test_cancel_typed_at_a_booking_asks_to_cancel_that_booking(chat: Chat) -> None:
    # "cancel" at a booking's page is about the booking, not a silent way back to the menu.
    await _booked_taster(chat, "Sat 28 Nov")
    assert not [label for label in chat.labels if label.startswith("✖ Cancel")]
    await chat.say("cancel")
    assert "Cancel Wheel Throwing Taster on Sat 28 Nov, 14:00? This cannot be undone." in (
        chat.text
    )


async def test_cancel_typed_at_a_booking_past_its_cutoff_says_why_not(chat: Chat) -> None:
    await _booked_taster(chat, "Sat 21 Nov")
    await chat.say("cancel")
    assert "What would you like to do?" not in chat.text  # not dropped at the menu
    assert chat.text.startswith("Cancellations close 2 days before the start; contact the studio.")
    await chat.say("I want to cancel my booking please")
    assert chat.text.startswith("Cancellations close 2 days before the start; contact the studio.")


async def test_a_roster_in_the_terminal_says_choose_not_tap(
    chat: Chat, dialogues: Dialogues
) -> None:
    # Maya's phone is on the staff list: the shell (console) is her staff chat too.
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    await chat.press("Fri 20 Nov")
    await chat.press("Continue")
    await chat.say("1")
    await chat.say("confirm")
    maya = Chat(dialogues, address="+442079460101", name="Maya")
    await maya.say("/roster")
    await maya.press("Fri 20 Nov, 16:00")
    assert "Choose a name to check them in." in maya.text
    assert "Tap" not in maya.text


async def test_my_bookings_points_to_sessions_reserved_with_a_pass(chat: Chat) -> None:
    # A session reserved with a pass is no "booking": My bookings says where it is.
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    await chat.press("🎟 Get an unlimited pass for 28 days")
    await chat.press("✅ Get this pass")
    await chat.press("📅 Reserve a session")
    await chat.press("Mon 23 Nov")
    await chat.say("my bookings")
    assert "You have no upcoming bookings." not in chat.text
    assert "You have 1 session reserved with a pass: see My passes." in chat.text
    await chat.press("🎟 My passes")
    assert chat.labels[0].startswith("Open Studio Drop-in · 1 reserved")


async def test_cancel_typed_at_a_pass_cancels_its_reservation(chat: Chat) -> None:
    # "cancel" at a pass with a reservation is about the reservation, not the menu.
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    await chat.press("🎟 Get an unlimited pass for 28 days")
    await chat.press("✅ Get this pass")
    await chat.press("📅 Reserve a session")
    await chat.press("Mon 23 Nov")
    assert not [label for label in chat.labels if label.startswith("✖ Cancel")]
    await chat.press("📅 Reserve a session")
    await chat.press("Tue 24 Nov")
    await chat.say("cancel")
    assert "Did you mean" in chat.text
    await chat.say("cancel tue 24 nov")
    assert "What would you like to do?" not in chat.text
    assert [label for label in chat.labels if label.startswith("Cancel ")] == [
        "Cancel Mon 23 Nov, 16:00"
    ]


async def test_a_greeting_is_greeted_not_misunderstood(chat: Chat) -> None:
    for hello in ("hello", "Hi there!", "good morning"):
        await chat.say(hello)
        assert chat.text.startswith("Hi Ana! I'm the booking assistant of Clay & Kiln.")
        assert "did not understand" not in chat.text
        assert "📅 Book a class" in chat.labels
    await chat.say("book")
    await chat.say("Wheel Throwing Taster")
    await chat.say("hi")  # mid-booking: greeted, and still at the class's dates
    assert "did not understand" not in chat.text
    assert "Wheel Throwing Taster" in chat.text


async def test_hola_is_greeted_in_spanish(dialogues: Dialogues) -> None:
    lucia = Chat(dialogues, address="+34600000001", name="Lucía", language="es")
    await lucia.say("hola")
    for hello in ("hola", "buenos días", "Buenas tardes"):
        await lucia.say(hello)
        assert lucia.text.startswith("¡Hola, Lucía!")
        assert "no te he entendido" not in lucia.text


async def test_a_booking_for_two_dates_shows_both_on_its_page(chat: Chat) -> None:
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    await chat.press("Mon 23 Nov")
    await chat.press("Tue 24 Nov")
    await chat.press("Continue")
    await chat.say("1")
    await chat.say("confirm")
    await chat.say("my")
    await chat.press("Open Studio Drop-in")
    assert "• Mon 23 Nov 2026, 16:00" in chat.text
    assert "• Tue 24 Nov 2026, 16:00" in chat.text


async def test_later_and_earlier_typed_in_spanish_page_the_dates(dialogues: Dialogues) -> None:
    lucia = Chat(dialogues, address="+34600000001", name="Lucía", language="es")
    await lucia.say("hola")
    await lucia.say("reservar")
    await lucia.say("Open Studio Drop-in")
    first = lucia.labels[0]
    for later in ("más tarde", "mas fechas", "siguientes"):
        await lucia.say(later)
        assert "no te he entendido" not in lucia.text
        assert lucia.labels[0] != first
        await lucia.say("antes")
        assert lucia.labels[0] == first


async def test_no_at_the_forget_question_keeps_the_data(chat: Chat, dialogues: Dialogues) -> None:
    await chat.say("/forget")
    await chat.say("no")
    assert "did not understand" not in chat.text
    assert chat.text.startswith("What would you like to do?")
    await chat.say("hello")
    assert chat.text.startswith("Hi Ana!")  # still known by name: nothing was forgotten
    lucia = Chat(dialogues, address="+34600000001", name="Lucía", language="es")
    await lucia.say("hola")
    await lucia.say("olvídame")
    await lucia.say("No")
    assert "no te he entendido" not in lucia.text


async def test_done_or_seguir_after_picking_dates_continues(dialogues: Dialogues) -> None:
    lucia = Chat(dialogues, address="+34600000001", name="Lucía", language="es")
    await lucia.say("hola")
    await lucia.say("reservar")
    await lucia.say("Open Studio Drop-in")
    await lucia.say("2 4")
    await lucia.say("seguir")
    assert lucia.text.startswith("¿Cuántas personas vienen")
    await lucia.say("menu")
    await lucia.say("reservar")
    await lucia.say("Open Studio Drop-in")
    await lucia.say("2")
    await lucia.say("listo")
    assert lucia.text.startswith("¿Cuántas personas vienen")


async def test_back_at_the_menu_shows_the_menu_without_an_apology(chat: Chat) -> None:
    await chat.say("back")
    assert chat.text == "What would you like to do?"
    await chat.say("atrás")
    assert chat.text == "What would you like to do?"


async def test_session_changes_in_the_terminal_say_choose_not_tap(dialogues: Dialogues) -> None:
    maya = Chat(dialogues, address="+442079460101", name="Maya")
    await maya.say("/session")
    await maya.press("✏️ Change a session")
    await maya.press("Fri 20 Nov, 16:00")
    await maya.press("🕒 Change the time")
    assert maya.text == "Type the new date, such as 15 Jan or friday, or choose Same day."
    await maya.press("Same day")
    await maya.say("17:00")
    assert maya.text == "Type the end time, or choose how long it lasts."


async def test_party_and_day_typed_at_the_class_list_are_kept(chat: Chat) -> None:
    await chat.say("book")
    await chat.say("2 people tomorrow")  # no class named yet: kept for the class chosen next
    assert "did not understand" not in chat.text
    await chat.say("Wheel Throwing Taster")
    assert chat.text.startswith("Please check your booking:")
    assert "• Sat 21 Nov 2026, 14:00\n2 people" in chat.text
