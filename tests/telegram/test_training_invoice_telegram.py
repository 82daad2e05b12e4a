"""The training centre's own bot on the emulator (one `bookbot run`, Stripe on): a customer
books the one-day Heat Pump course and taps "🏢 Invoice my company"; every question is
answered and the booking ends confirmed, with the invoice made and the calendar file sent,
and the menu offered again."""

from __future__ import annotations

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database

from .emulator import Emulator, aclient
from .test_bot import buttons
from .test_training_centre_e2e import BRISTOL_TOKEN, DAN, latest, running, said, tap, type_
from .test_training_centre_e2e import studios as studios  # the fixture, shared

COURSE = "Heat Pump Installation Awareness"


@pytest.mark.usefixtures("studios")
async def test_invoice_my_company_to_the_end(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    dan = aclient(emulator, BRISTOL_TOKEN, chat_id=DAN, first_name="Dan", last_name="Morgan")
    async with running(db, clock, emulator):
        await dan.send_text("/start")
        await latest(dan, "What would you like to do?")
        await tap(dan, "📅 Book a class", "Our classes:")
        await tap(dan, COURSE, "Choose a date")
        await tap(dan, "Tue 1 Dec", "How many people")
        await tap(dan, "1", "What is your full name")
        await tap(dan, "✓ Use this name", "What is your email address?")
        await type_(dan, "dan@severnheating.co.uk", "What is the name of your company?")
        await type_(dan, "Severn Heating Ltd", "What is your job title?")
        summary = await type_(dan, "Gas engineer", "Please check your booking")
        assert "🏢 Invoice my company" in buttons(summary)
        await tap(dan, "🏢 Invoice my company", "Which company should we invoice?")
        await type_(dan, "Severn Heating Ltd", "Which email address should the invoice go to?")
        await type_(dan, "accounts@severnheating.co.uk", "purchase order (PO) number")
        await tap(dan, "No PO number", "What would you like to do?")
        booked = await said(dan, "🎉 Booked!")
        assert booked["document"]["file_name"].endswith(".ics")
        assert (
            "🎉 Booked! Heat Pump Installation Awareness, Tue 1 Dec 2026, 09:30, for 1 person."
            " The invoice goes to accounts@severnheating.co.uk."
        ) in booked["caption"]
        payment = await db.one("SELECT * FROM payments ORDER BY id DESC LIMIT 1")
        assert payment is not None
        assert (payment["purpose"], payment["status"], payment["company_name"]) == (
            "invoice",
            "invoiced",
            "Severn Heating Ltd",
        )
        mine = await tap(dan, "🗓 My bookings", "Your upcoming bookings")
        assert f"{COURSE} · Tue 1 Dec, 09:30 · 1 person · invoiced" in buttons(mine)
