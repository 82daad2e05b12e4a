"""`bookbot run` as deployed: a real process, polling the Bot API stand-in, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from .emulator import Emulator, aclient, eventually

TOKEN = "777:RUN"


async def bookbot(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bookbot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_bookbot_run_polls_answers_and_stops_cleanly(
    tmp_path: Path, emulator: Emulator
) -> None:
    env = {
        **os.environ,
        "BOOKBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "BOOKBOT_TELEGRAM_TOKEN": TOKEN,
        "BOOKBOT_TELEGRAM_API_BASE": emulator.bot_api_base,
    }
    demo = await bookbot("demo", "--weeks", "2", env=env)
    assert await demo.wait() == 0
    bot = await bookbot("run", env=env)
    try:
        user = aclient(emulator, TOKEN, chat_id=301, first_name="Ana")
        await user.send_text("/start")

        async def welcomed() -> bool:
            return any(
                "What would you like to do?" in m.get("text", "") for m in await user.history()
            )

        await eventually(welcomed, within=30)
    finally:
        bot.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(bot.communicate(), 30))[0].decode()
    assert bot.returncode == 0, output
    assert "polling mode" in output


def test_bookbot_run_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOOKBOT_TELEGRAM_TOKEN"}
    env["BOOKBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
    subprocess.run(
        [sys.executable, "-m", "bookbot", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    done = subprocess.run(
        [sys.executable, "-m", "bookbot", "run"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "set BOOKBOT_TELEGRAM_TOKEN" in done.stderr
    assert "BOOKBOT_TWILIO_ACCOUNT_SID" in done.stderr
