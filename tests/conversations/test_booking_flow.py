"""Booking by chat through the conversation layer: every path and every refusal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import icalendar

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat


async def _count(db: Database, sql: str) -> int:
    async with db.transaction(write=False) as tx:
        return int(await tx.scalar(sql) or 0)


async def booked_seats(db: Database) -> int:
    return await _count(
        db, "SELECT SUM(guest_count) FROM registration_sessions WHERE status = 'booked'"
    )


async def test_welcome_names_the_person_and_the_studio(chat: Chat) -> None:
    assert chat.text.startswith("Hi Ana! I'm the booking assistant of Clay & Kiln.")
    assert chat.labels == [
        "📅 Book a class",
        "🗓 My bookings",
        "🎟 My passes",
        "🌐 Language",
        "❓ Help",
    ]  # no "Talk to a person": the demo studio has no staff chat to answer (test_handoff)


async def test_wheel_class_for_two_in_a_few_replies_with_calendar_file(
    chat: Chat, db: Database
) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1", "2"):
        await chat.say(reply)
    assert "Sat 21 Nov 2026, 14:00" in chat.text
    assert "2 people" in chat.text
    assert "Total: £90.00, paid at the studio." in chat.text

    replies = await chat.say("confirm")

    assert chat.sent <= 10
    assert replies[0].text.startswith("🎉 Booked! Wheel Throwing Taster, Sat 21 Nov 2026, 14:00")
    attachment = replies[0].attachment
    assert attachment is not None
    assert attachment.mime_type == "text/calendar"
    event = icalendar.Calendar.from_ical(attachment.content).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    assert await booked_seats(db) == 2
    assert chat.labels[0] == "📅 Book a class"  # back at the menu


async def test_class_details_show_teacher_requirements_price_and_seats(chat: Chat) -> None:
    await chat.say("book")
    assert "• Wheel Throwing Taster · £45.00 · next Sat 21 Nov, 14:00" in chat.text
    await chat.say("wheel throwing taster")
    assert "Needs 1 Potter's wheel per person." in chat.text
    assert "Teacher: Maya Okafor" in chat.text
    assert chat.labels[0] == "Sat 21 Nov, 14:00 · 6 seats left"


async def test_course_run_books_every_session(chat: Chat, db: Database) -> None:
    await chat.say("1")
    await chat.say("Six-Week Wheel Course")
    assert chat.labels[0] == "starts Mon 15 Mar, 18:00 · 6 sessions · 0/8 enrolled"
    for reply in ("1", "1", "1"):
        await chat.say(reply)
    assert "Booked! Six-Week Wheel Course, Mon 15 Mar 2027, 18:00" in chat.text
    assert await booked_seats(db) == 6
    assert len(icalendar.Calendar.from_ical(chat.replies[0].attachment.content).walk("VEVENT")) == 6  # type: ignore[union-attr]


async def test_drop_in_dates_multi_select_with_a_running_total(chat: Chat, db: Database) -> None:
    await chat.say("1")
    await chat.say("Open Studio Drop-in")
    await chat.say("1 2 3")  # several numbers toggle several dates
    assert "Continue with 3 dates · £54.00" in chat.labels
    await chat.say("3")  # and again removes one
    assert "Continue with 2 dates · £36.00" in chat.labels
    await chat.press("Continue")
    await chat.say("2")
    assert "Total: £72.00, paid at the studio." in chat.text
    await chat.say("yes")
    assert await booked_seats(db) == 4


async def test_not_enough_wheels_says_why_and_offers_alternatives(chat: Chat, db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE resources SET total_quantity = 1 WHERE key = 'potters-wheel'")
    # "2" is the option numbered 2 here ("Other dates"): a party is typed with its unit
    for reply in ("1", "Wheel Throwing Taster", "1", "2 people"):
        await chat.say(reply)
    assert "Only 1 × Potter's wheel free on Sat 21 Nov, 14:00, 2 needed for 2." in chat.text
    assert "Other dates" in chat.labels
    await chat.say("1")
    assert "Please check your booking" in chat.text  # one person fits


async def test_full_session_offers_the_waitlist(chat: Chat, db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE sessions SET capacity = 1")
    other = Chat(chat.dialogues, address="+447700900002", name="Ben")
    for c in (other, chat):
        await c.say("/start")
        for reply in ("1", "Wheel Throwing Taster", "1"):
            await c.say(reply)
    await other.say("1")
    await other.say("confirm")
    await chat.say("1")  # the date filled meanwhile: its waitlist, said once
    assert chat.text.startswith("Join the waitlist for Sat 21 Nov, 14:00, for 1 person?")
    assert "Only 0" not in chat.text
    await chat.say("yes")
    assert "You are on the waitlist" in chat.text
    assert await _count(db, "SELECT COUNT(*) FROM waitlist_entries WHERE status = 'waiting'") == 1


async def test_my_bookings_and_cancel_with_a_confirm_step(chat: Chat, db: Database) -> None:
    for reply in ("1", "Wheel Throwing Taster", "2", "2", "confirm"):
        await chat.say(reply)
    await chat.say("my bookings")
    assert chat.labels[0] == "Wheel Throwing Taster · Sat 28 Nov, 14:00 · 2 people"
    await chat.say("1")
    await chat.press("Cancel this booking")
    await chat.press("No, keep it")
    assert await booked_seats(db) == 2
    await chat.press("Cancel this booking")
    await chat.press("Yes, cancel it")
    assert "Your booking is cancelled." in chat.text
    assert "You have no upcoming bookings." in chat.text
    assert await booked_seats(db) == 0


async def test_inside_the_studios_cutoff_the_booking_says_so_and_offers_no_cancel(
    chat: Chat, db: Database
) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1", "2", "confirm", "my bookings", "1"):
        await chat.say(reply)
    assert "Cancellations close 2 days before the start; contact the studio." in chat.text
    assert "Cancel this booking" not in chat.labels
    await chat.say("cancel booking")  # understood, and refused with the reason
    assert chat.text.startswith("Cancellations close 2 days before the start; contact the studio.")
    assert await booked_seats(db) == 2


async def test_before_the_cutoff_the_booking_states_until_when_it_cancels_free(
    chat: Chat, db: Database
) -> None:
    for reply in ("1", "Wheel Throwing Taster", "4", "2", "confirm", "my bookings", "1"):
        await chat.say(reply)
    assert "Free cancellation until " in chat.text
    await chat.press("Cancel this booking")
    await chat.press("Yes, cancel it")
    assert "Your booking is cancelled." in chat.text
    assert await booked_seats(db) == 0


async def test_back_goes_one_step_and_cancel_goes_to_the_menu(chat: Chat, db: Database) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1"):
        await chat.say(reply)
    await chat.say("back")
    assert chat.labels[0].startswith("Sat 21 Nov, 14:00")
    await chat.say("back")
    assert "Our classes:" in chat.text
    await chat.say("1")
    await chat.say("cancel")
    assert chat.text == "What would you like to do?"
    assert await booked_seats(db) == 0


async def test_double_tap_on_confirm_books_once(chat: Chat, db: Database) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1", "2"):
        await chat.say(reply)
    token = chat.token("✅ Confirm")

    first, second = await asyncio.gather(chat.press_token(token), chat.press_token(token))

    assert await booked_seats(db) == 2
    notices = [r[0].notice for r in (first, second) if r[0].notice]
    assert notices == ["That option has expired. Please use the latest message."]


async def test_forged_or_foreign_tokens_change_nothing(chat: Chat, db: Database) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1", "2"):
        await chat.say(reply)
    mallory = Chat(chat.dialogues, address="+447700900666", name="Mallory")
    await mallory.say("/start")

    for forged in (chat.token("✅ Confirm"), "999:0", "x:y", "1:99", "", "0" * 200):
        replies = await mallory.press_token(forged)
        assert [(r.notice, r.toast) for r in replies] == [
            ("That option has expired. Please use the latest message.", True)
        ]

    assert await booked_seats(db) == 0
    await chat.say("confirm")  # Ana's own dialogue is untouched
    assert await booked_seats(db) == 2


async def test_a_restart_mid_booking_resumes_at_the_same_step(
    chat: Chat, db: Database, clock: FrozenClock
) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1"):
        await chat.say(reply)
    restarted = Chat(Dialogues(db, clock), address=chat.address)  # a new process

    await restarted.say("2")

    assert "Please check your booking" in restarted.text


async def test_an_idle_dialogue_expires_politely(chat: Chat, clock: FrozenClock) -> None:
    await chat.say("1")
    clock.advance(timedelta(minutes=31))
    await chat.say("1")
    assert "nothing was booked" in chat.text
    assert chat.labels[0] == "📅 Book a class"


async def test_garbage_and_empty_text_get_a_polite_nudge(chat: Chat) -> None:
    for garbage in ("asdfgh", "🙂🙂", "x" * 2000, "99"):
        await chat.say(garbage)
        assert chat.text.startswith("Sorry, I did not understand that.")
        assert chat.labels[0] == "📅 Book a class"


async def test_help_explains_how_to_answer(chat: Chat) -> None:
    await chat.say("help")  # in the terminal: nothing to tap
    assert "typing its number or its words" in chat.text
    assert "tapping" not in chat.text


async def test_a_deep_link_picks_the_studio(dialogues: Dialogues, db: Database) -> None:
    from bookbot.cli.demo import example_path
    from bookbot.studio.loader import load_studio
    from bookbot.studio.model import parse_studio_file

    await load_studio(db, parse_studio_file(example_path("harbour-fitness.toml")))
    gym = Chat(dialogues, address="+16175550100", name="Jo")
    gym.replies = await dialogues.handle(
        Inbound(gym.channel, gym.address, text="/start", display_name="Jo"),
        studio_slug="harbour-fitness",
    )
    assert gym.text.startswith("Hi Jo! I'm the booking assistant of Harbour")
    await gym.say("1")
    assert "Clay" not in gym.text


async def held_seats(db: Database) -> int:
    return await _count(
        db, "SELECT SUM(guest_count) FROM registration_sessions WHERE status = 'held'"
    )


async def test_the_summary_holds_the_seats_and_backing_out_lets_them_go(
    chat: Chat, dialogues: Dialogues, db: Database
) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1", "2"):
        await chat.say(reply)
    assert "Your places are held until 09:10." in chat.text  # 10 minutes, London time
    ben = Chat(dialogues, address="+447700900002", name="Ben")
    await ben.say("/start")
    await ben.say("book")
    await ben.say("wheel throwing taster")
    assert ben.labels[0] == "Sat 21 Nov, 14:00 · 4 seats left"  # Ana's two are held

    await chat.say("back")
    assert await held_seats(db) == 0
    await ben.say("back")
    await ben.say("wheel throwing taster")
    assert ben.labels[0] == "Sat 21 Nov, 14:00 · 6 seats left"


async def test_confirming_after_the_hold_lapsed_books_if_the_seats_are_still_there(
    chat: Chat, db: Database, clock: FrozenClock
) -> None:
    for reply in ("1", "Wheel Throwing Taster", "1", "2"):
        await chat.say(reply)
    clock.advance(timedelta(minutes=25))  # read the summary, made tea
    await chat.say("confirm")
    assert chat.text.startswith("🎉 Booked! Wheel Throwing Taster")
    assert (await booked_seats(db), await held_seats(db)) == (2, 0)


async def test_a_press_on_someone_elses_message_in_a_group_changes_nothing(
    dialogues: Dialogues, db: Database
) -> None:
    ana = Chat(dialogues, address="501", channel=Channel.TELEGRAM)
    await ana.say("/start")
    await dialogues.note_message(Inbound(Channel.TELEGRAM, "501"), "-100:7")  # in a group
    ana_token = ana.token("📅 Book a class")

    for presser in ("502", "501"):  # a newcomer, then Ana herself on a message not hers
        replies = await dialogues.handle(
            Inbound(
                Channel.TELEGRAM,
                presser,
                token=ana_token,
                message_ref="-100:8" if presser == "501" else "-100:7",
                shared_chat=True,
            )
        )
        assert [(r.notice, r.toast, r.edit) for r in replies] == [
            ("That button is not for you.", True, False)
        ]
    async with db.transaction(write=False) as tx:
        state = await tx.scalar("SELECT state FROM conversations WHERE address = '501'")
    assert state == "menu"  # Ana's dialogue did not move

    replies = await dialogues.handle(
        Inbound(Channel.TELEGRAM, "501", token=ana_token, message_ref="-100:7", shared_chat=True)
    )
    assert replies[-1].edit  # her own message: edited in place
    assert replies[-1].text.startswith("Our classes:")
