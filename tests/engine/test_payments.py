"""engine.payments: amounts due, balance dates, refunds for cancellations, amount checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine.payments import (
    Choice,
    Due,
    Paid,
    PaymentNotOffered,
    PaymentPolicy,
    RefundLine,
    amount_due,
    cancellation_refunds,
    deposit_offered,
    paid_as_expected,
    percent_of,
    refund_status,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=20)
ONLINE = PaymentPolicy(payment="online")
DEPOSIT30 = PaymentPolicy(payment="either", deposit_percent=30, balance_due_days=7)


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [
        (10000, 30, 3000),
        (4501, 30, 1350),  # 1350.3
        (4505, 30, 1352),  # 1351.5: half up
        (1, 50, 1),  # 0.5: half up
        (1, 49, 0),
        (0, 30, 0),
        (999, 100, 999),
        (999, 0, 0),
    ],
)
def test_percent_of_rounds_half_up_in_minor_units(amount: int, percent: int, expected: int) -> None:
    assert percent_of(amount, percent) == expected


@pytest.mark.parametrize(
    ("policy", "total", "choice", "expected"),
    [
        (ONLINE, 9000, Choice.FULL, Due("full", 9000, 0, None)),
        (DEPOSIT30, 9000, Choice.FULL, Due("full", 9000, 0, None)),
        (DEPOSIT30, 9000, Choice.DEPOSIT, Due("deposit", 2700, 6300, START - timedelta(days=7))),
        (DEPOSIT30, 4505, Choice.DEPOSIT, Due("deposit", 1352, 3153, START - timedelta(days=7))),
    ],
)
def test_amount_due(policy: PaymentPolicy, total: int, choice: Choice, expected: Due) -> None:
    due = amount_due(policy, total, choice, now=NOW, first_start=START)
    assert due == expected
    assert due.now + due.balance == total


@pytest.mark.parametrize(
    ("policy", "choice", "start"),
    [
        (PaymentPolicy(payment="at_studio"), Choice.FULL, START),  # not paid online at all
        (ONLINE, Choice.DEPOSIT, START),  # no deposit on this class
        (DEPOSIT30, Choice.DEPOSIT, NOW + timedelta(days=7)),  # the balance would be due now
        (DEPOSIT30, Choice.DEPOSIT, NOW + timedelta(days=3)),  # ... or already past
    ],
)
def test_what_is_not_offered_is_refused(
    policy: PaymentPolicy, choice: Choice, start: datetime
) -> None:
    with pytest.raises(PaymentNotOffered):
        amount_due(policy, 9000, choice, now=NOW, first_start=start)


def test_a_deposit_is_offered_only_while_the_balance_date_is_ahead() -> None:
    just_after = NOW + timedelta(days=7, seconds=1)
    assert deposit_offered(DEPOSIT30, 9000, now=NOW, first_start=just_after)
    assert not deposit_offered(DEPOSIT30, 9000, now=NOW, first_start=NOW + timedelta(days=7))
    assert not deposit_offered(DEPOSIT30, 0, now=NOW, first_start=START)


FULL = Paid(1, "full", 9000)
DEP = Paid(2, "deposit", 2700)
BAL = Paid(3, "balance", 6300)
HALF = PaymentPolicy(payment="online", refund_after_cutoff_percent=50)
KEEP_DEPOSIT = PaymentPolicy(
    payment="either", deposit_percent=30, refund_after_cutoff_percent=50, deposit_refundable=False
)


@pytest.mark.parametrize(
    ("policy", "paid", "before_cutoff", "by_staff", "expected"),
    [
        # before the cutoff: everything paid comes back, deposits included
        (KEEP_DEPOSIT, [DEP, BAL], True, False, [RefundLine(2, 2700), RefundLine(3, 6300)]),
        # after it: the class's percent; nothing by default
        (HALF, [FULL], False, False, [RefundLine(1, 4500)]),
        (ONLINE, [FULL], False, False, []),
        # a deposit that is not refundable stays; the balance gets the percent
        (KEEP_DEPOSIT, [DEP, BAL], False, False, [RefundLine(3, 3150)]),
        (KEEP_DEPOSIT, [DEP], False, False, []),
        # a refundable deposit gets the percent like any payment
        (
            PaymentPolicy(payment="either", deposit_percent=30, refund_after_cutoff_percent=50),
            [DEP],
            False,
            False,
            [RefundLine(2, 1350)],
        ),
        # staff cancelling: everything, whatever the policy and the hour
        (KEEP_DEPOSIT, [DEP, BAL], False, True, [RefundLine(2, 2700), RefundLine(3, 6300)]),
        # what was refunded already is not refunded again; the percent is capped by the rest
        (HALF, [Paid(1, "full", 9000, refunded_minor=9000)], True, False, []),
        (HALF, [Paid(1, "full", 9000, refunded_minor=6000)], False, False, [RefundLine(1, 3000)]),
        (HALF, [Paid(1, "full", 9001)], False, False, [RefundLine(1, 4501)]),  # 4500.5 half up
    ],
)
def test_cancellation_refunds(
    policy: PaymentPolicy,
    paid: list[Paid],
    before_cutoff: bool,
    by_staff: bool,
    expected: list[RefundLine],
) -> None:
    got = cancellation_refunds(policy, paid, before_cutoff=before_cutoff, by_staff=by_staff)
    assert got == expected


@pytest.mark.parametrize(
    ("paid_minor", "paid_currency", "ok"),
    [
        (9000, "gbp", True),
        (9000, "GBP", True),
        (8999, "gbp", False),
        (9001, "gbp", False),
        (9000, "eur", False),
        (None, "gbp", False),
        (9000, None, False),
    ],
)
def test_paid_as_expected(paid_minor: int | None, paid_currency: str | None, ok: bool) -> None:
    assert paid_as_expected(9000, "GBP", paid_minor, paid_currency) is ok


@pytest.mark.parametrize(
    ("refunded", "status"),
    [(0, None), (1, "partially_refunded"), (8999, "partially_refunded"), (9000, "refunded")],
)
def test_refund_status(refunded: int, status: str | None) -> None:
    assert refund_status(9000, refunded) == status
