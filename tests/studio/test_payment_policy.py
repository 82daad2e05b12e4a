"""The studio file's payment policy (issue 13): its bounds, and the loader writing it."""

from __future__ import annotations

from typing import Any

import pytest
from tests.studio.test_loader import edited, example_data
from tests.studio.test_model import problems_for

from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_data


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (("classes", 1, "deposit_percent"), 0, "greater than or equal to 1"),
        (("classes", 1, "deposit_percent"), 100, "less than or equal to 99"),
        (("classes", 1, "refund_after_cutoff_percent"), 101, "less than or equal to 100"),
        (("classes", 1, "refund_after_cutoff_percent"), -1, "greater than or equal to 0"),
        (("classes", 1, "payment"), "card", "'online', 'at_studio' or 'either'"),
        (("studio", "policies"), {"payment_hold_minutes": 29}, "greater than or equal to 30"),
        (("studio", "policies"), {"payment_hold_minutes": 1441}, "less than or equal to 1440"),
    ],
)
def test_payment_values_out_of_bounds_are_named(
    path: tuple[str | int, ...], value: Any, says: str
) -> None:
    problems = problems_for(path, value)
    assert len(problems) == 1
    assert says in problems[0]


def test_a_deposit_or_an_invoice_needs_online_payment() -> None:
    problems = problems_for(("classes", 1, "deposit_percent"), 30)
    assert problems == [
        'classes[1].deposit_percent: a deposit is paid online: set payment = "online" or "either"'
    ]


def test_the_clay_example_offers_a_deposit_and_company_billing() -> None:
    spec = parse_studio_data(example_data())
    course = next(c for c in spec.classes if c.key == "wheel-course")
    assert (course.payment, course.deposit_percent, course.company_billing) == ("either", 30, True)
    assert spec.studio.policies.payment_hold_minutes == 30


async def test_the_loader_writes_the_payment_policy(db: Database) -> None:
    data = edited(example_data(), "classes", "wheel-taster", refund_after_cutoff_percent=25)
    data["studio"]["staff_chat"] = -1001234567890
    report = await load_studio(db, parse_studio_data(data))
    async with db.transaction(write=False) as tx:
        course = await tx.one(
            "SELECT payment, deposit_percent, balance_due_days, company_billing,"
            " invoice_days_until_due, refund_after_cutoff_percent, deposit_refundable"
            " FROM classes WHERE studio_id = :s AND key = 'wheel-course'",
            {"s": report.studio_id},
        )
        taster = await tx.one(
            "SELECT payment, refund_after_cutoff_percent FROM classes"
            " WHERE studio_id = :s AND key = 'wheel-taster'",
            {"s": report.studio_id},
        )
        studio = await tx.one(
            "SELECT payment_hold_minutes, staff_chat_id FROM studios WHERE id = :s",
            {"s": report.studio_id},
        )
    assert course is not None
    assert taster is not None
    assert studio is not None
    assert dict(course) == {
        "payment": "either",
        "deposit_percent": 30,
        "balance_due_days": 7,
        "company_billing": True,
        "invoice_days_until_due": 14,
        "refund_after_cutoff_percent": 0,
        "deposit_refundable": False,
    }
    assert (taster["payment"], taster["refund_after_cutoff_percent"]) == ("either", 25)
    assert (studio["payment_hold_minutes"], studio["staff_chat_id"]) == (30, -1001234567890)
    again = await load_studio(db, parse_studio_data(data))
    assert sum(again.updated.values()) == 0
