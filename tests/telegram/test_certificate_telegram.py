"""On Telegram a certificate arrives as its PDF (a document, the notice as its caption), sent
by the delivery worker through the real bot against the emulator; the PDF names the holder
and carries the code, which verifies."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pypdf

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import NoticeRouter
from bookbot.handlers.telegram_bot import TelegramBot, TelegramSettings
from bookbot.jobs.delivery import DeliveryWorker
from bookbot.services import certificates
from bookbot.store.db import Database
from tests.pipeline import UNLIMITED
from tests.services.test_certificates import START, make_course

from .emulator import Emulator, aclient

TOKEN = "781:CERTS"
CHAT = 961
PUBLIC = "https://book.example.com"


async def test_the_certificate_arrives_as_a_pdf_document(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    clock.set(START - timedelta(days=7))
    c = await make_course(db, clock)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE customers SET preferred_channel = 'telegram' WHERE id = :id",
            {"id": c.w["ann"]},
        )
        await tx.execute(
            "INSERT INTO channel_identities (studio_id, customer_id, channel, address)"
            " VALUES (:s, :c, 'telegram', :a)",
            {"s": c.w.studio_id, "c": c.w["ann"], "a": str(CHAT)},
        )
        await tx.execute("DELETE FROM outbox")  # only the certificate's notice is of interest
    clock.set(START + timedelta(days=3))
    issued = await certificates.issue(
        db, clock, studio_id=c.w.studio_id, session_id=c.w["c2"], passed=[(c.ann_reg, 2)]
    )
    code = issued.certificates[0].shown_code
    bot = TelegramBot(Dialogues(db, clock), TelegramSettings(TOKEN, emulator.bot_api_base))
    router = NoticeRouter(db, clock, bot.bot)
    worker = DeliveryWorker(db, clock, NoticeTransport(router, bot, PUBLIC), limits=UNLIMITED)
    async with bot.bot:
        stats = await worker.run_until_idle()
    assert (stats.sent, stats.failed) == (1, 0)
    user = aclient(emulator, TOKEN, chat_id=CHAT)
    [message] = [m for m in await user.history() if "document" in m]
    assert message["document"]["file_name"] == f"certificate-{code}.pdf"
    assert message["attachment"]["mime_type"] == "application/pdf"
    assert message["caption"] == (
        f"Congratulations! Zoë Łukasiewicz passed Course. The certificate is attached "
        f"(code {code})."
    )
    pdf = base64.b64decode(message["attachment"]["content_base64"])
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Zoë Łukasiewicz" in text
    assert code in text
    assert f"{PUBLIC}/verify/{code}" in text
    assert (await certificates.verify(db, code)).status == "valid"
