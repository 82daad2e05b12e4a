"""Replies as numbered text (shell, SMS, WhatsApp): one line per option, no name said twice."""

from __future__ import annotations

from bookbot.conversations.model import Option, Reply
from bookbot.handlers.text import numbered


def reply(text: str, *labels: str, links: tuple[tuple[str, str], ...] = ()) -> Reply:
    options = [Option(f"1:{i}", label) for i, label in enumerate(labels)]
    options += [Option("", label, url=url) for label, url in links]
    return Reply(text, tuple(options))


def test_a_bullet_that_describes_an_option_becomes_its_line() -> None:
    classes = reply(
        "Our classes:\n• Mug Making · £65.00 · next Sun 6 Dec\n• Wheel Taster · £45.00",
        "Mug Making",
        "Wheel Taster",
        "⬅ Back",
        "✖ Menu",
    )
    assert numbered(classes) == (
        "Our classes:\n"
        "1. Mug Making · £65.00 · next Sun 6 Dec\n"
        "2. Wheel Taster · £45.00\n"
        "3. ⬅ Back\n"
        "4. ✖ Menu"
    )


def test_the_label_decoration_stays_in_front() -> None:
    passes = reply("Passes:\n• 10-class pass · £80.00, 90 days", "🎟 10-class pass")
    assert numbered(passes) == "Passes:\n1. 🎟 10-class pass · £80.00, 90 days"


def test_a_longer_name_is_not_taken_for_a_shorter_label() -> None:
    text = "• Wheel Throwing Taster · £45.00\n• Wheel · £10.00"
    assert numbered(reply(text, "Wheel", "Wheel Throwing Taster")) == (
        "1. Wheel · £10.00\n2. Wheel Throwing Taster · £45.00"
    )
    # "Wheel" followed by another word is not about the option "Wheel".
    assert numbered(reply("• Wheel Throwing Taster · £45.00", "Wheel")) == (
        "• Wheel Throwing Taster · £45.00\n1. Wheel"
    )


def test_lines_that_describe_no_option_stay_in_the_text() -> None:
    summary = reply(
        "Please check your booking:\n- Sat 21 Nov 2026, 14:00\nTotal: £90.00",
        "✅ Confirm booking",
        "⬅ Back",
    )
    assert numbered(summary) == (
        "Please check your booking:\n- Sat 21 Nov 2026, 14:00\nTotal: £90.00\n"
        "1. ✅ Confirm booking\n2. ⬅ Back"
    )


def test_two_options_with_the_same_label_keep_their_labels() -> None:
    same = reply("• Yoga · Mon\n• Yoga · Tue", "Yoga", "Yoga")
    assert numbered(same) == "• Yoga · Mon\n• Yoga · Tue\n1. Yoga\n2. Yoga"


def test_links_take_no_number() -> None:
    pay = reply("Pay here:", "I have paid", links=(("💳 Pay now", "https://pay.example/1"),))
    assert numbered(pay) == "Pay here:\n💳 Pay now: https://pay.example/1\n1. I have paid"


def test_no_text_and_no_options() -> None:
    assert numbered(Reply("")) == ""
    assert numbered(reply("", "Book")) == "1. Book"
