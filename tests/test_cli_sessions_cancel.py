"""`bookbot sessions cancel SESSION_ID --reason ... [--yes]` against the local Stripe
stand-in (real HTTP, the real `stripe` library), on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import pytest

from bookbot.cli import build_parser
from bookbot.engine import errors
from bookbot.engine.clock import SystemClock
from bookbot.engine.payments import Choice
from bookbot.engine.pricing import RegistrationKind
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.presentation.formatting import date_range
from bookbot.services import holds, payments
from bookbot.services.payments import ReturnUrls, StripeEvent
from bookbot.services.session_changes import NewSession, add_session
from bookbot.store.db import Database
from tests import builders
from tests.stripe_standin import StripeStandIn
from tests.test_cli_payments import KEY, SECRET, settings_for

URLS = ReturnUrls("https://bot.example/paid", "https://bot.example/cancelled")


@pytest.fixture
async def standin() -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as running:
        yield running


async def command(database_url: str, standin: StripeStandIn, *argv: str) -> int:
    settings = settings_for(database_url, standin)
    args = build_parser().parse_args(["--database", database_url, *argv])
    return int(await args.run(settings, args))


async def _class_with_people(db: Database, standin: StripeStandIn) -> tuple[builders.World, int]:
    """ann paid £90.00 online for 2; cat books 1 to pay at the studio."""
    clock = SystemClock()
    w = await builders.studio(db)
    await db.execute("UPDATE classes SET payment = 'either' WHERE id = :id", {"id": w["taster"]})
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    await builders.session(db, w, "s1", "taster", starts, capacity=8)
    for name in ("ann", "cat"):
        await builders.customer(db, w, name)
    held = await holds.hold(
        db, clock, w.studio_id, w["ann"], RegistrationKind.SINGLE, guests=2, session_ids=[w["s1"]]
    )
    gateway = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    try:
        link = await payments.start_checkout(
            db,
            clock,
            gateway,
            studio_id=w.studio_id,
            customer_id=w["ann"],
            registration_id=held.id,
            choice=Choice.FULL,
            urls=URLS,
        )
        sid = await db.scalar(
            "SELECT stripe_session_id FROM payments WHERE id = :id", {"id": link.payment_id}
        )
        event = StripeEvent.from_payload(standin.pay(str(sid)))
        await payments.apply_event(db, clock, gateway, event)
    finally:
        await gateway.close()
    cat = await holds.hold(
        db, clock, w.studio_id, w["cat"], RegistrationKind.SINGLE, guests=1, session_ids=[w["s1"]]
    )
    await holds.confirm_hold(db, clock, w.studio_id, w["cat"], cat.id)
    return w, link.payment_id


async def test_cancel_asks_first_then_refunds_and_tells_everyone_once(
    db: Database, database_url: str, standin: StripeStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    w, payment_id = await _class_with_people(db, standin)
    session = str(w["s1"])
    argv = ("sessions", "cancel", session, "--reason", "The kiln  is broken", "--studio", "clay")
    # Not at a terminal and no --yes: it says what it would touch and does nothing.
    assert await command(database_url, standin, *argv) == 1
    out = capsys.readouterr().out
    assert "2 booking(s) (1 paid online), 0 pass reservation(s), 0 waiting" in out
    assert "nothing cancelled" in out
    assert await db.scalar("SELECT status FROM sessions WHERE id = :id", {"id": w["s1"]}) == "open"

    assert await command(database_url, standin, *argv, "--yes") == 0
    out = capsys.readouterr().out
    assert (
        f"session {session} cancelled: 2 booking(s), 0 reservation(s), 0 waiting-list place(s)"
        " cancelled; 1 refund(s) requested"
    ) in out
    refunds = standin.calls_to("POST", "/v1/refunds")
    assert [(c.params["amount"], c.idempotency_key) for c in refunds] == [
        ("9000", f"refund:{payment_id}:staff_cancel")
    ]
    told = await db.all(
        "SELECT customer_id, params FROM outbox WHERE template = 'session_cancelled'"
        " ORDER BY customer_id"
    )
    assert [r["customer_id"] for r in told] == [w["ann"], w["cat"]]
    assert all("The kiln is broken" in str(r["params"]) for r in told)

    assert await command(database_url, standin, *argv, "--yes") == 0
    out = capsys.readouterr().out
    assert "was cancelled already; finished: 0 booking(s)" in out
    assert "0 refund(s) requested" in out
    assert len(standin.calls_to("POST", "/v1/refunds")) == 1
    with pytest.raises(errors.SessionNotOpen):
        await holds.hold(
            db,
            SystemClock(),
            w.studio_id,
            w["cat"],
            RegistrationKind.SINGLE,
            guests=1,
            session_ids=[w["s1"]],
        )


async def test_the_preview_of_a_course_names_its_dates_and_daily_hours(
    db: Database, database_url: str, standin: StripeStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    w = await builders.studio(db)
    first = datetime.now(UTC).date() + timedelta(days=30)
    course = await add_session(
        db,
        SystemClock(),
        w.studio_id,
        NewSession("taster", first, time(9, 0), time(17, 0), capacity=12, days=3),
    )
    argv = ("sessions", "cancel", str(course.id), "--reason", "Snow", "--studio", "clay")

    assert await command(database_url, standin, *argv) == 1

    dates = date_range(first, first + timedelta(days=2), with_year=True)
    out = capsys.readouterr().out
    assert f"session {course.id}: Taster, {dates}, 09:00–17:00 daily " in out, out
