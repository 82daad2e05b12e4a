"""What a cancellation gives back and what the customer is told: engine.payments, pure."""

from __future__ import annotations

import pytest

from bookbot.engine.payments import (
    BALANCE,
    DEPOSIT,
    FULL,
    Paid,
    PaymentPolicy,
    cancellation_terms,
    late_cancellation_allowed,
)

HALF = PaymentPolicy(payment="online", refund_after_cutoff_percent=50)
KEEP_DEPOSIT = PaymentPolicy(
    payment="online", deposit_percent=30, refund_after_cutoff_percent=50, deposit_refundable=False
)


@pytest.mark.parametrize(
    ("policy", "paid", "before", "staff", "expected"),
    [
        (HALF, [Paid(1, FULL, 9000)], True, False, (9000, False, 100, False)),
        (HALF, [Paid(1, FULL, 9000)], False, False, (4500, True, 50, False)),
        (HALF, [Paid(1, FULL, 9000)], False, True, (9000, False, 100, False)),
        (PaymentPolicy(payment="online"), [Paid(1, FULL, 9000)], False, False, (0, True, 0, False)),
        (KEEP_DEPOSIT, [Paid(1, DEPOSIT, 2700)], False, False, (0, True, 50, True)),
        (KEEP_DEPOSIT, [Paid(1, DEPOSIT, 2700)], True, False, (2700, False, 100, False)),
        (
            KEEP_DEPOSIT,
            [Paid(1, DEPOSIT, 2700), Paid(2, BALANCE, 6300)],
            False,
            False,
            (3150, True, 50, True),
        ),
        # Staff refunded 8,000 already: half of 9,000 is more than the 1,000 left.
        (HALF, [Paid(1, FULL, 9000, refunded_minor=8000)], False, False, (1000, True, 50, False)),
    ],
)
def test_cancellation_terms(
    policy: PaymentPolicy,
    paid: list[Paid],
    before: bool,
    staff: bool,
    expected: tuple[int, bool, int, bool],
) -> None:
    """expected: (total, late, percent, deposit kept)."""
    terms = cancellation_terms(policy, paid, before_cutoff=before, by_staff=staff)
    assert (terms.total, terms.late, terms.percent, terms.deposit_kept) == expected


def test_only_a_booking_paid_online_may_be_cancelled_late() -> None:
    assert late_cancellation_allowed([Paid(1, FULL, 9000)])
    assert not late_cancellation_allowed([])  # paid at the studio
    assert not late_cancellation_allowed([Paid(1, FULL, 9000, refunded_minor=9000)])
