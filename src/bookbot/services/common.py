"""Pieces every service needs: the studio row, id lists, and time formatting for errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from bookbot.engine import errors
from bookbot.store.db import Tx

T = TypeVar("T")


@dataclass(frozen=True)
class Studio:
    id: int
    slug: str
    name: str
    timezone: str
    currency: str
    default_language: str
    booking_cutoff: timedelta
    cancellation_cutoff_hours: int
    waitlist_offer: timedelta
    hold: timedelta = timedelta(minutes=10)


_STUDIO_COLUMNS = """id, slug, name, timezone, currency, default_language, booking_cutoff_minutes,
    cancellation_cutoff_hours, waitlist_offer_minutes, hold_minutes"""


def _studio(row: Any) -> Studio:
    return Studio(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        timezone=row["timezone"],
        currency=row["currency"],
        default_language=row["default_language"],
        booking_cutoff=timedelta(minutes=row["booking_cutoff_minutes"]),
        cancellation_cutoff_hours=row["cancellation_cutoff_hours"],
        waitlist_offer=timedelta(minutes=row["waitlist_offer_minutes"]),
        hold=timedelta(minutes=row["hold_minutes"]),
    )


async def studio_by_id(tx: Tx, studio_id: int) -> Studio:
    row = await tx.one(f"SELECT {_STUDIO_COLUMNS} FROM studios WHERE id = :id", {"id": studio_id})  # noqa: S608
    if row is None:
        raise errors.NotFound(what="studio", ident=studio_id)
    return _studio(row)


async def studio_by_slug(tx: Tx, slug: str) -> Studio:
    row = await tx.one(f"SELECT {_STUDIO_COLUMNS} FROM studios WHERE slug = :slug", {"slug": slug})  # noqa: S608
    if row is None:
        raise errors.NotFound(what="studio", ident=slug)
    return _studio(row)


async def only_studio(tx: Tx) -> Studio:
    """The single studio of a one-studio deployment; an error naming the choices otherwise."""
    rows = await tx.all("SELECT slug FROM studios ORDER BY slug")
    if len(rows) != 1:
        slugs = ", ".join(r["slug"] for r in rows) or "none loaded yet"
        raise errors.ChooseStudio(studios=slugs)
    return await studio_by_slug(tx, rows[0]["slug"])


def in_list(prefix: str, values: Iterable[T]) -> tuple[str, dict[str, T]]:
    """An `IN (...)` body with one named parameter per value, for either database."""
    params = {f"{prefix}{i}": v for i, v in enumerate(values)}
    if not params:
        return "NULL", {}
    return ", ".join(f":{name}" for name in params), params
