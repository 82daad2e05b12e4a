"""The waitlist chain: a freed seat is offered to the first in line for a while; if they
pass or let it lapse, the next one gets it."""

from __future__ import annotations

from datetime import timedelta

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.jobs.sweeps import Sweeps
from bookbot.store.db import Database
from tests.conversations.chat import Chat


async def full_taster_with_a_queue(dialogues: Dialogues, db: Database) -> tuple[Chat, Chat, Chat]:
    async with db.transaction() as tx:
        await tx.execute("UPDATE sessions SET capacity = 1")
    ana, ben, cy = (
        Chat(dialogues, address=f"+4477009005{i}", name=n)
        for i, n in enumerate(("Ana", "Ben", "Cy"))
    )
    for chat in (ana, ben, cy):
        await chat.say("/start")
        for reply in ("1", "Wheel Throwing Taster", "2"):  # Sat 28 Nov, beyond the 48 h cutoff
            await chat.say(reply)
    await ana.say("1")
    await ana.say("confirm")
    for chat in (ben, cy):
        await chat.say("1")
        await chat.press("Join the waitlist")
        await chat.say("yes")
    await ana.say("my bookings")
    await ana.say("1")
    await ana.press("Cancel this booking")
    await ana.press("Yes, cancel it")
    return ana, ben, cy


async def offers(db: Database) -> list[tuple[str, str]]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT c.name, w.status FROM waitlist_entries w JOIN customers c ON c.id = w.customer_id ORDER BY w.id"
        )
    return [(r[0], r[1]) for r in rows]


async def test_first_declines_and_the_second_gets_the_seat(
    dialogues: Dialogues, db: Database
) -> None:
    _, ben, cy = await full_taster_with_a_queue(dialogues, db)
    assert await offers(db) == [("Ben", "offered"), ("Cy", "waiting")]
    async with db.transaction(write=False) as tx:
        queued = await tx.scalar("SELECT COUNT(*) FROM outbox WHERE template = 'waitlist_offer'")
    assert queued == 1

    await ben.say("DECLINE")
    assert await offers(db) == [("Ben", "declined"), ("Cy", "offered")]
    await ben.say("accept")
    assert ben.text.startswith("There is no waitlist offer waiting for you right now.")
    await cy.say("ACCEPT")
    assert cy.replies[0].text.startswith("🎉 Booked! Wheel Throwing Taster, Sat 28 Nov 2026")
    assert await offers(db) == [("Ben", "declined"), ("Cy", "accepted")]


async def test_an_offer_that_times_out_goes_to_the_next(
    dialogues: Dialogues, db: Database, clock: FrozenClock
) -> None:
    await full_taster_with_a_queue(dialogues, db)
    jobs = Sweeps(db, clock)
    clock.advance(timedelta(minutes=179))
    await jobs.tick()
    assert await offers(db) == [("Ben", "offered"), ("Cy", "waiting")]
    clock.advance(timedelta(minutes=1))  # the studio holds an offer for 180 minutes
    await jobs.tick()
    await jobs.tick()
    assert await offers(db) == [("Ben", "expired"), ("Cy", "offered")]


async def test_an_offer_pushed_to_telegram_is_accepted_with_one_tap(
    dialogues: Dialogues, db: Database
) -> None:
    from bookbot.conversations.model import Channel

    await full_taster_with_a_queue(dialogues, db)
    async with db.transaction() as tx:  # Ben also writes to us on Telegram
        await tx.execute(
            "INSERT INTO channel_identities (studio_id, customer_id, channel, address)"
            " SELECT studio_id, id, 'telegram', '9090' FROM customers WHERE name = 'Ben'"
        )
    ben = Chat(dialogues, address="9090", name="Ben", channel=Channel.TELEGRAM)
    ben.replies = await dialogues.push(
        Channel.TELEGRAM, "9090", "waitlist_offer", "A place freed up."
    )

    assert ben.text == "A place freed up."
    assert ben.labels == ["✅ Accept", "✖ Decline"]
    await ben.press("✅ Accept")
    assert ben.replies[0].text.startswith("🎉 Booked! Wheel Throwing Taster, Sat 28 Nov 2026")


async def wheels_booked(db: Database) -> dict[str, int]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT c.name, SUM(a.quantity) FROM resource_allocations a"
            " JOIN registrations g ON g.id = a.registration_id"
            " JOIN customers c ON c.id = g.customer_id GROUP BY c.name ORDER BY c.name"
        )
    return {r[0]: int(r[1]) for r in rows}


async def test_accepting_an_offer_for_a_wheel_class_books_it(
    dialogues: Dialogues, db: Database
) -> None:
    """Wheels, not seats, run out: 3 wheels and 6 seats. The offer holds its party's wheels,
    so it goes to one party of two (not to every party the freed seats would fit), and
    accepting it books those wheels instead of "Only 0 × Potter's wheel free"."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE sessions SET capacity = 6")
        await tx.execute("UPDATE resources SET total_quantity = 3 WHERE name = 'Potter''s wheel'")
    ana, ben, cy = (
        Chat(dialogues, address=f"+4477009006{i}", name=n)
        for i, n in enumerate(("Ana", "Ben", "Cy"))
    )
    for chat in (ana, ben, cy):
        await chat.say("/start")
        for reply in ("1", "Wheel Throwing Taster", "2"):  # Sat 28 Nov
            await chat.say(reply)
    await ana.say("3")
    await ana.say("confirm")
    for chat in (ben, cy):
        await chat.say("2")  # no wheel left: the date's waitlist, for the party
        assert chat.text.startswith("Join the waitlist for Sat 28 Nov, 14:00, for 2 people?")
        await chat.say("yes")
    await ana.say("my bookings")
    await ana.say("1")
    await ana.press("Cancel this booking")
    await ana.press("Yes, cancel it")

    assert await offers(db) == [("Ben", "offered"), ("Cy", "waiting")]  # 3 wheels: one party
    await ben.say("ACCEPT")
    assert ben.replies[0].text.startswith("🎉 Booked! Wheel Throwing Taster, Sat 28 Nov 2026")
    assert await wheels_booked(db) == {"Ben": 2}
    await cy.say("ACCEPT")
    assert cy.text.startswith("There is no waitlist offer waiting for you right now.")
    assert await offers(db) == [("Ben", "accepted"), ("Cy", "waiting")]


async def test_yes_answers_a_waitlist_offer(dialogues: Dialogues, db: Database) -> None:
    _, ben, _ = await full_taster_with_a_queue(dialogues, db)
    ben.replies = await dialogues.push(
        ben.channel, ben.address, "waitlist_offer", "A place freed up."
    )
    await ben.say("yes")
    assert ben.replies[0].text.startswith("🎉 Booked! Wheel Throwing Taster, Sat 28 Nov 2026")
    assert await offers(db) == [("Ben", "accepted"), ("Cy", "waiting")]


async def test_my_bookings_lists_waitlist_places_and_one_can_leave(
    dialogues: Dialogues, db: Database
) -> None:
    _, ben, cy = await full_taster_with_a_queue(dialogues, db)
    assert await offers(db) == [("Ben", "offered"), ("Cy", "waiting")]
    await cy.say("my bookings")
    assert "⏳ Wheel Throwing Taster · Sat 28 Nov, 14:00 · waitlist" in cy.labels
    await cy.press("⏳ Wheel Throwing Taster")
    assert "You are on the waitlist for Wheel Throwing Taster, Sat 28 Nov, 14:00" in cy.text
    await cy.press("Leave the waitlist")
    assert "You have left the waitlist." in cy.text
    assert not any(label.startswith("⏳") for label in cy.labels)
    assert await offers(db) == [("Ben", "offered"), ("Cy", "cancelled")]
    # Ben's place is an offer: leaving it passes it on (nobody is left to take it).
    await ben.say("my bookings")
    await ben.press("⏳ Wheel Throwing Taster")
    assert "A place is held for you" in ben.text
    await ben.press("Leave the waitlist")
    assert await offers(db) == [("Ben", "declined"), ("Cy", "cancelled")]
