"""/mydata and /forget cover what issue 17 stores about a booking: the attendee details
typed for it (names, email, company, requests) and a course feedback comment. The export
lists them; forgetting removes the details and the comment's words (the rating stays, a
number in the studio's figures)."""

from __future__ import annotations

from datetime import UTC, datetime

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.services import attendees, privacy
from bookbot.store.db import Database
from tests import builders
from tests.conversations.test_privacy import ana_booked, dialogues, world

__all__ = ["dialogues", "world"]  # fixtures


async def test_attendee_details_and_comments_are_exported_then_forgotten(
    dialogues: Dialogues, db: Database, world: builders.World
) -> None:
    chat, ana = await ana_booked(dialogues, world, Channel.SMS)
    reg = await db.scalar("SELECT id FROM registrations WHERE customer_id = :c", {"c": ana})
    assert reg is not None
    people = [
        attendees.Attendee(1, "Ana Ruiz", email="ana@example.com", requests="I have asthma"),
        attendees.Attendee(2, "Luis Ruiz"),
    ]
    await attendees.save(db, world.studio_id, int(reg), people)
    klass = await db.scalar("SELECT class_id FROM registrations WHERE id = :r", {"r": reg})
    await db.execute(
        "INSERT INTO course_feedback (studio_id, registration_id, class_id, rating, comment,"
        " created_at) VALUES (:s, :r, :k, 4, 'Ana here: loved it', :now)",
        {"s": world.studio_id, "r": reg, "k": klass, "now": datetime(2026, 1, 1, tzinfo=UTC)},
    )

    ids = {"studio_id": world.studio_id, "customer_id": ana}
    async with db.transaction() as tx:
        data = await privacy.export(tx, datetime(2026, 1, 2, tzinfo=UTC), channel="sms", **ids)
    assert [(a["position"], a["name"]) for a in data["attendees"]] == [
        (1, "Ana Ruiz"),
        (2, "Luis Ruiz"),
    ]
    assert data["attendees"][0]["requests"] == "I have asthma"
    assert [(f["rating"], f["comment"]) for f in data["feedback"]] == [(4, "Ana here: loved it")]

    await chat.say("FORGET")
    await chat.say("FORGET")

    assert "we have forgotten you" in chat.text
    left = await db.scalar("SELECT COUNT(*) FROM registration_attendees")
    assert left == 0
    row = await db.one("SELECT rating, comment FROM course_feedback")
    assert row is not None
    assert (row["rating"], row["comment"]) == (4, "")
