"""Test-side client for the telegram-test-api emulator (stdlib only).

It plays the *user*: sends text/commands, presses inline buttons, and reads what the bot
sent.  It talks to the emulator's own client routes, not to the Bot API.

    c = TgClient("http://127.0.0.1:9111", token="123:TEST", chat_id=42)
    c.send_text("/start")                    # bot_command entity added automatically
    msgs = c.wait_bot_messages(1)            # list of bot messages (dicts, Bot-API-shaped)
    c.press_button(msgs[0], "book:10")        # a callback_query for that message
    c.history()                              # all messages, edits applied (text is current)
    c.bot_calls("sendChatAction")            # every Bot API call the bot made (patched launcher)

Copied unchanged in behaviour from the Telegram Bot API stand-in that accompanies
`tg_emulator.js` (see that file's header); only reformatted for the project's ruff settings.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request


class TgClient:
    def __init__(
        self,
        base: str,
        token: str,
        chat_id: int = 1,
        *,
        user_id: int | None = None,
        first_name: str = "Alice",
        username: str = "alice",
        last_name: str | None = None,
    ):
        self.base = base.rstrip("/")
        self.token = token
        self.chat_id = chat_id
        self.user = {
            "id": user_id or chat_id,
            "is_bot": False,
            "first_name": first_name,
            "username": username,
            **({"last_name": last_name} if last_name else {}),
        }
        self.chat = {
            "id": chat_id,
            "type": "private",
            "first_name": first_name,
            "username": username,
        }

    # -- transport ---------------------------------------------------------------------
    def _post(self, route: str, body: dict) -> dict:
        # S310: the URL is always the emulator's own http:// base (never user input)
        req = urllib.request.Request(  # noqa: S310
            f"{self.base}/{route}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{route}: HTTP {e.code} {e.read()[:300]!r}") from None

    # -- user actions ------------------------------------------------------------------
    def send_text(self, text: str) -> None:
        msg = {
            "botToken": self.token,
            "from": self.user,
            "chat": self.chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            cmd_len = len(text.split()[0])
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": cmd_len}]
            self._post("sendCommand", msg)
        else:
            self._post("sendMessage", msg)

    def press_button(self, bot_message: dict, data: str) -> None:
        """bot_message: an item from bot_messages()/wait_bot_messages()."""
        msg = {
            "message_id": bot_message["message_id"],
            "date": bot_message.get("date") or int(time.time()),
            "chat": self.chat,
            "from": {"id": 666, "is_bot": True, "first_name": "Bot"},
            "text": bot_message.get("text", ""),
        }
        if bot_message.get("reply_markup"):
            msg["reply_markup"] = bot_message["reply_markup"]
        self._post(
            "sendCallback",
            {
                "botToken": self.token,
                "from": self.user,
                "message": msg,
                "data": data,
                "chat_instance": str(self.chat_id),
            },
        )

    # -- reading the bot ---------------------------------------------------------------
    @staticmethod
    def _flatten(rec: dict) -> dict:
        m = dict(rec["message"])
        m["message_id"] = rec["messageId"]
        m["date"] = rec["time"] // 1000
        if "attachment" in rec:
            m["attachment"] = rec["attachment"]  # {file_name, mime_type, content_base64, ...}
        return m

    def bot_messages(self) -> list[dict]:
        """New (not yet read) bot messages in this chat; each is returned once."""
        res = self._post("getUpdates", {"token": self.token, "chatId": self.chat_id})["result"]
        return [self._flatten(r) for r in res]

    def wait_bot_messages(self, n: int = 1, timeout: float = 10.0) -> list[dict]:
        got: list[dict] = []
        end = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < end:
            got += self.bot_messages()
            if len(got) < n:
                time.sleep(0.1)
        if len(got) < n:
            raise TimeoutError(f"expected {n} bot message(s), got {len(got)}: {got}")
        return got

    def history(self) -> list[dict]:
        """Every stored bot message of this token (edits applied), oldest first."""
        res = self._post("getUpdatesHistory", {"token": self.token})["result"]
        return [self._flatten(r) for r in res if "chat_id" in r.get("message", {})]

    def bot_calls(self, method: str | None = None) -> list[dict]:
        res = self._post("getBotCalls", {"token": self.token})["result"]
        return [c for c in res if method is None or c["method"] == method]

    def callback_answers(self) -> list[dict]:
        return self._post("getCallbackAnswers", {"token": self.token})["result"]

    def reset(self) -> None:
        self._post("reset", {})
