"""Booking references: reversible for every id, forgiving to type, never another customer's."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.services import booking, references
from bookbot.services.references import ALPHABET, booking_reference, parse_reference
from bookbot.store.db import Database
from tests import builders

# A fixed sample (seeded): the same ids every run.
IDS = [*range(2000), *random.Random(16).sample(range(1, 2**40), 3000), 2**20 - 1, 2**20, 2**30]  # noqa: S311


@pytest.mark.parametrize("kind", ["class", "appointment"])
def test_every_id_comes_back_from_its_reference(kind: str) -> None:
    seen = set()
    for ident in IDS:
        ref = booking_reference(kind, ident)
        assert parse_reference(ref) == (kind, ident)
        seen.add(ref)
    assert len(seen) == len(set(IDS))  # distinct ids, distinct references


def test_shape_short_and_unambiguous() -> None:
    ref = booking_reference("class", 42)
    assert ref.startswith("B-")
    assert len(ref) == 6
    assert booking_reference("appointment", 42).startswith("A-")
    assert set(ref[2:]) <= set(ALPHABET)
    assert not set("ILOU") & set(ALPHABET)
    # Consecutive bookings do not get consecutive references.
    assert booking_reference("class", 43)[2:] != ref[2:]
    assert len(booking_reference("class", 2**20)) == 8  # then 6 characters, then 8


def test_typed_forms_read_as_the_same_booking() -> None:
    ref = booking_reference("class", 1234)
    body = ref[2:]
    variants = [
        ref.lower(),
        f"B {body}",
        f"b{body.lower()}",
        f" {ref} ",
        f"B-{body[:2]} {body[2:]}",
    ]
    variants.append("B-" + body.replace("0", "O").replace("1", "I"))
    variants.append("B-" + body.replace("1", "l"))
    for typed in variants:
        assert parse_reference(typed) == ("class", 1234), typed


@pytest.mark.parametrize(
    "typed", ["", "B", "B-12", "B-12345", "X-7F3Q", "CK-7F3Q", "B-7F3U", "bonos!", "B-7F 3Q 9"]
)
def test_what_is_not_a_reference(typed: str) -> None:
    assert parse_reference(typed) is None


def test_a_longer_spelling_of_a_small_id_is_refused() -> None:
    """Each id has exactly one reference: a 6-character body that decodes below 2^20 is no
    reference (a typo, most likely), never a second name for a 4-character one."""
    found = 0
    for n in range(300):
        body = "".join(ALPHABET[(n * 7 + i * 11) % 32] for i in range(6))
        parsed = parse_reference("B-" + body)
        if parsed is not None:
            assert parsed[1] >= 2**20
            found += 1
    assert found > 250


async def test_owned_only_by_the_customer_of_that_studio(db: Database, clock: FrozenClock) -> None:
    w = await builders.studio(db)
    other = await builders.studio(db, "other")
    starts = datetime(2026, 12, 1, 10, tzinfo=UTC)
    await builders.session(db, w, "s1", "taster", starts)
    ana = await builders.customer(db, w, "ana")
    ben = await builders.customer(db, w, "ben")
    reg = await booking.book_session(db, clock, w.studio_id, ana, w["s1"], guests=1)
    kind, ident = parse_reference(booking_reference("class", reg.id)) or ("", 0)
    assert await references.owned(db, w.studio_id, ana, kind, ident)
    assert not await references.owned(db, w.studio_id, ben, kind, ident)
    assert not await references.owned(db, other.studio_id, ana, kind, ident)
    assert not await references.owned(db, w.studio_id, ana, "appointment", ident)
    assert not await references.owned(db, w.studio_id, ana, "class", ident + 1000)
    assert clock.now() < starts - timedelta(hours=1)
