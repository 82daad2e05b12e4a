"""Staff tables over Telegram: /today, a roster and a report table arrive in <pre> with
parse_mode HTML, names escaped; other screens stay plain text."""

from __future__ import annotations

from typing import Any

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.services import booking
from bookbot.services.customers import customer_for
from bookbot.store.db import Database
from tests.conversations.test_staff import TODAY_16, session_at

from .emulator import AsyncTgClient, Emulator, aclient, eventually
from .test_bot import TOKEN, buttons, data_for, running

ODD_NAME = "Ben <b>Baker</b> & Co"


async def _sent(user: AsyncTgClient, containing: str) -> dict[str, Any]:
    """The newest sendMessage / editMessageText call whose text contains `containing`."""

    async def probe() -> dict[str, Any] | None:
        calls = [
            c["params"]
            for c in await user.bot_calls()
            if c["method"] in ("sendMessage", "editMessageText")
        ]
        return next((c for c in reversed(calls) if containing in c.get("text", "")), None)

    found: dict[str, Any] = await eventually(probe)
    return found


async def _press(user: AsyncTgClient, label_start: str) -> None:
    message = (await user.history())[-1]
    await user.press_button(message, data_for(message, label_start))


@pytest.mark.usefixtures("emulator")
async def test_a_roster_is_a_pre_table_with_html_escaped_names(
    db: Database, clock: FrozenClock, studio: int, emulator: Emulator
) -> None:
    ben = await customer_for(db, clock, studio, "sms", "+447700900201", name=ODD_NAME)
    today = await session_at(db, studio, "open-studio", TODAY_16)
    await booking.book_drop_in(db, clock, studio, ben.id, [today], guests=2)
    async with db.transaction() as tx:
        await tx.execute("UPDATE staff SET telegram_user_id = 777 WHERE key = 'tom'")
    tom = aclient(emulator, TOKEN, chat_id=777, first_name="Tom")
    async with running(db, clock, emulator):
        await tom.send_text("/staff")
        plain = await _sent(tom, "Staff tools for")
        assert plain.get("parse_mode") is None  # not a table: plain text
        await tom.send_text("/today")
        day = await _sent(tom, "Today, ")
        assert day["parse_mode"] == "HTML"
        row = next(line for line in day["text"].splitlines() if line.startswith("16:00"))
        assert row.split()[-2:] == ["2/8", "0"]  # Ben's party of 2, none checked in yet
        await _press(tom, "16:00 Open Studio Drop-in")
        roster = await _sent(tom, "Tap a name")

        assert roster["parse_mode"] == "HTML"
        text = roster["text"]
        assert text.startswith("<pre>")
        assert text.endswith("</pre>")
        assert "Ben &lt;b&gt;Baker&lt;/b&gt; &amp; Co" in text
        assert "<b>" not in text
        row = next(line for line in text.splitlines() if line.startswith("Ben &lt;"))
        assert row.split()[-1] == "2"  # the party
        # The button says it too, as plain text (buttons take no markup).
        assert f"{ODD_NAME} · 2 people" in buttons((await tom.history())[-1])


@pytest.mark.usefixtures("emulator")
async def test_a_report_table_follows_its_chart_in_pre(
    db: Database, clock: FrozenClock, studio: int, emulator: Emulator
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE staff SET telegram_user_id = 777 WHERE studio_id = :s AND key = 'tom'",
            {"s": studio},
        )
    tom = aclient(emulator, TOKEN, chat_id=777, first_name="Tom")
    async with running(db, clock, emulator):
        await tom.send_text("/report")
        await _sent(tom, "Which report?")
        await _press(tom, "By class, last 7 days")
        table = await _sent(tom, "Utilization by class")

        assert table["parse_mode"] == "HTML"
        assert table["text"].startswith("<pre>Utilization by class, Fri 13 Nov")
        photos = [c["params"] for c in await tom.bot_calls("sendPhoto")]
        assert len(photos) == 1
        assert not photos[0].get("caption")  # the chart alone; the table is the next message
