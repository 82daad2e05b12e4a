"""Customers see their language: from Telegram's language code, or changed in chat."""

from __future__ import annotations

from bookbot.conversations.dialogue import Dialogues
from bookbot.store.db import Database
from tests.conversations.chat import Chat


async def test_a_spanish_customer_sees_spanish_text_dates_and_plurals(dialogues: Dialogues) -> None:
    lucia = Chat(dialogues, address="+34600000001", name="Lucía", language="es-ES")
    await lucia.say("/start")
    assert lucia.text.startswith("¡Hola, Lucía! Soy el asistente de reservas de Clay & Kiln.")

    for reply in ("reservar", "Wheel Throwing Taster", "1", "2"):
        await lucia.say(reply)

    assert "• sáb 21 nov 2026, 14:00" in lucia.text
    assert "2 personas" in lucia.text
    assert "Total: 90,00\xa0GBP, a pagar en el estudio." in lucia.text
    await lucia.say("sí")  # accents optional, as typed on any keyboard
    assert lucia.replies[0].text.startswith("🎉 ¡Reservado!")


async def test_one_person_is_singular_in_both_languages(dialogues: Dialogues) -> None:
    for language, expected in (("en", "1 person"), ("es", "1 persona")):
        chat = Chat(dialogues, address=f"+1555000{language}", language=language)
        await chat.say("/start")
        for reply in ("1", "Wheel Throwing Taster", "1", "1"):
            await chat.say(reply)
        assert expected in chat.text.splitlines()


async def test_changing_language_in_chat_sticks(chat: Chat, dialogues: Dialogues) -> None:
    await chat.say("language")
    await chat.say("Español")
    assert chat.text.startswith("Hecho: a partir de ahora te escribiré en español.")
    assert chat.labels[0] == "📅 Reservar una clase"

    await chat.say("ayuda")
    assert "Clay & Kiln" in chat.text
    again = Chat(dialogues, address=chat.address, language="en")  # the hint no longer wins
    await again.say("/start")
    assert again.text.startswith("¡Hola, Ana!")


async def test_refusals_are_translated(dialogues: Dialogues, db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE resources SET total_quantity = 1 WHERE key = 'potters-wheel'")
    lucia = Chat(dialogues, address="+34600000002", name="Lucía", language="es")
    await lucia.say("/start")
    # "2" is the option numbered 2 here ("Otras fechas"): a party is typed with its unit
    for reply in ("1", "Wheel Throwing Taster", "1", "2 personas"):
        await lucia.say(reply)
    assert "Potter's wheel" in lucia.text
    assert "sáb 21 nov, 14:00" in lucia.text
    assert "Only" not in lucia.text
