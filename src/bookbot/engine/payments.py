"""Payment rules, pure: what is due now and later, what a cancellation gives back, and
whether what a provider says was paid is what we asked for.

Amounts are integer minor units throughout. A deposit is rounded half up in minor units
(30% of 4,501 is 1,350.3 -> 1,350; of 4,505 is 1,351.5 -> 1,352) and the balance is the
rest, so deposit + balance is always the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bookbot.engine.errors import BookingError

# What a payments row is for.
FULL, DEPOSIT, BALANCE, PASS, INVOICE = "full", "deposit", "balance", "pass", "invoice"


class Choice(StrEnum):
    """How a customer chose to pay for a booking online."""

    FULL = "full"
    DEPOSIT = "deposit"


class PaymentNotOffered(BookingError):
    code = "payment_not_offered"
    template = "That way of paying is not offered for this booking."


@dataclass(frozen=True)
class PaymentPolicy:
    """A class's payment terms, as the studio file states them."""

    payment: str = "at_studio"  # online | at_studio | either
    deposit_percent: int | None = None
    balance_due_days: int = 7
    company_billing: bool = False
    invoice_days_until_due: int = 14
    refund_after_cutoff_percent: int = 0
    deposit_refundable: bool = True

    @property
    def online(self) -> bool:
        return self.payment in ("online", "either")


@dataclass(frozen=True)
class Due:
    """What a choice asks for: `now` through the first link; `balance` later, by
    `balance_due_at` (0 and None for a payment in full)."""

    purpose: str  # full | deposit
    now: int
    balance: int
    balance_due_at: datetime | None


def percent_of(amount: int, percent: int) -> int:
    """`percent` % of `amount` minor units, rounded half up (amounts are never negative)."""
    return (amount * percent * 2 + 100) // 200


def balance_due_at(first_start: datetime, policy: PaymentPolicy) -> datetime:
    return first_start - timedelta(days=policy.balance_due_days)


def deposit_offered(
    policy: PaymentPolicy, total: int, *, now: datetime, first_start: datetime
) -> bool:
    """A deposit is offered when the class allows one, there is something to split, and the
    balance would fall due after now: a booking made inside the balance window pays in full."""
    if policy.deposit_percent is None or total <= 0:
        return False
    return balance_due_at(first_start, policy) > now


def amount_due(
    policy: PaymentPolicy, total: int, choice: Choice, *, now: datetime, first_start: datetime
) -> Due:
    """What the customer pays now for a booking of `total`, and what is left for later."""
    if not policy.online:
        raise PaymentNotOffered()
    if choice is Choice.FULL:
        return Due(FULL, total, 0, None)
    percent = policy.deposit_percent
    if percent is None or not deposit_offered(policy, total, now=now, first_start=first_start):
        raise PaymentNotOffered()
    deposit = percent_of(total, percent)
    return Due(DEPOSIT, deposit, total - deposit, balance_due_at(first_start, policy))


@dataclass(frozen=True)
class Paid:
    """A payment made towards a booking, as refunds see it."""

    payment_id: int
    purpose: str
    amount_minor: int
    refunded_minor: int = 0

    @property
    def left(self) -> int:
        return max(self.amount_minor - self.refunded_minor, 0)


@dataclass(frozen=True)
class RefundLine:
    payment_id: int
    amount_minor: int


def cancellation_refunds(
    policy: PaymentPolicy,
    paid: Sequence[Paid],
    *,
    before_cutoff: bool,
    by_staff: bool,
) -> list[RefundLine]:
    """What each payment gives back when the booking is cancelled.

    Staff cancelling, or a customer before the cutoff: everything still held. A customer
    after the cutoff: `refund_after_cutoff_percent` of each payment (of its amount, capped by
    what is still held), a deposit only when the class says deposits are refundable.
    Payments with nothing to give back are left out."""
    lines = []
    for p in paid:
        if by_staff or before_cutoff:
            amount = p.left
        elif p.purpose == DEPOSIT and not policy.deposit_refundable:
            amount = 0
        else:
            amount = min(percent_of(p.amount_minor, policy.refund_after_cutoff_percent), p.left)
        if amount > 0:
            lines.append(RefundLine(p.payment_id, amount))
    return lines


@dataclass(frozen=True)
class CancellationTerms:
    """What a cancellation gives back, as the customer is shown it before confirming and as
    the refunds are then written: both come from `cancellation_terms`."""

    lines: tuple[RefundLine, ...]
    late: bool  # after the cancellation cutoff (a customer's, never staff's)
    percent: int  # what a late cancellation gives back, in percent (100 before the cutoff)
    deposit_kept: bool  # a paid deposit the class does not refund stays with the studio

    @property
    def total(self) -> int:
        return sum(line.amount_minor for line in self.lines)


def cancellation_terms(
    policy: PaymentPolicy,
    paid: Sequence[Paid],
    *,
    before_cutoff: bool,
    by_staff: bool,
) -> CancellationTerms:
    """`cancellation_refunds` with what the customer is told about it."""
    late = not (by_staff or before_cutoff)
    return CancellationTerms(
        tuple(cancellation_refunds(policy, paid, before_cutoff=before_cutoff, by_staff=by_staff)),
        late,
        policy.refund_after_cutoff_percent if late else 100,
        late
        and not policy.deposit_refundable
        and any(p.purpose == DEPOSIT and p.left > 0 for p in paid),
    )


def late_cancellation_allowed(paid: Sequence[Paid]) -> bool:
    """A customer may cancel a booking after the studio's cutoff only when it was paid online:
    the studio keeps what the class's policy keeps (shown before they confirm) and the seats
    go back on sale. One paid at the studio stays bound by the cutoff, as before payments."""
    return any(p.left > 0 for p in paid)


class RefundChanged(BookingError):
    code = "refund_changed"
    template = "What you would get back has changed since you asked: please check it again."


def paid_as_expected(
    expected_minor: int, expected_currency: str, paid_minor: int | None, paid_currency: str | None
) -> bool:
    """Whether the provider's amount and currency are exactly what we asked for (currencies
    compared case-blind: we store ISO upper case, Stripe writes lower case)."""
    if paid_minor is None or paid_currency is None:
        return False
    return paid_minor == expected_minor and paid_currency.lower() == expected_currency.lower()


def refund_status(amount_minor: int, refunded_minor: int) -> str | None:
    """A paid payment's status after refunds: None while nothing is refunded."""
    if refunded_minor <= 0:
        return None
    return "refunded" if refunded_minor >= amount_minor else "partially_refunded"
