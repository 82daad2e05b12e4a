"""Getting a pass is idempotent against Back and a repeated answer: one pass per offer,
unless the customer asks for another in so many words. And its wording."""

from __future__ import annotations

from datetime import date

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.engine.reservations import PassKind
from bookbot.services import passes
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.examples import NOW


async def pass_count(db: Database) -> int:
    async with db.transaction(write=False) as tx:
        return int(await tx.scalar("SELECT COUNT(*) FROM passes"))


async def to_offer(chat: Chat, label: str = "🎟 Get a pass for 8 sessions") -> None:
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    await chat.press(label)


async def test_pass_offers_read_as_english(chat: Chat) -> None:
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    assert "🎟 Get a pass for 8 sessions to use within 90 days · £130.00" in chat.labels
    assert "🎟 Get an unlimited pass for 28 days · £120.00" in chat.labels
    await chat.press("🎟 Get a pass for 8 sessions")
    assert chat.text == (
        "A pass for 8 sessions to use within 90 days for £130.00, to pay at the studio. Get it?"
    )


async def test_back_and_get_again_keeps_one_pass(chat: Chat, db: Database) -> None:
    await to_offer(chat)
    await chat.press("✅ Get this pass")
    assert chat.text.startswith("Your pass is ready")
    await chat.press("⬅ Back")
    assert chat.text == "You already have this pass (8 sessions left). Get another one?"
    assert "✅ Get this pass" not in chat.labels
    await chat.say("yes")  # not "get another": a plain yes is no request for a second one
    assert await pass_count(db) == 1
    await chat.say("menu")
    await to_offer(chat)
    await chat.press("🎟 Show my pass")
    assert chat.text.startswith("Open Studio Drop-in · 8 of 8 left")
    assert await pass_count(db) == 1


async def test_another_one_is_issued_when_asked_for(chat: Chat, db: Database) -> None:
    await to_offer(chat)
    await chat.press("✅ Get this pass")
    await chat.press("⬅ Back")
    await chat.press("Get another one")
    assert chat.text.startswith("Your pass is ready")
    assert await pass_count(db) == 2


async def test_a_stale_get_this_pass_issues_nothing_more(chat: Chat, db: Database) -> None:
    """The old screen's button, answered again (a double press, a replayed message)."""
    await to_offer(chat)
    get = chat.token("✅ Get this pass")
    await chat.press_token(get)
    await chat.press_token(get)
    assert await pass_count(db) == 1


async def test_a_double_press_on_telegram_issues_one_pass(
    dialogues: Dialogues, db: Database
) -> None:
    chat = Chat(dialogues, address="4343", name="Ana", channel=Channel.TELEGRAM)
    await chat.say("/start")
    await to_offer(chat)
    get = chat.token("✅ Get this pass")
    first = await chat.press_token(get)
    second = await chat.press_token(get)
    assert first[-1].text.startswith("Your pass is ready")
    assert second[0].toast
    assert await pass_count(db) == 1


async def test_a_repeated_request_gets_the_pass_held(
    db: Database, clock: FrozenClock, studio_id: int
) -> None:
    """The service: `issue_once` twice, one pass; a used-up pass is not one held."""
    async with db.transaction() as tx:
        customer = int(
            await tx.scalar(
                "INSERT INTO customers (studio_id, name, created_at) VALUES (:s, 'Cy', :now)"
                " RETURNING id",
                {"s": studio_id, "now": NOW},
            )
        )
        class_id = int(await tx.scalar("SELECT id FROM classes WHERE key = 'open-studio'"))
    terms = passes.PassTerms(PassKind.PUNCH, sessions=8, valid_days=90, price_minor=13000)
    issue = passes.Issue(studio_id, customer, class_id, terms, "pay_at_studio", date(2026, 11, 20))
    first = await passes.issue_once(db, clock.now(), issue)
    again = await passes.issue_once(db, clock.now(), issue)
    assert first[1]
    assert again == (first[0], False)
    async with db.transaction() as tx:
        await tx.execute("UPDATE passes SET sessions_remaining = 0")
    third = await passes.issue_once(db, clock.now(), issue)
    assert third[1]
    assert await pass_count(db) == 2


@pytest.mark.parametrize("sessions", [8, 11, 18])
async def test_no_article_is_glued_to_a_number(chat: Chat, db: Database, sessions: int) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE pass_offers SET sessions = :n WHERE kind = 'punch'", {"n": sessions}
        )
    await chat.say("book")
    await chat.say("Open Studio Drop-in")
    assert any(label.startswith(f"🎟 Get a pass for {sessions} sessions") for label in chat.labels)


async def test_my_passes_pages_through_many(chat: Chat) -> None:
    await to_offer(chat)
    await chat.press("✅ Get this pass")
    for _ in range(7):
        await chat.press("⬅ Back")
        await chat.press("Get another one")
    await chat.say("menu")
    await chat.press("🎟 My passes")
    tickets = [label for label in chat.labels if label.startswith("Open Studio Drop-in")]
    assert len(tickets) == 6
    await chat.press("More passes ▸")
    assert len([label for label in chat.labels if label.startswith("Open Studio")]) == 2
    await chat.press("◂ Previous passes")
    assert len([label for label in chat.labels if label.startswith("Open Studio")]) == 6
