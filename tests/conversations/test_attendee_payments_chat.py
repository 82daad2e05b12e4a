"""Attendee details with paying online (issue 17): a deposit, backing out of the link, and
invoicing a company all keep the details, written to the booking that is paid for."""

from __future__ import annotations

from bookbot.store.db import Database
from tests.conversations import test_payments_chat as paying
from tests.conversations.test_attendee_details import ask_for, rows
from tests.conversations.test_payments_chat import Shop

# The paying shop's fixtures (the local Stripe stand-in).
standin = paying.standin
gateway = paying.gateway
shop = paying.shop

COURSE = "Six-Week Wheel Course"


async def test_deposit_after_details_and_back_from_the_link(shop: Shop, studio_id: int) -> None:
    await ask_for(shop.db, studio_id, "email,company,names", key="wheel-course")
    chat = shop.chat()
    await chat.say("/start")
    for said in ("book", COURSE, "1", "2"):
        await chat.say(said)
    assert "What is your full name, for the booking?" in chat.text
    await chat.say("Ana Diaz")
    await chat.say("ana@acme.example")
    await chat.say("Acme Ltd")
    await chat.say("Bo Diaz")
    assert "Names: Ana Diaz, Bo Diaz" in chat.text
    await chat.press("💳 Pay £144.00 deposit now")
    first = await shop.payment()
    # Back from the link: the seats are held again (a new hold) with the same details.
    await chat.press("⬅ Back")
    assert "Please check your booking:" in chat.text
    assert "Company: Acme Ltd" in chat.text
    await chat.press("💳 Pay £144.00 deposit now")
    payment = await shop.payment()
    assert payment["id"] != first["id"]
    await shop.deliver(shop.standin.pay(payment["stripe_session_id"]))
    paid_for = payment["registration_id"]
    written = [r for r in await rows(shop.db) if r["registration_id"] == paid_for]
    assert [(r["position"], r["name"], r["status"]) for r in written] == [
        (1, "Ana Diaz", "confirmed"),
        (2, "Bo Diaz", "confirmed"),
    ]
    assert written[0]["company"] == "Acme Ltd"


async def test_company_invoice_after_details(shop: Shop, studio_id: int, db: Database) -> None:
    await ask_for(db, studio_id, "email,job_title", key="wheel-course")
    chat = shop.chat()
    await chat.say("/start")
    for said in ("book", COURSE, "1", "1"):
        await chat.say(said)
    await chat.say("ana@acme.example")
    await chat.say("Buyer")
    assert "Job title: Buyer" in chat.text
    await chat.press("🏢 Invoice my company")
    await chat.say("Acme Pottery Ltd")
    await chat.say("accounts@acme.example")
    await chat.say("PO-1")
    assert "🎉 Booked! Six-Week Wheel Course" in chat.text
    payment = await shop.payment()
    written = [r for r in await rows(db) if r["registration_id"] == payment["registration_id"]]
    assert [(r["name"], r["email"], r["job_title"], r["status"]) for r in written] == [
        ("Ana", "ana@acme.example", "Buyer", "confirmed")
    ]
