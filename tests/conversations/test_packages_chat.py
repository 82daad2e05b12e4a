"""Lesson packages in chat (issue 15), on SQLite and PostgreSQL: the appointment summary
offers "Use my package" and booking with it redeems it; an expired package is not offered,
the summary says why and the ways to pay stay (the fallback); a package used up meanwhile is
refused with the reason and the summary again; "My passes" lists packages with balance and
expiry; a package is bought from the service's page, at the studio or online (the Stripe
stand-in; active once paid); staff adjust a balance with /packages
and a typed reason (audited).

The pottery studio gets Tom's 60-minute wheel lesson by SQL (weekdays 10:00-16:00 London,
£40.00, paid at the studio) and a 5-lesson package of it; it is Fri 20 Nov 2026, 09:00 UTC.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.templates import render
from bookbot.presentation.i18n import translator
from bookbot.services import packages
from bookbot.services.packages import Adjustment
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_appointment_payments_chat import (  # noqa: F401 - fixtures
    Desk,
    _lesson,
    either,
    gateway,
    standin,
)
from tests.conversations.test_staff import NOT_STAFF, staff_chat
from tests.examples import NOW


async def offer_five(db: Database, studio_id: int, service_id: int) -> None:
    await db.execute(
        "INSERT INTO package_offers (studio_id, key, name, service_id, sessions, price_minor,"
        " valid_days, payment, active) VALUES (:s, 'five', '5 wheel lessons', :sv, 5, 18000, 90,"
        " 'either', :on)",
        {"s": studio_id, "sv": service_id, "on": True},
    )


@pytest.fixture
async def lesson(db: Database, studio_id: int) -> int:
    service_id = await _lesson(db, studio_id, "at_studio")
    await offer_five(db, studio_id, service_id)
    return service_id


async def customer_of(db: Database, chat: Chat) -> int:
    found = await db.scalar(
        "SELECT customer_id FROM channel_identities WHERE address = :a", {"a": chat.address}
    )
    return int(found)


async def give(
    db: Database, clock: FrozenClock, studio_id: int, chat: Chat, *, days: int = 90, ago: int = 0
) -> packages.Package:
    offer = await packages.offer_by_key(db, studio_id, "five")
    terms = packages.terms_of(offer)
    terms = packages.PackageTerms(terms.name, terms.service_id, 5, None, days, offer_id=offer.id)
    return await packages.issue(
        db,
        clock.now() - timedelta(days=ago),
        studio_id,
        customer_id=await customer_of(db, chat),
        terms=terms,
        payment="staff_issued",
    )


async def to_summary(chat: Chat) -> None:
    await chat.say("menu")
    await chat.press("👤 Book an appointment")
    await chat.press("Wheel lesson")
    await chat.press("Tom Hargreaves")
    await chat.press("Mon 23 Nov")
    await chat.press("10:00")
    assert "Please check your appointment:" in chat.text


async def remaining(db: Database, studio_id: int, package_id: int) -> int:
    return (await packages.package_by_id(db, studio_id, package_id)).remaining


async def test_the_summary_offers_the_package_and_booking_with_it_redeems_it(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int, lesson: int
) -> None:
    assert lesson
    package = await give(db, clock, studio_id, chat)
    await to_summary(chat)
    assert chat.labels[0].startswith("🎟 Use my package (5 left, until ")

    await chat.press("🎟 Use my package")

    assert "✅ Booked!" in chat.text
    assert 'Paid with your package "5 wheel lessons": 4 of 5 sessions left.' in chat.text
    assert "at the studio" not in chat.text
    assert await remaining(db, studio_id, package.id) == 4
    # Its own screen says so, and cancelling in time gives the session back.
    await chat.say("my")
    await chat.press("Wheel lesson")
    assert 'Paid with your package "5 wheel lessons".' in chat.text
    await chat.press("✖ Cancel appointment")
    assert 'It goes back to your package "5 wheel lessons".' in chat.text
    await chat.press("Yes, cancel it")
    assert await remaining(db, studio_id, package.id) == 5


async def test_an_expired_package_falls_back_to_paying_with_the_reason(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int, lesson: int
) -> None:
    assert lesson
    package = await give(db, clock, studio_id, chat, days=10, ago=30)
    await to_summary(chat)

    assert not any(label.startswith("🎟") for label in chat.labels)
    assert 'Your package "5 wheel lessons" is valid until ' in chat.text
    assert "it cannot pay for this one." in chat.text
    assert "✅ Confirm appointment" in chat.labels
    await chat.press("✅ Confirm appointment")
    assert "✅ Booked!" in chat.text
    assert "Pay £40.00 at the studio." in chat.text
    assert await remaining(db, studio_id, package.id) == 5


async def test_a_package_used_up_meanwhile_is_refused_with_the_reason(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int, lesson: int
) -> None:
    assert lesson
    package = await give(db, clock, studio_id, chat)
    await to_summary(chat)
    await packages.adjust(db, clock.now(), studio_id, package.id, Adjustment(-5, 0, "x", "t"))

    await chat.press("🎟 Use my package")

    assert 'Your package "5 wheel lessons" has no sessions left.' in chat.text
    assert "You can pay for it instead:" in chat.text
    assert "✅ Confirm appointment" in chat.labels
    assert await db.scalar("SELECT status FROM appointments") == "held"
    await chat.press("✅ Confirm appointment")
    assert "✅ Booked!" in chat.text


async def test_my_passes_lists_packages_with_balance_and_expiry(
    chat: Chat, db: Database, clock: FrozenClock, studio_id: int, lesson: int
) -> None:
    assert lesson
    await give(db, clock, studio_id, chat)

    await chat.say("passes")

    assert "Your packages:" in chat.text
    assert "• 5 wheel lessons · 5 of 5 sessions left · until Thu 18 Feb" in chat.text


async def test_a_package_is_bought_from_the_services_page_and_paid_at_the_studio(
    chat: Chat, db: Database, studio_id: int, lesson: int
) -> None:
    assert lesson
    await chat.say("menu")
    await chat.press("👤 Book an appointment")
    await chat.press("Wheel lesson")
    await chat.press("🎟 5 wheel lessons · £180.00")
    assert "5 wheel lessons: 5 sessions of Wheel lesson, valid for 90 days, for £180.00." in (
        chat.text
    )

    await chat.press("✅ Get it, pay at the studio")

    assert 'Your package "5 wheel lessons" is ready: pay for it at the studio.' in chat.text
    assert "With whom?" in chat.text
    [found] = await packages.customer_packages(db, studio_id, await customer_of(db, chat), NOW)
    assert (found.status, found.payment, found.remaining) == ("active", "at_studio", 5)
    await chat.press("Tom Hargreaves")
    await chat.press("Mon 23 Nov")
    await chat.press("10:00")
    assert chat.labels[0].startswith("🎟 Use my package (5 left")


async def test_staff_adjust_a_balance_with_a_reason_and_it_is_audited(
    chat: Chat, db: Database, clock: FrozenClock, dialogues: Dialogues, lesson: int
) -> None:
    studio_id = int(
        await db.scalar("SELECT studio_id FROM services WHERE id = :id", {"id": lesson})
    )
    package = await give(db, clock, studio_id, chat)
    await chat.say("/packages")
    assert NOT_STAFF in chat.text
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/packages")
    assert "Latest packages:" in maya.text
    await maya.press("Ana · 5 wheel lessons · 5 of 5 sessions left")
    await maya.press("➖ 1 session")
    assert "Type the reason" in maya.text
    await maya.say("x" * 301)  # too long for the audit: asked again, not cut short
    assert "Please type a short reason (at most 300 characters)" in maya.text
    await maya.say("used   at the desk\ton Friday")

    assert "Done: 4 of 5 sessions left." in maya.text
    assert await remaining(db, studio_id, package.id) == 4
    assert await packages.adjustments_of(db, studio_id, package.id) == [
        Adjustment(-1, 0, "used at the desk on Friday", "staff:Maya Okafor")
    ]
    await db.execute(
        "UPDATE customers SET phone = :a WHERE id = :id",
        {"a": chat.address, "id": await customer_of(db, chat)},
    )
    await maya.press("⬅ Back")
    await maya.say("+44 7700 900001")
    assert "Packages of +447700900001:" in maya.text


async def test_a_package_bought_online_in_chat_is_active_once_paid(
    either: Desk,  # noqa: F811 - the fixture imported above
    db: Database,
    studio_id: int,
) -> None:
    await offer_five(db, studio_id, await db.scalar("SELECT id FROM services WHERE key = 'lesson'"))
    ana = await either.chat()
    await ana.press("👤 Book an appointment")
    await ana.press("Wheel lesson")
    await ana.press("🎟 5 wheel lessons · £180.00")
    assert [o.label for o in ana.last.options][:2] == ["💳 Pay now", "Pay at the studio"]

    await ana.press("💳 Pay now")

    payment = await either.payment()
    assert (payment["purpose"], payment["amount_minor"], payment["status"]) == (
        "package",
        18000,
        "pending",
    )
    assert [o.label for o in ana.last.options if o.url] == ["💳 Pay £180.00"]
    assert "the link works until" in ana.text
    package = await packages.package_by_id(db, studio_id, int(payment["package_id"]))
    assert package.status == "pending_payment"

    await either.deliver(either.standin.pay(payment["stripe_session_id"]))

    package = await packages.package_by_id(db, studio_id, package.id)
    assert (package.status, package.payment, package.remaining) == ("active", "online", 5)
    await ana.press("🔄 I have paid")
    assert "✅ Payment received: your package is active." in ana.text
    [receipt] = await either.outbox("payment_receipt")
    text = render("payment_receipt", receipt["params"], translator("en"), "Europe/London")
    assert "Your package is active" in text


async def test_backing_out_of_a_packages_link_cancels_the_unpaid_package(
    either: Desk,  # noqa: F811 - the fixture imported above
    db: Database,
    studio_id: int,
) -> None:
    await offer_five(db, studio_id, await db.scalar("SELECT id FROM services WHERE key = 'lesson'"))
    ana = await either.chat()
    await ana.press("👤 Book an appointment")
    await ana.press("Wheel lesson")
    await ana.press("🎟 5 wheel lessons")
    await ana.press("💳 Pay now")
    payment = await either.payment()

    await ana.press("⬅ Back")

    assert "Payment cancelled; nothing was charged." in ana.text
    assert "5 wheel lessons: 5 sessions of Wheel lesson" in ana.text  # the offer again
    assert (await either.payment())["status"] == "cancelled"
    package = await packages.package_by_id(db, studio_id, int(payment["package_id"]))
    assert package.status == "cancelled"
