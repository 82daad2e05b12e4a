"""A reminder carries the same buttons whichever process sends it: `bookbot jobs` (a real
process, --once) and `bookbot run`'s delivery worker build their dialogues alike, so with SMS
configured both offer "📱 Link your phone" to a Telegram customer without one."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bookbot.config import Settings
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound
from bookbot.engine.clock import SystemClock
from bookbot.serve import build
from bookbot.services import outbox
from bookbot.store.db import connect
from tests.pipeline import UNLIMITED

from .emulator import Emulator, aclient, eventually
from .test_bot import buttons
from .test_run_command import bookbot

TOKEN = "779:PARITY"
CHAT = 951


def environment(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    """Telegram on the emulator, and SMS configured (nothing is texted in this test)."""
    return {
        **os.environ,
        "BOOKBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "BOOKBOT_TELEGRAM_TOKEN": TOKEN,
        "BOOKBOT_TELEGRAM_API_BASE": emulator.bot_api_base,
        "BOOKBOT_PUBLIC_URL": "http://127.0.0.1:9",
        "BOOKBOT_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "BOOKBOT_TWILIO_AUTH_TOKEN": "secret",
        "BOOKBOT_TWILIO_SMS_FROM": "+15005550006",
        "BOOKBOT_TWILIO_API_BASE": "http://127.0.0.1:9",
    }


async def queue_reminder(settings: Settings, key: str) -> None:
    """A Telegram customer (first contact by /start) and a 24-hour reminder due now."""
    db = await connect(settings.database_url)
    try:
        await Dialogues(db, SystemClock()).handle(
            Inbound(Channel.TELEGRAM, str(CHAT), text="/start", display_name="Ana")
        )
        now = datetime.now(UTC)
        async with db.transaction() as tx:
            customer = await tx.one("SELECT id, studio_id FROM customers WHERE name = 'Ana'")
            assert customer is not None
            await outbox.enqueue(
                tx,
                now=now,
                studio_id=customer["studio_id"],
                customer_id=customer["id"],
                template="reminder_24h",
                params={"class_name": "Wheel Throwing Taster", "starts_at": now.isoformat()},
                due_at=now - timedelta(minutes=1),
                dedupe_key=key,
            )
    finally:
        await db.close()


async def deliver_as_run(settings: Settings) -> None:
    """`bookbot run`'s delivery worker, as `build` wires it, over what is due."""
    db = await connect(settings.database_url)
    try:
        services = build(settings, db, SystemClock())
        assert services.bot is not None
        services.delivery.limits = UNLIMITED
        try:
            async with services.bot.bot:
                await services.delivery.run_until_idle()
        finally:
            if services.sender is not None:
                await services.sender.close()
    finally:
        await db.close()


async def test_a_reminder_has_the_same_buttons_from_jobs_and_from_run(
    tmp_path: Path, emulator: Emulator
) -> None:
    env = environment(tmp_path, emulator)
    demo = await bookbot("demo", "--weeks", "1", env=env)
    assert await demo.wait() == 0
    settings = _settings(env)
    user = aclient(emulator, TOKEN, chat_id=CHAT)

    async def reminders(count: int) -> list[dict[str, Any]] | None:
        found = [m for m in await user.history() if m.get("text", "").startswith("Reminder:")]
        return found if len(found) == count else None

    await queue_reminder(settings, "parity-jobs")
    jobs = await bookbot("jobs", "--once", env=env)
    output = (await jobs.communicate())[0].decode()
    assert jobs.returncode == 0, output
    [from_jobs] = await eventually(lambda: reminders(1))

    await queue_reminder(settings, "parity-run")
    await deliver_as_run(settings)
    from_run = (await eventually(lambda: reminders(2)))[1]

    labels = [list(buttons(m)) for m in (from_jobs, from_run)]
    assert labels[0] == labels[1]
    assert "📱 Link your phone" in labels[0]


def _settings(env: dict[str, str]) -> Settings:
    return Settings(
        database_url=env["BOOKBOT_DATABASE_URL"],
        telegram_token=env["BOOKBOT_TELEGRAM_TOKEN"],
        telegram_api_base=env["BOOKBOT_TELEGRAM_API_BASE"],
        public_url=env["BOOKBOT_PUBLIC_URL"],
        twilio_account_sid=env["BOOKBOT_TWILIO_ACCOUNT_SID"],
        twilio_auth_token=env["BOOKBOT_TWILIO_AUTH_TOKEN"],
        twilio_sms_from=env["BOOKBOT_TWILIO_SMS_FROM"],
        twilio_api_base=env["BOOKBOT_TWILIO_API_BASE"],
    )
