"""/session → a session → "✖ Cancel this session" (issue 17): staff type the reason, see who
is touched, confirm; each booking is cancelled and its customer told with the reason, the
waiting list too, and the session is offered no more. The example studio, Fri 20 Nov 2026."""

from __future__ import annotations

import json

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.services.customers import customer_for
from bookbot.services.waitlist import join_waitlist
from bookbot.store.db import Database
from tests.conversations.chat import Chat
from tests.conversations.test_staff import SATURDAY_TASTER, session_at, staff_chat

LABEL = "Sat 21 Nov, 14:00 · Wheel Throwing Taster"


async def test_staff_cancel_a_session_with_a_reason_and_everyone_is_told(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ana = Chat(dialogues)
    await ana.say("/start")
    await ana.say("1")
    await ana.say("Wheel Throwing Taster")
    await ana.press("Sat 21 Nov, 14:00")
    await ana.say("2")
    await ana.say("confirm")
    session_id = await session_at(db, studio_id, "wheel-taster", SATURDAY_TASTER)
    ben = await customer_for(db, clock, studio_id, "sms", "+447700900202", name="Ben")
    await join_waitlist(db, clock, studio_id, ben.id, session_id, guests=5)  # more than are left

    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/session")
    await maya.press("✏️ Change a session")
    await maya.press(LABEL)
    await maya.press("✖ Cancel this session")
    assert "Why is it cancelled? Type the reason" in maya.text
    await maya.say("x" * 400)  # too long: asked again, nothing cancelled
    assert "Please type a short reason" in maya.text
    await maya.say("The kiln is broken")
    assert maya.text.splitlines() == [
        "Cancel Wheel Throwing Taster · Sat 21 Nov, 14:00?",
        "1 booking is cancelled.",
        "1 person on the waiting list is told.",
        "Reason: The kiln is broken",
    ]
    status = "SELECT status FROM sessions WHERE id = :id"
    assert await db.scalar(status, {"id": session_id}) == "open"
    await maya.press("✖ Yes, cancel it")
    assert "Cancelled: Wheel Throwing Taster · Sat 21 Nov, 14:00. 2 people were told." in maya.text

    assert await db.scalar(status, {"id": session_id}) == "cancelled"
    rows = await db.all(
        "SELECT customer_id, params FROM outbox WHERE template = 'session_cancelled'"
        " ORDER BY customer_id"
    )
    kinds = {json.loads(r["params"])["kind"] for r in rows}
    assert kinds == {"booking", "waitlist"}
    assert {json.loads(r["params"])["reason"] for r in rows} == {"The kiln is broken"}
    await ana.say("menu")
    await ana.say("1")
    await ana.say("Wheel Throwing Taster")
    assert not any(label.startswith("Sat 21 Nov, 14:00") for label in ana.labels)


async def test_cancelling_is_for_staff_only(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    eve = Chat(dialogues, address="6002", name="Eve")
    await eve.say("/start")
    await eve.say("/session")
    assert "✖ Cancel this session" not in eve.labels
    assert (
        await db.scalar(
            "SELECT COUNT(*) FROM sessions WHERE studio_id = :s AND status = 'cancelled'",
            {"s": studio_id},
        )
        == 0
    )
