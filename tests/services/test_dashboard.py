"""The dashboard per course over a period, on a built studio with known numbers: sessions
held (cancelled and out-of-period ones left out), bookings, seats filled, completion and pass
rates, revenue less refunds, owed balances and bookings paid at the studio; feedback
averages per course and per instructor; the tables and `bookbot report dashboard|feedback`."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from bookbot.cli import main
from bookbot.presentation.dashboard_report import dashboard_table, feedback_table
from bookbot.presentation.i18n import translator
from bookbot.services import dashboard
from bookbot.services.dashboard import Average, CourseFigures
from bookbot.store.db import Database, connect
from tests import builders
from tests.builders import World
from tests.feedback_world import booking, close

START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


async def build(db: Database) -> World:
    w = await builders.studio(db)
    for name in ("ana", "ben", "cal", "dee"):
        await builders.customer(db, w, name)
    await builders.session(db, w, "s1", "taster", at(3, 10))
    await builders.session(db, w, "s2", "taster", at(5, 10))
    await builders.session(db, w, "s3", "taster", at(6, 10))  # cancelled below
    await builders.session(db, w, "s4", "taster", at(3, 10) - timedelta(days=30))  # October
    await builders.session(db, w, "d1", "course", at(3, 9), capacity=4)
    await builders.session(db, w, "d2", "course", at(4, 9), capacity=4)
    for s in ("s1", "s2", "s3", "s4", "d1", "d2"):
        await close(db, w, s, at(7, 0))
    async with db.transaction() as tx:
        await tx.execute("UPDATE sessions SET status = 'cancelled' WHERE id = :id", {"id": w["s3"]})
        await tx.execute(
            "UPDATE sessions SET instructor_id = :m WHERE id IN (:a, :b)",
            {"m": w["maya"], "a": w["d1"], "b": w["d2"]},
        )
    t = "taster"
    await booking(db, w, "a", customer="ana", class_key=t, sessions=["s1"], attendance=["attended"], guests=2)  # fmt: skip
    await booking(db, w, "b", customer="ben", class_key=t, sessions=["s1"], attendance=["no_show"])  # fmt: skip
    await booking(db, w, "c", customer="cal", class_key=t, sessions=["s2"], attendance=["checked_in"])  # fmt: skip
    await booking(db, w, "x", customer="dee", class_key=t, sessions=["s4"], attendance=["attended"])  # fmt: skip
    await booking(db, w, "y", customer="dee", class_key=t, sessions=["s3"], attendance=[None])  # fmt: skip
    days = ["d1", "d2"]
    await booking(db, w, "k1", customer="ana", class_key="course", sessions=days, attendance=["attended", "no_show"])  # fmt: skip
    await booking(db, w, "k2", customer="ben", class_key="course", sessions=days, attendance=["attended", "attended"], guests=2)  # fmt: skip
    await booking(db, w, "k3", customer="cal", class_key="course", sessions=days, attendance=["no_show", "no_show"])  # fmt: skip
    async with db.transaction() as tx:
        # Certificates: ben's two people passed; ana's was revoked.
        for position, customer, reg, revoked in ((1, "ben", "k2", None), (2, "ben", "k2", None), (1, "ana", "k1", at(8, 0))):  # fmt: skip
            await builders._insert(
                tx, "certificates", studio_id=w.studio_id, registration_id=w[reg],
                session_id=w["d2"], customer_id=w[customer], attendee_position=position,
                holder_name=customer, course_name="Course", first_day=date(2026, 11, 3),
                last_day=date(2026, 11, 4), code=f"C{reg}{position}", issued_at=at(4, 18),
                revoked_at=revoked,
            )  # fmt: skip
        # Money: k2 paid 480.00 in full, 50.00 refunded; k1 paid a 72.00 deposit and owes a
        # 168.00 balance; k3 and every taster booking have no payment (paid at the studio).
        pay = {"studio_id": w.studio_id, "currency": "GBP", "created_at": at(1, 8), "updated_at": at(1, 8)}  # fmt: skip
        full = await builders._insert(
            tx, "payments", customer_id=w["ben"], registration_id=w["k2"], purpose="full",
            amount_minor=48000, refunded_minor=5000, status="partially_refunded",
            paid_at=at(1, 9), **pay,
        )  # fmt: skip
        await builders._insert(
            tx, "payments", customer_id=w["ana"], registration_id=w["k1"], purpose="deposit",
            amount_minor=7200, status="paid", paid_at=at(1, 9), **pay,
        )  # fmt: skip
        await builders._insert(
            tx, "payments", customer_id=w["ana"], registration_id=w["k1"], purpose="balance",
            amount_minor=16800, status="scheduled", due_at=at(20, 9), **pay,
        )  # fmt: skip
        await builders._insert(
            tx, "refunds", studio_id=w.studio_id, payment_id=full, amount_minor=5000,
            currency="GBP", reason="staff", status="succeeded", idempotency_key="r1",
            created_at=at(6, 9), updated_at=at(6, 9),
        )  # fmt: skip
        # Feedback: the course 5 and 4 (Maya), the taster 3 (no instructor); one in October.
        for reg, klass, staff, rating, when in (
            ("k1", "course", "maya", 5, at(5, 12)), ("k2", "course", "maya", 4, at(5, 13)),
            ("a", "taster", None, 3, at(4, 12)), ("x", "taster", None, 1, at(1, 0) - timedelta(days=1)),
        ):  # fmt: skip
            await builders._insert(
                tx, "course_feedback", studio_id=w.studio_id, registration_id=w[reg],
                class_id=w[klass], instructor_id=w[staff] if staff else None, rating=rating,
                comment="", created_at=when,
            )  # fmt: skip
    return w


EXPECTED = [
    CourseFigures(
        "Course", sessions=2, capacity=8, seats=8, bookings=3, people=4, attended=3,
        certificates=2, revenue_minor=48000 + 7200 - 5000, owed_minor=16800,
        at_studio_minor=4500,
    ),
    CourseFigures(
        "Taster", sessions=2, capacity=16, seats=4, bookings=3, people=4, attended=3,
        certificates=0, revenue_minor=0, owed_minor=0, at_studio_minor=3 * 4500,
    ),
]  # fmt: skip


async def test_figures_per_course(db: Database) -> None:
    w = await build(db)
    found = await dashboard.figures(db, w.studio_id, "GBP", start=START, end=END)
    assert found == EXPECTED
    course, taster = found
    assert (course.filled, course.completion, course.passed) == (1.0, 0.75, 2 / 3)
    assert (taster.filled, taster.completion, taster.passed) == (0.25, 0.75, 0.0)


async def test_figures_of_another_studio_are_not_seen(db: Database) -> None:
    await build(db)
    other = await builders.studio(db, "other")
    assert await dashboard.figures(db, other.studio_id, "GBP", start=START, end=END) == []
    assert await dashboard.averages(db, other.studio_id, start=START, end=END) == ([], [])


async def test_feedback_averages_per_course_and_instructor(db: Database) -> None:
    w = await build(db)
    by_class, by_instructor = await dashboard.averages(db, w.studio_id, start=START, end=END)
    assert by_class == [Average("Course", 2, 9), Average("Taster", 1, 3)]
    assert by_instructor == [Average("Maya", 2, 9), Average("", 1, 3)]
    assert by_class[0].average == 4.5


def test_tables() -> None:
    t = translator("en")
    text = dashboard_table(EXPECTED, t, title="Dashboard", currency="GBP")
    rows = [line.split() for line in text.splitlines()]
    assert ["Sess.", "Seats", "Fill%", "Done%", "Pass%"] in rows
    assert ["Course", "2", "8", "100.0%", "75.0%", "66.7%"] in rows
    assert ["Total", "4", "12", "50.0%", "75.0%", "33.3%"] in rows
    assert ["Revenue", "Owed", "At", "studio"] in rows
    assert ["Course", "£502.00", "£168.00", "£45.00"] in rows
    assert ["Total", "£502.00", "£168.00", "£180.00"] in rows
    assert all(len(line) <= 48 for line in text.splitlines())
    feedback = feedback_table(
        [Average("Course", 2, 9)], [Average("Maya", 2, 9), Average("", 1, 3)], t, title="Fb"
    )
    rows = [line.split() for line in feedback.splitlines()]
    assert ["Course", "2", "4.5"] in rows
    assert ["(no", "instructor)", "1", "3.0"] in rows


async def _seed(url: str) -> None:
    db = await connect(url)
    try:
        await build(db)
    finally:
        await db.close()


@pytest.fixture
def url(database_url: str) -> str:
    asyncio.run(_seed(database_url))
    return database_url


def test_cli_dashboard_and_feedback(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    period = ["--from", "2026-11-01", "--to", "2026-11-30", "--studio", "clay"]
    assert main(["--database", url, "report", "dashboard", *period]) == 0
    out = capsys.readouterr().out
    assert "Dashboard by course, 2026-11-01 – 2026-11-30" in out
    rows = [line.split() for line in out.splitlines()]
    assert ["Course", "2", "8", "100.0%", "75.0%", "66.7%"] in rows
    assert ["Taster", "2", "4", "25.0%", "75.0%", "0.0%"] in rows
    assert ["Course", "£502.00", "£168.00", "£45.00"] in rows
    assert main(["--database", url, "report", "feedback", *period]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()]
    assert ["Course", "2", "4.5"] in rows
    assert ["Maya", "2", "4.5"] in rows
    assert ["Taster", "1", "3.0"] in rows
