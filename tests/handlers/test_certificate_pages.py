"""Certificates on the web and by text: GET /verify/<code> (valid, revoked, unknown: escaped,
nothing else shown) and /certificates/<code>.pdf through the real aiohttp app, and the
'certificate_issued' notice by SMS as a link to that PDF. Both databases."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pypdf
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bookbot.engine.clock import FrozenClock
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import NoticeRouter
from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
from bookbot.handlers.twilio_webhook import TwilioChannel
from bookbot.handlers.web import certificate_routes, make_app
from bookbot.jobs.delivery import DeliveryWorker, RateLimits
from bookbot.services import certificates
from bookbot.store.db import Database
from tests.services.test_certificates import START, Course, make_course
from tests.twilio_standin import TwilioStandIn

Client = TestClient[Any, Any]
PUBLIC = "https://book.example.com"
ACCOUNT, TOKEN, OURS = "AC" + "3" * 32, "token", "+15005550006"
NUMBER = "+447700900311"


async def _issued(db: Database, clock: FrozenClock) -> tuple[Course, certificates.Certificate]:
    c = await make_course(db, clock)
    async with db.transaction() as tx:  # a name that must be escaped on the page
        await tx.execute(
            "UPDATE customers SET name = :n WHERE id = :id",
            {"n": "Bob <b>&</b> Co", "id": c.w["bob"]},
        )
    clock.set(START + timedelta(hours=3))
    issued = await certificates.issue(
        db, clock, studio_id=c.w.studio_id, session_id=c.w["t1"], passed=[(c.bob_reg, 1)]
    )
    return c, issued.certificates[0]


@pytest.fixture
async def client(db: Database) -> AsyncIterator[Client]:
    app = make_app(*certificate_routes(db, PUBLIC))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_verify_page_valid_revoked_and_unknown(
    db: Database, clock: FrozenClock, client: Client
) -> None:
    _c, cert = await _issued(db, clock)
    valid = await client.get(f"/verify/{cert.shown_code.lower()}")
    page = await valid.text()
    assert valid.status == 200
    assert valid.headers["Cache-Control"] == "no-store"
    assert "Valid certificate" in page
    assert "Holder: Bob &lt;b&gt;&amp;&lt;/b&gt; Co" in page
    assert "<b>" not in page
    assert "Course: Taster" in page
    assert "Issued by: Studio clay" in page
    assert "Dates: 9 November 2026" in page
    assert "ann" not in page  # nobody else's name
    await certificates.revoke(db, clock, cert.code, reason="Wrong <course>")
    revoked = await (await client.get(f"/verify/{cert.shown_code}")).text()
    assert "Certificate revoked" in revoked
    assert "Revoked on 9 November 2026: Wrong &lt;course&gt;" in revoked
    missing = await client.get("/verify/ZZZZ-ZZZZ-ZZZZ")
    assert missing.status == 404
    assert "Certificate not found" in await missing.text()
    assert (await client.get("/verify/%3Cscript%3E")).status == 404


async def test_verify_page_speaks_the_readers_language(
    db: Database, clock: FrozenClock, client: Client
) -> None:
    _c, cert = await _issued(db, clock)
    response = await client.get(
        f"/verify/{cert.shown_code}", headers={"Accept-Language": "es-ES,es;q=0.9"}
    )
    assert "9 de noviembre de 2026" in await response.text()


async def test_pdf_download(db: Database, clock: FrozenClock, client: Client) -> None:
    _c, cert = await _issued(db, clock)
    response = await client.get(f"/certificates/{cert.shown_code}.pdf")
    assert response.status == 200
    assert response.content_type == "application/pdf"
    assert f"certificate-{cert.shown_code}.pdf" in response.headers["Content-Disposition"]
    text = pypdf.PdfReader(io.BytesIO(await response.read())).pages[0].extract_text()
    assert "Bob <b>&</b> Co" in text
    assert cert.shown_code in text
    assert (await client.get("/certificates/ZZZZ-ZZZZ-ZZZZ.pdf")).status == 404


async def test_by_sms_the_notice_links_to_the_pdf(db: Database, clock: FrozenClock) -> None:
    c = await make_course(db, clock)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE customers SET phone = :p, preferred_channel = 'sms' WHERE id = :id",
            {"p": NUMBER, "id": c.w["bob"]},
        )
        await tx.execute(
            "INSERT INTO channel_identities (studio_id, customer_id, channel, address)"
            " VALUES (:s, :c, 'sms', :a)",
            {"s": c.w.studio_id, "c": c.w["bob"], "a": NUMBER},
        )
    clock.set(START + timedelta(hours=3))
    issued = await certificates.issue(
        db, clock, studio_id=c.w.studio_id, session_id=c.w["t1"], passed=[(c.bob_reg, 1)]
    )
    code = issued.certificates[0].shown_code
    async with TwilioStandIn(ACCOUNT, TOKEN) as twilio:
        sender = TwilioSender(
            TwilioSettings(ACCOUNT, TOKEN, sms_from=OURS, api_base=twilio.base_url)
        )
        try:
            router = NoticeRouter(db, clock, None, TwilioChannel(db, clock, sender))
            transport = NoticeTransport(router, None, PUBLIC)
            stats = await DeliveryWorker(db, clock, transport, RateLimits({}, {})).run_until_idle()
        finally:
            await sender.close()
    assert stats.failed == 0
    [sms] = [m for m in twilio.messages if "certificate" in m["Body"]]  # bob's reminders too
    assert sms["To"] == NUMBER
    assert sms["Body"] == (
        f"Congratulations! bob passed Taster. Download the certificate: "
        f"{PUBLIC}/certificates/{code}.pdf (code {code})."
    )
