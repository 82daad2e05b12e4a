"""Attendee details in chat (issue 17): asked after the party size, before the summary,
validated, written to the held booking, listed on the summary."""

from __future__ import annotations

from typing import Any

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.store.db import Database
from tests.conversations.chat import Chat

ALL = "email,company,job_title,requests,names"


async def ask_for(db: Database, studio_id: int, fields: str, key: str = "wheel-taster") -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE classes SET attendee_fields = :f WHERE studio_id = :s AND key = :k",
            {"f": fields, "s": studio_id, "k": key},
        )


COLUMNS = ("registration_id", "position", "name", "email", "company", "job_title", "requests")


async def rows(db: Database) -> list[dict[str, Any]]:
    found = await db.all(
        "SELECT a.registration_id, a.position, a.name, a.email, a.company, a.job_title,"
        " a.requests, r.status FROM registration_attendees a"
        " JOIN registrations r ON r.id = a.registration_id ORDER BY a.registration_id, a.position"
    )
    return [{c: r[c] for c in (*COLUMNS, "status")} for r in found]


async def to_details(chat: Chat, party: str = "3") -> None:
    for said in ("book", "Wheel Throwing Taster", "1", party):
        await chat.say(said)


async def test_every_detail_is_asked_checked_and_written(
    chat: Chat, db: Database, studio_id: int
) -> None:
    await ask_for(db, studio_id, ALL)
    await to_details(chat)
    assert "Details for your booking (1 of 7):" in chat.text
    assert "What is your full name, for the booking?" in chat.text
    assert "Now: Ana" in chat.text
    await chat.say("Ana María López")
    assert "What is your email address?" in chat.text
    await chat.say("ana at example")
    assert "An email address needs an @, like name@company.com." in chat.text
    await chat.say("ana@example")
    assert "The part after the @ should be a domain like company.com." in chat.text
    await chat.say("Ana@Example.COM")
    assert "What is the name of your company?" in chat.text
    await chat.say("  Acme\u200b  Gas\tLtd \x07")
    await chat.say("x" * 201)
    assert "Please keep it under 200 characters." in chat.text
    await chat.say("Site engineer")
    assert "Any special requests" in chat.text
    await chat.say("Vegetarian lunch, step-free access")
    assert "Name of person 2 of 3?" in chat.text
    await chat.say("Ben Ode")
    assert "Name of person 3 of 3?" in chat.text
    await chat.say("!!!")
    assert "Please send it in letters or numbers." in chat.text
    await chat.say("Cy Young")

    assert "Please check your booking:" in chat.text
    assert "Names: Ana María López, Ben Ode, Cy Young" in chat.text
    assert "Email: Ana@example.com" in chat.text
    assert "Company: Acme Gas Ltd" in chat.text
    assert "Job title: Site engineer" in chat.text
    assert "Requests: Vegetarian lunch, step-free access" in chat.text
    written = await rows(db)
    assert [(r["position"], r["name"], r["status"]) for r in written] == [
        (1, "Ana María López", "held"),
        (2, "Ben Ode", "held"),
        (3, "Cy Young", "held"),
    ]
    assert (written[0]["email"], written[0]["company"], written[0]["job_title"]) == (
        "Ana@example.com",
        "Acme Gas Ltd",
        "Site engineer",
    )
    assert written[1]["email"] is None

    await chat.press("✅ Confirm booking")
    assert "🎉 Booked!" in chat.text
    assert {r["status"] for r in await rows(db)} == {"confirmed"}


async def test_back_goes_question_by_question_and_answers_are_kept(
    chat: Chat, db: Database, studio_id: int
) -> None:
    await ask_for(db, studio_id, "email,requests,names")
    await to_details(chat, "2")
    await chat.press("✓ Use this name")
    await chat.say("ana@example.com")
    await chat.say("none")  # no requests
    assert "Name of person 2 of 2?" in chat.text
    await chat.press("⬅ Back")
    assert "Any special requests" in chat.text
    await chat.press("⬅ Back")
    assert "What is your email address?" in chat.text
    assert "Now: ana@example.com" in chat.text
    await chat.say("ana@work.example")  # re-asking overwrites
    await chat.press("No requests")
    await chat.say("Bea")
    assert "Requests: none" in chat.text
    assert "Email: ana@work.example" in chat.text
    # Back from the summary: the last question, its answer offered; the seats stay held.
    await chat.press("⬅ Back")
    assert "Name of person 2 of 2?" in chat.text
    assert "Now: Bea" in chat.text
    held = await db.scalar("SELECT COUNT(*) FROM registrations WHERE status = 'held'")
    assert held == 1
    await chat.press("✓ Use this name")
    assert "Please check your booking:" in chat.text
    written = await rows(db)
    assert [(r["position"], r["name"], r["email"]) for r in written] == [
        (1, "Ana", "ana@work.example"),
        (2, "Bea", None),
    ]
    # Back from the first question leaves the details: the party size again, seats let go.
    await chat.press("⬅ Back")
    for _ in range(4):
        await chat.press("⬅ Back")
    assert "How many people are coming" in chat.text
    assert await db.scalar("SELECT COUNT(*) FROM registrations WHERE status = 'held'") == 0


async def test_a_one_line_request_still_asks_the_details(
    chat: Chat, db: Database, studio_id: int
) -> None:
    await ask_for(db, studio_id, "company")
    await chat.say("book wheel taster for 2 on saturday")
    assert "What is the name of your company?" in chat.text
    assert "Please check your booking:" not in chat.text
    await chat.say("Acme")
    assert "Please check your booking:" in chat.text
    assert "Company: Acme" in chat.text


async def test_a_class_without_details_goes_straight_to_the_summary(chat: Chat) -> None:
    await to_details(chat, "2")
    assert "Please check your booking:" in chat.text
    assert "Details for your booking" not in chat.text


async def test_by_sms_the_options_are_numbered_and_a_new_party_asks_names_again(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    await ask_for(db, studio_id, "names")
    sms = Chat(dialogues, address="+447700900123", channel=Channel.SMS)
    await sms.say("/start")
    await to_details(sms, "1")
    assert sms.labels == ["✓ Use this name", "⬅ Back", "✖ Menu"]
    await sms.say("1")  # Use this name
    assert "Names: Ana" in sms.text
    await sms.say("for 2")  # a bigger party at the summary: held again, names asked again
    assert "Details for your booking (1 of 2):" in sms.text
    await sms.say("1")
    await sms.say("Bo")
    assert "Names: Ana, Bo" in sms.text
    held = [r for r in await rows(db) if r["status"] == "held"]  # the first hold was let go
    assert [(r["position"], r["name"], r["status"]) for r in held] == [
        (1, "Ana", "held"),
        (2, "Bo", "held"),
    ]
