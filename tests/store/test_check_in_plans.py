"""Self check-in's reads (HERE, a booking's screen) go through indexes, not the customer's
history: two years of bookings behind, the sessions near now found by start."""

from __future__ import annotations

from datetime import timedelta

from bookbot.engine.reservations import SELF_CHECK_IN
from bookbot.services import self_check_in
from bookbot.store.db import Database
from tests import builders
from tests.store.test_query_plans import NOW, _assert_uses, history

__all__ = ["history"]  # the fixture: a customer's long history


async def test_what_is_open_now_is_read_by_start(db: Database, history: builders.World) -> None:
    params = {
        "s": history.studio_id,
        "c": history["ana"],
        "since": NOW - SELF_CHECK_IN,
        "until": NOW + SELF_CHECK_IN,
    }
    await _assert_uses(db, self_check_in.BOOKED_NEAR_SQL, params, "ix_sessions_studio_starts")


async def test_the_next_booked_start_skips_the_past(db: Database, history: builders.World) -> None:
    params = {"s": history.studio_id, "c": history["ana"], "after": NOW + timedelta(hours=2)}
    await _assert_uses(
        db, self_check_in.NEXT_BOOKED_SQL, params, "ix_registrations_customer_status_start"
    )
