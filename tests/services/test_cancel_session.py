"""Staff cancelling a class (services.cancellation.cancel_session): the session closed first,
then everyone in it let go and told, paid bookings refunded in full through the Stripe
stand-in, and a second run finishing the work without repeating any. Both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.reservations import PassKind
from bookbot.handlers.templates import render
from bookbot.presentation.i18n import translator
from bookbot.services import cancellation, holds, passes, reservations
from bookbot.services.payments import Outcome
from bookbot.services.waitlist import join_waitlist
from tests import builders
from tests.services import test_payments as base
from tests.services.test_payments import Shop, _paid_booking

# The payments tests' fixtures: the stand-in, the real gateway against it, and the shop.
standin, gateway, shop = base.standin, base.gateway, base.shop

REASON = "The kiln is broken"


async def _full_class(shop: Shop) -> dict[str, int]:
    """ann and bob paid online (2 each), cat at the studio (1), dan on a pass (1): 6 of 6;
    eve waits."""
    await shop.setup(capacity=6, payment="either")
    for name in ("cat", "dan", "eve"):
        await builders.customer(shop.db, shop.w, name)
    made: dict[str, int] = {}
    made["ann_reg"], made["ann_pay"] = await _paid_booking(shop, "ann")
    made["bob_reg"], made["bob_pay"] = await _paid_booking(shop, "bob")
    cat = await shop.hold("cat", guests=1)
    await holds.confirm_hold(shop.db, shop.clock, shop.w.studio_id, shop.w["cat"], cat)
    made["cat_reg"] = cat
    made["pass"] = await passes.issue_pass(
        shop.db,
        shop.clock.now(),
        shop.w.studio_id,
        shop.w["dan"],
        shop.w["taster"],
        terms=passes.PassTerms(PassKind.PUNCH, sessions=5, valid_days=60),
        payment="staff_issued",
        valid_from=shop.clock.now().date(),
    )
    made["reservation"] = (
        await reservations.reserve(
            shop.db,
            shop.clock,
            shop.w.studio_id,
            shop.w["dan"],
            made["pass"],
            session_id=shop.w["s1"],
        )
    ).id
    made["entry"] = (
        await join_waitlist(
            shop.db, shop.clock, shop.w.studio_id, shop.w["eve"], shop.w["s1"], guests=1
        )
    ).id
    return made


async def _notices(shop: Shop) -> dict[int, dict[str, object]]:
    rows = await shop.db.all(
        "SELECT customer_id, params FROM outbox WHERE template = 'session_cancelled' ORDER BY id"
    )
    return {int(r["customer_id"]): json.loads(r["params"]) for r in rows}


async def test_everyone_is_let_go_refunded_and_told_once(shop: Shop) -> None:
    made = await _full_class(shop)
    done = await cancellation.cancel_session(
        shop.db, shop.clock, shop.w.studio_id, shop.w["s1"], reason=REASON, gateway=shop.gateway
    )
    assert done.marked
    assert len(done.bookings) == 3
    assert (done.reservations, done.waitlist, done.refunds) == (1, 1, 2)
    status = await shop.db.scalar(
        "SELECT status FROM sessions WHERE id = :id", {"id": shop.w["s1"]}
    )
    assert status == "cancelled"
    for reg in (made["ann_reg"], made["bob_reg"], made["cat_reg"]):
        assert await shop.reg_status(reg) == "cancelled"
    assert await shop.seats_taken() == 0
    refunds = await shop.refunds()
    assert sorted(
        (r["payment_id"], r["amount_minor"], r["reason"], r["stripe_refund_id"] is not None)
        for r in refunds
    ) == [
        (made["ann_pay"], 9000, "staff_cancel", True),  # asked of Stripe
        (made["bob_pay"], 9000, "staff_cancel", True),
    ]
    keys = sorted(c.idempotency_key or "" for c in shop.standin.calls_to("POST", "/v1/refunds"))
    assert keys == sorted(f"refund:{p}:staff_cancel" for p in (made["ann_pay"], made["bob_pay"]))
    reservation = await shop.db.one(
        "SELECT status, punch_used FROM reservations WHERE id = :id", {"id": made["reservation"]}
    )
    assert reservation is not None
    assert (reservation["status"], bool(reservation["punch_used"])) == ("cancelled", False)
    left = await shop.db.scalar(
        "SELECT sessions_remaining FROM passes WHERE id = :id", {"id": made["pass"]}
    )
    assert left == 5
    entry = await shop.db.scalar(
        "SELECT status FROM waitlist_entries WHERE id = :id", {"id": made["entry"]}
    )
    assert entry == "cancelled"
    told = await _notices(shop)
    assert set(told) == {shop.w[n] for n in ("ann", "bob", "cat", "dan", "eve")}
    assert told[shop.w["ann"]]["refund"] == 9000
    assert told[shop.w["ann"]]["reason"] == REASON
    assert "refund" not in told[shop.w["cat"]]
    assert (told[shop.w["dan"]]["kind"], told[shop.w["eve"]]["kind"]) == ("reservation", "waitlist")
    assert len(await shop.outbox("refund_issued")) == 2

    again = await cancellation.cancel_session(
        shop.db, shop.clock, shop.w.studio_id, shop.w["s1"], reason=REASON, gateway=shop.gateway
    )
    assert (again.marked, again.bookings, again.reservations, again.waitlist, again.refunds) == (
        False,
        (),
        0,
        0,
        0,
    )
    assert len(await shop.refunds()) == 2
    assert len(shop.standin.calls_to("POST", "/v1/refunds")) == 2
    assert len(await _notices(shop)) == 5
    with pytest.raises(errors.SessionNotOpen):
        await shop.hold("cat", guests=1)


async def test_a_run_stopped_after_closing_the_session_is_finished_by_the_next(shop: Shop) -> None:
    await shop.setup()
    _reg, pay = await _paid_booking(shop, "ann")
    held = await shop.hold("bob", guests=1)
    shop.standin.fail_next(503, on="POST /v1/refunds")
    # First run: the refund cannot reach Stripe (it stays pending, asked again later).
    first = await cancellation.cancel_session(
        shop.db, shop.clock, shop.w.studio_id, shop.w["s1"], reason=REASON, gateway=shop.gateway
    )
    assert first.refunds == 1
    shop.standin.outage(0)
    assert [r["stripe_refund_id"] for r in await shop.refunds()] == [None]
    second = await cancellation.cancel_session(
        shop.db, shop.clock, shop.w.studio_id, shop.w["s1"], reason=REASON, gateway=shop.gateway
    )
    assert second.refunds == 0
    assert [(r["payment_id"], r["stripe_refund_id"] is not None) for r in await shop.refunds()] == [
        (pay, True)
    ]
    assert await shop.reg_status(held) == "cancelled"


async def test_booking_paths_refuse_a_cancelled_session(shop: Shop) -> None:
    """The session is closed before anyone is let go: a hold confirmed in between, or
    paid for, is refused (the payment refunded in full as late)."""
    await shop.setup()
    reg = await shop.hold("ann", guests=2)
    link = await shop.checkout(reg)
    paid = shop.standin.pay(await shop.session_id(link.payment_id))
    # Only the first step of a run (as if it stopped there).
    assert await cancellation._mark_cancelled(shop.db, shop.clock, shop.w.studio_id, shop.w["s1"])
    with pytest.raises(errors.SessionNotOpen):
        await shop.hold("bob", guests=1)
    with pytest.raises(errors.SessionNotOpen):
        await holds.confirm_hold(shop.db, shop.clock, shop.w.studio_id, shop.w["ann"], reg)
    assert await shop.apply(paid) is Outcome.REFUNDED
    assert await shop.reg_status(reg) == "held"
    assert [(r["amount_minor"], r["reason"]) for r in await shop.refunds()] == [
        (9000, "late_payment")
    ]
    assert len(await shop.outbox("payment_refunded_late")) == 1
    done = await cancellation.cancel_session(
        shop.db, shop.clock, shop.w.studio_id, shop.w["s1"], reason=REASON, gateway=shop.gateway
    )
    assert not done.marked
    assert await shop.reg_status(reg) == "cancelled"
    assert len(await shop.refunds()) == 1  # refunded once, as late
    with pytest.raises(errors.SessionNotOpen):
        await shop.hold("bob", guests=1)


async def test_a_payment_after_the_class_is_cancelled_is_refunded(shop: Shop) -> None:
    await shop.setup()
    reg = await shop.hold("ann", guests=2)
    link = await shop.checkout(reg)
    paid = shop.standin.pay(await shop.session_id(link.payment_id))  # event not yet applied
    await cancellation.cancel_session(
        shop.db, shop.clock, shop.w.studio_id, shop.w["s1"], reason=REASON, gateway=shop.gateway
    )
    assert await shop.reg_status(reg) == "cancelled"
    assert await shop.apply(paid) is Outcome.REFUNDED
    assert [(r["amount_minor"], r["reason"]) for r in await shop.refunds()] == [
        (9000, "late_payment")
    ]


async def test_an_ended_or_unknown_session_is_refused(shop: Shop) -> None:
    await shop.setup(days=1)
    with pytest.raises(errors.NotFound):
        await cancellation.cancel_session(shop.db, shop.clock, shop.w.studio_id, 99999, reason="x")
    shop.clock.advance(timedelta(days=2))
    with pytest.raises(errors.SessionInPast):
        await cancellation.cancel_session(
            shop.db, shop.clock, shop.w.studio_id, shop.w["s1"], reason="x"
        )


def test_the_notices_read_in_the_customers_language() -> None:
    base_params = {"class_name": "Taster", "starts_at": "2026-11-22T10:00:00+00:00"}
    paid = {**base_params, "reason": REASON, "kind": "booking", "refund": 9000, "currency": "GBP"}
    en = render("session_cancelled", paid, translator("en"), "Europe/London")
    assert "The studio has cancelled Taster" in en
    assert f"Reason: {REASON}" in en
    assert "£90.00 is being refunded" in en
    es = render("session_cancelled", paid, translator("es"), "Europe/London")
    assert "El estudio ha cancelado Taster" in es
    assert "90,00" in es
    waiting = render(
        "session_cancelled", {**base_params, "kind": "waitlist"}, translator("es"), "UTC"
    )
    assert "lista de espera" in waiting
    assert "Motivo" not in waiting
    staff = render(
        "payment_staff_invoice_unsent",
        {"amount": 9000, "currency": "GBP", "payment": 7, "company": "Acme", "attempts": 8},
        translator("en"),
        "UTC",
    )
    assert "payment #7 (Acme)" in staff
    assert "after 8 attempts" in staff
