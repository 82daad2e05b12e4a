"""Certificates (services.certificates): issued once per person who passed a completed session
(closing it first when staff complete it early), with the attendee's name, the course's first
and last day and a notice queued; verified by code alone (valid, revoked, unknown). Both
databases."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pypdf
import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.presentation import certificate_pdf
from bookbot.presentation.i18n import translator
from bookbot.services import booking, certificates
from bookbot.store.db import Database
from tests import builders

START = datetime(2026, 11, 9, 10, 0, tzinfo=UTC)  # Monday, a week after the clock


@dataclass
class Course:
    db: Database
    clock: FrozenClock
    w: builders.World
    ann_reg: int  # ann booked 2 people on the three-day course
    bob_reg: int  # bob booked the taster (single session)


async def make_course(db: Database, clock: FrozenClock, slug: str = "clay") -> Course:
    """The 'course' class (three sessions, one pattern) and the taster both issue
    certificates; ann books the course for two (her colleague Zoë named), bob the taster."""
    w = await builders.studio(db, slug)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE classes SET issues_certificates = :yes WHERE studio_id = :s",
            {"yes": True, "s": w.studio_id},
        )
    await builders.pattern(
        db, w, "run", "course", "FREQ=DAILY;COUNT=3", start=START.date(), at=time(10)
    )
    for day in range(3):
        await builders.session(
            db, w, f"c{day}", "course", START + timedelta(days=day), pattern_key="run"
        )
    await builders.session(db, w, "t1", "taster", START)
    await builders.customer(db, w, "ann")
    await builders.customer(db, w, "bob")
    ann = await booking.book_course(db, clock, w.studio_id, w["ann"], w["run"], guests=2)
    bob = await booking.book_session(db, clock, w.studio_id, w["bob"], w["t1"], guests=1)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO registration_attendees (studio_id, registration_id, position, name)"
            " VALUES (:s, :r, 2, 'Zoë Łukasiewicz')",
            {"s": w.studio_id, "r": ann.id},
        )
    return Course(db, clock, w, ann.id, bob.id)


async def test_issue_once_with_names_dates_and_a_notice(db: Database, clock: FrozenClock) -> None:
    c = await make_course(db, clock)
    clock.set(START + timedelta(days=2, hours=3))  # the last day ended; not swept yet
    passed = [(c.ann_reg, 1), (c.ann_reg, 2)]
    first = await certificates.issue(
        db, clock, studio_id=c.w.studio_id, session_id=c.w["c2"], passed=passed
    )
    again = await certificates.issue(
        db, clock, studio_id=c.w.studio_id, session_id=c.w["c2"], passed=passed
    )
    assert first.new == 2
    assert again.new == 0
    assert [x.code for x in first.certificates] == [x.code for x in again.certificates]
    holders = sorted(x.holder_name for x in first.certificates)
    assert holders == ["Zoë Łukasiewicz", "ann"]
    one = first.certificates[0]
    assert (one.first_day, one.last_day) == (date(2026, 11, 9), date(2026, 11, 11))
    assert one.course_name == "Course"
    assert one.studio_name == "Studio clay"
    closed = await db.scalar("SELECT closed_at FROM sessions WHERE id = :id", {"id": c.w["c2"]})
    assert closed is not None  # staff completing it ran the sweep's close
    notices = await db.all(
        "SELECT customer_id, params FROM outbox WHERE template = 'certificate_issued'"
    )
    assert len(notices) == 2
    assert {n["customer_id"] for n in notices} == {c.w["ann"]}
    codes = {json.loads(n["params"])["code"] for n in notices}
    assert codes == {x.code for x in first.certificates}


async def test_verify_valid_revoked_unknown(db: Database, clock: FrozenClock) -> None:
    c = await make_course(db, clock)
    clock.set(START + timedelta(hours=3))
    issued = await certificates.issue(
        db, clock, studio_id=c.w.studio_id, session_id=c.w["t1"], passed=[(c.bob_reg, 1)]
    )
    cert = issued.certificates[0]
    assert cert.first_day == cert.last_day == date(2026, 11, 9)
    typed = cert.shown_code.lower().replace("0", "o").replace("1", "l")  # as a person types
    valid = await certificates.verify(db, typed)
    assert valid.status == "valid"
    assert valid.certificate is not None
    assert valid.certificate.holder_name == "bob"
    assert (await certificates.verify(db, "ZZZZ-ZZZZ-ZZZZ")).status == "unknown"
    assert (await certificates.verify(db, "not a code")).status == "unknown"
    clock.advance(timedelta(days=1))
    await certificates.revoke(db, clock, cert.code, reason="Issued by mistake")
    revoked = await certificates.verify(db, cert.shown_code)
    assert revoked.status == "revoked"
    assert revoked.certificate is not None
    assert revoked.certificate.revoked_reason == "Issued by mistake"
    assert revoked.certificate.revoked_at == clock.now()
    with pytest.raises(errors.NotFound):
        await certificates.revoke(db, clock, "ZZZZ-ZZZZ-ZZZZ", reason="x")


async def test_refusals(db: Database, clock: FrozenClock) -> None:
    c = await make_course(db, clock)
    other = await make_course(db, clock, slug="other")
    clock.set(START + timedelta(hours=3))
    with pytest.raises(errors.NotFound):  # another studio's session
        await certificates.issue(
            db, clock, studio_id=c.w.studio_id, session_id=other.w["t1"], passed=[]
        )
    with pytest.raises(errors.NotFound):  # a booking not on this session
        await certificates.issue(
            db, clock, studio_id=c.w.studio_id, session_id=c.w["t1"], passed=[(c.ann_reg, 1)]
        )
    with pytest.raises(errors.InvalidRequest):  # not started: nothing to complete yet
        await certificates.issue(
            db, clock, studio_id=c.w.studio_id, session_id=c.w["c1"], passed=[(c.ann_reg, 1)]
        )
    with pytest.raises(errors.NotFound):  # bob booked for one person
        await certificates.issue(
            db, clock, studio_id=c.w.studio_id, session_id=c.w["t1"], passed=[(c.bob_reg, 2)]
        )
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE classes SET issues_certificates = :no WHERE id = :id",
            {"no": False, "id": c.w["taster"]},
        )
    with pytest.raises(errors.InvalidRequest):
        await certificates.issue(
            db, clock, studio_id=c.w.studio_id, session_id=c.w["t1"], passed=[(c.bob_reg, 1)]
        )
    assert await db.scalar("SELECT COUNT(*) FROM certificates") == 0


async def test_code_is_global_and_shows_the_issuing_studio(
    db: Database, clock: FrozenClock
) -> None:
    c = await make_course(db, clock)
    other = await make_course(db, clock, slug="other")
    clock.set(START + timedelta(hours=3))
    mine = await certificates.issue(
        db, clock, studio_id=c.w.studio_id, session_id=c.w["t1"], passed=[(c.bob_reg, 1)]
    )
    theirs = await certificates.issue(
        db,
        clock,
        studio_id=other.w.studio_id,
        session_id=other.w["t1"],
        passed=[(other.bob_reg, 1)],
    )
    seen = await certificates.verify(db, theirs.certificates[0].code)
    assert seen.certificate is not None
    assert seen.certificate.studio_name == "Studio other"
    listed = await certificates.for_session(db, c.w.studio_id, c.w["t1"])
    assert [x.code for x in listed] == [mine.certificates[0].code]
    assert await certificates.for_session(db, c.w.studio_id, other.w["t1"]) == []


async def test_pdf_has_the_holder_and_the_code(db: Database, clock: FrozenClock) -> None:
    c = await make_course(db, clock)
    clock.set(START + timedelta(days=3))
    issued = await certificates.issue(
        db, clock, studio_id=c.w.studio_id, session_id=c.w["c2"], passed=[(c.ann_reg, 2)]
    )
    cert = issued.certificates[0]
    pdf = certificate_pdf.pdf_for(cert, "https://book.example.com")
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Zoë Łukasiewicz" in text
    assert cert.shown_code in text
    assert f"https://book.example.com/verify/{cert.shown_code}" in text
    assert "Studio clay" in text
    assert "Course" in text
    assert "9 – 11 November 2026" in text  # the chat's day-month order, not Babel's 'en'
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape


def test_pdf_without_unicode_fonts_folds_to_latin1() -> None:
    text = certificate_pdf.CertificateText(
        "Studio", "Gas Safe", "Zoë Łukasiewicz", date(2027, 1, 15), date(2027, 1, 17), "AB", None
    )
    pdf = certificate_pdf.certificate_pdf(text, translator("es"), unicode_fonts=False)
    got = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Zoë ?ukasiewicz" in got
    assert "15 - 17 de enero de 2027" in got


def test_a_long_name_is_set_smaller_on_one_line_and_the_page_stays_one() -> None:
    name = "Maximiliana Bartholomew-Featherstonehaugh"
    text = certificate_pdf.CertificateText(
        "Bristol Gas Training Centre Ltd",
        "Gas Safe ACS Domestic Core Gas Safety Initial Assessment with Cooker and Water Heater",
        name,
        date(2027, 1, 15),
        date(2027, 1, 17),
        "7F3Q-K2M9-XA7B",
        "https://book.example.com/verify/7F3Q-K2M9-XA7B",
    )
    reader = pypdf.PdfReader(io.BytesIO(certificate_pdf.certificate_pdf(text, translator("en"))))
    assert len(reader.pages) == 1
    assert name in reader.pages[0].extract_text().splitlines()


@pytest.mark.parametrize(
    ("language", "days", "said"),
    [
        ("en", (date(2026, 12, 2), date(2026, 12, 4)), "2 – 4 December 2026"),
        ("en", (date(2027, 1, 29), date(2027, 2, 2)), "29 January – 2 February 2027"),
        ("en", (date(2026, 12, 28), date(2027, 1, 1)), "28 December 2026 – 1 January 2027"),
        ("en", (date(2027, 1, 5), date(2027, 1, 5)), "5 January 2027"),
        ("es", (date(2026, 12, 2), date(2026, 12, 4)), "2 – 4 de diciembre de 2026"),
        ("es", (date(2027, 1, 5), date(2027, 1, 5)), "5 de enero de 2027"),
    ],
)
def test_pdf_dates_in_the_chats_day_month_order(
    language: str, days: tuple[date, date], said: str
) -> None:
    """The training centre's course (Wed 2 - Fri 4 Dec in chat) reads '2 – 4 December 2026'
    on its certificate, never Babel's 'en' order ('Dec 2 – 4, 2026')."""
    text = certificate_pdf.CertificateText(
        "Bristol Gas Training Centre", "Gas Safe ACS Core", "Dan Morgan", *days, "AB", None
    )
    pdf = certificate_pdf.certificate_pdf(text, translator(language))
    got = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert said in got.splitlines()
    assert "Dec 2" not in got
