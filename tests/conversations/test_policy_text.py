"""The policy line and the confirmation's lines, for each kind of studio and class, in
English and Spanish (placeholders filled, nothing left in braces)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from bookbot.conversations import booked_text, policy_text
from bookbot.conversations.states import Context
from bookbot.engine.payments import PaymentPolicy
from bookbot.presentation.i18n import translator
from bookbot.services.common import Studio

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
STARTS = datetime(2026, 12, 4, 18, tzinfo=UTC)  # Fri 4 Dec: the 48 h cutoff is Wed 18:00


class _Ctx:
    """What these lines read of a Context: the translator, now, the studio, `when`."""

    def __init__(self, hours: int = 48, language: str = "en", address: str | None = None) -> None:
        self.t = translator(language)
        self.now = NOW
        self.studio = Studio(
            id=1,
            slug="clay",
            name="Clay & Kiln",
            timezone="Europe/London",
            currency="GBP",
            default_language="en",
            booking_cutoff=timedelta(0),
            cancellation_cutoff_hours=hours,
            waitlist_offer=timedelta(hours=2),
            address=address,
        )

    def when(self, instant: datetime, *, with_year: bool = False) -> str:
        pattern = "EEE d MMM y, HH:mm" if with_year else "EEE d MMM, HH:mm"
        local = instant.astimezone(ZoneInfo(self.studio.timezone))
        return format_datetime(local, pattern, locale=self.t.language)


def ctx(**kwargs: Any) -> Context:
    return cast(Context, _Ctx(**kwargs))


def test_paid_at_the_studio() -> None:
    line = policy_text.cancellation_line(ctx(), STARTS)
    assert line == (
        "Free cancellation until Wed 2 Dec, 18:00 (2 days before); after that, no cancellations."
    )


@pytest.mark.parametrize(
    ("policy", "after"),
    [
        (PaymentPolicy(payment="online"), "after that, no refund."),
        (PaymentPolicy(payment="online", refund_after_cutoff_percent=25), "after that, 25% back."),
    ],
)
def test_paid_online(policy: PaymentPolicy, after: str) -> None:
    line = policy_text.cancellation_line(ctx(), STARTS, policy=policy)
    assert line == f"Free cancellation until Wed 2 Dec, 18:00 (2 days before); {after}"


def test_a_deposit_kept_is_said() -> None:
    policy = PaymentPolicy(
        payment="online",
        deposit_percent=30,
        deposit_refundable=False,
        refund_after_cutoff_percent=50,
    )
    line = policy_text.cancellation_line(ctx(), STARTS, policy=policy)
    assert line.endswith("after that, 50% back. A deposit is not refunded after the cutoff.")


def test_no_cutoff_and_in_general() -> None:
    assert (
        policy_text.cancellation_line(ctx(hours=0), STARTS) == "Free cancellation up to the start."
    )
    assert policy_text.cancellation_line(ctx(hours=1), None) == (
        "Free cancellation up to 1 h before the start; after that, no cancellations."
    )


def test_inside_the_cutoff() -> None:
    soon = NOW + timedelta(hours=20)
    assert policy_text.cancellation_line(ctx(), soon) == (
        "Cancellations close 2 days before the start, so once booked this cannot be cancelled."
    )
    online = PaymentPolicy(payment="online", refund_after_cutoff_percent=50)
    assert policy_text.cancellation_line(ctx(), soon, policy=online) == (
        "Free cancellation closed 2 days before the start: cancelling gives 50% back."
    )
    assert policy_text.closed_line(ctx()) == (
        "Cancellations close 2 days before the start; contact the studio."
    )


@pytest.mark.parametrize(
    ("hours", "said"),
    [(336, "14 days"), (24, "1 day"), (48, "2 days"), (36, "36 h"), (1, "1 h")],
)
def test_a_cutoff_of_whole_days_is_said_in_days(hours: int, said: str) -> None:
    far = NOW + timedelta(days=30)
    assert policy_text.cancellation_line(ctx(hours=hours), None).startswith(
        f"Free cancellation up to {said} before the start;"
    )
    assert f"({said} before)" in policy_text.cancellation_line(ctx(hours=hours), far)
    assert policy_text.closed_line(ctx(hours=hours)) == (
        f"Cancellations close {said} before the start; contact the studio."
    )
    closed = policy_text.cancellation_line(
        ctx(hours=hours), NOW + timedelta(minutes=30), policy=PaymentPolicy(payment="online")
    )
    assert closed == f"Free cancellation closed {said} before the start: no refund if cancelled."


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_two_week_cutoff_never_says_336_hours(language: str) -> None:
    c = ctx(hours=336, language=language)
    lines = [
        policy_text.cancellation_line(c, None),
        policy_text.cancellation_line(c, NOW + timedelta(days=30)),
        policy_text.cancellation_line(c, STARTS),
        policy_text.cancellation_line(c, STARTS, policy=PaymentPolicy(payment="either")),
        policy_text.closed_line(c),
    ]
    for line in lines:
        assert "336" not in line
        assert "14" in line


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_line_is_filled_in_both_languages(language: str) -> None:
    c = ctx(language=language)
    lines = [
        policy_text.cancellation_line(c, STARTS),
        policy_text.cancellation_line(c, None, policy=PaymentPolicy(payment="either")),
        policy_text.cancellation_line(c, NOW, policy=PaymentPolicy(payment="either")),
        policy_text.closed_line(c),
        booked_text.details(c, kind="class", ident=7, dates=[(STARTS, "Maya")]),
    ]
    for line in lines:
        assert "{" not in line
        assert "}" not in line
        assert line


def test_confirmation_lines_list_dates_venue_and_reference() -> None:
    dates = [(STARTS + timedelta(days=7 * i), "Maya" if i % 2 else None) for i in range(11)]
    text = booked_text.details(ctx(), kind="class", ident=7, dates=dates)
    lines = text.splitlines()
    assert len([line for line in lines if line.startswith("• ")]) == 8
    assert "… and 3 more" in lines
    assert lines[1].endswith("· with Maya")
    assert "Where: Clay & Kiln" in lines  # no address: the studio's name
    assert lines[-1] == "Reference: B-" + booked_text.booking_reference("class", 7)[2:]
    one = booked_text.details(ctx(address="14 Kiln Yard"), kind="class", ident=7, dates=dates[1:2])
    assert one.splitlines()[:2] == ["With Maya.", "Where: 14 Kiln Yard"]
