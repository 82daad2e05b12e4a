"""Typed answers, as people write them in booking chats (English and Spanish): party sizes,
days, times, yes and no; then options named by whole words, the ambiguity question, numbers
at the party-size step, QUIT/EXIT and one-line requests, in whole conversations."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bookbot.conversations import answers
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.matching import Ambiguous, pick
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.conversations.chat import Chat

# tests.examples.NOW: Friday 20 November 2026 (London).
TODAY = date(2026, 11, 20)

PARTY = [
    # the phrases
    ("2 people", "en", 2),
    ("two", "en", 2),
    ("for 2", "en", 2),
    ("dos", "es", 2),
    ("2 personas", "es", 2),
    # English
    ("2", "en", 2),
    ("3", "en", 3),
    ("Two", "en", 2),
    ("TWO PEOPLE", "en", 2),
    ("two people", "en", 2),
    ("2 ppl", "en", 2),
    ("2ppl", "en", 2),
    ("3 persons", "en", 3),
    ("1 person", "en", 1),
    ("one", "en", 1),
    ("just me", "en", 1),
    ("Just me!", "en", 1),
    ("only me", "en", 1),
    ("me", "en", 1),
    ("myself", "en", 1),
    ("just myself please", "en", 1),
    ("for 4 please", "en", 4),
    ("for four", "en", 4),
    ("four of us", "en", 4),
    ("there are 5 of us", "en", 5),
    ("we are 3", "en", 3),
    ("we're 3", "en", 3),
    ("we'll be 4", "en", 4),
    ("a table for 2", "en", 2),
    ("party of 6", "en", 6),
    ("group of 8", "en", 8),
    ("8 people", "en", 8),
    ("for 8", "en", 8),
    ("twelve", "en", 12),
    ("10 guests", "en", 10),
    ("3 adults", "en", 3),
    ("2 adults and 1 child", "en", 3),
    ("2 adults 2 kids", "en", 4),
    ("me and my friend", "en", 2),
    ("me and my wife", "en", 2),
    ("me + my partner", "en", 2),
    ("my partner and I", "en", 2),
    ("me and 2 friends", "en", 3),
    ("me and three friends", "en", 4),
    ("2 please", "en", 2),
    ("2 seats", "en", 2),
    ("2 spots please", "en", 2),
    ("3 tickets", "en", 3),
    ("x2", "en", 2),
    ("hi, 2 people please", "en", 2),
    ("ok 3", "en", 3),
    ("book wheel taster for 2 on saturday", "en", 2),
    ("2 people wheel taster tomorrow", "en", 2),
    ("just me, at the glazing workshop on saturday", "en", 1),
    # Spanish
    ("dos personas", "es", 2),
    ("Dos", "es", 2),
    ("para dos", "es", 2),
    ("para 2", "es", 2),
    ("para dos por favor", "es", 2),
    ("somos tres", "es", 3),
    ("somos 4", "es", 4),
    ("seremos cinco", "es", 5),
    ("ocho", "es", 8),
    ("8 personas", "es", 8),
    ("una persona", "es", 1),
    ("1 persona", "es", 1),
    ("uno", "es", 1),
    ("solo yo", "es", 1),
    ("yo solo", "es", 1),
    ("yo sola", "es", 1),
    ("solo para mí", "es", 1),
    ("para mí", "es", 1),
    ("yo y mi amiga", "es", 2),
    ("mi pareja y yo", "es", 2),
    ("yo y dos amigas", "es", 3),
    ("yo con mi hermana", "es", 2),
    ("3 adultos", "es", 3),
    ("2 adultos y 1 niño", "es", 3),
    ("doce", "es", 12),
    ("diez personas", "es", 10),
    ("cuatro plazas", "es", 4),
    ("un grupo de 6", "es", 6),
    ("hola, somos cuatro", "es", 4),
    ("reservar torno para dos el sábado", "es", 2),
    ("solo yo, el sábado", "es", 1),
    ("two", "es", 2),  # English words in a Spanish chat
    ("dos", "en", 2),  # and Spanish in an English one
    # not a party size
    ("", "en", None),
    ("0", "en", None),
    ("0 people", "en", None),
    ("hello", "en", None),
    ("5 dec", "en", None),
    ("for 6pm", "en", None),
    ("for 5 dec", "en", None),
    ("at 6:30", "en", None),
    ("tomorrow", "en", None),
    ("99999", "en", None),
    ("sábado", "es", None),
    ("mañana", "es", None),
    ("para el 5 de diciembre", "es", None),
    ("people", "en", None),
]

DAYS = [
    # ISO dates keep their year (staff type them at the date lists)
    ("2028-01-01", "en", date(2028, 1, 1)),
    ("2027/3/5", "es", date(2027, 3, 5)),
    ("2027-02-30", "en", None),
    # the phrases
    ("5 dec", "en", date(2026, 12, 5)),
    ("tomorrow", "en", date(2026, 11, 21)),
    ("next monday", "en", date(2026, 11, 23)),
    ("mañana", "es", date(2026, 11, 21)),
    ("sábado", "es", date(2026, 11, 21)),
    ("el sábado", "es", date(2026, 11, 21)),
    # English
    ("Saturday", "en", date(2026, 11, 21)),
    ("saturday", "en", date(2026, 11, 21)),
    ("sat", "en", date(2026, 11, 21)),
    ("on sat", "en", date(2026, 11, 21)),
    ("this saturday", "en", date(2026, 11, 21)),
    ("sunday", "en", date(2026, 11, 22)),
    ("Mon", "en", date(2026, 11, 23)),
    ("monday", "en", date(2026, 11, 23)),
    ("tues", "en", date(2026, 11, 24)),
    ("tuesday", "en", date(2026, 11, 24)),
    ("wed", "en", date(2026, 11, 25)),
    ("weds", "en", None),  # not a prefix of Babel's "wednesday": no guessing
    ("thursday", "en", date(2026, 11, 26)),
    ("thurs", "en", date(2026, 11, 26)),
    ("friday", "en", date(2026, 11, 20)),  # today is a Friday
    ("next friday", "en", date(2026, 11, 27)),
    ("today", "en", date(2026, 11, 20)),
    ("tonight", "en", date(2026, 11, 20)),
    ("tmrw", "en", date(2026, 11, 21)),
    ("tomorow", "en", date(2026, 11, 21)),
    ("day after tomorrow", "en", date(2026, 11, 22)),
    ("dec 5", "en", date(2026, 12, 5)),
    ("Dec 5th", "en", date(2026, 12, 5)),
    ("5th december", "en", date(2026, 12, 5)),
    ("5th of December", "en", date(2026, 12, 5)),
    ("december 5", "en", date(2026, 12, 5)),
    ("December 5th 2027", "en", date(2027, 12, 5)),
    ("12 jan", "en", date(2027, 1, 12)),
    ("jan 12", "en", date(2027, 1, 12)),
    ("12 January", "en", date(2027, 1, 12)),
    ("1st of march", "en", date(2027, 3, 1)),
    ("15 mar", "en", date(2027, 3, 15)),
    ("sept 3", "en", date(2027, 9, 3)),
    ("5/12", "en", date(2026, 12, 5)),
    ("05/12", "en", date(2026, 12, 5)),
    ("5-12", "en", date(2026, 12, 5)),
    ("5.12", "en", date(2026, 12, 5)),
    ("5/12/2026", "en", date(2026, 12, 5)),
    ("5/12/27", "en", date(2027, 12, 5)),
    ("12/25", "en", date(2026, 12, 25)),  # no 25th month: month first
    ("1/1", "en", date(2027, 1, 1)),
    ("20/11", "en", date(2026, 11, 20)),
    ("13/11", "en", date(2027, 11, 13)),  # passed this year: next year's
    ("19 nov", "en", date(2027, 11, 19)),
    ("the 5th", "en", date(2026, 12, 5)),
    ("on the 28th", "en", date(2026, 11, 28)),
    ("book wheel taster for 2 on saturday", "en", date(2026, 11, 21)),
    ("2 people wheel taster tomorrow", "en", date(2026, 11, 21)),
    ("can we come on sunday?", "en", date(2026, 11, 22)),
    ("31 feb", "en", None),
    ("hello", "en", None),
    ("2 people", "en", None),
    ("we sat down", "en", None),
    ("in the sun", "en", None),
    ("BOOK WHEEL TASTER SAT FOR 2", "en", date(2026, 11, 21)),
    ("", "en", None),
    ("99/99", "en", None),
    # Spanish
    ("sabado", "es", date(2026, 11, 21)),
    ("sáb", "es", date(2026, 11, 21)),
    ("el sabado", "es", date(2026, 11, 21)),
    ("este sábado", "es", date(2026, 11, 21)),
    ("domingo", "es", date(2026, 11, 22)),
    ("el lunes", "es", date(2026, 11, 23)),
    ("lun", "es", date(2026, 11, 23)),
    ("el próximo lunes", "es", date(2026, 11, 23)),
    ("el lunes que viene", "es", date(2026, 11, 23)),
    ("martes", "es", date(2026, 11, 24)),
    ("mar", "es", date(2026, 11, 24)),
    ("miércoles", "es", date(2026, 11, 25)),
    ("miercoles", "es", date(2026, 11, 25)),
    ("mié", "es", date(2026, 11, 25)),
    ("jueves", "es", date(2026, 11, 26)),
    ("viernes", "es", date(2026, 11, 20)),
    ("el próximo viernes", "es", date(2026, 11, 27)),
    ("hoy", "es", date(2026, 11, 20)),
    ("esta noche", "es", date(2026, 11, 20)),
    ("manana", "es", date(2026, 11, 21)),
    ("Mañana", "es", date(2026, 11, 21)),
    ("pasado mañana", "es", date(2026, 11, 22)),
    ("pasado manana", "es", date(2026, 11, 22)),
    ("12 de enero", "es", date(2027, 1, 12)),
    ("el 12 de enero", "es", date(2027, 1, 12)),
    ("5 de diciembre", "es", date(2026, 12, 5)),
    ("5 dic", "es", date(2026, 12, 5)),
    ("5 mar", "es", date(2027, 3, 5)),  # next to a number, "mar" is March
    ("1 de septiembre", "es", date(2027, 9, 1)),
    ("1º de marzo", "es", date(2027, 3, 1)),
    ("el 5", "es", date(2026, 12, 5)),
    ("el día 28", "es", date(2026, 11, 28)),
    ("5/12", "es", date(2026, 12, 5)),
    ("el sábado por la mañana", "es", date(2026, 11, 21)),  # the morning, not tomorrow
    ("reservar torno para dos el sábado", "es", date(2026, 11, 21)),
    ("saturday", "es", date(2026, 11, 21)),  # English names in a Spanish chat
    ("lunes", "en", date(2026, 11, 23)),  # and Spanish in an English one
    ("hola", "es", None),
    ("dos personas", "es", None),
]

TIMES = [
    ("6pm", "en", time(18)),
    ("6 pm", "en", time(18)),
    ("6 p.m.", "en", time(18)),
    ("6PM", "en", time(18)),
    ("6:30pm", "en", time(18, 30)),
    ("6.30 pm", "en", time(18, 30)),
    ("18:00", "en", time(18)),
    ("18h", "en", time(18)),
    ("18 h", "en", time(18)),
    ("10am", "en", time(10)),
    ("10 am", "en", time(10)),
    ("12pm", "en", time(12)),
    ("12am", "en", time(0)),
    ("at 6", "en", time(18)),
    ("at 11", "en", time(11)),
    ("at 2:15", "en", time(2, 15)),
    ("7:45", "en", time(7, 45)),
    ("half past 6", "en", time(18, 30)),
    ("6 in the evening", "en", time(18)),
    ("10 in the morning", "en", time(10)),
    ("noon", "en", time(12)),
    ("midnight", "en", time(0)),
    ("a las 6 de la tarde", "es", time(18)),
    ("a las 18:00", "es", time(18)),
    ("a las 10 de la mañana", "es", time(10)),
    ("a las 8 de la noche", "es", time(20)),
    ("a la 1", "es", time(13)),
    ("a las 6 y media de la tarde", "es", time(18, 30)),
    ("18hs", "es", time(18)),
    ("mediodía", "es", time(12)),
    ("6", "en", None),
    ("2 people", "en", None),
    ("hello", "en", None),
    ("25:00", "en", None),
]

YES_NO = [
    ("yes", "en", True),
    ("Yes", "en", True),
    ("YES!", "en", True),
    ("yep", "en", True),
    ("yeah", "en", True),
    ("yup", "en", True),
    ("sure", "en", True),
    ("ok", "en", True),
    ("OK", "en", True),
    ("okay", "en", True),
    ("confirm", "en", True),
    ("Confirm!", "en", True),
    ("👍", "en", True),
    ("✅", "en", True),
    ("yes please", "en", True),
    ("yes, book it", "en", True),
    ("sounds good", "en", True),
    ("go ahead", "en", True),
    ("of course", "en", True),
    ("perfect", "en", True),
    ("no problem", "en", True),
    ("sí", "es", True),
    ("si", "es", True),
    ("Sí!", "es", True),
    ("vale", "es", True),
    ("claro", "es", True),
    ("de acuerdo", "es", True),
    ("confirmar", "es", True),
    ("sí, confirmo", "es", True),
    ("sí por favor", "es", True),
    ("por supuesto", "es", True),
    ("dale", "es", True),
    ("perfecto", "es", True),
    ("vale gracias", "es", True),
    ("no", "en", False),
    ("No", "en", False),
    ("nope", "en", False),
    ("nah", "en", False),
    ("no thanks", "en", False),
    ("no thank you", "en", False),
    ("not now", "en", False),
    ("never mind", "en", False),
    ("👎", "en", False),
    ("no gracias", "es", False),
    ("no, gracias", "es", False),
    ("mejor no", "es", False),
    ("ahora no", "es", False),
    ("maybe", "en", None),
    ("cancel", "en", None),  # an SMS opt-out word, never an answer here
    ("yes but another day", "en", None),
    ("sí pero otro día", "es", None),
    ("2 people", "en", None),
    ("", "en", None),
    ("👍👎", "en", None),
]


@pytest.mark.parametrize(("text", "lang", "expected"), PARTY)
def test_party_size(text: str, lang: str, expected: int | None) -> None:
    assert answers.party_size(text, lang) == expected


@pytest.mark.parametrize(("text", "lang", "expected"), DAYS)
def test_day(text: str, lang: str, expected: date | None) -> None:
    assert answers.day(text, lang, TODAY) == expected


@pytest.mark.parametrize(("text", "lang", "expected"), TIMES)
def test_time_of_day(text: str, lang: str, expected: time | None) -> None:
    assert answers.time_of_day(text, lang) == expected


@pytest.mark.parametrize(("text", "lang", "expected"), YES_NO)
def test_yes_no(text: str, lang: str, expected: bool | None) -> None:
    assert answers.yes_no(text, lang) is expected


def test_the_table_has_over_200_phrases() -> None:
    assert len(PARTY) + len(DAYS) + len(TIMES) + len(YES_NO) > 200


@pytest.mark.parametrize(
    "text",
    [
        "9" * 100_000,
        "a" * 100_000,
        "1/" * 50_000,
        "for " * 30_000,
        "\x00\u202e" * 1000,
        "٣ people",
        "²",
        "🎉" * 5000,
        "me and " * 10_000,
    ],
)
def test_hostile_input_is_read_quickly_and_never_raises(text: str) -> None:
    answers.party_size(text, "en")
    answers.day(text, "es", TODAY)
    answers.time_of_day(text, "en")
    answers.yes_no(text, "es")
    pick(text, ["Wheel Throwing Taster", "Six-Week Wheel Course"])


CLASSES = [
    "Open Studio Drop-in",
    "Saturday Glazing Workshop",
    "Wheel Throwing Taster",
    "Handbuilt Mug Course",
    "Mug Making",
    "Six-Week Wheel Course",
    "⬅ Back",
    "✖ Cancel",
]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("m", None),
        ("h", None),
        ("o", None),
        ("si", None),
        ("sí", None),
        ("reservar", None),
        ("whe", None),
        ("wheel", Ambiguous((2, 5))),
        ("mug", Ambiguous((3, 4))),
        ("course", Ambiguous((3, 5))),
        ("wheel taster", 2),
        ("the wheel taster please", 2),
        ("taster", 2),
        ("Wheel Throwing Taster", 2),
        ("wheel throwing tastr", 2),  # one letter missing in a long word
        ("glazzing", 1),
        ("open studio", 0),
        ("drop in", 0),
        ("six-week", 5),
        ("mug making", 4),
        ("3", 2),
        ("#3", 2),
        ("3.", 2),
        ("9", None),
        ("0", None),
        ("back", 6),
        ("2 people", None),
    ],
)
def test_options_are_named_by_whole_words(typed: str, expected: int | Ambiguous | None) -> None:
    assert pick(typed, CLASSES) == expected


# --- in conversations ---------------------------------------------------------------------


async def test_a_few_letters_open_nothing(chat: Chat) -> None:
    await chat.say("book")
    for typed in ("m", "h", "o"):
        await chat.say(typed)
        assert "Sorry, I did not understand that." in chat.text
    await chat.say("reservar")  # BOOK in Spanish: the class list again
    await chat.say("sí")
    assert "Six-Week Wheel Course\nSix Monday" not in chat.text
    assert "Sorry, I did not understand that." in chat.text


async def test_a_word_of_two_classes_asks_which(chat: Chat) -> None:
    await chat.say("book")
    before = chat.labels
    await chat.say("wheel")
    assert "Did you mean 3. Wheel Throwing Taster or 6. Six-Week Wheel Course?" in chat.text
    assert chat.labels == before  # the same options: the numbers mean them
    await chat.say("3")
    assert "Wheel Throwing Taster\nTwo hours on the wheel" in chat.text


async def test_the_party_size_step_reads_words_and_units(chat: Chat) -> None:
    for typed in ("book", "wheel taster", "1", "two"):
        await chat.say(typed)
    assert "2 people" in chat.text
    assert "Please check your booking" in chat.text
    await chat.say("back")
    await chat.say("3 people")
    assert "3 people" in chat.text
    await chat.say("back")
    await chat.say("8 people")
    assert "Only 6 seats left on Sat 21 Nov, 14:00." in chat.text


async def test_spanish_party_sizes_at_the_party_size_step(chat: Chat) -> None:
    await chat.say("LANG es")
    for typed in ("reservar", "wheel taster", "1", "para dos"):
        await chat.say(typed)
    assert "2 personas" in chat.text
    await chat.say("vale")
    assert "¡Reservado!" in chat.text


async def _taster_with_seats_left(db: Database, seats: int) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET capacity = :capacity WHERE class_id ="
            " (SELECT id FROM classes WHERE key = 'wheel-taster')",
            {"capacity": seats},
        )


async def test_numbers_past_the_seat_count_choose_their_options(chat: Chat, db: Database) -> None:
    await _taster_with_seats_left(db, 5)
    for typed in ("book", "wheel taster", "1"):
        await chat.say(typed)
    labels = chat.labels
    assert labels[:5] == ["1", "2", "3", "4", "5"]
    assert labels[5] == "Other dates"
    await chat.say("6")
    assert "Choose a date" in chat.text  # Other dates, not a party of 6
    await chat.say("1")
    await chat.say(str(labels.index("Join the waitlist") + 1))
    assert "Join the waitlist for" in chat.text
    await chat.say("back")
    await chat.say("3")  # 3 is 3 people either way
    assert "3 people" in chat.text


@pytest.mark.parametrize("word", ["quit", "exit", "QUIT", "Exit", "salir"])
async def test_quit_and_exit_go_to_the_menu(chat: Chat, word: str) -> None:
    for typed in ("book", "wheel taster", "1"):
        await chat.say(typed)
    await chat.say(word)
    assert "What would you like to do?" in chat.text
    assert "Sorry" not in chat.text


async def test_yes_and_no_answer_the_confirmation(chat: Chat) -> None:
    for typed in ("book", "wheel taster", "1", "2"):
        await chat.say(typed)
    await chat.say("nope")  # no: back to the party size
    assert "How many people" in chat.text
    await chat.say("2")
    await chat.say("yep")
    assert "🎉 Booked!" in chat.text


@pytest.mark.parametrize(
    ("language", "request_text", "summary"),
    [
        ("en", "book wheel taster for 2 on saturday", "Sat 21 Nov 2026, 14:00"),
        ("en", "2 people wheel taster tomorrow", "Sat 21 Nov 2026, 14:00"),
        ("en", "Book the glazing workshop for 3 next Saturday", "Sat 21 Nov 2026, 10:00"),
        ("en", "mug making for two on 6 dec", "Sun 6 Dec 2026, 13:00"),
        ("es", "reservar wheel taster para dos el sábado", "sáb 21 nov 2026, 14:00"),
        ("es", "quiero reservar mug making para 2 el 6 de diciembre", "dom 6 dic 2026, 13:00"),
    ],
)
async def test_a_one_line_request_opens_the_summary(
    chat: Chat, language: str, request_text: str, summary: str
) -> None:
    if language == "es":
        await chat.say("LANG es")
    await chat.say(request_text)
    assert summary in chat.text
    assert chat.labels[0].startswith("✅")
    await chat.say("sí" if language == "es" else "yes")
    assert "🎉" in chat.text


async def test_a_party_typed_at_the_summary_changes_it(chat: Chat) -> None:
    await chat.say("book the saturday glazing workshop")
    await chat.say("1")
    assert "1 person" in chat.text
    await chat.say("for 2")
    assert "2 people" in chat.text
    assert "Please check your booking" in chat.text


async def test_a_first_message_that_asks_to_book_is_answered(dialogues: Dialogues) -> None:
    sms = Chat(dialogues, address="+447700900555", name="", language=None, channel=Channel.SMS)
    await sms.say("book wheel taster for 2 on saturday")
    assert sms.text.startswith("Hi! I'm the booking assistant of Clay & Kiln.")
    assert "Sat 21 Nov 2026, 14:00" in sms.text


async def test_a_request_after_a_long_pause_is_answered(chat: Chat, clock: FrozenClock) -> None:
    await chat.say("book")
    clock.set(clock.now() + timedelta(minutes=45))
    await chat.say("book wheel taster for 2 on saturday")
    assert "Please check your booking" in chat.text
    assert "Sat 21 Nov 2026, 14:00" in chat.text


async def test_a_request_without_a_party_asks_for_it(chat: Chat) -> None:
    await chat.say("book the wheel taster on 28 nov")
    assert chat.text.startswith("How many people")
    await chat.say("2")
    assert "Sat 28 Nov 2026, 14:00" in chat.text


async def test_a_request_without_a_date_shows_the_dates_and_keeps_the_party(chat: Chat) -> None:
    await chat.say("wheel taster for 2")
    assert "Choose a date" in chat.text
    await chat.say("2")
    assert "Please check your booking" in chat.text
    assert "Sat 28 Nov 2026, 14:00" in chat.text
    assert "2 people" in chat.text


async def test_a_request_for_a_day_without_the_class_shows_its_dates(chat: Chat) -> None:
    await chat.say("book wheel taster for 2 on monday")
    assert "Wheel Throwing Taster has nothing to book on Mon 23 Nov." in chat.text


async def test_a_request_naming_two_classes_asks_which_and_keeps_the_rest(chat: Chat) -> None:
    await chat.say("book mug for 2")
    assert "Which class did you mean: Handbuilt Mug Course or Mug Making?" in chat.text
    await chat.say("mug making")
    assert "Choose a date" in chat.text
    await chat.say("1")
    assert "Sun 6 Dec 2026, 13:00" in chat.text
    assert "2 people" in chat.text


async def test_a_request_naming_two_classes_takes_the_one_on_that_day(chat: Chat) -> None:
    await chat.say("book the wheel class for 2 on saturday")  # the course runs on Mondays
    assert "Wheel Throwing Taster" in chat.text
    assert "Sat 21 Nov 2026, 14:00" in chat.text


async def test_a_request_with_no_class_it_knows_asks_which_and_keeps_the_rest(
    chat: Chat,
) -> None:
    await chat.say("LANG es")
    await chat.say("reservar torno para dos el sábado")  # no class is called "torno"
    assert "Which class would you like to book?" in chat.text or "clase" in chat.text
    await chat.say("wheel throwing taster")
    assert "sáb 21 nov 2026, 14:00" in chat.text
    assert "2 personas" in chat.text


async def test_a_course_request_takes_the_run_starting_that_day(
    chat: Chat, clock: FrozenClock
) -> None:
    assert clock.now().year == 2026
    await chat.say("six-week wheel course for 2 starting 15 march")
    assert "Mon 15 Mar 2027, 18:00" in chat.text
    assert "Mon 19 Apr 2027, 18:00" in chat.text
    assert "2 people" in chat.text


async def test_a_drop_in_request_books_that_day(chat: Chat) -> None:
    await chat.say("open studio drop-in for 2 on monday")
    assert "Mon 23 Nov 2026, 16:00" in chat.text
    await chat.say("yes")
    assert "🎉 Booked! Open Studio Drop-in" in chat.text


async def test_a_request_with_a_time_takes_that_session_of_the_day(
    chat: Chat, db: Database
) -> None:
    async with db.transaction() as tx:  # a morning Open Studio too, on Monday 23 Nov
        row = await tx.one(
            "SELECT s.studio_id, s.class_id, s.starts_at, s.ends_at, s.capacity, s.location"
            " FROM sessions s JOIN classes c ON c.id = s.class_id"
            " WHERE c.key = 'open-studio' AND s.starts_at = :at",
            {"at": datetime(2026, 11, 23, 16, 0, tzinfo=UTC)},
        )
        await tx.execute(
            "INSERT INTO sessions (studio_id, class_id, occurrence_date, starts_at, ends_at,"
            " capacity, location, status) VALUES (:studio_id, :class_id, :day, :starts_at,"
            " :ends_at, :capacity, :location, 'open')",
            {
                "studio_id": row["studio_id"],
                "class_id": row["class_id"],
                "day": date(2026, 11, 23),
                "starts_at": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
                "ends_at": datetime(2026, 11, 23, 11, 30, tzinfo=UTC),
                "capacity": row["capacity"],
                "location": row["location"],
            },
        )
    await chat.say("open studio on monday at 4pm for 2")
    assert "Mon 23 Nov 2026, 16:00" in chat.text
    await chat.say("menu")
    await chat.say("open studio on monday for 2")  # no time: the first of the day
    assert "Mon 23 Nov 2026, 10:00" in chat.text


async def test_a_typed_date_at_the_class_dates_jumps_to_it(chat: Chat) -> None:
    await chat.say("book")
    await chat.say("open studio")
    await chat.say("7 dec")
    assert chat.labels[0].startswith("Mon 7 Dec")
