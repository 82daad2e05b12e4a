"""The harness itself: a real python-telegram-bot 22 Application, polling the emulator.

This is the reference for the settings the bot's own end-to-end tests reuse (see emulator.py):
`ptb_builder` (token + base_url + base_file_url) and `polling` (poll_interval=0, long-poll
timeout 10 s; stopping cancels the pending getUpdates, so it is immediate).
"""

from __future__ import annotations

import base64
import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from .emulator import Emulator, aclient, polling, ptb_builder

TOKEN = "123:TEST"
CHAT = 42
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bookbot//test//EN\r\nEND:VCALENDAR\r\n"


async def start(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Book 10:00", callback_data="book:10")]])
    await update.effective_message.reply_text("Pick a slot", reply_markup=keyboard)


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def pressed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer("Booked!")
    edited = await query.edit_message_text(f"You chose {query.data}")
    # the launcher answers edits with the edited Message (raw package: null -> AttributeError)
    assert edited.text == f"You chose {query.data}"


async def test_real_ptb_application_against_emulator(emulator: Emulator) -> None:
    app = ptb_builder(emulator, TOKEN).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    errors: list[object] = []

    async def on_error(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app.add_error_handler(on_error)
    user = aclient(emulator, TOKEN, chat_id=CHAT)

    async with polling(app):
        await user.send_text("/start")
        [menu] = await user.wait_bot_messages(1)
        assert menu["text"] == "Pick a slot"
        # client-side messages are the stored sendMessage params: chat_id (a string), no `from`
        assert menu["chat_id"] == str(CHAT)
        buttons = menu["reply_markup"]["inline_keyboard"]
        assert buttons[0][0]["callback_data"] == "book:10"

        await user.send_text("hello")
        [reply] = await user.wait_bot_messages(1)
        assert reply["text"] == "echo: hello"

        await user.press_button(menu, "book:10")
        answers = await user.eventually(user.sync.callback_answers)
        # an edit changes the stored message in place: it is not a new bot message, so read it
        # through history() (the chat's messages, edits applied), not wait_bot_messages()
        history = await user.eventually(
            lambda: [m for m in user.sync.history() if m.get("text") == "You chose book:10"]
        )
        [edited] = history
        assert edited["message_id"] == menu["message_id"]
        # quirk: the emulator merges the edit into the stored message, so an editMessageText
        # without reply_markup keeps the old keyboard (Telegram would drop it). Assert keyboard
        # removal only by sending reply_markup explicitly, or via the recorded call's params.
        assert edited["reply_markup"] == menu["reply_markup"]
        [edit_call] = emulator.calls(TOKEN, "editMessageText")
        assert "reply_markup" not in edit_call["params"]
        assert answers[0]["text"] == "Booked!"
        assert [c["params"]["text"] for c in emulator.calls(TOKEN, "answerCallbackQuery")] == [
            "Booked!"
        ]

        sent = await app.bot.send_document(
            CHAT, document=ICS, filename="booking.ics", caption="Your booking"
        )
        assert sent.document.file_name == "booking.ics"
        [doc] = await user.wait_bot_messages(1)
        assert doc["caption"] == "Your booking"
        assert doc["document"]["file_name"] == "booking.ics"
        assert doc["attachment"]["mime_type"] == "text/calendar"
        assert base64.b64decode(doc["attachment"]["content_base64"]) == ICS

    assert errors == []
    [upload] = emulator.calls(TOKEN, "sendDocument")
    assert upload["file"] == {
        "field": "document",
        "file_name": "booking.ics",
        "mime_type": "text/calendar",
        "size": len(ICS),
    }
    sends = emulator.calls(TOKEN, "sendMessage")
    assert [json.loads(c["params"].get("reply_markup", "null")) is None for c in sends] == [
        False,
        True,
    ]
