"""Lesson packages (issue 15), on both databases: redeemed when an appointment is confirmed
(in its transaction), refused when expired, used up or short of minutes (nothing booked, so
the customer can pay instead), restored by a cancellation within the policy, kept by a
reschedule, and adjusted by hand with an audit row, never below zero."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bookbot.engine import errors
from bookbot.engine.clock import FrozenClock
from bookbot.services import appointments, packages
from bookbot.services.packages import Adjustment, PackageTerms
from bookbot.store.db import Database
from tests import builders
from tests.services.test_appointments_world import NOW, THU, TUE, at, world


def lessons(w: builders.World, sessions: int = 5, days: int = 90) -> PackageTerms:
    return PackageTerms(
        name="5 wheel lessons",
        service_id=w["lesson_service"],
        sessions=sessions,
        minutes=None,
        valid_days=days,
    )


async def give(
    db: Database,
    w: builders.World,
    terms: PackageTerms,
    *,
    customer: str = "ana",
    at_: datetime = NOW,
) -> packages.Package:
    return await packages.issue(
        db, at_, w.studio_id, customer_id=w[customer], terms=terms, payment="staff_issued"
    )


async def book(
    db: Database,
    w: builders.World,
    starts_at: datetime,
    package_id: int | None,
    *,
    service: str = "lesson",
    customer: str = "ana",
) -> appointments.Appointment:
    clock = FrozenClock(NOW)
    held = await appointments.hold(
        db,
        clock,
        w.studio_id,
        customer_id=w[customer],
        service_id=w[f"{service}_service"],
        staff_id=w["maya"],
        starts_at=starts_at,
    )
    return await appointments.confirm(
        db,
        clock,
        w.studio_id,
        appointment_id=held.id,
        customer_id=w[customer],
        package_id=package_id,
    )


async def balance(db: Database, w: builders.World, package_id: int) -> int:
    return (await packages.package_by_id(db, w.studio_id, package_id)).remaining


async def redemptions(db: Database, package_id: int) -> list[tuple[int, str]]:
    rows = await db.all(
        "SELECT appointment_id, status FROM package_redemptions WHERE package_id = :p ORDER BY id",
        {"p": package_id},
    )
    return [(int(r["appointment_id"]), str(r["status"])) for r in rows]


async def test_confirming_with_a_package_takes_one_session_and_links_them(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w))

    booked = await book(db, w, at(TUE, 10), package.id)

    assert booked.status == "confirmed"
    assert await balance(db, w, package.id) == 4
    assert await redemptions(db, package.id) == [(booked.id, "redeemed")]
    assert (await packages.redemption_of(db, w.studio_id, booked.id)) is not None


async def test_a_second_confirm_redeems_nothing_more(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w))
    booked = await book(db, w, at(TUE, 10), package.id)

    again = await appointments.confirm(
        db,
        FrozenClock(NOW),
        w.studio_id,
        appointment_id=booked.id,
        customer_id=w["ana"],
        package_id=package.id,
    )

    assert again.status == "confirmed"
    assert await balance(db, w, package.id) == 4


async def test_an_expired_package_is_refused_and_nothing_is_booked(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w, days=10), at_=NOW - timedelta(days=20))
    clock = FrozenClock(NOW)
    held = await appointments.hold(
        db,
        clock,
        w.studio_id,
        customer_id=w["ana"],
        service_id=w["lesson_service"],
        staff_id=w["maya"],
        starts_at=at(TUE, 10),
    )

    with pytest.raises(errors.PackageExpired) as refused:
        await appointments.confirm(
            db,
            clock,
            w.studio_id,
            appointment_id=held.id,
            customer_id=w["ana"],
            package_id=package.id,
        )

    assert package.expires_on.isoformat() in str(refused.value)
    still = await appointments.appointment_for_customer(db, w.studio_id, w["ana"], held.id)
    assert still.status == "held"
    assert await balance(db, w, package.id) == 5
    assert await redemptions(db, package.id) == []
    # The fallback: the same hold is booked without the package (paid at the studio).
    paid = await appointments.confirm(
        db, clock, w.studio_id, appointment_id=held.id, customer_id=w["ana"]
    )
    assert paid.status == "confirmed"


async def test_a_package_must_still_be_valid_on_the_appointments_day(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w, days=1))  # until Tuesday 3 Nov

    with pytest.raises(errors.PackageExpired):
        await book(db, w, at(THU, 10), package.id)
    assert (await book(db, w, at(TUE, 10), package.id)).status == "confirmed"


async def test_a_used_up_package_is_refused(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w, sessions=1))
    await book(db, w, at(TUE, 10), package.id)

    with pytest.raises(errors.PackageUsedUp):
        await book(db, w, at(TUE, 12), package.id)
    assert await balance(db, w, package.id) == 0


async def test_a_minutes_package_pays_the_appointments_minutes_and_refuses_short(
    db: Database,
) -> None:
    w = await world(db)
    terms = PackageTerms(
        name="90 minutes",
        service_id=w["lesson_service"],
        sessions=None,
        minutes=90,
        valid_days=30,
    )
    package = await give(db, w, terms)
    await book(db, w, at(TUE, 10), package.id)
    assert await balance(db, w, package.id) == 30

    with pytest.raises(errors.PackageMinutesShort) as refused:
        await book(db, w, at(TUE, 12), package.id)
    assert refused.value.params == {"name": "90 minutes", "left": 30, "needed": 60}


async def test_a_package_of_another_service_or_customer_is_refused(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w))
    with pytest.raises(errors.PackageOtherService):
        await book(db, w, at(TUE, 10), package.id, service="trial")
    with pytest.raises(errors.NotFound):
        await book(db, w, at(TUE, 12), package.id, customer="ben")
    assert await balance(db, w, package.id) == 5


async def test_a_package_waiting_for_its_payment_cannot_pay(db: Database) -> None:
    w = await world(db)
    package = await packages.issue(
        db, NOW, w.studio_id, customer_id=w["ana"], terms=lessons(w), payment="online"
    )
    assert package.status == "pending_payment"
    with pytest.raises(errors.PackageNotActive):
        await book(db, w, at(TUE, 10), package.id)


async def test_cancelling_within_the_policy_restores_the_session_once(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w))
    booked = await book(db, w, at(THU, 10), package.id)

    for _ in range(2):
        await appointments.cancel_by_customer(
            db, FrozenClock(NOW), w.studio_id, appointment_id=booked.id, customer_id=w["ana"]
        )

    assert await balance(db, w, package.id) == 5
    assert await redemptions(db, package.id) == [(booked.id, "restored")]


async def test_cancelling_after_the_cutoff_is_refused_and_keeps_the_session_used(
    db: Database,
) -> None:
    w = await world(db, cancellation_cutoff_hours=48)
    package = await give(db, w, lessons(w))
    booked = await book(db, w, at(TUE, 10), package.id)

    with pytest.raises(errors.CancellationTooLate):
        await appointments.cancel_by_customer(
            db, FrozenClock(NOW), w.studio_id, appointment_id=booked.id, customer_id=w["ana"]
        )
    assert await balance(db, w, package.id) == 4


async def test_a_staff_cancel_restores_the_session(db: Database) -> None:
    w = await world(db, cancellation_cutoff_hours=48)
    package = await give(db, w, lessons(w))
    booked = await book(db, w, at(TUE, 10), package.id)

    await appointments.cancel_by_staff(
        db,
        FrozenClock(NOW),
        w.studio_id,
        appointment_id=booked.id,
        staff_id=w["maya"],
        reason="kiln repair",
    )

    assert await balance(db, w, package.id) == 5
    assert await redemptions(db, package.id) == [(booked.id, "restored")]
    credited = await packages.credited_package(db, w.studio_id, booked.id)
    assert credited is not None
    assert credited.id == package.id
    assert await packages.redemption_of(db, w.studio_id, booked.id) is None


async def test_a_reschedule_keeps_the_redemption_with_the_appointment(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w))
    booked = await book(db, w, at(TUE, 10), package.id)

    moved = await appointments.reschedule(
        db,
        FrozenClock(NOW),
        w.studio_id,
        appointment_id=booked.id,
        customer_id=w["ana"],
        starts_at=at(THU, 14),
    )

    assert (moved.id, moved.starts_at) == (booked.id, at(THU, 14))
    assert await balance(db, w, package.id) == 4
    assert await redemptions(db, package.id) == [(booked.id, "redeemed")]
    await appointments.cancel_by_customer(
        db, FrozenClock(NOW), w.studio_id, appointment_id=moved.id, customer_id=w["ana"]
    )
    assert await balance(db, w, package.id) == 5


async def test_a_reschedule_past_the_packages_expiry_is_refused(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w, days=3))  # until Thursday 5 Nov
    booked = await book(db, w, at(TUE, 10), package.id)

    async def move(to: datetime) -> appointments.Appointment:
        return await appointments.reschedule(
            db, FrozenClock(NOW), w.studio_id, appointment_id=booked.id, customer_id=w["ana"],
            starts_at=to,
        )  # fmt: skip

    with pytest.raises(errors.PackageExpired):
        await move(at(TUE + timedelta(days=7), 10))
    assert (await move(at(THU, 10))).starts_at == at(THU, 10)
    assert await redemptions(db, package.id) == [(booked.id, "redeemed")]


async def test_a_hand_adjustment_is_audited_and_never_below_zero(db: Database) -> None:
    w = await world(db)
    package = await give(db, w, lessons(w, sessions=2))

    after = await packages.adjust(
        db, NOW, w.studio_id, package.id, Adjustment(1, 0, "make-up for a cancelled class", "maya")
    )
    assert after.remaining == 3
    with pytest.raises(errors.PackageBalanceNegative):
        await packages.adjust(db, NOW, w.studio_id, package.id, Adjustment(-4, 0, "typo", "maya"))
    with pytest.raises(errors.InvalidRequest):
        await packages.adjust(db, NOW, w.studio_id, package.id, Adjustment(-1, 0, "  ", "maya"))
    with pytest.raises(errors.InvalidRequest):  # a sessions package takes sessions
        await packages.adjust(db, NOW, w.studio_id, package.id, Adjustment(0, 30, "x", "maya"))
    await packages.adjust(db, NOW, w.studio_id, package.id, Adjustment(-3, 0, "refunded", "cli"))

    assert await balance(db, w, package.id) == 0
    assert await packages.adjustments_of(db, w.studio_id, package.id) == [
        Adjustment(1, 0, "make-up for a cancelled class", "maya"),
        Adjustment(-3, 0, "refunded", "cli"),
    ]


async def test_my_packages_lists_the_usable_and_pending_not_the_expired(db: Database) -> None:
    w = await world(db)
    live = await give(db, w, lessons(w))
    await give(db, w, lessons(w, days=1), at_=NOW - timedelta(days=5))
    pending = await packages.issue(
        db, NOW, w.studio_id, customer_id=w["ana"], terms=lessons(w, days=30), payment="online"
    )

    found = await packages.customer_packages(db, w.studio_id, w["ana"], NOW)

    assert [p.id for p in found] == [pending.id, live.id]
