"""SMS encoding, segment counting, SMS-friendly text and splitting long replies into messages."""

from __future__ import annotations

import random
from collections.abc import Callable
from importlib.resources import files

import pytest
from babel.messages.pofile import read_po
from scripts.update_catalogs import extract

from bookbot.handlers.gsm7 import GSM7_BASIC, GSM7_EXTENSION, encoding, segments
from bookbot.handlers.sms_friendly import fold_gsm, for_sms
from bookbot.handlers.sms_text import (
    SMS_MAX_SEGMENTS,
    TWILIO_MAX_BODY_CHARS,
    WHATSAPP_MAX_CHARS,
    sms_body,
    sms_parts,
    split_message,
    whatsapp_parts,
)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_gsm_tables_have_the_sizes_of_gsm_03_38() -> None:
    # 128 basic codes less ESC (0x1B); ten characters reached through ESC.
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert "\x1b" not in GSM7_BASIC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "GSM-7", id="empty"),
        pytest.param("Hello, world! 1. Book (18:00) @ 50% #1", "GSM-7", id="ascii"),
        pytest.param("Total €45", "GSM-7", id="euro-extension"),
        pytest.param("{x} [y] ~ | ^ \\", "GSM-7", id="braces-extension"),
        pytest.param("\f", "GSM-7", id="form-feed-extension"),
        pytest.param("é ñ Ñ ¿ ¡ à ü Ç Ø å Æ ß É £ ¥ § ¤", "GSM-7", id="latin-basic"),
        pytest.param(
            "\u0394\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e", "GSM-7", id="greek"
        ),
        pytest.param("línea\r\n", "UCS-2", id="i-acute"),
        pytest.param("á", "UCS-2", id="a-acute"),
        pytest.param("ó", "UCS-2", id="o-acute"),
        pytest.param("ç", "UCS-2", id="lowercase-c-cedilla"),
        pytest.param("`", "UCS-2", id="backtick"),
        pytest.param("\t", "UCS-2", id="tab"),
        pytest.param("Booked 🎉", "UCS-2", id="emoji"),
        pytest.param("·", "UCS-2", id="middle-dot"),
    ],
)
def test_encoding(text: str, expected: str) -> None:
    assert encoding(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", 1, id="empty"),
        pytest.param("a" * 160, 1, id="gsm-160"),
        pytest.param("a" * 161, 2, id="gsm-161"),
        pytest.param("a" * 306, 2, id="gsm-306"),
        pytest.param("a" * 307, 3, id="gsm-307"),
        pytest.param("a" * 612, 4, id="gsm-612"),
        pytest.param("a" * 613, 5, id="gsm-613"),
        pytest.param("€" * 80, 1, id="euro-80-is-160-septets"),
        pytest.param("€" * 81, 2, id="euro-81-is-162-septets"),
        pytest.param("a" * 158 + "{}", 2, id="gsm-162-septets"),
        pytest.param("á" * 70, 1, id="ucs2-70"),
        pytest.param("á" * 71, 2, id="ucs2-71"),
        pytest.param("á" * 134, 2, id="ucs2-134"),
        pytest.param("á" * 135, 3, id="ucs2-135"),
        pytest.param("a" * 159 + "á", 3, id="one-accent-makes-160-chars-ucs2"),
        pytest.param("😀" * 35, 1, id="emoji-35-is-70-units"),
        pytest.param("😀" * 36, 2, id="emoji-36-is-72-units"),
        pytest.param("😀" * 66, 2, id="emoji-66-is-132-units"),
        # 67 units a segment hold 33 emoji, not 33.5: the 67th needs a third segment.
        pytest.param("😀" * 67, 3, id="emoji-67-is-134-units"),
        # A character is never split across segments, so these take one more segment than
        # ceil(306 / 153) and ceil(134 / 67).
        pytest.param("a" * 152 + "€" + "a" * 152, 3, id="escape-pair-not-split"),
        pytest.param("á" * 66 + "😀" + "á" * 66, 3, id="surrogate-pair-not-split"),
    ],
)
def test_segments(text: str, expected: int) -> None:
    assert segments(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("📅 Book a class", "Book a class"),
        ("✅ Confirm booking", "Confirm booking"),
        ("🗓 My bookings", "My bookings"),
        ("🌐 Idioma", "Idioma"),
        ("❓ Help", "Help"),
        ("⬅ Atrás", "Atrás"),
        ("✖ Cancelar", "Cancelar"),
        ("🎉 ¡Reservado! Yoga, lun 4 ene", "¡Reservado! Yoga, lun 4 ene"),
        ("Booked! 🎉", "Booked!"),
        ("Booked! 🎉🎉 ", "Booked!"),
        ("See you 🎉 soon", "See you soon"),
        ("See you🎉 soon", "See you soon"),
        ("a🎉b", "ab"),
        ("📅 🗓 Both", "Both"),
        ("1. 📅 Book a class", "1. Book a class"),
        ("❤️ with VS16", "with VS16"),
        ("👍🏽 skin tone", "skin tone"),
        ("👩\u200d👩\u200d👧 family", "family"),
        ("🏃\u200d♀️ run", "run"),
        ("🇪🇸 España", "España"),
        ("Press 1️⃣ or #️⃣", "Press 1 or #"),
        ("© 2026 ™", "© 2026 ™"),
        ("©️ emoji copyright", "emoji copyright"),
        ("• Yoga · €45.00 · next Mon", "- Yoga - €45.00 - next Mon"),
        ("… and 3 more", "... and 3 more"),
        ("… y 3 más", "... y 3 más"),
        ("Needs 2 × bike per person.", "Needs 2 x bike per person."),
        ("45,00\xa0€", "45,00 €"),
        ("6:30\u202fPM", "6:30 PM"),
        ("19:30–21:30 — CET", "19:30-21:30 - CET"),
        ("“Hi” ‘you’ «sí» „x“", '"Hi" \'you\' "sí" "x"'),
        ("zero\u200bwidth", "zerowidth"),
        ("Sesión de yoga: ¿mañana? Sí, ñandú", "Sesión de yoga: ¿mañana? Sí, ñandú"),
        ("🎉\nBooked", "Booked"),
        ("Booked\n🎉", "Booked"),
        ("Line 1\n\nLine 2", "Line 1\n\nLine 2"),
        ("  indented", "  indented"),
        ("🎉", ""),
        ("🎉 ✅\n📅", ""),
        ("", ""),
    ],
)
def test_for_sms(text: str, expected: str) -> None:
    assert for_sms(text) == expected


def catalog_strings(language: str) -> list[str]:
    """Every message of a catalogue: msgids for English (the source), msgstrs otherwise."""
    po = files("bookbot").joinpath("locales", language, "LC_MESSAGES", "bookbot.po")
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    strings: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        source = message.id if language == "en" else message.string
        strings += [source] if isinstance(source, str) else list(source)
    return [s for s in strings if s]


def test_english_catalogue_is_all_gsm7_for_sms() -> None:
    # Guards the catalogue: a new emoji or typographic character outside the tables in
    # sms_text would silently make English replies UCS-2, more than doubling their cost.
    strings = catalog_strings("en")
    assert strings
    assert [s for s in strings if encoding(for_sms(s)) != "GSM-7"] == []


def test_spanish_catalogue_for_sms_has_only_gsm7_and_spanish_letters() -> None:
    allowed = GSM7_BASIC | GSM7_EXTENSION | set("áíóúÁÍÓÚ")
    strings = catalog_strings("es")
    assert strings
    assert {c for s in strings for c in for_sms(s)} - allowed == set()


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_catalogue_message_goes_as_gsm7_by_sms(language: str) -> None:
    strings = catalog_strings(language)
    assert [s for s in strings if encoding(sms_body(s)) != "GSM-7"] == []


def test_every_message_in_the_sources_goes_as_gsm7_by_sms() -> None:
    # The sources, not the catalogue: a message written today is not in the .po files until
    # the translator extracts it, and one "▸" would send its whole reply as UCS-2.
    strings = [text for m in extract() if m.id for text in (m.id if m.pluralizable else [m.id])]
    assert strings
    assert [s for s in strings if encoding(sms_body(s)) != "GSM-7"] == []


def assert_valid_split(text: str, parts: list[str], max_segments: int, max_chars: int) -> None:
    """Every part within the limits, and the parts are `text` less only whitespace at cuts."""
    position = 0
    for part in parts:
        assert part.strip(), parts
        assert segments(part) <= max_segments, part
        assert len(part) <= max_chars
        assert utf16_len(part) <= max_chars
        assert part == part.rstrip()
        assert not part.startswith("\n")
        assert part.partition("\n")[0].strip(), "leading blank line"
        found = text.find(part, position)
        assert found >= 0, part
        assert text[position:found].strip() == "", "lost characters before a part"
        position = found + len(part)
    assert text[position:].strip() == "", "lost characters at the end"
    assert "".join("".join(parts).split()) == "".join(text.split())


def words(rng: random.Random, n: int) -> str:
    vocabulary = ["yoga", "pilates", "spin", "Mon", "18:00", "€45.00", "class", "-", "full"]
    return " ".join(rng.choice(vocabulary) for _ in range(n))


def test_many_lines_split_at_line_boundaries_within_limits() -> None:
    rng = random.Random(7)  # noqa: S311 - test data, not security
    lines = [f"{n}. {words(rng, rng.randint(1, 8))}" for n in range(1, 200)]
    text = "\n".join(lines)
    text = text[: text.rfind("\n", 0, 2000)]
    assert len(text) > 1900

    for max_segments, max_chars in [
        (SMS_MAX_SEGMENTS, TWILIO_MAX_BODY_CHARS),
        (2, 1600),
        (10, 500),
    ]:
        parts = split_message(text, max_segments=max_segments, max_chars=max_chars)
        assert len(parts) > 1
        assert_valid_split(text, parts, max_segments, max_chars)
        # Every line fits a message, so no line is cut: each part is whole lines.
        assert [line for part in parts for line in part.split("\n")] == text.split("\n")


def test_a_line_longer_than_a_message_is_cut_between_words() -> None:
    text = "Your bookings:\n" + " ".join(f"class{n}" for n in range(300)) + "\nBye"
    parts = split_message(text, max_segments=2, max_chars=1600)
    assert_valid_split(text, parts, 2, 1600)
    # The long line starts in the first message rather than leaving it a short one.
    assert parts[0].startswith("Your bookings:\nclass0 class1")
    assert all(len(part) > 250 for part in parts[:-1])
    assert parts[-1].endswith("class299\nBye")
    cut_words = {w for part in parts for w in part.split()}
    assert cut_words == {"Your", "bookings:", "Bye"} | {f"class{n}" for n in range(300)}


def test_a_line_that_fits_a_message_is_not_cut() -> None:
    # 100 + 1 + 119 + 1 + 30 septets: the b line would fit after the a line in part, but it
    # fits a message of its own, so it starts the second one whole.
    b_line = " ".join("b" * 60)
    text = "a" * 100 + "\n" + b_line + "\n" + "c" * 30
    assert split_message(text, max_segments=1, max_chars=1600) == [
        "a" * 100,
        b_line + "\n" + "c" * 30,
    ]


@pytest.mark.parametrize(
    ("split", "lengths"),
    [
        pytest.param(sms_parts, [612, 612, 612, 164], id="sms-4-segments-of-153"),
        pytest.param(whatsapp_parts, [WHATSAPP_MAX_CHARS, 400], id="whatsapp-1600"),
    ],
)
def test_a_word_longer_than_a_message_is_hard_cut(
    split: Callable[[str], list[str]], lengths: list[int]
) -> None:
    word = "".join(str(n % 10) for n in range(2000))
    parts = split(word)
    assert [len(part) for part in parts] == lengths
    assert "".join(parts) == word


def test_hard_cut_keeps_accents_on_their_letters() -> None:
    text = "e\u0301" * 10  # é as e + combining acute
    parts = split_message(text, max_segments=1, max_chars=5)
    assert "".join(parts) == text
    assert all(not part.startswith("\u0301") for part in parts)
    assert all(utf16_len(part) <= 5 for part in parts)


def test_emoji_count_two_characters_against_max_chars() -> None:
    text = "🎉" * 1000  # 2,000 UTF-16 code units
    parts = whatsapp_parts(text)
    assert [utf16_len(part) for part in parts] == [1600, 400]
    assert "".join(parts) == text


def test_sms_parts_of_unfolded_spanish_text_use_ucs2_segments() -> None:
    text = " ".join(["Sesión"] * 100)  # 699 characters, UCS-2 because of ó
    parts = sms_parts(text, fold=False)
    assert_valid_split(text, parts, SMS_MAX_SEGMENTS, TWILIO_MAX_BODY_CHARS)
    assert all(len(part) <= SMS_MAX_SEGMENTS * 67 for part in parts)
    assert len(parts) == 3


def test_sms_parts_of_spanish_text_are_folded_to_gsm7() -> None:
    text = " ".join(["Sesión"] * 100)
    parts = sms_parts(text)
    folded = text.replace("ó", "o")
    assert_valid_split(folded, parts, SMS_MAX_SEGMENTS, TWILIO_MAX_BODY_CHARS)
    # 699 septets: 612 fit the 4-segment cap, so two messages (three as UCS-2, above).
    assert [encoding(part) for part in parts] == ["GSM-7", "GSM-7"]
    assert [segments(part) for part in parts] == [4, 1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Sesión de yoga", "Sesion de yoga", id="o-acute"),
        pytest.param("¿Mañana? ¡Sí!", "¿Mañana? ¡Si!", id="spanish-keeps-n-tilde-and-marks"),
        pytest.param("ÁÉÍÓÚ áéíóú", "AÉIOU aéiou", id="acutes-but-gsm-e-acute"),
        pytest.param("àèìòù ÀÈÌÒÙ", "àèìòù AEIOU", id="graves-lower-kept-upper-folded"),
        pytest.param("äöüÄÖÜ ñÑ", "äöüÄÖÜ ñÑ", id="gsm-umlauts-kept"),
        pytest.param("façade Ça", "facade Ça", id="c-cedilla-lower-folded"),
        pytest.param("1º 2ª", "1o 2a", id="ordinals"),
        pytest.param("Łódź Œuvre", "Lodz OEuvre", id="undecomposable-latin"),
        pytest.param("Zoë", "Zoe", id="e-diaeresis"),
        pytest.param("e\u0301", "é", id="combining-accent-composed-first"),
        pytest.param("Ana 北京 sí", "Ana 北京 sí", id="no-gsm-form-keeps-everything"),
        pytest.param("Ελλάδα", "Ελλάδα", id="greek-lowercase-is-not-gsm"),
        pytest.param("ΔΦΓ", "ΔΦΓ", id="gsm-greek-capitals"),
        pytest.param("€ [x] {y}", "€ [x] {y}", id="extension-table"),
        pytest.param("", "", id="empty"),
    ],
)
def test_fold_gsm(text: str, expected: str) -> None:
    assert fold_gsm(text) == expected


def test_sms_body_folds_unless_told_not_to() -> None:
    text = "✅ Sesión · 45,00\xa0€ …"
    assert sms_body(text) == "Sesion - 45,00 € ..."
    assert sms_body(text, fold=False) == "Sesión - 45,00 € ..."
    assert encoding(sms_body(text)) == "GSM-7"
    assert encoding(sms_body(text, fold=False)) == "UCS-2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ana ✅", "Ana OK"),
        ("1. ✖", "1. X"),
        ("Later ➡", "Later >"),
        ("Older ⬇️", "Older v"),
        ("Later dates ▸", "Later dates >"),
        ("◂ Earlier", "< Earlier"),
        ("✅ Confirm booking", "Confirm booking"),
        ("Booked! 🎉", "Booked!"),
        ("✅", ""),
    ],
)
def test_a_mark_ending_a_line_after_words_becomes_text(text: str, expected: str) -> None:
    assert for_sms(text) == expected


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \n\t\n "])
def test_nothing_to_send_gives_no_messages(text: str) -> None:
    assert split_message(text, max_segments=1, max_chars=160) == []
    assert sms_parts(text) == []
    assert whatsapp_parts(text) == []


def test_short_text_is_one_message_unchanged_but_trimmed() -> None:
    assert split_message("\n  Hi!\n1. Book\n\n", max_segments=1, max_chars=160) == [
        "  Hi!\n1. Book"
    ]


def test_emoji_only_text_is_nothing_to_send_by_sms_but_kept_for_whatsapp() -> None:
    assert sms_parts("🎉") == []
    assert sms_parts("🎉 ✅\n📅") == []
    assert whatsapp_parts("🎉") == ["🎉"]


def test_a_reply_by_sms() -> None:
    reply = "🎉 Booked! Yoga, Mon 5 Jan 19:30–21:30 · €45.00\n1. 📅 Book a class\n2. 🗓 My bookings"
    assert sms_parts(reply) == [
        "Booked! Yoga, Mon 5 Jan 19:30-21:30 - €45.00\n1. Book a class\n2. My bookings"
    ]
    assert encoding(sms_parts(reply)[0]) == "GSM-7"


@pytest.mark.parametrize(("max_segments", "max_chars"), [(0, 160), (1, 1)])
def test_limits_that_cannot_hold_a_character_are_refused(max_segments: int, max_chars: int) -> None:
    with pytest.raises(ValueError, match="max_segments"):
        split_message("hello", max_segments=max_segments, max_chars=max_chars)


@pytest.mark.parametrize("seed", range(25))
def test_random_texts_split_within_limits(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    pieces = ["a", "word", "€", "{x}", "á", "ñ", "😀", "e\u0301", " ", " ", "  ", "\n", "\n\n"]
    pieces += ["x" * rng.randint(50, 400)]
    text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 600)))
    max_segments = rng.randint(1, 5)
    max_chars = rng.randint(2, 700)
    parts = split_message(text, max_segments=max_segments, max_chars=max_chars)
    assert_valid_split(text, parts, max_segments, max_chars)
    assert (parts == []) == (text.strip() == "")
