"""The Telegram adapter (python-telegram-bot 22): updates in, replies out, nothing decided here.

Dialogue state lives in our database (not PTB's ConversationHandler or pickle persistence,
which one process owns and which lose timeouts on restart). Updates run concurrently
across people and one at a time per person (`Dialogues` serialises). Every callback query
is answered before any database work. Sends go through PTB's `AIORateLimiter`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound, Reply
from bookbot.handlers.receipts import first_time
from bookbot.i18n import translator

log = logging.getLogger(__name__)
SHORT_LABEL = 4  # labels this short ("1", "2") share a keyboard row
CAPTION_LIMIT = 1024  # Telegram's limit for a photo's caption


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_base: str | None = None  # e.g. a local Bot API emulator: http://127.0.0.1:9111/bot
    file_base: str | None = None


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per row, except short ones (party sizes) which share rows of three."""
    rows: list[list[InlineKeyboardButton]] = []
    for option in reply.options:
        button = InlineKeyboardButton(option.label, callback_data=option.token)
        short = len(option.label) <= SHORT_LABEL
        if short and rows and len(rows[-1]) < 3 and len(rows[-1][0].text) <= SHORT_LABEL:
            rows[-1].append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows) if rows else None


def _inbound(update: Update, text: str | None = None, token: str | None = None) -> Inbound:
    user = update.effective_user
    assert user is not None  # noqa: S101 - handlers are registered for user updates only
    message = update.callback_query.message if update.callback_query else None
    return Inbound(
        Channel.TELEGRAM,
        str(user.id),
        text=text,
        token=token,
        display_name=user.first_name,
        language_hint=user.language_code,
        message_ref=str(message.message_id) if message is not None else None,
    )


class TelegramBot:
    """Wires `Dialogues` to a PTB Application."""

    def __init__(self, dialogues: Dialogues, settings: TelegramSettings) -> None:
        self.dialogues = dialogues
        builder = ApplicationBuilder().token(settings.token).concurrent_updates(True)
        if settings.api_base:
            builder = builder.base_url(settings.api_base)
            builder = builder.base_file_url(
                settings.file_base or settings.api_base.replace("/bot", "/file/bot")
            )
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.rate_limiter(
            AIORateLimiter()
        ).build()
        self.app.add_handler(CommandHandler("start", self.on_start))
        self.app.add_handler(CallbackQueryHandler(self.on_button))
        self.app.add_handler(MessageHandler(filters.TEXT, self.on_text))
        self.app.add_error_handler(self.on_error)

    async def _fresh(self, update: Update) -> bool:
        now = self.dialogues.clock.now()
        return await first_time(self.dialogues.db, "telegram", str(update.update_id), now)

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start, optionally with a deep-link parameter naming the studio."""
        if not await self._fresh(update):
            return
        slug = context.args[0] if context.args else None
        inbound = _inbound(update, text="/start")
        await self._send(update, inbound, await self.dialogues.handle(inbound, studio_slug=slug))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Typed text and other commands go to the dialogue as typed."""
        if update.message is None or not await self._fresh(update):
            return
        inbound = _inbound(update, text=update.message.text or "")
        await self._send(update, inbound, await self.dialogues.handle(inbound))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: answered at once, then handled like any other input."""
        query = update.callback_query
        assert query is not None  # noqa: S101 - CallbackQueryHandler guarantees it
        await query.answer()
        if not await self._fresh(update):
            return
        inbound = _inbound(update, token=query.data or "")
        await self._send(update, inbound, await self.dialogues.handle(inbound))

    async def push(self, user_id: str, template: str, text: str) -> None:
        """Send a message first (a reminder, an offer) with its one-tap buttons."""
        inbound = Inbound(Channel.TELEGRAM, user_id)
        replies = await self.dialogues.push(Channel.TELEGRAM, user_id, template, text)
        for reply in replies:
            sent = await self._deliver(int(user_id), reply, None)
            if reply.options and sent is not None:
                await self.dialogues.note_message(inbound, str(sent.message_id))

    async def _send(self, update: Update, inbound: Inbound, replies: list[Reply]) -> None:
        chat = update.effective_chat
        assert chat is not None  # noqa: S101
        pressed = update.callback_query.message if update.callback_query else None
        for reply in replies:
            sent = await self._deliver(
                chat.id, reply, pressed if isinstance(pressed, Message) else None
            )
            if reply.options and sent is not None:
                await self.dialogues.note_message(inbound, str(sent.message_id))

    async def _deliver(self, chat_id: int, reply: Reply, pressed: Message | None) -> Message | None:
        bot = self.app.bot
        if reply.attachment is not None and reply.attachment.mime_type.startswith("image/"):
            a = reply.attachment  # charts: shown inline as a photo
            caption = reply.text or None
            if caption and len(caption) > CAPTION_LIMIT:  # a long table goes first, on its own
                await bot.send_message(chat_id, caption)
                caption = None
            return await bot.send_photo(chat_id, a.content, caption=caption)
        if reply.attachment is not None:
            a = reply.attachment
            return await bot.send_document(
                chat_id, a.content, filename=a.filename, caption=reply.text or None
            )
        text = reply.text or reply.notice or ""
        if reply.edit and pressed is not None:
            try:
                edited = await pressed.edit_text(text, reply_markup=keyboard(reply))
            except BadRequest as error:  # the same screen again: nothing to change
                if "not modified" not in str(error).lower():
                    raise
                return pressed
            return edited if isinstance(edited, Message) else pressed
        return await bot.send_message(chat_id, text, reply_markup=keyboard(reply))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure and tell the person, without details."""
        log.error("telegram update failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            language = update.effective_user.language_code if update.effective_user else None
            text = translator(language)._("Sorry, something went wrong. Please try again.")
            await self.app.bot.send_message(update.effective_chat.id, text)
