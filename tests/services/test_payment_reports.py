"""Staff /report's revenue, on SQLite and PostgreSQL: paying in chat through the real
StripeGateway against the stand-in (a booking paid in full, a deposit with its balance
owed), a staff refund, then the report's queries and the staff member's table and chart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.presentation.i18n import translator
from bookbot.presentation.revenue_report import revenue_chart
from bookbot.services import payment_reports, refunds
from bookbot.store.db import Database
from tests.conversations import conftest as conversations
from tests.conversations import test_payments_chat as paying
from tests.conversations.test_payments_chat import Shop, _to_summary
from tests.conversations.test_staff import staff_chat

# The paying shop's fixtures, on the example studio at the conversations' time.
clock = conversations.clock
studio_id = conversations.studio_id
standin = paying.standin
gateway = paying.gateway
shop = paying.shop


async def _paid_deposit_and_refund(shop: Shop) -> dict[str, int]:
    """Ana pays the taster for two (£90.00), Ben a 30% deposit on the course (£144.00,
    £336.00 balance scheduled); staff refund £30.00 of Ana's."""
    ana = shop.chat()
    await _to_summary(ana)
    await ana.press("💳 Pay now")
    full = await shop.payment()
    await shop.deliver(shop.standin.pay(full["stripe_session_id"]))
    ben = shop.chat(address="7002")
    await _to_summary(ben, "Six-Week Wheel Course")
    await ben.press("💳 Pay £144.00 deposit now")
    deposit = await shop.payment()
    await shop.deliver(shop.standin.pay(deposit["stripe_session_id"]))
    balance = await shop.payment()
    made = await refunds.staff_refund(
        shop.db, shop.clock, shop.gateway, full["id"], amount_minor=3000, note="chipped mug"
    )
    assert made is not None
    return {"full": full["id"], "deposit": deposit["id"], "balance": balance["id"]}


async def test_money_by_class(shop: Shop, studio_id: int) -> None:
    await _paid_deposit_and_refund(shop)
    start, end = shop.clock.now() - timedelta(days=7), shop.clock.now() + timedelta(minutes=1)
    rows = await payment_reports.money_by_class(shop.db, studio_id, start=start, end=end)
    assert [
        (r.class_name, r.currency, r.paid_minor, r.refunded_minor, r.refunds, r.owed_minor)
        for r in rows
    ] == [
        ("Six-Week Wheel Course", "GBP", 14400, 0, 0, 33600),
        ("Wheel Throwing Taster", "GBP", 9000, 3000, 1, 0),
    ]
    assert rows[0].balances_minor == 33600
    assert rows[0].invoices_minor == 0
    # Another period: nothing paid or refunded in it, the balance still owed.
    later = await payment_reports.money_by_class(
        shop.db, studio_id, start=end, end=end + timedelta(days=7)
    )
    assert [(r.class_name, r.paid_minor, r.refunded_minor, r.owed_minor) for r in later] == [
        ("Six-Week Wheel Course", 0, 0, 33600)
    ]
    assert await payment_reports.has_payments(shop.db, studio_id)


async def test_staff_report_shows_revenue_table_and_chart(shop: Shop, studio_id: int) -> None:
    await _paid_deposit_and_refund(shop)
    shop.clock.advance(timedelta(hours=1))  # the report covers up to now, excluded
    maya = await staff_chat(shop.dialogues, shop.db, studio_id)
    await maya.say("/report")
    assert "Revenue, last 7 days" in maya.labels
    replies = await maya.press("Revenue, last 7 days")

    # The chart goes alone; the table follows as the text of the report menu (on Telegram
    # in <pre>, so its columns line up).
    table = replies[-1].text
    assert replies[-1].preformatted
    assert table.splitlines()[0].startswith("Revenue by class, ")
    assert table.splitlines()[1].split() == ["Paid", "Refunds", "Owed"]
    assert "Six-Week Wheel Course £144.00   £0.00 £336.00" in table
    assert "Wheel Throwing Taster  £90.00  £30.00   £0.00" in table
    assert "Total                 £234.00  £30.00 £336.00" in table
    assert "Net: £204.00 (paid less refunds)." in table
    assert "Owed now: balances £336.00, invoices £0.00." in table
    chart = replies[0].attachment
    assert chart is not None
    assert (chart.filename, chart.mime_type) == ("revenue.png", "image/png")
    start = shop.clock.now() - timedelta(days=7)
    rows = await payment_reports.money_by_class(
        shop.db, studio_id, start=start, end=shop.clock.now()
    )
    title = table.splitlines()[0]
    assert chart.content == revenue_chart(rows, translator("en"), title=title)
    assert "Revenue, last 30 days" in [o.label for o in replies[-1].options]  # and the others


async def test_without_payments_the_report_is_unchanged(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/report")
    assert "Utilization: booked, attended and no-show rates. Which report?" in maya.text
    assert not any(label.startswith("Revenue") for label in maya.labels)
    assert not await payment_reports.has_payments(db, studio_id)


@pytest.fixture
def dialogues(db: Database, clock: FrozenClock, studio_id: int) -> Dialogues:  # noqa: ARG001
    return Dialogues(db, clock)
