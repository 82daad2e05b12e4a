"""The Telegram adapter (python-telegram-bot 22): updates in, replies out, nothing decided here.

A process serves the deployment's default bot and each studio's own bot (`telegram_bots`):
one `TelegramBot` per token, whose `endpoint` is its bot id ('' for the default bot).

In: every update (long polling or the webhook) is stored in the inbox under its update_id
(an own bot's prefixed with its id: update ids are only unique per bot) before it is
acknowledged: the poller asks for the next offset, which confirms the batch to
Telegram, only once the batch is stored. The inbox worker then runs each one through the
dialogue (`process`), whose replies are queued in the outbox in the same transaction.

Out: the delivery worker sends those replies (`send_reply`): options as inline buttons,
editing the pressed message where the dialogue asks for that. Dialogue state lives in our
database, not in PTB's ConversationHandler or pickle persistence.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.request import HTTPXRequest

from bookbot.conversations import store
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.conversations.outbound import ReplyTo
from bookbot.handlers import bot_commands, telegram_staff
from bookbot.presentation.i18n import translator
from bookbot.services import inbox
from bookbot.services.inbox import InboxItem
from bookbot.services.studio_channels import DEFAULT, inbox_chat

log = logging.getLogger(__name__)
SHORT_LABEL = 4  # labels this short ("1", "2") share a keyboard row
CAPTION_LIMIT = 1024  # Telegram's limit for a photo's caption
TOAST_LIMIT = 200  # Telegram's limit for a callback answer's text
SOURCE = "telegram"
ALLOWED_UPDATES = ("message", "callback_query")
POLL_TIMEOUT = 10  # seconds a getUpdates call waits for news
# An empty inline keyboard, spelled out: PTB would drop an empty InlineKeyboardMarkup's list
# and send "{}", which is no keyboard object at all.
NO_KEYBOARD = {"reply_markup": json.dumps({"inline_keyboard": []})}
SEND_POOL = 32  # connections for sending: bounded, so a burst queues instead of piling up


class NotAnUpdate(ValueError):
    """A webhook body that is not a Telegram update we can read."""


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_base: str | None = None  # e.g. a local Bot API emulator: http://127.0.0.1:9111/bot
    file_base: str | None = None


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per row, except short ones (party sizes) which share rows of three."""
    rows: list[list[InlineKeyboardButton]] = []
    for option in reply.options:
        button = (
            InlineKeyboardButton(option.label, url=option.url)
            if option.url
            else InlineKeyboardButton(option.label, callback_data=option.token)
        )
        short = len(option.label) <= SHORT_LABEL
        if short and rows and len(rows[-1]) < 3 and len(rows[-1][0].text) <= SHORT_LABEL:
            rows[-1].append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows) if rows else None


def formatted(reply: Reply, text: str) -> tuple[str, str | None]:
    """The text to send and its parse mode: a table (`preformatted`) goes in `<pre>`, escaped,
    so clients show it in a fixed-width font; anything else as plain text."""
    if reply.preformatted and text:
        return f"<pre>{html.escape(text, quote=False)}</pre>", "HTML"
    return text, None


def message_ref(chat_id: int, message_id: int) -> str:
    """A message's reference: message ids are only unique within their chat."""
    return f"{chat_id}:{message_id}"


def _inbound(update: Update, endpoint: str) -> Inbound:
    user = update.effective_user
    assert user is not None  # noqa: S101 - only user updates are stored
    query = update.callback_query
    pressed = query.message if query is not None else None
    return Inbound(
        Channel.TELEGRAM,
        str(user.id),
        text=update.message.text if update.message is not None else None,
        token=query.data or "" if query is not None else None,
        display_name=user.full_name,
        language_hint=user.language_code,
        message_ref=message_ref(pressed.chat.id, pressed.message_id) if pressed else None,
        shared_chat=pressed is not None and pressed.chat.id != user.id,
        endpoint=endpoint,
    )


def _slug(update: Update) -> str | None:
    """/start's deep-link parameter (t.me/<bot>?start=<studio-slug>)."""
    text = update.message.text if update.message is not None else None
    command, _, argument = (text or "").partition(" ")
    if command.split("@")[0] != "/start":
        return None
    return argument.strip() or None


class TelegramBot:
    """Stores Telegram updates in the inbox, processes them, and sends the replies."""

    def __init__(
        self,
        dialogues: Dialogues,
        settings: TelegramSettings,
        *,
        wake: Callable[[], None] = lambda: None,
        endpoint: str = DEFAULT,
        studio_id: int | None = None,
    ) -> None:
        self.dialogues = dialogues
        self.wake = wake  # the inbox worker: something new is stored
        # Which bot this is: '' the deployment's default one, else a studio's own (its id),
        # whose every dialogue belongs to that studio (`studio_id`).
        self.endpoint = endpoint
        self.studio_id = studio_id
        base: dict[str, Any] = {}
        if settings.api_base:
            base["base_url"] = settings.api_base
            base["base_file_url"] = settings.file_base or settings.api_base.replace(
                "/bot", "/file/bot"
            )
        self.bot = Bot(
            settings.token,
            request=HTTPXRequest(connection_pool_size=SEND_POOL, pool_timeout=10.0),
            get_updates_request=HTTPXRequest(
                connection_pool_size=1, read_timeout=POLL_TIMEOUT + 10.0
            ),
            **base,
        )

    async def accept(self, payload: object) -> bool:
        """Store one webhook update before it is acknowledged; False: nothing to store (a
        kind of update we do not handle, or one stored before). NotAnUpdate if `payload`
        is not an update at all."""
        update = _parsed(payload, self.bot)
        assert isinstance(payload, dict)  # noqa: S101 - _parsed checked it
        return await self._store(update, payload)

    async def _store(self, update: Update, payload: dict[str, Any]) -> bool:
        user = update.effective_user
        wanted = (update.message is not None and update.message.text is not None) or (
            update.callback_query is not None
        )
        if user is None or not wanted:
            return False
        db, now = self.dialogues.db, self.dialogues.clock.now()
        chat = inbox_chat(SOURCE, self.endpoint, str(user.id))
        stored = await inbox.accept(
            db, SOURCE, self.external_id(update.update_id), chat, payload, now=now
        )
        if stored:
            self.wake()
        return stored

    def external_id(self, update_id: int) -> str:
        """The inbox key of one of this bot's updates."""
        return f"{self.endpoint}:{update_id}" if self.endpoint else str(update_id)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long-poll until `stop`. The offset moves past an update only once it is stored,
        so whatever fails (Telegram, our database) is fetched again, never skipped."""
        offset: int | None = None
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
                for update in updates:  # parsed by PTB already: stored as they came
                    await self._store(update, update.to_dict())
                    offset = update.update_id + 1
            except Exception as error:  # keep polling; nothing was confirmed
                log.warning("telegram: polling failed, retrying: %r", error)
                await _pause(stop, 2.0)

    async def process(self, item: InboxItem) -> None:
        """One stored update through the dialogue; replies queued, row done, one commit."""
        update = Update.de_json(item.payload, self.bot)
        if await telegram_staff.handled(self.dialogues, item, update):
            return  # a staff answer to a customer talking to a person (human handoff)
        chat = update.effective_chat
        assert chat is not None  # noqa: S101 - only chat updates are stored
        reply_to = ReplyTo(item, Channel.TELEGRAM, str(chat.id), self.endpoint)
        replies = await self.dialogues.handle(
            _inbound(update, self.endpoint), studio_slug=_slug(update), reply_to=reply_to
        )
        if update.callback_query is not None:  # after the commit: no network inside it
            try:
                await update.callback_query.answer(_toast(replies))
            except TelegramError as error:  # too old to answer: the spinner stops itself
                log.info("telegram: callback not answered: %s", error)

    async def gave_up(self, item: InboxItem) -> None:
        """An update that kept failing: tell the person, rather than stay silent."""
        update = Update.de_json(item.payload, self.bot)
        chat, user = update.effective_chat, update.effective_user
        if chat is not None and user is not None:
            reply_to = ReplyTo(item, Channel.TELEGRAM, str(chat.id), self.endpoint)
            await self.dialogues.apologise(reply_to, str(user.id))

    async def send_reply(
        self, chat_id: int, reply: Reply, edit: str | None, dialogue: str | None
    ) -> int:
        """Send (or edit into place) one reply, and return its message id; note the message
        now carrying the options, and take the keyboard off the one that carried them before
        (a screen left behind: its buttons are stale, an old ✅ Confirm must not look live)."""
        message_id = await self._deliver(chat_id, reply, edit)
        if reply.options and dialogue is not None:
            ref = message_ref(chat_id, message_id)
            db, channel = self.dialogues.db, Channel.TELEGRAM.value
            before = await store.note_message(db, channel, dialogue, ref, self.endpoint)
            if before is not None and before != ref:
                await self._clear_keyboard(before)
        return message_id

    async def _clear_keyboard(self, ref: str) -> None:
        """Remove a message's inline keyboard (an empty markup); its words stay. Best effort:
        a message too old or already bare is left as it is."""
        chat, _, message_id = ref.partition(":")
        if not message_id.isdigit():
            return
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=int(chat), message_id=int(message_id), api_kwargs=NO_KEYBOARD
            )
        except TelegramError as error:
            log.info("telegram: keyboard of %s not removed: %s", ref, error)

    async def publish_commands(self) -> None:
        """The "/" menu (setMyCommands) in English and Spanish, with the staff commands in
        staff chats. Setting the same menu again changes nothing; a failure is logged and
        the bot goes on without it."""
        try:
            chats = await bot_commands.menu_chats(self.dialogues.db, self.studio_id)
        except Exception:  # the menu is a convenience: never a reason not to start
            log.exception("telegram: could not read the staff chats; customer menu only")
            chats = bot_commands.MenuChats([], [])
        for language in bot_commands.LANGUAGES:
            t = translator(language or "en")
            customer = bot_commands.customer_commands(t)
            await self._set_commands(customer, BotCommandScopeDefault(), language)
            staff = customer + bot_commands.staff_commands(t)
            for chat in chats.staff:
                await self._set_commands(staff, BotCommandScopeChat(chat), language)
            for chat in chats.withdrawn:
                await self._delete_commands(BotCommandScopeChat(chat), language)

    async def _set_commands(
        self, commands: list[tuple[str, str]], scope: BotCommandScope, language: str | None
    ) -> None:
        try:
            await self.bot.set_my_commands(
                [BotCommand(name, text) for name, text in commands],
                scope=scope,
                language_code=language,
            )
        except TelegramError as error:
            log.warning("telegram: setMyCommands (%s, %s) failed: %s", scope.type, language, error)

    async def _delete_commands(self, scope: BotCommandScope, language: str | None) -> None:
        try:
            await self.bot.delete_my_commands(scope=scope, language_code=language)
        except TelegramError as error:  # never set there, or the bot left the chat
            log.info("telegram: deleteMyCommands (%s, %s): %s", scope.type, language, error)

    async def push(self, user_id: str, template: str, text: str) -> None:
        """Send a message first (a reminder, an offer) with its one-tap buttons."""
        replies = await self.dialogues.push(
            Channel.TELEGRAM, user_id, template, text, endpoint=self.endpoint
        )
        for reply in replies:
            await self.send_reply(int(user_id), reply, None, user_id)

    async def _deliver(self, chat_id: int, reply: Reply, edit: str | None) -> int:
        """Send (or edit) the reply; the id of the message that now shows it."""
        bot = self.bot
        if reply.attachment is not None and reply.attachment.mime_type.startswith("image/"):
            a = reply.attachment  # charts: shown inline as a photo
            caption = reply.text or None
            if caption and len(caption) > CAPTION_LIMIT:  # a long table goes first, on its own
                await bot.send_message(chat_id, caption)
                caption = None
            return (await bot.send_photo(chat_id, a.content, caption=caption)).message_id
        if reply.attachment is not None:
            a = reply.attachment
            sent = await bot.send_document(
                chat_id, a.content, filename=a.filename, caption=reply.text or None
            )
            return sent.message_id
        text, mode = formatted(reply, reply.text or reply.notice or "")
        if edit is not None:
            edited = await self._edit(chat_id, edit, text, reply)
            if edited is not None:
                return edited
        sent = await bot.send_message(chat_id, text, reply_markup=keyboard(reply), parse_mode=mode)
        return sent.message_id

    async def _edit(self, chat_id: int, ref: str, text: str, reply: Reply) -> int | None:
        """Edit the pressed message in place (its id); None if it cannot be (then a new one
        is sent)."""
        chat, _, message_id = ref.partition(":")
        if chat != str(chat_id) or not message_id.isdigit():
            return None
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=int(message_id),
                reply_markup=keyboard(reply),
                parse_mode=formatted(reply, text)[1],
            )
        except BadRequest as error:
            if "not modified" not in str(error).lower():  # not just the same screen again
                log.info("telegram: cannot edit %s (%s); sending a new message", ref, error)
                return None
        return int(message_id)


def _toast(replies: list[Reply]) -> str | None:
    """What a press's answer shows at once: the toast the dialogue asked for (a stale press),
    else the first line of an outcome that comes with a file (a booking confirmed, the data
    export), which the person sees before the messages arrive; else nothing (a screen that
    changes shows itself)."""
    toast = next((r.notice for r in replies if r.toast), None)
    if toast:
        return toast[:TOAST_LIMIT]
    outcome = next((r.text for r in replies if r.attachment is not None and r.text), None)
    return outcome.splitlines()[0][:TOAST_LIMIT] if outcome else None


def _parsed(payload: object, bot: Bot) -> Update:
    """An update from untrusted JSON: the right shape, or NotAnUpdate (never a 500)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        raise NotAnUpdate("not a Telegram update")
    try:
        update = Update.de_json(payload, bot)
        update.effective_user  # noqa: B018 - reading it checks the nested shapes
        update.effective_chat  # noqa: B018
    except Exception as error:  # any malformed nesting is the sender's fault
        raise NotAnUpdate(f"not a Telegram update: {error}") from error
    return update


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
