"""Run the `telegram-test-api` Bot API emulator (patched by `tg_emulator.js`) for tests.

    with run_emulator(npm_package(TELEGRAM_TEST_API)) as emu:   # what the conftest fixture does
        app = ptb_builder(emu, "123:TEST").build()             # a real PTB 22 Application
        app.add_handler(...)
        async with polling(app):                                # start, poll, stop cleanly
            user = aclient(emu, "123:TEST", chat_id=42)
            await user.send_text("/start")
            [reply] = await user.wait_bot_messages(1)

`TgClient` (tgclient.py) is synchronous (urllib + time.sleep): inside an async test it would
block the event loop the bot polls on, so async tests use `AsyncTgClient` (`aclient`), which runs
each call in a worker thread.

Node and the npm package come from `tests.node_tools` (see conftest.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .tgclient import TgClient

if TYPE_CHECKING:
    from telegram.ext import Application, ApplicationBuilder

TELEGRAM_TEST_API = "telegram-test-api@4.2.1"
LAUNCHER = Path(__file__).resolve().with_name("tg_emulator.js")
HOST = "127.0.0.1"

# Long-poll timeout the bot passes to getUpdates. The launcher answers as soon as an update is
# pending (it re-checks every 50 ms) and PTB cancels the pending request on `updater.stop()`, so
# this value costs nothing in latency or shutdown time; it only bounds idle round trips.
POLL_TIMEOUT = timedelta(seconds=10)
POLLING_KWARGS: dict[str, Any] = {"poll_interval": 0.0, "timeout": POLL_TIMEOUT}

T = TypeVar("T")


# -- the emulator process -------------------------------------------------------------------------


class Emulator:
    """A running emulator. `base_url` is for the test side, `bot_api_base` for the bot."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.base_url = f"http://{HOST}:{port}"
        self.bot_api_base = f"{self.base_url}/bot"  # PTB appends the token
        # getFile is not emulated; this only keeps PTB from ever pointing at api.telegram.org
        self.bot_file_base = f"{self.base_url}/file/bot"
        self._admin = TgClient(self.base_url, token="")

    def reset(self) -> None:
        """Forget all messages, recorded calls, callback answers and webhooks (every token)."""
        self._admin.reset()

    def calls(self, token: str, method: str | None = None) -> list[dict[str, Any]]:
        """Bot API calls made with `token`: {time, token, method, params[, file]}, oldest first.

        Includes the bot's own getMe/deleteWebhook/getUpdates traffic; filter by `method`.
        `params` values are as sent: PTB form-encodes, so numbers are strings and objects
        (reply_markup) are JSON strings.
        """
        return TgClient(self.base_url, token).bot_calls(method)

    def callback_answers(self, token: str) -> list[dict[str, Any]]:
        """answerCallbackQuery bodies: {token, time, callback_query_id, text?, show_alert?}."""
        return TgClient(self.base_url, token).callback_answers()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_ready(emu: Emulator, timeout: float) -> str | None:
    """None once the emulator answers; else why not (process exited or timed out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not emu.alive():
            return f"node exited with code {emu.process.returncode}"
        try:
            emu.calls("__probe__")
        except OSError:  # connection refused until express listens
            time.sleep(0.05)
        else:
            return None
    return f"no answer within {timeout:.0f}s"


def _stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # the launcher's SIGTERM handler closes the server and exits
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:  # e.g. a bot still holds a long poll open
        process.kill()
        process.wait()


@contextmanager
def run_emulator(
    prefix: Path,
    *,
    node: Path | str | None = None,
    args: Sequence[str] = (),
    startup_timeout: float = 20.0,
    attempts: int = 3,
) -> Iterator[Emulator]:
    """Start `node tg_emulator.js` on a free port with NODE_PATH=<prefix>/node_modules.

    `args`: extra launcher options, e.g. ("--strict",). Retries on another port if the chosen
    one was taken in the meantime; any other start-up failure raises with node's output.
    """
    node = node or shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH (call tests.node_tools.require_node() first)")
    env = {**os.environ, "NODE_PATH": str(prefix / "node_modules")}
    with tempfile.TemporaryDirectory(prefix="tg-emulator-") as tmp:
        for attempt in range(1, attempts + 1):
            port = _free_port()
            log_path = Path(tmp) / f"node-{attempt}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [str(node), str(LAUNCHER), "--host", HOST, "--port", str(port), *args],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            emu = Emulator(process, port, log_path)
            problem = _wait_ready(emu, startup_timeout)
            if problem is None:
                break
            _stop(process)
            if "EADDRINUSE" not in emu.log() or attempt == attempts:
                raise RuntimeError(f"Telegram emulator did not start: {problem}\n{emu.log()}")
        try:
            yield emu
        finally:
            _stop(emu.process)


# -- the user side --------------------------------------------------------------------------------


def client(emulator: Emulator, token: str, chat_id: int = 1, **user: Any) -> TgClient:
    """A synchronous user (see tgclient.py); `user`: user_id, first_name, username."""
    return TgClient(emulator.base_url, token, chat_id, **user)


def aclient(emulator: Emulator, token: str, chat_id: int = 1, **user: Any) -> AsyncTgClient:
    """The same user for async tests: every call runs in a thread, the bot's loop keeps going."""
    return AsyncTgClient(client(emulator, token, chat_id, **user))


class AsyncTgClient:
    def __init__(self, sync: TgClient) -> None:
        self.sync = sync

    async def send_text(self, text: str) -> None:
        await asyncio.to_thread(self.sync.send_text, text)

    async def press_button(self, bot_message: dict[str, Any], data: str) -> None:
        await asyncio.to_thread(self.sync.press_button, bot_message, data)

    async def bot_messages(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.sync.bot_messages)

    async def wait_bot_messages(self, n: int = 1, within: float = 10.0) -> list[dict[str, Any]]:
        """The next `n` new bot messages of this chat; TimeoutError after `within` seconds."""
        return await asyncio.to_thread(self.sync.wait_bot_messages, n, within)

    async def history(self) -> list[dict[str, Any]]:
        """This chat's bot messages (edits applied), oldest first."""
        chat = str(self.sync.chat_id)
        return [m for m in await asyncio.to_thread(self.sync.history) if str(m["chat_id"]) == chat]

    async def bot_calls(self, method: str | None = None) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.sync.bot_calls, method)

    async def callback_answers(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.sync.callback_answers)

    async def eventually(
        self, probe: Callable[[], T], within: float = 10.0, interval: float = 0.05
    ) -> T:
        """Call the blocking `probe` (in a thread) until it returns something truthy."""
        return await eventually(lambda: asyncio.to_thread(probe), within, interval)


async def eventually(probe: Callable[[], Any], within: float = 10.0, interval: float = 0.05) -> Any:
    """Await `probe()` until its result is truthy; returns it, or TimeoutError with the last one.

    (`within` rather than `timeout`: ruff's ASYNC109 reserves that name for asyncio.timeout.)
    """
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {within}s; last result: {result!r}")
        await asyncio.sleep(interval)


# -- the bot side ---------------------------------------------------------------------------------


def ptb_builder(emulator: Emulator, token: str) -> ApplicationBuilder:
    """An ApplicationBuilder pointed at the emulator; add handlers after `.build()`."""
    from telegram.ext import ApplicationBuilder

    return (
        ApplicationBuilder()
        .token(token)
        .base_url(emulator.bot_api_base)
        .base_file_url(emulator.bot_file_base)
    )


@asynccontextmanager
async def polling(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """Initialize, start and poll; on exit stop polling, stop and shut down (no stray tasks)."""
    async with app:
        await app.start()
        await app.updater.start_polling(**POLLING_KWARGS)  # type: ignore[union-attr]
        try:
            yield
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()
