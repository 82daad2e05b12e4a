"""The return pages Stripe Checkout sends the customer to, served by the real aiohttp app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bookbot.engine.clock import FrozenClock
from bookbot.handlers.payment_pages import (
    CANCEL_PATH,
    SUCCESS_PATH,
    ChatLinks,
    PaymentPages,
    payment_urls,
)
from bookbot.handlers.web import make_app
from bookbot.services.payment_urls import generic_urls
from bookbot.store.db import Database
from tests.examples import load_example_studio

Client = TestClient[Any, Any]


def serve(pages: PaymentPages) -> TestClient[Any, Any]:
    return TestClient(TestServer(make_app(*pages.routes())))


async def page(http: Client, url: str) -> str:
    response = await http.get(url)
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    return await response.text()


def test_payment_urls() -> None:
    urls = payment_urls("https://bot.example.com/", 41, "es", channel="telegram")

    success = urlsplit(urls.success_url)
    assert (success.scheme, success.netloc, success.path) == (
        "https",
        "bot.example.com",
        SUCCESS_PATH,
    )
    # Stripe fills the placeholder in only when it arrives unencoded.
    assert urls.success_url.endswith("&session_id={CHECKOUT_SESSION_ID}")
    assert parse_qs(success.query) == {
        "p": ["41"],
        "lang": ["es"],
        "via": ["telegram"],
        "session_id": ["{CHECKOUT_SESSION_ID}"],
    }
    assert urls.cancel_url == "https://bot.example.com/pay/cancel?p=41&lang=es&via=telegram"
    success_url, cancel_url = payment_urls("https://bot.example.com", 7, "en", channel="fax")
    assert "via" not in success_url
    assert cancel_url == "https://bot.example.com/pay/cancel?p=7&lang=en"


def test_generic_urls() -> None:
    assert generic_urls("https://bot.example.com/") == (
        "https://bot.example.com/pay/success?session_id={CHECKOUT_SESSION_ID}",
        "https://bot.example.com/pay/cancel",
    )


@pytest.fixture
async def english_and_telegram(db: Database) -> AsyncIterator[Client]:
    pages = PaymentPages(db, ChatLinks(telegram_username=lambda: "ClayStudioBot"))
    async with serve(pages) as http:
        yield http


async def test_success_page(english_and_telegram: Client) -> None:
    text = await page(english_and_telegram, payment_urls("", 41, "en").success_url)
    assert '<html lang="en">' in text
    assert "Payment received — back to the chat" in text
    assert 'href="https://t.me/ClayStudioBot"' in text
    assert "Open Telegram" in text


async def test_cancel_page_in_spanish(english_and_telegram: Client) -> None:
    text = await page(english_and_telegram, payment_urls("", 41, "es").cancel_url)
    assert '<html lang="es">' in text
    assert "Pago no completado: vuelve al chat" in text
    assert "Abrir Telegram" in text


async def test_links_to_the_chat_the_customer_came_from(db: Database) -> None:
    chats = ChatLinks(
        telegram_username=lambda: "@ClayStudioBot",
        whatsapp_number="whatsapp:+14155238886",
        sms_number="+15005550006",
    )
    async with serve(PaymentPages(db, chats)) as http:
        everything = await page(http, f"{SUCCESS_PATH}?lang=en")
        whatsapp = await page(http, f"{SUCCESS_PATH}?lang=en&via=whatsapp")
        sms = await page(http, f"{CANCEL_PATH}?lang=en&via=sms")
    assert 'href="https://t.me/ClayStudioBot"' in everything
    assert 'href="https://wa.me/14155238886"' in everything
    assert 'href="sms:+15005550006"' in everything
    assert "t.me" not in whatsapp
    assert 'href="https://wa.me/14155238886"' in whatsapp
    assert 'href="sms:+15005550006"' in sms
    assert "wa.me" not in sms


def _not_started() -> str | None:
    raise RuntimeError("This Bot instance is not initialized")


@pytest.mark.parametrize(
    "username",
    [lambda: None, _not_started, lambda: "x", lambda: 'bad"><script>'],
    ids=["unknown", "bot not started", "too short", "not a username"],
)
async def test_no_telegram_link_without_a_username(
    db: Database, username: Callable[[], str | None]
) -> None:
    async with serve(PaymentPages(db, ChatLinks(telegram_username=username))) as http:
        text = await page(http, f"{SUCCESS_PATH}?lang=en")
    assert "t.me" not in text
    assert "<script>" not in text
    assert "Payment received" in text


async def test_query_values_are_escaped_and_unknown_languages_ignored(
    english_and_telegram: Client,
) -> None:
    text = await page(
        english_and_telegram,
        f'{SUCCESS_PATH}?lang="><script>alert(1)</script>&via=<b>&p=<i>&session_id=<x>',
    )
    assert "<script>" not in text
    assert "<b>" not in text
    assert "<x>" not in text
    assert '<html lang="en">' in text


async def test_language_falls_back_to_the_studio(db: Database, clock: FrozenClock) -> None:
    studio_id = await load_example_studio(db, clock, weeks=0)
    slug = await db.scalar("SELECT slug FROM studios WHERE id = :id", {"id": studio_id})
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE studios SET default_language = 'es' WHERE id = :id", {"id": studio_id}
        )
        await tx.execute(
            "INSERT INTO customers (studio_id, name, created_at) VALUES (:studio, 'Ana', :now)",
            {"studio": studio_id, "now": clock.now()},
        )
        customer = await tx.scalar("SELECT MAX(id) FROM customers")
        await tx.execute(
            "INSERT INTO payments (studio_id, customer_id, purpose, amount_minor, currency,"
            " status, created_at, updated_at) VALUES (:studio, :customer, 'full', 3000, 'eur',"
            " 'pending', :now, :now)",
            {"studio": studio_id, "customer": customer, "now": clock.now()},
        )
        payment = await tx.scalar("SELECT MAX(id) FROM payments")

    async with serve(PaymentPages(db, ChatLinks())) as http:
        by_payment = await page(http, f"{SUCCESS_PATH}?p={payment}&lang=xx")
        unknown_payment = await page(http, f"{SUCCESS_PATH}?p=99999")
        huge = await page(http, f"{SUCCESS_PATH}?p={10**30}")
    async with serve(PaymentPages(db, ChatLinks(), default_studio=str(slug))) as http:
        by_default_studio = await page(http, CANCEL_PATH)
    assert "Pago recibido: vuelve al chat" in by_payment
    assert "Payment received — back to the chat" in unknown_payment
    assert "Payment received — back to the chat" in huge
    assert "Pago no completado" in by_default_studio
